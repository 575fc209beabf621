#!/usr/bin/env bash
# The plugin's web build (the Rust core on WebAssembly in a worker, OPFS) in Debian's headless
# Chromium, against the reference server on loopback: capacitor-plugin/test/browser/.
# Installs what it needs once (chromium, the npm packages; build-web.sh installs the Rust
# side). `scripts/test-web.sh --bench [--full]` runs the browser benchmark instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
cargo build --quiet -p pos-sync-server
cd capacitor-plugin
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
cd test/browser
[ -d node_modules ] || npm ci --no-audit --no-fund
node run.mjs "$@"
