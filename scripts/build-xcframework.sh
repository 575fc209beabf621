#!/usr/bin/env bash
# Builds PosSyncFFI.xcframework: the pos-sync core as static libraries for iOS devices, the
# iOS Simulator and macOS, with the UniFFI C header and module map. Needs macOS with Xcode
# (xcodebuild, lipo) and rustup; it cannot run on Linux.
#
#   scripts/build-xcframework.sh                 build ios/build/PosSyncFFI.xcframework
#   scripts/build-xcframework.sh --release URL   also package a release under ios/build/dist/
#
# Slices (rustup targets, added if missing):
#   ios-arm64                       aarch64-apple-ios
#   ios-arm64_x86_64-simulator      aarch64-apple-ios-sim + x86_64-apple-ios (lipo)
#   macos-arm64_x86_64              aarch64-apple-darwin + x86_64-apple-darwin (lipo), so
#                                   `swift test` runs the package's tests on a Mac too
#
# The headers go to Headers/PosSyncFFI/ rather than Headers/: Xcode copies the Headers of
# every library XCFramework into one include/ directory, so two XCFrameworks that both ship a
# top-level module.modulemap collide ("Multiple commands produce .../include/module.modulemap").
# Clang finds Headers/PosSyncFFI/module.modulemap when `import PosSyncFFI` looks the module
# up by name. POS_SYNC_FLAT_HEADERS=1 restores the flat layout for toolchains that need it.
#
# --release URL (URL = where the release assets will be downloadable, e.g.
# https://github.com/OWNER/pos-sync/releases/download/v0.1.0) additionally writes:
#   ios/build/dist/PosSyncFFI.xcframework.zip       the SwiftPM binary target (+ .sha256)
#   ios/build/dist/PosSync-VERSION-cocoapods.zip    what PosSync.podspec downloads
#   ios/build/dist/swift-package/                   the package SwiftPM users add by URL: push
#       its contents to the root of a distribution repository and tag it VERSION (SwiftPM
#       reads Package.swift from the root of the repository it clones, and this repository
#       commits neither the generated Swift nor the XCFramework).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd -P)"

release_url=""
case "${1:-}" in
  --release) release_url="${2:?--release needs the URL the assets will be served from}" ;;
  "") ;;
  *) echo "usage: $0 [--release URL]" >&2; exit 2 ;;
esac

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)" >&2; exit 1; }
for tool in xcodebuild lipo cargo rustup; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

# Oldest OS versions the libraries support; keep in line with Package.swift and the podspec.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
for t in "${targets[@]}"; do
  echo "== cargo build --release --target $t"
  cargo build --release --lib --target "$t"
done

# The generated Swift, header and module map (library mode, from the host build), copied
# into the package as on Linux.
scripts/generate-bindings.sh swift
gen=ios/build/generated/uniffi/swift

stage=ios/build/xcframework-staging
out=ios/build/PosSyncFFI.xcframework
rm -rf "$stage" "$out"
mkdir -p "$stage/ios" "$stage/ios-simulator" "$stage/macos"
if [ "${POS_SYNC_FLAT_HEADERS:-0}" = 1 ]; then headers="$stage/headers"; else headers="$stage/headers/PosSyncFFI"; fi
mkdir -p "$headers"
cp "$gen/PosSyncFFI.h" "$headers/PosSyncFFI.h"
cp "$gen/PosSyncFFI.modulemap" "$headers/module.modulemap"

lib=libpos_sync.a
cp "target/aarch64-apple-ios/release/$lib" "$stage/ios/$lib"
lipo -create "target/aarch64-apple-ios-sim/release/$lib" "target/x86_64-apple-ios/release/$lib" \
  -output "$stage/ios-simulator/$lib"
lipo -create "target/aarch64-apple-darwin/release/$lib" "target/x86_64-apple-darwin/release/$lib" \
  -output "$stage/macos/$lib"

xcodebuild -create-xcframework \
  -library "$stage/ios/$lib" -headers "$stage/headers" \
  -library "$stage/ios-simulator/$lib" -headers "$stage/headers" \
  -library "$stage/macos/$lib" -headers "$stage/headers" \
  -output "$out"
rm -rf "$stage"
echo "XCFramework: $out"

# What the static library needs from the system at link time (Package.swift and the
# podspec link CoreFoundation and Security; compare if the dependencies change).
cargo rustc --quiet --release --lib --target aarch64-apple-ios --crate-type staticlib \
  -- --print native-static-libs 2>&1 | grep -i "native-static-libs" || true

[ -n "$release_url" ] || exit 0

# ------------------------------------------------------------------ release packaging
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
dist=ios/build/dist
rm -rf "$dist" && mkdir -p "$dist"

(cd ios/build && ditto -c -k --sequesterRsrc --keepParent PosSyncFFI.xcframework "$repo/$dist/PosSyncFFI.xcframework.zip")
checksum="$(swift package compute-checksum "$dist/PosSyncFFI.xcframework.zip")"
echo "$checksum" >"$dist/PosSyncFFI.xcframework.zip.sha256"

# CocoaPods: the same layout as the repository, so PosSync.podspec works both from this zip
# and from a checkout (`pod 'PosSync', :path => ...` after running this script).
pods="$dist/cocoapods"
mkdir -p "$pods/ios/build"
cp -R ios/Sources "$pods/ios/Sources"
cp -R "$out" "$pods/ios/build/"
cp PosSync.podspec "$pods/"
(cd "$pods" && ditto -c -k --sequesterRsrc . "$repo/$dist/PosSync-$version-cocoapods.zip")
rm -rf "$pods"

# SwiftPM: a self-contained package with the binary target downloaded by URL.
pkg="$dist/swift-package"
mkdir -p "$pkg/Sources"
cp -R ios/Sources/PosSync "$pkg/Sources/PosSync"
cp ios/README.md "$pkg/README.md"
cat >"$pkg/Package.swift" <<EOF
// swift-tools-version:6.0
// PosSync $version: generated by pos-sync's scripts/build-xcframework.sh; do not edit.
import PackageDescription

let package = Package(
    name: "PosSync",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [.library(name: "PosSync", targets: ["PosSync"])],
    targets: [
        .binaryTarget(
            name: "PosSyncFFI",
            url: "$release_url/PosSyncFFI.xcframework.zip",
            checksum: "$checksum"
        ),
        .target(
            name: "PosSync",
            dependencies: ["PosSyncFFI"],
            path: "Sources/PosSync",
            linkerSettings: [.linkedFramework("CoreFoundation"), .linkedFramework("Security")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
EOF
echo "Release $version: upload $dist/PosSyncFFI.xcframework.zip and $dist/PosSync-$version-cocoapods.zip to $release_url,"
echo "push $pkg to the distribution repository's root and tag it $version, then: pod trunk push PosSync.podspec"
