// Checks of the iOS plugin's plain Swift (conversions, error codes, token broker, the method
// dispatcher against the real engine). No Capacitor and no XCTest here, so the same checks run
// on Linux (scripts/test-plugin.sh builds them with the PosSync package into a small
// executable) and in Xcode (PosSyncPluginTests.swift wraps them in an XCTestCase).

import Foundation
import PosSync

final class PluginChecks: @unchecked Sendable {
    private(set) var passed = 0
    private(set) var failures: [String] = []
    private var current = ""

    /// The naming rules of capacitor-plugin/bridge-rules.json (the Linux runner checks that
    /// these are the file's).
    static let int64AsStringFields = "^(hlc|[a-z][A-Za-z]*Hlc|[a-z][A-Za-z]*Checksum)$"
    static let jsonTextFields = "^(json|[a-z][A-Za-z]*Json)$"

    func expect(_ ok: Bool, _ what: @autoclosure () -> String, line: Int = #line) {
        if ok { passed += 1 } else { failures.append("\(current) (line \(line)): \(what())") }
    }

    func runAll() async {
        for (name, check) in [
            ("records cross under the bridge rules", conversions),
            ("arguments from JavaScript", arguments),
            ("error codes", errorCodes),
            ("token broker", tokens),
        ] as [(String, () -> Void)] {
            current = name
            check()
        }
        current = "the plugin's methods against the real engine"
        await engine()
    }

    // MARK: conversions

    private static func matches(_ pattern: String, _ s: String) -> Bool {
        s.range(of: pattern, options: .regularExpression) != nil
    }

    private static func snake(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    /// `value` (a record) against its JavaScript dictionary, field by field, via reflection.
    private func check(_ value: Any, _ js: Any?, _ path: String, name: String = "") {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            if let inner = mirror.children.first?.value {
                check(inner, js, path, name: name)
            } else {
                expect(js is NSNull, "\(path): nil crosses as NSNull, not \(String(describing: js))")
            }
            return
        }
        switch value {
        case let s as String:
            expect((js as? String) == s, "\(path): the string (JSON text for documents) \(String(describing: js))")
        case let i as Int64:
            if Self.matches(Self.int64AsStringFields, name) {
                expect((js as? String) == String(i), "\(path): a 64-bit value crosses as a decimal string")
            } else {
                expect((js as? Int64) == i, "\(path): the number \(i), not \(String(describing: js))")
            }
        case let b as Bool:
            expect((js as? Bool) == b, "\(path): \(b)")
        case let list as [Any]:
            guard let array = js as? [Any], array.count == list.count else {
                expect(false, "\(path): an array of \(list.count)")
                return
            }
            for (i, item) in list.enumerated() { check(item, array[i], "\(path)[\(i)]", name: name) }
        default:
            if mirror.displayStyle == .enum {
                expect((js as? String) == Self.snake(String(describing: value)), "\(path): enum \(value) as snake_case")
                return
            }
            guard mirror.displayStyle == .struct, let dict = js as? JSDict else {
                expect(false, "\(path): unexpected \(type(of: value)) / \(String(describing: js))")
                return
            }
            let fields = mirror.children.compactMap(\.label)
            expect(fields.sorted() == dict.keys.sorted(), "\(path): keys \(dict.keys.sorted()) are the record's fields \(fields.sorted())")
            for child in mirror.children {
                guard let label = child.label else { continue }
                check(child.value, dict[label], "\(path).\(label)", name: label)
            }
            // The dictionary must survive Capacitor's JSON encoding.
            expect(JSONSerialization.isValidJSONObject(dict), "\(path): valid for JSONSerialization")
        }
    }

