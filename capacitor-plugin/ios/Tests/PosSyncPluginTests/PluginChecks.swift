// Checks of the iOS plugin's plain Swift: the host the Rust bridge runs on, against the real
// engine, and where the secrets go. No Capacitor and no XCTest here, so the same checks run on
// Linux (scripts/test-plugin.sh builds them with the PosSync package into a small executable)
// and in Xcode (PosSyncPluginTests.swift wraps them in an XCTestCase).

import Foundation
import PosSync

/// The Keychain's stand-in: the bridge's logic around the store is what is checked here.
final class MemorySecrets: SecretStoring, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String] = [:]
    func load(_ name: String) throws -> String? { lock.lock(); defer { lock.unlock() }; return values[name] }
    func save(_ name: String, _ value: String) throws { lock.lock(); values[name] = value; lock.unlock() }
    func delete(_ name: String) throws { lock.lock(); values[name] = nil; lock.unlock() }
}

struct NoBackground: BackgroundScheduling {
    func enable(intervalMinutes: Int64) throws -> Int64 { throw BackgroundNotRegistered() }
    func disable() {}
}

final class PluginChecks: @unchecked Sendable {
    private(set) var passed = 0
    private(set) var failures: [String] = []
    private var current = ""

    func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
        if ok { passed += 1 } else { failures.append("\(current) (line \(line)): \(what())") }
    }

    func runAll() async {
        for (name, check) in [
            ("calls through the bridge", calls),
            ("the saved state holds no secret", savedState),
            ("a plain state file of plugin 0.1 is migrated", legacyFile),
        ] as [(String, () async -> Void)] {
            current = name
            await check()
        }
    }

    private func tempDir() -> URL {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("pos-sync-plugin-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private func bridge(_ dir: URL, _ secrets: MemorySecrets) -> PluginBridge {
        PluginBridge(host: PluginHost(directory: dir, secrets: secrets, scheduler: NoBackground()))
    }

    /// Every file under `dir`, as text (a secret must be in none of them).
    private func everyFileText(_ dir: URL) -> String {
        let files = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        return files.compactMap { FileManager.default.contents(atPath: dir.appendingPathComponent($0).path) }
            .map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
    }

    private func object(_ json: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])) as? [String: Any] ?? [:]
    }

    private func calls() async {
        let dir = tempDir()
        let b = bridge(dir, MemorySecrets())
        if case .failure(let e) = await b.forward(method: "getStatus", argsJson: "{}") {
            expect(e.code == "NOT_OPEN", "a call before open: \(e.code)")
        } else {
            expect(false, "getStatus before open succeeded")
        }
        let opened = await b.forward(
            method: "open", argsJson: #"{"storeId":"S1","registerId":"R1","deviceId":"d1"}"#)
        expect((try? opened.get()) != nil, "open: \(opened)")
        let sale = #"{"sale":{"id":"s1","lines":[{"product_id":"p1","quantity":2,"unit_price":250}],"total":500}}"#
        switch await b.forward(method: "recordSale", argsJson: sale) {
        case .success(let json): expect(object(json)["receiptNumber"] as? String == "S1-R1-000001", "the first receipt: \(json)")
        case .failure(let e): expect(false, "recordSale rejected: \(e.code) \(e.message)")
        }
        switch await b.forward(method: "getQueueStats", argsJson: "{}") {
        case .success(let json): expect(json.contains("pending"), "queue stats: \(json)")
        case .failure(let e): expect(false, "getQueueStats rejected: \(e.code)")
        }
        if case .failure(let e) = await b.forward(method: "noSuchMethod", argsJson: "{}") {
            expect(e.code == "UNIMPLEMENTED", "an unknown method: \(e.code)")
        } else {
            expect(false, "an unknown method succeeded")
        }
        _ = await b.forward(method: "close", argsJson: "{}")
    }

    private func savedState() async {
        let dir = tempDir()
        let secrets = MemorySecrets()
        let b = bridge(dir, secrets)
        let opened = await b.forward(
            method: "open",
            argsJson: #"{"storeId":"S1","registerId":"R1","deviceId":"d1","serverUrl":"http://127.0.0.1:9","authToken":"token-SECRET"}"#)
        // (The host build has no SQLCipher: the key's way is checked by `legacyFile`.)
        expect((try? opened.get()) != nil, "open with a token: \(opened)")
        _ = await b.forward(method: "setToken", argsJson: #"{"token":"rotated-SECRET"}"#)
        let files = everyFileText(dir)
        expect(files.contains("\"storeId\":\"S1\""), "the state file is written")
        expect(!files.contains("SECRET"), "a token reached a plain file")
        expect((try? secrets.load("authToken")) == "rotated-SECRET", "the token is in the secret store")
        let saved = (try? b.savedConfig()) ?? nil
        expect(saved?.serverUrl == "http://127.0.0.1:9" && saved?.authToken == nil, "the background config, token kept out")
        _ = await b.forward(method: "close", argsJson: "{}")
    }

    private func legacyFile() async {
        let dir = tempDir()
        let legacy = dir.appendingPathComponent("pos-sync-plugin.json")
        let old = #"{"config":{"storeId":"S1","registerId":"R1","deviceId":"d1","encryptionKey":"key-SECRET"},"token":"token-SECRET"}"#
        _ = FileManager.default.createFile(atPath: legacy.path, contents: Data(old.utf8))
        let secrets = MemorySecrets()
        let saved = (try? bridge(dir, secrets).savedConfig()) ?? nil
        expect(saved?.encryptionKey == "key-SECRET", "the key comes back from the secret store")
        expect(!FileManager.default.fileExists(atPath: legacy.path), "the plain file is deleted")
        expect(!everyFileText(dir).contains("SECRET"), "no secret is left in a plain file")
        expect((try? secrets.load("authToken")) == "token-SECRET", "the token moved to the secret store")
    }
}
