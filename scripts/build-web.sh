#!/usr/bin/env bash
# Builds pos-sync for the browser: the web/ crate (the plugin bridge and the core) for
# wasm32-unknown-unknown, then wasm-bindgen's ES-module glue, into OUT (default: the
# plugin's dist/esm/web, next to the worker that loads it). Installs what it needs once:
# the rustup target, clang (SQLite's C for wasm32), wasm-bindgen-cli at exactly the
# version Cargo.lock pins (the glue and the crate must match). WASM_OPT=1 also runs
# binaryen's wasm-opt -Oz. Usage: scripts/build-web.sh [OUT]
set -euo pipefail
OUT=$(realpath -m "${1:-$(dirname "$0")/../capacitor-plugin/dist/esm/web}")
cd "$(dirname "$0")/.."
TARGET=wasm32-unknown-unknown

rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
if ! command -v clang >/dev/null; then
  apt-get update -qq && apt-get install -y -qq clang
fi
locked=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$locked" ]; then
  echo "build-web: installing wasm-bindgen-cli $locked into ~/.cargo/bin (a few minutes, once)"
  # --locked first (the tool's own lockfile); it fails when the registry lacks a version that
  # lockfile pins (here: webpki-roots 1.0.11), and then the newest compatible versions are used.
  cargo install wasm-bindgen-cli --version "$locked" --locked ||
    cargo install wasm-bindgen-cli --version "$locked"
fi

CC_wasm32_unknown_unknown=clang cargo build --quiet --profile web --target "$TARGET" -p pos-sync-web
mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name pos_sync_web \
  "target/$TARGET/web/pos_sync_web.wasm"
if [ "${WASM_OPT:-0}" = 1 ]; then
  command -v wasm-opt >/dev/null || { apt-get update -qq && apt-get install -y -qq binaryen; }
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals "$OUT/pos_sync_web_bg.wasm" -o "$OUT/pos_sync_web_bg.wasm"
fi
echo "build-web: $(du -k "$OUT/pos_sync_web_bg.wasm" | cut -f1) KiB in $OUT"
