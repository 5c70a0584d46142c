#!/usr/bin/env bash
# Rebuilds the editor's bundle from its lockfile and fails when it differs from the committed
# frontend/edgeql_editor/dist/editor.<hash>.js (the page serves that file; Node is not needed
# to run): the same single file name (its content's hash) and the same bytes.
set -euo pipefail
cd "$(dirname "$0")/../frontend/edgeql_editor"

if ! npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
  echo "editor bundle: npm ci failed (no registry?); the bundle check did not run" >&2
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
node build.mjs "$scratch" >/dev/null
built="$(cd "$scratch" && ls editor.*.js)"
committed="$(cd dist && ls editor*.js)"
if [ "$built" != "$committed" ] || ! cmp -s "$scratch/$built" "dist/$built"; then
  echo "editor bundle: dist/ holds '$committed'; a fresh build of src/ with the lockfile" >&2
  echo "gives '$built'. Run 'npm ci && npm run build' in frontend/edgeql_editor and commit" >&2
  echo "dist/ (the old file removed)." >&2
  exit 1
fi
echo "editor bundle: up to date (dist/$built, $(wc -c < "dist/$built") bytes)"
