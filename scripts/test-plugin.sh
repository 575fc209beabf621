#!/usr/bin/env bash
# The Capacitor plugin's checks and tests (capacitor-plugin/), what `make test-plugin` runs:
#  1. host build of the engine and the reference server; Kotlin bindings (both variants);
#  2. npm ci; lint (tsc over src/ and test/); build (docgen README + dist/docs.json, tsc, rollup);
#     the engine's records read from the bindings (build/uniffi-schema.json); vitest
#     (the JS layer, the web fallback, and definitions.ts against the engine's records);
#  3. the Android plugin's JVM tests (Maven, JUnit 5) against libpos_sync.so and the server,
#     then a compile check of PosSyncPlugin.kt itself against Capacitor's Android sources.
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
npm run --silent schema
npx vitest run

reports=android/jvm-tests/target/surefire-reports
status=0
(cd android/jvm-tests && mvn -B --no-transfer-progress -Dstyle.color=never clean test) || status=$?
if [ $status -eq 0 ]; then
  # Maven 3.8 prints colour resets even when quiet: keep the log plain.
  out=$(cd android/jvm-tests/compile-check && mvn -B -q --no-transfer-progress -Dstyle.color=never clean compile 2>&1) || status=$?
  printf '%s' "$out" | sed 's/\x1b\[[0-9;]*m//g'
  [ $status -eq 0 ] && echo "test-plugin: PosSyncPlugin.kt and PosSyncInitProvider.kt compile against Capacitor's Android API"
fi

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
