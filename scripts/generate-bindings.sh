#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings from the built host library (UniFFI library mode).
# Generated code is never committed or edited: it goes to git-ignored build folders.
#   scripts/generate-bindings.sh [kotlin|swift|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
cargo build --quiet --lib
lib="target/debug/libpos_sync.so"
[ -f "$lib" ] || { echo "missing $lib: the host build failed" >&2; exit 1; }

if [ "$which" = kotlin ] || [ "$which" = all ]; then
  out=android/build/generated/uniffi/kotlin
  rm -rf "$out" && mkdir -p "$out"
  cargo uniffi-bindgen generate --language kotlin --no-format --out-dir "$out" "$lib"
  echo "Kotlin bindings: $out"
fi
if [ "$which" = swift ] || [ "$which" = all ]; then
  out=ios/build/generated/uniffi/swift
  rm -rf "$out" && mkdir -p "$out"
  cargo uniffi-bindgen generate --language swift --no-format --out-dir "$out" "$lib"
  echo "Swift bindings: $out"
fi
