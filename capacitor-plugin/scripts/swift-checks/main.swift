// Entry point of the Linux build of the iOS plugin's checks (see scripts/test-plugin.sh):
// runs ios/Tests/PosSyncPluginTests/PluginChecks.swift and prints one summary line.
// Argument: the path of bridge-rules.json, whose naming rules the checks must use.

import Foundation

let rulesPath = CommandLine.arguments.dropFirst().first ?? "bridge-rules.json"
let checks = PluginChecks()
if let data = FileManager.default.contents(atPath: rulesPath),
    let rules = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
{
    checks.expect(rules["int64AsStringFields"] as? String == PluginChecks.int64AsStringFields, "int64 rule as in bridge-rules.json")
    checks.expect(rules["jsonTextFields"] as? String == PluginChecks.jsonTextFields, "JSON rule as in bridge-rules.json")
} else {
    checks.expect(false, "cannot read \(rulesPath)")
}
await checks.runAll()
for failure in checks.failures { print("FAIL \(failure)") }
print("swift-plugin: \(checks.passed) passed, \(checks.failures.count) failed")
exit(checks.failures.isEmpty ? 0 : 1)
