#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh machine, then runs
# ruff, mypy and pytest (unit, AppTest, fuzz, and browser tests in headless Chromium).
# Live-server tests run only when GEL_DSN is set.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

missing=""
command -v chromium >/dev/null 2>&1 || missing="chromium"
# nginx for the replica tests (tests/test_replicas.py); /usr/sbin is not on every user's PATH.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
if [ -n "$missing" ]; then
  echo "== installing Debian's ${missing# } for the browser and replica tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if command -v npm >/dev/null 2>&1; then
  echo "== editor bundle"; bash scripts/check_editor_bundle.sh
fi
echo "== ruff"; python3 -m ruff check .
echo "== mypy"; python3 -m mypy
echo "== pytest"
set +e
python3 -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests (exit 5): nothing was checked" >&2
  exit 0
fi
exit "$code"
