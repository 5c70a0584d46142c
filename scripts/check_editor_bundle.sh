#!/usr/bin/env bash
# Rebuilds the editor's bundle from its lockfile and fails when it differs from the committed
# frontend/edgeql_editor/dist/editor.js (the page serves that file; Node is not needed to run).
set -euo pipefail
cd "$(dirname "$0")/../frontend/edgeql_editor"

if ! npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
  echo "editor bundle: npm ci failed (no registry?); the bundle check did not run" >&2
  exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
built="$scratch/editor.js"
node build.mjs "$built"
if ! cmp -s "$built" dist/editor.js; then
  echo "editor bundle: dist/editor.js differs from a fresh build of src/ with the lockfile." >&2
  echo "Run 'npm ci && npm run build' in frontend/edgeql_editor and commit dist/editor.js." >&2
  exit 1
fi
echo "editor bundle: up to date ($(wc -c < dist/editor.js) bytes)"
