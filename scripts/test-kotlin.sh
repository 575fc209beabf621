#!/usr/bin/env bash
# The Kotlin side's JVM tests (android/jvm-tests): builds the host library and the reference
# server, generates the Kotlin bindings (both variants), then compiles the JVM variant with the
# Android library's plain Kotlin and runs the JUnit 5 tests under Maven Surefire against
# target/debug/libpos_sync.so and a spawned target/debug/pos-sync-server.
# Needs Java 17+ and Maven; their dependencies come from Maven Central (cached in ~/.m2).
#   scripts/test-kotlin.sh [extra mvn args, e.g. -Dtest=SyncTest]
set -euo pipefail
cd "$(dirname "$0")/.."

command -v java >/dev/null || { echo "test-kotlin: java (17+) is required" >&2; exit 1; }
command -v mvn >/dev/null || { echo "test-kotlin: maven is required (apt-get install maven)" >&2; exit 1; }

start=$(date +%s)
cargo build --quiet -p pos-sync-server --bin pos-sync-server
# Builds target/debug/libpos_sync.so and writes android/build/generated/uniffi/kotlin{,-jvm}.
scripts/generate-bindings.sh kotlin

reports=android/jvm-tests/target/surefire-reports
rm -rf "$reports"
status=0
# `clean` because the generated sources are rewritten on every run: no stale classes.
(cd android/jvm-tests && mvn -B --no-transfer-progress -Dstyle.color=never clean test "$@") || status=$?
echo

# One plain summary line for readers of the log (Surefire's own summary is above it).
if ls "$reports"/TEST-*.xml >/dev/null 2>&1; then
  python3 - "$reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
t = f = e = s = 0
for path in glob.glob(sys.argv[1] + "/TEST-*.xml"):
    r = ET.parse(path).getroot()
    t += int(r.get("tests", 0)); f += int(r.get("failures", 0))
    e += int(r.get("errors", 0)); s += int(r.get("skipped", 0))
print(f"kotlin: {t - f - e - s} passed, {f + e} failed, {s} skipped")
PY
fi
echo "test-kotlin: $(( $(date +%s) - start )) s"
exit $status
