#!/usr/bin/env bash
# tests/explorer/run.sh HJDL [OUT_DIR] — the explorer's browser test (make check).
# Runs when the toolchain is present (emscripten, chromium, node, puppeteer-core in
# tests/explorer/node_modules: `scripts/setup --explorer` installs them); otherwise
# says clearly that it skipped, and exits 0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
hjdl="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
out="${2:-$here/out}"
missing=()
command -v emcc >/dev/null 2>&1 || missing+=("emscripten (emcc)")
command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 || missing+=("chromium")
command -v node >/dev/null 2>&1 || missing+=("node")
[ -f "$here/node_modules/puppeteer-core/package.json" ] || missing+=("puppeteer-core (tests/explorer/node_modules)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "explorer browser test SKIPPED: missing ${missing[*]} (scripts/setup --explorer installs them)"
  exit 0
fi
[ -f "$root/explorer/hjdl-wasm.js" ] || { echo "explorer/hjdl-wasm.js missing: run 'make explorer'" >&2; exit 1; }
CHROMIUM="$(command -v "${CHROMIUM:-chromium}")" node "$here/explorer_test.js" "$hjdl" "$out"
