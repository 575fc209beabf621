// The plain-Swift checks (PluginChecks.swift) as an XCTest case for Xcode. On Linux the same
// checks run through scripts/test-plugin.sh.

#if canImport(XCTest)
import XCTest
@testable import PosSyncPlugin

final class PosSyncPluginTests: XCTestCase {
    func testPluginBridgeHost() async {
        let checks = PluginChecks()
        await checks.runAll()
        XCTAssertEqual(checks.failures, [])
        XCTAssertGreaterThan(checks.passed, 0)
    }
}
#endif
