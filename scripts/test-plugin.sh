#!/usr/bin/env bash
# The Capacitor plugin's checks and tests (capacitor-plugin/), what `make test-plugin` runs:
#  1. host build of the engine and the reference server; Kotlin bindings (both variants);
#  2. npm ci; lint (tsc over src/ and test/); build (docgen README + dist/docs.json, tsc, rollup);
#     npm pack, installed into a scratch Capacitor 8 app (scripts/pack-check.mjs);
#     the engine's records read from the bindings (build/uniffi-schema.json); vitest
#     (the JS layer, the web fallback, and definitions.ts against the engine's records);
#  3. the Android plugin's JVM tests (Maven, JUnit 5) against libpos_sync.so and the server,
#     then a compile check of PosSyncPlugin.kt itself against Capacitor's Android sources;
#  4. the iOS plugin's plain Swift, type-checked and run on Linux in the Swift toolchain of
#     scripts/swift-linux.sh (capacitor-plugin/scripts/swift-checks.sh); POS_SYNC_SKIP_SWIFT=1
#     skips it. PosSyncPlugin.swift (Capacitor is iOS-only) is not compiled here.
# Needs Node 20+ with npm, Java 17+ and Maven; packages come from the npm registry and Maven
# Central (cached in ~/.npm and ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in node npm java mvn cargo; do
  command -v "$tool" >/dev/null || { echo "test-plugin: $tool is required" >&2; exit 1; }
done

start=$(date +%s)
cargo build --quiet -p pos-sync-server --bin pos-sync-server
# Builds target/debug/libpos_sync.so and writes android/build/generated/uniffi/kotlin{,-jvm}.
scripts/generate-bindings.sh kotlin

cd capacitor-plugin
npm ci --no-audit --no-fund --loglevel=error
npm run --silent lint
npm run --silent build
npm run --silent verify:pack
npm run --silent schema
npx vitest run

reports=android/jvm-tests/target/surefire-reports
status=0
# Maven 3.8 prints colour resets even in batch mode: keep the log plain.
plain() { sed 's/\x1b\[[0-9;]*m//g'; }
(cd android/jvm-tests && mvn -B --no-transfer-progress -Dstyle.color=never clean test 2>&1 | plain) || status=$?
if [ $status -eq 0 ]; then
  (cd android/jvm-tests/compile-check && mvn -B -q --no-transfer-progress -Dstyle.color=never clean compile 2>&1 | plain) || status=$?
  [ $status -eq 0 ] && echo "test-plugin: PosSyncPlugin.kt and PosSyncInitProvider.kt compile against Capacitor's Android API"
fi

cd ..
if [ "${POS_SYNC_SKIP_SWIFT:-0}" = 1 ]; then
  echo "test-plugin: POS_SYNC_SKIP_SWIFT=1: the iOS plugin's Swift checks are skipped"
elif [ -x scripts/swift-linux.sh ] && [ -d ios/Sources/PosSync ]; then
  # The PosSync package's layout: ios/Sources/PosSync/Generated and ios/build/ffi/PosSyncFFI.
  scripts/generate-bindings.sh swift
  repo="$(pwd -P)"
  target_dir="${CARGO_TARGET_DIR:-$repo/target}"
  case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
  target_dir="$(cd "$target_dir" && pwd -P)"
  case "$target_dir/" in
    "$repo"/*) ;;
    *) export POS_SYNC_EXTRA_BINDS="$target_dir" ;;
  esac
  scripts/swift-linux.sh run /bin/sh -e capacitor-plugin/scripts/swift-checks.sh \
    "$repo/ios" "$repo/capacitor-plugin" "$target_dir/debug" || status=$?
else
  echo "test-plugin: the PosSync Swift package (ios/, scripts/swift-linux.sh) is not in this checkout: the iOS plugin's Swift checks are skipped"
fi
cd capacitor-plugin

if ls "$reports"/TEST-*.xml >/dev/null 2>&1; then
  python3 - "$reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
t = f = e = s = 0
for path in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    r = ET.parse(path).getroot()
    t += int(r.get("tests", 0)); f += int(r.get("failures", 0))
    e += int(r.get("errors", 0)); s += int(r.get("skipped", 0))
print()
print(f"plugin-jvm: {t - f - e - s} passed, {f + e} failed, {s} skipped")
PY
fi
echo "test-plugin: $(( $(date +%s) - start )) s"
exit $status
