#!/usr/bin/env bash
# Cross-compiles libpos_sync.so for the Android ABIs into android/src/main/jniLibs/<abi>/
# (git-ignored), where the Gradle module packs them into the AAR.
#
# Needs, on the build machine (not available on the project's Linux CI):
#   - the Android NDK (r26 or newer; r28+ aligns to 16 KB by itself): ANDROID_NDK_HOME, or
#     Android Studio's default location, which cargo-ndk finds;
#   - cargo-ndk:        cargo install cargo-ndk --locked
#   - the Rust targets: rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#
#   scripts/build-android.sh            release build (what ships)
#   PROFILE=dev scripts/build-android.sh  debug build (faster, larger, logs more)
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PROFILE:-release}"
api="${ANDROID_API:-24}" # the AAR's minSdk
out=android/src/main/jniLibs
abis=(arm64-v8a armeabi-v7a x86_64)
triples=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)

fail() { echo "build-android: $*" >&2; exit 1; }
cargo ndk --version >/dev/null 2>&1 || fail "cargo-ndk is missing: cargo install cargo-ndk --locked"
if command -v rustup >/dev/null; then
  installed="$(rustup target list --installed)"
  for t in "${triples[@]}"; do
    grep -qx "$t" <<<"$installed" || fail "Rust target $t is missing: rustup target add ${triples[*]}"
  done
fi

# Google Play requires 16 KB page alignment of native libraries (Android 15+ devices with 16 KB
# pages cannot load 4 KB-aligned ones). Per-target flags, so host build scripts are untouched.
align="-C link-arg=-Wl,-z,max-page-size=16384"
for t in "${triples[@]}"; do
  var="CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$t")_RUSTFLAGS"
  export "$var=${!var:-} $align"
done

targets=()
for abi in "${abis[@]}"; do targets+=(-t "$abi"); done
rm -rf "$out"
# android_logger is compiled in for target_os = "android" and initialised once by the engine.
cargo ndk "${targets[@]}" --platform "$api" -o "$out" build -p pos-sync --lib --profile "$profile"

# Check what was produced: every ABI present, and 16 KB-aligned LOAD segments.
readelf_bin="$(command -v llvm-readelf || true)"
if [ -z "$readelf_bin" ] && [ -n "${ANDROID_NDK_HOME:-}" ]; then
  readelf_bin="$(ls "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-readelf 2>/dev/null | head -1 || true)"
fi
for abi in "${abis[@]}"; do
  so="$out/$abi/libpos_sync.so"
  [ -f "$so" ] || fail "missing $so"
  if [ -n "$readelf_bin" ]; then
    if "$readelf_bin" -lW "$so" | awk '$1 == "LOAD" && $NF != "0x4000" { bad = 1 } END { exit bad }'; then
      echo "$so: 16 KB aligned"
    else
      fail "$so has LOAD segments not aligned to 16 KB"
    fi
  fi
done
echo "jniLibs ready in $out (${abis[*]}); next: cd android && gradle assembleRelease"
