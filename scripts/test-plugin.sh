#!/usr/bin/env bash
# The Capacitor plugin's checks and tests (capacitor-plugin/), what `make test-plugin` runs:
#  1. host build of the engine and the reference server; Kotlin bindings (both variants);
#  2. npm ci; lint (tsc over src/ and test/); build (docgen README + dist/docs.json, tsc, rollup);
#     npm pack, installed into a scratch Capacitor 8 app (scripts/pack-check.mjs); vitest (the
#     JS client over the bridge, the web fallback, the README's examples). The record types in
#     src/generated/ come from the Rust records (ts-rs); `cargo test --lib bridge::typescript`
#     fails when they differ;
#  3. the Android plugin's JVM tests (Maven, JUnit 5) against libpos_sync.so and the server,
#     then a compile check of PosSyncPlugin.kt itself against Capacitor's Android sources;
#  4. the iOS plugin's plain Swift, type-checked and run on Linux in the Swift toolchain of
#     scripts/swift-linux.sh (capacitor-plugin/scripts/swift-checks.sh); POS_SYNC_SKIP_SWIFT=1
#     skips it. PosSyncPlugin.swift (Capacitor is iOS-only) is not compiled here.
# Needs Node 20+ with npm, Java 17+ and Maven; packages come from the npm registry and Maven
# Central (cached in ~/.npm and ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd -P)"

for tool in node npm java mvn cargo python3; do
  command -v "$tool" >/dev/null || { echo "test-plugin: $tool is required" >&2; exit 1; }
done

start=$(date +%s)
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
cargo build --quiet -p pos-sync-server --bin pos-sync-server
# Builds the host library and writes android/build/generated/uniffi/kotlin{,-jvm}.
scripts/generate-bindings.sh kotlin
target_dir="$(cd "$target_dir" && pwd -P)"

cd capacitor-plugin
mkdir -p build
rm -f build/vitest.json build/swift-checks.log
npm ci --no-audit --no-fund --loglevel=error
npm run --silent lint
npm run --silent build
npm run --silent verify:pack
npx vitest run --reporter=default --reporter=json --outputFile.json=build/vitest.json

# Maven 3.8 prints colour resets even in batch mode: keep the log plain.
plain() { sed 's/\x1b\[[0-9;]*m//g'; }
reports=android/jvm-tests/target/surefire-reports
status=0
(cd android/jvm-tests && mvn -B --no-transfer-progress -Dstyle.color=never \
  -Dnative.lib="$target_dir/debug/libpos_sync.so" -Dserver.bin="$target_dir/debug/pos-sync-server" \
  clean test 2>&1 | plain) || status=$?
if [ $status -eq 0 ]; then
  (cd android/jvm-tests/compile-check && mvn -B -q --no-transfer-progress -Dstyle.color=never clean compile 2>&1 | plain) || status=$?
  [ $status -eq 0 ] && echo "test-plugin: PosSyncPlugin.kt and PosSyncInitProvider.kt compile against Capacitor's Android API"
fi

cd "$repo"
if [ "${POS_SYNC_SKIP_SWIFT:-0}" = 1 ]; then
  echo "test-plugin: POS_SYNC_SKIP_SWIFT=1: the iOS plugin's Swift checks are skipped"
elif [ -x scripts/swift-linux.sh ] && [ -d ios/Sources/PosSync ]; then
  # The PosSync package's layout: ios/Sources/PosSync/Generated and ios/build/ffi/PosSyncFFI.
  scripts/generate-bindings.sh swift
  case "$target_dir/" in
    "$repo"/*) ;;
    *) export POS_SYNC_EXTRA_BINDS="$target_dir" ;;  # visible inside the toolchain's root too
  esac
  scripts/swift-linux.sh run /bin/sh -e capacitor-plugin/scripts/swift-checks.sh \
    "$repo/ios" "$repo/capacitor-plugin" "$target_dir/debug" | tee capacitor-plugin/build/swift-checks.log || status=$?
else
  echo "test-plugin: the PosSync Swift package (ios/, scripts/swift-linux.sh) is not in this checkout: the iOS plugin's Swift checks are skipped"
fi

# One plain summary line per suite, and one for all of them.
cd capacitor-plugin
python3 - "$reports" build/vitest.json build/swift-checks.log <<'PY'
import glob, json, os, re, sys, xml.etree.ElementTree as ET
reports, vitest, swift = sys.argv[1:4]
total = [0, 0]
if os.path.exists(vitest):
    v = json.load(open(vitest))
    p, f = v.get("numPassedTests", 0), v.get("numFailedTests", 0)
    print(f"plugin-vitest: {p} passed, {f} failed"); total[0] += p; total[1] += f
t = f = s = 0
for path in glob.glob(reports + "/TEST-*.xml"):
    r = ET.parse(path).getroot()
    t += int(r.get("tests", 0)); f += int(r.get("failures", 0)) + int(r.get("errors", 0)); s += int(r.get("skipped", 0))
if t:
    print(f"plugin-jvm: {t - f - s} passed, {f} failed, {s} skipped"); total[0] += t - f - s; total[1] += f
if os.path.exists(swift):
    m = re.search(r"swift-plugin: (\d+) passed, (\d+) failed", open(swift).read())
    if m:
        print(f"plugin-swift: {m[1]} passed, {m[2]} failed"); total[0] += int(m[1]); total[1] += int(m[2])
print(f"test-plugin: {total[0]} passed, {total[1]} failed")
PY
echo "test-plugin: done in $(( $(date +%s) - start )) s"
exit $status
