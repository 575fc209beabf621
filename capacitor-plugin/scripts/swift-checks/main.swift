// Entry point of the Linux build of the iOS plugin's checks (see scripts/test-plugin.sh):
// runs ios/Tests/PosSyncPluginTests/PluginChecks.swift and prints one summary line.

import Foundation

let checks = PluginChecks()
await checks.runAll()
for failure in checks.failures { print("FAIL \(failure)") }
print("swift-plugin: \(checks.passed) passed, \(checks.failures.count) failed")
exit(checks.failures.isEmpty ? 0 : 1)
