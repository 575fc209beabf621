// The plugin bridge through the Swift bindings, as the Capacitor plugin's iOS half uses it:
// JSON calls, rejections with their code, the state a background task opens the engine from.
// (The plugin's own checks, capacitor-plugin/ios/Tests, run its host and Keychain store.)

import Foundation
import XCTest

@testable import PosSync

/// A host with its secrets in memory and a background scheduler that records the interval.
final class RecordingBridgeHost: BridgeHost, @unchecked Sendable {
    private let lock = NSLock()
    private let directory: String
    private var secrets: [String: String] = [:]
    private(set) var scheduledMinutes: Int64?

    init(directory: String) { self.directory = directory }

    func emit(event: String, dataJson: String) {}
    func hasListeners(event: String) -> Bool { false }
    func dataDir() -> String { directory }
    func loadSecret(name: String) throws -> String? { lock.withLock { secrets[name] } }
    func saveSecret(name: String, value: String) throws { lock.withLock { secrets[name] = value } }
    func deleteSecret(name: String) throws { _ = lock.withLock { secrets.removeValue(forKey: name) } }
    func scheduleBackgroundSync(intervalMinutes: Int64) throws -> Int64 {
        lock.withLock { scheduledMinutes = max(intervalMinutes, 15) }
        return max(intervalMinutes, 15)
    }
    func cancelBackgroundSync() throws { lock.withLock { scheduledMinutes = nil } }
    func engineOpened() {}
    func engineClosed() {}
}

final class PluginBridgeTests: XCTestCase {
    func testCallsAnswerJsonAndRejectWithTheBridgesCode() async throws {
        let scratch = try Scratch()
        let bridge = PluginBridge(host: RecordingBridgeHost(directory: scratch.url.path))
        let opened = try await bridge.call(
            method: "open", argsJson: #"{"storeId":"S1","registerId":"R1","deviceId":"d1","authToken":"t-SECRET"}"#)
        XCTAssertTrue(opened.contains("databasePath"), opened)
        let receipt = try await bridge.call(
            method: "recordSale",
            argsJson: #"{"sale":{"id":"s1","lines":[{"product_id":"p1","quantity":1,"unit_price":100}],"total":100}}"#)
        XCTAssertTrue(receipt.contains(#""receiptNumber":"S1-R1-000001""#), receipt)
        // The blocking form (Kotlin's forwarder uses it; the iOS plugin awaits `call`) answers alike.
        let got = try bridge.callBlocking(method: "getSale", argsJson: #"{"saleId":"s1"}"#)
        XCTAssertTrue(got.contains(#""receipt_number":"S1-R1-000001""#), got)
        do {
            _ = try await bridge.call(method: "searchProducts", argsJson: #"{"query":"x","limit":0}"#)
            XCTFail("a limit of 0 was accepted")
        } catch PluginCallError.Rejected(let code, let reason, _) {
            XCTAssertEqual(code, "INVALID_INPUT")
            XCTAssertTrue(reason.contains("limit"), reason)
        }
        // `forward` is what the plugin class calls: the same rejection as a value.
        guard case .failure(let rejection) = await bridge.forward(method: "nope", argsJson: "{}") else {
            return XCTFail("an unknown method succeeded")
        }
        XCTAssertEqual(rejection.code, "UNIMPLEMENTED")
        _ = try await bridge.call(method: "close", argsJson: "{}")
    }

    func testABackgroundTaskOpensTheSameEngineFromTheSavedState() async throws {
        let scratch = try Scratch()
        let host = RecordingBridgeHost(directory: scratch.url.path)
        let bridge = PluginBridge(host: host)
        _ = try await bridge.call(method: "open", argsJson: #"{"storeId":"S1","registerId":"R1","deviceId":"d1"}"#)
        _ = try await bridge.call(method: "enableBackgroundSync", argsJson: #"{"intervalMinutes":30}"#)
        XCTAssertEqual(host.scheduledMinutes, 30)

        // A later launch (a new bridge on the same directory) finds what the task needs.
        let relaunched = PluginBridge(host: host)
        XCTAssertEqual(relaunched.savedBackgroundIntervalMinutes(), 30)
        let config = try XCTUnwrap(try relaunched.savedConfig())
        XCTAssertEqual(config.storeId, "S1")
        let engine = try SyncEngine.open(config: config)
        try relaunched.serveTokens(engine: engine)
        XCTAssertEqual(try engine.queueStats().pending, 0)
        _ = try await bridge.call(method: "close", argsJson: "{}")
    }
}
