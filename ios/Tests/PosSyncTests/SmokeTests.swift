import XCTest
@testable import PosSync

final class SmokeTests: XCTestCase {
    func testVersion() {
        XCTAssertFalse(posSyncVersion().isEmpty)
    }
}
