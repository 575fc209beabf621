#!/usr/bin/env bash
# The example till app (examples/till-app): `scripts/till-app.sh test [--docs]` runs its
# end-to-end test in Debian's headless Chromium (make test-till-app); `scripts/till-app.sh demo`
# serves it in front of the reference server with the demo catalog (make demo-web).
# Reuses the plugin's dist/ (and its .wasm) when `make test-web` already built it in this run:
# the plugin is rebuilt only when it is missing or older than its sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/till-app.sh test|demo [--docs]}
shift

command -v chromium >/dev/null || [ "$mode" = demo ] || { apt-get update -qq && apt-get install -y -qq chromium; }
cargo build --quiet -p pos-sync-server

wasm=capacitor-plugin/dist/esm/web/pos_sync_web_bg.wasm
if [ ! -f "$wasm" ] || [ -n "$(find src web/src protocol/src capacitor-plugin/src Cargo.lock -newer "$wasm" -type f -print -quit)" ]; then
  (cd capacitor-plugin && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build --silent)
fi
# The test drives Chromium with the browser suite's puppeteer-core; the demo needs none of it.
if [ "$mode" = test ] && [ ! -d capacitor-plugin/test/browser/node_modules ]; then
  (cd capacitor-plugin/test/browser && npm ci --no-audit --no-fund)
fi

cd examples/till-app
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent -- --logLevel warn
case "$mode" in
  test) exec node test/e2e.mjs "$@" ;;
  demo) exec node scripts/demo.mjs ;;
  *) echo "unknown mode '$mode': test or demo" >&2; exit 2 ;;
esac
