#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings from the built host library (UniFFI library mode).
# Generated code is never committed or edited: it goes to git-ignored build folders.
#   scripts/generate-bindings.sh [kotlin|swift|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
cargo build --quiet --lib
case "$(uname -s)" in Darwin) ext=dylib ;; *) ext=so ;; esac
lib="${CARGO_TARGET_DIR:-target}/debug/libpos_sync.$ext"
[ -f "$lib" ] || { echo "missing $lib: the host build failed" >&2; exit 1; }

if [ "$which" = kotlin ] || [ "$which" = all ]; then
  # Two variants of the same bindings (they differ only in the object cleaner):
  #  - kotlin/     the Android library's (uniffi.toml: android = true; imports android.os.Build),
  #                the source dir android/build.gradle.kts compiles into the AAR;
  #  - kotlin-jvm/ the plain-JVM one the Maven tests in android/jvm-tests compile
  #                (android/jvm-tests/uniffi-jvm.toml overrides android = false).
  out=android/build/generated/uniffi/kotlin
  rm -rf "$out" && mkdir -p "$out"
  cargo uniffi-bindgen generate --language kotlin --no-format --out-dir "$out" "$lib"
  echo "Kotlin bindings (Android): $out"
  out=android/build/generated/uniffi/kotlin-jvm
  rm -rf "$out" && mkdir -p "$out"
  cargo uniffi-bindgen generate --language kotlin --no-format \
    --config android/jvm-tests/uniffi-jvm.toml --out-dir "$out" "$lib"
  if grep -q '^import android\.' "$out/io/possync/pos_sync.kt"; then
    echo "the JVM variant of the Kotlin bindings imports android.*: check android/jvm-tests/uniffi-jvm.toml" >&2
    exit 1
  fi
  echo "Kotlin bindings (JVM tests): $out"
fi
if [ "$which" = swift ] || [ "$which" = all ]; then
  out=ios/build/generated/uniffi/swift
  rm -rf "$out" && mkdir -p "$out"
  cargo uniffi-bindgen generate --language swift --no-format --out-dir "$out" "$lib"
  # The Swift package (ios/Package.swift) compiles the generated Swift inside its PosSync
  # target and, on Linux, gets the C module PosSyncFFI from a system-library target; on Apple
  # platforms the XCFramework carries the header and module map instead
  # (scripts/build-xcframework.sh). Both copies are git-ignored.
  gen=ios/Sources/PosSync/Generated
  rm -rf "$gen" && mkdir -p "$gen"
  cp "$out/PosSync.swift" "$gen/PosSync.swift"
  ffi=ios/build/ffi/PosSyncFFI
  rm -rf "$ffi" && mkdir -p "$ffi"
  cp "$out/PosSyncFFI.h" "$ffi/PosSyncFFI.h"
  cp "$out/PosSyncFFI.modulemap" "$ffi/module.modulemap"
  echo "Swift bindings: $out (copied into $gen and $ffi)"
fi
