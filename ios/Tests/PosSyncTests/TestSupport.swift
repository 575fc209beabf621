// Test support: the reference server on loopback, engines on throwaway databases, and small
// waiting helpers. The server binary comes from POS_SYNC_SERVER_BIN (scripts/swift-linux.sh
// sets it to the cargo target directory's pos-sync-server).

import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import PosSync

enum TestEnv {
    static var serverBinary: String {
        if let path = ProcessInfo.processInfo.environment["POS_SYNC_SERVER_BIN"], !path.isEmpty {
            return path
        }
        // `swift test` run by hand from ios/: the workspace's debug build.
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("target/debug/pos-sync-server").path
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A scratch directory per test, removed at the end.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pos-sync-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// One device's credentials on the test server.
struct Device {
    let token: String
    let deviceId: String
    let storeId: String
}

/// `pos-sync-server` on 127.0.0.1 with an in-memory database, started per test.
final class TestServer: @unchecked Sendable {
    static let adminToken = "admin-secret"
    let baseURL: String
    let devices: [Device]
    private let process: Process
    private let scratch: Scratch
    private let logPath: String

    /// Starts a server knowing `devices` (default: dev-1 and dev-2 in store S1).
    init(devices: [Device] = [
        Device(token: "token-dev-1", deviceId: "dev-1", storeId: "S1"),
        Device(token: "token-dev-2", deviceId: "dev-2", storeId: "S1"),
    ]) throws {
        let binary = TestEnv.serverBinary
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure(
                "the reference server is missing at \(binary); run `cargo build -p pos-sync-server` (make test-swift does)"
            )
        }
        self.devices = devices
        scratch = try Scratch()
        let tokens = scratch.path("tokens.txt")
        try devices.map { "\($0.token) \($0.deviceId) \($0.storeId)" }.joined(separator: "\n")
            .appending("\n").write(toFile: tokens, atomically: true, encoding: .utf8)
        logPath = scratch.path("server.log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)

        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--listen", "127.0.0.1:0", "--db", ":memory:", "--tokens", tokens,
            "--admin-token", Self.adminToken,
        ]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()

        // The first stdout line is the base URL; keep draining the rest so the server never
        // blocks on a full pipe.
        let firstLine = Locked<String?>(nil)
        let buffer = Locked(Data())
        let ready = DispatchSemaphore(value: 0)
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                ready.signal()
                return
            }
            let line = buffer.withValue { data -> String? in
                data.append(chunk)
                guard firstLine.current == nil, let newline = data.firstIndex(of: UInt8(ascii: "\n"))
                else { return nil }
                return String(decoding: data[data.startIndex..<newline], as: UTF8.self)
            }
            if let line {
                firstLine.withValue { $0 = line.trimmingCharacters(in: .whitespaces) }
                ready.signal()
            }
        }
        _ = ready.wait(timeout: .now() + 20)
        guard let url = firstLine.current, url.hasPrefix("http://") else {
            process.terminate()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw TestFailure(
                "pos-sync-server did not print its URL (got \(firstLine.current ?? "nothing")); its log:\n\(log)")
        }
        baseURL = url
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    // MARK: admin API

    /// Server-side upsert of records (products, prices, reports, customers) of a store.
    func put(_ entityType: String, _ records: [[String: Any]], store: String = "S1") async throws {
        let body = try JSONSerialization.data(withJSONObject: records)
        _ = try await admin("PUT", "/admin/stores/\(store)/records/\(entityType)", body: body)
    }

    /// The store's live records of a type, as JSON objects.
    func records(_ entityType: String, store: String = "S1") async throws -> [[String: Any]] {
        let data = try await admin("GET", "/admin/stores/\(store)/records/\(entityType)")
        let json = try JSONSerialization.jsonObject(with: data)
        if let array = json as? [[String: Any]] { return array.map(Self.payload) }
        if let object = json as? [String: Any], let array = object["records"] as? [[String: Any]] {
            return array.map(Self.payload)
        }
        throw TestFailure("unexpected admin GET answer: \(String(decoding: data, as: UTF8.self))")
    }

    func delete(_ entityType: String, id: String, store: String = "S1") async throws {
        _ = try await admin("DELETE", "/admin/stores/\(store)/records/\(entityType)/\(id)")
    }

    /// A record as its payload (the admin API may wrap payloads with metadata).
    private static func payload(_ record: [String: Any]) -> [String: Any] {
        if record["id"] == nil, let payload = record["payload"] as? [String: Any] { return payload }
        return record
    }

    private func admin(_ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(Self.adminToken)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation {
            continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume(returning: (data ?? Data(), response!))
                }
            }.resume()
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw TestFailure(
                "admin \(method) \(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}

/// Builders for the app's JSON documents.
enum Docs {
    static func sale(_ id: String, product: String = "p1", quantity: Int = 2, price: Int = 150)
        -> String
    {
        let total = quantity * price
        return """
            {"id":"\(id)","lines":[{"product_id":"\(product)","quantity":\(quantity),"unit_price":\(price)}],\
            "payments":[{"method":"cash","amount":\(total)}],"total":\(total)}
            """
    }

    static func customer(_ id: String, name: String, phone: String? = nil, email: String? = nil)
        -> String
    {
        var fields = ["\"id\":\"\(id)\"", "\"name\":\"\(name)\""]
        if let phone { fields.append("\"phone\":\"\(phone)\"") }
        if let email { fields.append("\"email\":\"\(email)\"") }
        return "{\(fields.joined(separator: ","))}"
    }
}

/// Opens engines on throwaway databases.
func openEngine(
    _ scratch: Scratch, name: String = "device.db", server: TestServer? = nil,
    device: Int = 0, token: String? = nil, configure: (inout EngineConfig) -> Void = { _ in }
) throws -> SyncEngine {
    let dev = server?.devices[device]
    var config = EngineConfig(
        databasePath: scratch.path(name),
        storeId: dev?.storeId ?? "S1",
        registerId: "R\(device + 1)",
        deviceId: dev?.deviceId ?? "dev-\(device + 1)",
        serverUrl: server?.baseURL,
        authToken: token ?? dev?.token,
        retryBaseMs: 50,
        retryMaxMs: 200,
        networkDebounceMs: 0)
    configure(&config)
    return try SyncEngine.open(config: config)
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(
    timeout: TimeInterval = 10, _ what: String, _ condition: () throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
    throw TestFailure("timed out after \(timeout) s waiting for: \(what)")
}

/// Asserts that `body` throws a `PosSyncError` and returns it.
@discardableResult
func expectPosSyncError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> PosSyncError? {
    do {
        let value = try body()
        XCTFail("expected a PosSyncError, got \(value)", file: file, line: line)
    } catch let error as PosSyncError {
        return error
    } catch {
        XCTFail("expected a PosSyncError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Records what a stream yields, from a task of its own, until `stop()`.
final class StreamRecorder<Element: Sendable>: Sendable {
    private let values = Locked<[Element]>([])
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Element>) {
        let values = self.values
        task = Task {
            for await value in stream { values.withValue { $0.append(value) } }
        }
    }

    var elements: [Element] { values.current }

    /// Waits until an element satisfies `predicate` and returns it.
    func wait(
        timeout: TimeInterval = 10, for what: String, _ predicate: (Element) -> Bool
    ) async throws -> Element {
        var found: Element?
        try await eventually(timeout: timeout, what) {
            found = elements.first(where: predicate)
            return found != nil
        }
        return found!
    }

    /// Cancels the reading task, which terminates the stream.
    func stop() async {
        task.cancel()
        await task.value
    }
}