    private func conversions() {
        let big: Int64 = (1 << 60) + 7
        let counts = EntityQueueCounts(entityType: .stockAdjustment, pending: 1, syncing: 2, synced: 3, failed: 4, conflict: 5)
        let queue = QueueStats(
            pending: 1, syncing: 0, synced: 2, failed: 1, conflict: 0, rejected: 1, byEntity: [counts, counts],
            oldestUnsyncedAgeMs: nil, bytesPending: 512, health: .warning, healthReason: "1 change failed")
        let conflict = Conflict(
            conflictId: "k", changeId: "c", entityType: .customer, entityId: "c1", localJson: #"{"id":"c1"}"#,
            serverJson: "null", serverVersion: 3, localHlc: big, serverHlc: big + 1, reason: "tie", createdAtMs: 5)
        let entity = EntityConsistency(
            entityType: .price, localCount: 2, serverCount: 3, localChecksum: -big, serverChecksum: big, inSync: false)
        let samples: [(Any, JSDict)] = [
            (SaleReceipt(saleId: "s", receiptNumber: "S1-R1-000001", changeId: "c", hlc: big),
             JSConvert.js(SaleReceipt(saleId: "s", receiptNumber: "S1-R1-000001", changeId: "c", hlc: big))),
            (ChangeRef(entityId: "a", changeId: "c", hlc: big), JSConvert.js(ChangeRef(entityId: "a", changeId: "c", hlc: big))),
            (Sale(saleId: "s", receiptNumber: "r", json: #"{"id":"s"}"#, createdAtMs: 9),
             JSConvert.js(Sale(saleId: "s", receiptNumber: "r", json: #"{"id":"s"}"#, createdAtMs: 9))),
            (Product(id: "p", sku: nil, barcode: "1", name: "n", json: "{}", version: 2),
             JSConvert.js(Product(id: "p", sku: nil, barcode: "1", name: "n", json: "{}", version: 2))),
            (Price(productId: "p", amount: 250, currency: "EUR", source: .priceList, priceId: nil, validFromMs: 1),
             JSConvert.js(Price(productId: "p", amount: 250, currency: "EUR", source: .priceList, priceId: nil, validFromMs: 1))),
            (Customer(id: "c", name: "n", phone: nil, email: "e", json: "{}", version: 0, pendingUpload: true, updatedHlc: big),
             JSConvert.js(Customer(id: "c", name: "n", phone: nil, email: "e", json: "{}", version: 0, pendingUpload: true, updatedHlc: big))),
            (queue, JSConvert.js(queue)),
            (SyncStatus(phase: .backedOff, entityType: nil, progress: 0, online: false, lastSyncAtMs: 7, nextSyncAtMs: nil,
                        lastError: "x", queue: queue),
             JSConvert.js(SyncStatus(phase: .backedOff, entityType: nil, progress: 0, online: false, lastSyncAtMs: 7,
                                     nextSyncAtMs: nil, lastError: "x", queue: queue))),
            (SyncReport(runId: "r", outcome: .budgetExhausted, uploaded: 1, downloaded: 2, autoResolved: 3, conflicts: 4,
                        failed: 5, rejected: 6, remaining: 7, durationMs: 8, moreWorkPending: true, nextSyncAllowedAtMs: nil,
                        error: nil),
             JSConvert.js(SyncReport(runId: "r", outcome: .budgetExhausted, uploaded: 1, downloaded: 2, autoResolved: 3,
                                     conflicts: 4, failed: 5, rejected: 6, remaining: 7, durationMs: 8, moreWorkPending: true,
                                     nextSyncAllowedAtMs: nil, error: nil))),
            (conflict, JSConvert.js(conflict)),
            (entity, JSConvert.js(entity)),
            (ConsistencyReport(checkedAtMs: 1, entities: [entity], resyncScheduled: [.price, .stockAdjustment], consistent: false),
             JSConvert.js(ConsistencyReport(checkedAtMs: 1, entities: [entity], resyncScheduled: [.price, .stockAdjustment],
                                            consistent: false))),
            (IntegrityReport(ok: false, problems: ["p"], warnings: []), JSConvert.js(IntegrityReport(ok: false, problems: ["p"], warnings: []))),
        ]
        for (value, js) in samples { check(value, js, "\(type(of: value))") }
    }

    private func arguments() {
        let dir = URL(fileURLWithPath: "/tmp/pos-sync-checks")
        do {
            let c = try JSConvert.engineConfig(
                ["storeId": "S", "registerId": "R", "deviceId": "D", "databasePath": "a/b.db", "retentionDays": 7,
                 "compression": "best", "durability": "normal", "health": ["warningPending": 9], "serverUrl": NSNull()],
                dataDirectory: dir)
            expect(c.databasePath == dir.appendingPathComponent("a/b.db").path, "relative database path: \(c.databasePath)")
            expect(c.retentionDays == 7 && c.compression == .best && c.durability == .normal, "numbers and enums")
            expect(c.health?.warningPending == 9 && c.health?.criticalPending == 5000, "health thresholds")
            expect(c.serverUrl == nil && c.uploadBatchSize == 500, "defaults")
            let plain = try JSConvert.engineConfig(["storeId": "S", "registerId": "R", "deviceId": "D"], dataDirectory: dir)
            expect(plain.databasePath == dir.appendingPathComponent("pos-sync.db").path, "default database name")
        } catch {
            expect(false, "engineConfig threw \(error)")
        }
        let bad: [(JSDict, String)] = [
            (["storeId": "S", "registerId": "R"], "'deviceId' is required"),
            (["storeId": "S", "registerId": "R", "deviceId": "D", "uploadBatchSize": 2.5], "'uploadBatchSize' must be a whole number"),
            (["storeId": "S", "registerId": "R", "deviceId": "D", "compression": "zip"],
             "'compression' must be one of none, fast, best, not 'zip'"),
            (["storeId": 7, "registerId": "R", "deviceId": "D"], "'storeId' must be a string"),
        ]
        for (args, message) in bad {
            do {
                _ = try JSConvert.engineConfig(args, dataDirectory: dir)
                expect(false, "accepted \(args)")
            } catch let e as InvalidArgument {
                expect(e.message == message, "expected '\(message)', got '\(e.message)'")
            } catch {
                expect(false, "unexpected \(error)")
            }
        }
    }

    private func errorCodes() {
        let cases: [(PosSyncError, String)] = [
            (.InvalidInput(message: "m"), "INVALID_INPUT"), (.PayloadTooLarge(message: "m"), "PAYLOAD_TOO_LARGE"),
            (.NotFound(message: "m"), "NOT_FOUND"), (.Database(message: "m"), "DATABASE"),
            (.StorageFull(message: "m"), "STORAGE_FULL"), (.SchemaTooNew(message: "m"), "SCHEMA_TOO_NEW"),
            (.Network(message: "m"), "NETWORK"), (.Auth(message: "m"), "AUTH"), (.Server(message: "m"), "SERVER"),
            (.Integrity(message: "m"), "INTEGRITY"), (.RateLimited(message: "m"), "RATE_LIMITED"),
            (.Cancelled(message: "m"), "CANCELLED"), (.NotConfigured(message: "m"), "NOT_CONFIGURED"),
        ]
        for (error, code) in cases {
            expect(JSError.of(error) == JSError(code: code, message: "m"), "\(error) → \(code)")
        }
        expect(JSError.of(InvalidArgument("'x' is required")) == JSError(code: "INVALID_INPUT", message: "invalid input: 'x' is required"), "argument")
        expect(JSError.of(NotOpen()).code == "NOT_CONFIGURED", "not open")
        expect(JSError.of(BackgroundNotRegistered()).code == "NOT_CONFIGURED", "background not registered")
        expect(JSError.of(CocoaError(.fileNoSuchFile)).code == "INTERNAL", "anything else")
    }

    private func tokens() {
        final class Requests: @unchecked Sendable {
            let lock = NSLock()
            var refreshes: [Bool] = []
            func add(_ r: Bool) { lock.lock(); refreshes.append(r); lock.unlock() }
            var count: Int { lock.lock(); defer { lock.unlock() }; return refreshes.count }
        }
        let requests = Requests()
        let broker = TokenBroker(timeoutMs: 2_000, hasListener: { true }, request: { r, _ in requests.add(r) })
        broker.set("t1")
        expect((try? broker.token(refresh: false)) == "t1", "a current token is answered at once")
        expect(requests.count == 0, "without asking the app")
        DispatchQueue.global().async {
            while requests.count == 0 { usleep(1_000) }
            broker.set("t2")
        }
        expect((try? broker.token(refresh: true)) == "t2", "a refused token is refreshed through the app")
        expect(requests.refreshes == [true], "one request, refresh = true: \(requests.refreshes)")
        let silent = TokenBroker(timeoutMs: 50, hasListener: { true }, request: { _, _ in })
        do {
            _ = try silent.token(refresh: false)
            expect(false, "no token, no answer: fails")
        } catch {
            expect("\(error)".contains("did not answer 'tokenRequested' within 50 ms"), "\(error)")
        }
        silent.set("stale")
        expect((try? silent.token(refresh: true)) == "stale", "no answer: the stale token")
    }

    // MARK: the real engine

    private func engine() async {
        final class Events: @unchecked Sendable {
            let lock = NSLock()
            var all: [(String, JSDict)] = []
            func add(_ e: String, _ d: JSDict) { lock.lock(); all.append((e, d)); lock.unlock() }
            func named(_ e: String) -> [JSDict] { lock.lock(); defer { lock.unlock() }; return all.filter { $0.0 == e }.map(\.1) }
        }
        struct NoBackground: BackgroundScheduling {
            func enable(intervalMinutes: Int64) throws -> Int64 { throw BackgroundNotRegistered() }
            func disable() {}
        }
        let events = Events()
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pos-sync-plugin-\(UUID().uuidString)")
        let core = PluginCore(
            dataDirectory: dir, scheduler: NoBackground(), emit: { e, d in events.add(e, d) }, hasListeners: { _ in true })
        /// How a call settled: its result, or the error it rejects with.
        struct Settled {
            var result: JSDict?
            var error: JSError?
        }
        func call(_ method: String, _ args: JSDict = [:]) async -> Settled {
            do { return Settled(result: try await core.call(method, args)) } catch { return Settled(error: JSError.of(error)) }
        }
        func code(_ r: Settled) -> String? { r.error?.code }
        func ok(_ r: Settled) -> JSDict { r.result ?? [:] }

        expect(code(await call("getStatus")) == "NOT_CONFIGURED", "before open")
        let opened = ok(await call("open", ["storeId": "S1", "registerId": "R1", "deviceId": "d1", "authToken": "t"]))
        expect(opened["databasePath"] as? String == dir.appendingPathComponent("pos-sync.db").path, "database in the data directory: \(opened)")
        expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("pos-sync.db").path), "database file exists")
        expect(core.state.token() == "t" && (try? core.state.config())??.storeId == "S1", "state saved for background launches")
        let sale = #"{"id":"s1","lines":[{"product_id":"p1","quantity":2}],"total":500}"#
        let receipt = ok(await call("recordSale", ["saleJson": sale]))
        expect(receipt["receiptNumber"] as? String == "S1-R1-000001", "receipt \(receipt)")
        expect(Int64(receipt["hlc"] as? String ?? "") ?? 0 > Int64(1) << 53, "the HLC is past 2^53, hence a string")
        let got = ok(await call("getSale", ["saleId": "s1"]))["sale"] as? JSDict
        expect((got?["json"] as? String)?.contains(#""quantity":2"#) == true, "the sale reads back: \(String(describing: got))")
        expect(ok(await call("getSale", ["saleId": "nope"]))["sale"] is NSNull, "an absent sale is null")
        expect(ok(await call("productByBarcode", ["barcode": "0"]))["product"] is NSNull, "an unknown barcode is null")
        expect(ok(await call("getQueueStats"))["pending"] as? Int64 == 1, "the sale is queued")
        expect(code(await call("recordSale", ["saleJson": #"{"id":"s2"}"#])) == "INVALID_INPUT", "engine validation")
        expect(code(await call("recordSale", [:])) == "INVALID_INPUT", "missing argument")
        expect(code(await call("searchProducts", ["query": "a", "limit": 5000])) == "INVALID_INPUT", "limit")
        expect(ok(await call("syncNow"))["outcome"] as? String == "not_configured", "offline sync report")
        expect(code(await call("checkConsistency")) == "NOT_CONFIGURED", "no server")
        let customer = ok(await call("createCustomer", ["customerJson": #"{"id":"c1","name":"Ada"}"#]))
        expect(customer["pendingUpload"] as? Bool == true && customer["email"] is NSNull, "customer \(customer)")
        expect(code(await call("enableBackgroundSync", ["intervalMinutes": 30])) == "NOT_CONFIGURED", "background not registered")
        for _ in 0..<200 where events.named(PluginCore.syncStatus).isEmpty { try? await Task.sleep(nanoseconds: 10_000_000) }
        expect(events.named(PluginCore.syncStatus).first?["phase"] as? String == "idle", "the status arrives as an event")
        _ = await call("close")
        expect(code(await call("getStatus")) == "NOT_CONFIGURED", "after close")
        expect(core.state.token() == nil && (try? core.state.config()) == .some(nil), "state forgotten on close")
        try? FileManager.default.removeItem(at: dir)
    }
}
