#!/bin/sh
# Builds and runs the iOS plugin's plain-Swift checks on Linux, inside the Swift toolchain of
# scripts/swift-linux.sh (run by scripts/test-plugin.sh):
#   1. the PosSync package (ios/Sources/PosSync, generated Swift included) as a library;
#   2. type-check of the plugin's plain Swift with the Apple-only branch enabled, against
#      the PosSync package's own stubs of BackgroundTasks/Network/os (ios/Tests/AppleAPIStubs);
#   3. the plugin's plain Swift + ios/Tests/PosSyncPluginTests/PluginChecks.swift as an
#      executable that runs the checks against libpos_sync.so and prints one summary line.
# PosSyncPlugin.swift itself imports Capacitor (an iOS framework) and is not compiled here.
#   swift-checks.sh IOS_PACKAGE_DIR PLUGIN_DIR LIBDIR   (LIBDIR holds libpos_sync.so)
set -eu
ios="$1"
plugin="$2"
lib="$3"
out="$plugin/build/swift-checks"
rm -rf "$out"
mkdir -p "$out/stubs"
src="$plugin/ios/Sources/PosSyncPlugin"
plain="$src/PluginHost.swift $src/SecretStore.swift $src/AppleBackgroundSync.swift"

for m in BackgroundTasks Network os; do
  swiftc -parse-as-library -swift-version 6 -module-name "$m" -emit-module \
    -emit-module-path "$out/stubs/$m.swiftmodule" "$ios/Tests/AppleAPIStubs/$m.swift"
done
# The PosSync module in Swift 5 mode, as ios/Package.swift builds it (a Swift 6.0.3 crash on
# UniFFI's async foreign-trait glue; see the comment there).
swiftc -parse-as-library -swift-version 5 -module-name PosSync -emit-module \
  -emit-module-path "$out/stubs/PosSync.swiftmodule" -I "$out/stubs" -I "$ios/build/ffi/PosSyncFFI" \
  "$ios"/Sources/PosSync/*.swift "$ios"/Sources/PosSync/Generated/*.swift
# shellcheck disable=SC2086
swiftc -typecheck -swift-version 5 -warnings-as-errors -I "$out/stubs" -I "$ios/build/ffi/PosSyncFFI" $plain
echo "swift-checks: the plugin's plain Swift type-checks with the iOS branch (BackgroundTasks stubs)"

swiftc -parse-as-library -swift-version 5 -module-name PosSync -emit-library -emit-module \
  -emit-module-path "$out/PosSync.swiftmodule" -I "$ios/build/ffi/PosSyncFFI" -L "$lib" -lpos_sync \
  -o "$out/libPosSync.so" "$ios"/Sources/PosSync/*.swift "$ios"/Sources/PosSync/Generated/*.swift
# shellcheck disable=SC2086
swiftc -swift-version 5 -warnings-as-errors -module-name PosSyncPlugin -I "$out" -I "$ios/build/ffi/PosSyncFFI" \
  -L "$out" -lPosSync -L "$lib" -lpos_sync -Xlinker -rpath -Xlinker "$out" -Xlinker -rpath -Xlinker "$lib" \
  $plain "$plugin/ios/Tests/PosSyncPluginTests/PluginChecks.swift" "$plugin/scripts/swift-checks/main.swift" \
  -o "$out/plugin-checks"
"$out/plugin-checks"
