// The whole exported API against the reference server on loopback (a fresh server with an
// in-memory database per test), through the Swift bindings and the hand-written Swift.

import Foundation
import XCTest

@testable import PosSync

final class SyncTests: XCTestCase {
    private var scratch: Scratch!
    private var server: TestServer!

    override func setUpWithError() throws {
        scratch = try Scratch()
        server = try TestServer()
    }

    override func tearDown() {
        if let server, testRun?.hasSucceeded == false {
            print("--- pos-sync-server log ---\n\(server.log)")
        }
        server?.stop()
        server = nil
        scratch = nil
    }

    private func engine(
        device: Int = 0, name: String? = nil, configure: (inout EngineConfig) -> Void = { _ in }
    ) throws -> SyncEngine {
        try openEngine(
            scratch, name: name ?? "device-\(device).db", server: server, device: device,
            configure: configure)
    }

    // MARK: uploads, queue, history

    func testSalesRecordedOfflineAreUploadedOnce() async throws {
        let till = try engine()
        till.setNetworkAvailable(available: false)
        var receipts: [SaleReceipt] = []
        for i in 1...3 { receipts.append(try till.recordSale(saleJson: Docs.sale("s\(i)"))) }
        _ = try till.recordStockAdjustment(
            adjustmentJson: #"{"id":"adj1","product_id":"p1","quantity_delta":-2}"#)
        XCTAssertEqual(Set(receipts.map(\.receiptNumber)).count, 3)
        XCTAssertEqual(try till.queueStats().pending, 4)
        XCTAssertEqual(try till.status().queue.pending, 4)

        till.setNetworkAvailable(available: true)
        let report = try await till.sync()
        XCTAssertEqual(report.outcome, .completed, "\(report)")
        XCTAssertEqual(report.uploaded, 4)
        XCTAssertEqual(report.remaining, 0)
        XCTAssertFalse(report.moreWorkPending)
        XCTAssertNil(report.error)

        let stats = try till.queueStats()
        XCTAssertEqual([stats.pending, stats.syncing, stats.failed, stats.conflict], [0, 0, 0, 0])
        XCTAssertEqual(stats.synced, 4)
        XCTAssertNil(stats.oldestUnsyncedAgeMs)
        XCTAssertEqual(try till.queueItems(state: .synced, entityType: .sale, limit: 10).count, 3)

        let onServer = try await server.records("sale")
        XCTAssertEqual(Set(onServer.compactMap { $0["id"] as? String }), ["s1", "s2", "s3"])

        // Nothing is uploaded twice.
        let again = await till.syncNow()
        XCTAssertEqual(again.outcome, .completed)
        XCTAssertEqual(again.uploaded, 0)
        let value69 = try await server.records("sale").count
        XCTAssertEqual(value69, 3)

        let log = try till.syncLog(limit: 50)
        let cycles = log.filter { $0.syncType == "cycle" }
        XCTAssertEqual(cycles.count, 2, "\(log)")
        XCTAssertTrue(cycles.allSatisfy { $0.status == "OK" && $0.completedAtMs != nil })
        XCTAssertTrue(log.contains { $0.syncType == "sale" && $0.direction == "upload" && $0.recordsCount == 3 })
        XCTAssertNotNil(try till.status().lastSyncAtMs)
        XCTAssertTrue(try till.integrityCheck().ok)
    }

    func testCatalogPricesAndReportsDownloadAndRollBack() async throws {
        try await server.put("product", [
            ["id": "p1", "sku": "SKU-1", "barcode": "5901234123457", "name": "Espresso Beans", "price": 1299],
            ["id": "p2", "sku": "SKU-2", "name": "Espresso Cup", "price": 450],
        ])
        try await server.put("price", [["id": "pr1", "product_id": "p1", "amount": 1199, "currency": "EUR", "valid_from": 0]])
        try await server.put("report", [["id": "daily-2024-05-01", "total": 15400]])
        let till = try engine()

        let report = await till.syncNow()
        XCTAssertEqual(report.outcome, .completed, "\(report)")
        XCTAssertEqual(report.downloaded, 4)

        XCTAssertEqual(try till.productByBarcode(barcode: "5901234123457")?.id, "p1")
        XCTAssertEqual(try till.productBySku(sku: "SKU-2")?.name, "Espresso Cup")
        XCTAssertEqual(try till.productById(productId: "p2")?.version, 1)
        XCTAssertEqual(Set(try till.searchProducts(query: "espr", limit: 5).map(\.id)), ["p1", "p2"])
        let price = try XCTUnwrap(try till.currentPrice(productId: "p1"))
        XCTAssertEqual(price.source, .priceList)
        XCTAssertEqual(price.amount, 1199)
        XCTAssertEqual(price.priceId, "pr1")
        XCTAssertEqual(try till.currentPrice(productId: "p2")?.source, .catalog)
        let daily = try XCTUnwrap(try till.getReport(key: "daily-2024-05-01"))
        XCTAssertTrue(daily.json.contains("15400"))

        let audit = try till.auditTrail(limit: 20)
        XCTAssertTrue(audit.contains { $0.entityType == .product && $0.entityId == "p1" && $0.runId == report.runId }, "\(audit)")

        // A server-side price change reaches the till on the next sync...
        try await server.put("price", [["id": "pr1", "product_id": "p1", "amount": 999, "currency": "EUR", "valid_from": 0]])
        let second = await till.syncNow()
        XCTAssertEqual(second.downloaded, 1)
        XCTAssertEqual(try till.currentPrice(productId: "p1")?.amount, 999)

        // ...and rolling that run back restores the previous price.
        XCTAssertEqual(try till.rollback(runId: second.runId), 1)
        XCTAssertEqual(try till.currentPrice(productId: "p1")?.amount, 1199)
        XCTAssertThrowsError(try till.rollback(runId: second.runId), "only once") { error in
            guard case PosSyncError.NotFound = error else { return XCTFail("\(error)") }
        }
        // The rewound sync token brings the change back.
        let third = await till.syncNow()
        XCTAssertEqual(third.outcome, .completed)
        XCTAssertEqual(try till.currentPrice(productId: "p1")?.amount, 999)

        // Rolling back the first run removes what it downloaded.
        XCTAssertGreaterThanOrEqual(try till.rollback(runId: report.runId), 3)
        XCTAssertNil(try till.productById(productId: "p2"))
        XCTAssertNil(try till.getReport(key: "daily-2024-05-01"))
        XCTAssertTrue(try till.integrityCheck().ok)
    }

    func testCustomersTravelBetweenTills() async throws {
        let till1 = try engine(device: 0)
        let till2 = try engine(device: 1)
        _ = try till1.createCustomer(customerJson: Docs.customer("c1", name: "Ana Silva", email: "ana@example.com"))
        let value136 = await till1.syncNow().uploaded
        XCTAssertEqual(value136, 1)
        let value137 = await till2.syncNow().outcome
        XCTAssertEqual(value137, .completed)
        let seen = try XCTUnwrap(try till2.getCustomer(customerId: "c1"))
        XCTAssertEqual(seen.name, "Ana Silva")
        XCTAssertFalse(seen.pendingUpload)
        XCTAssertEqual(try till2.searchCustomers(query: "ana", limit: 5).map(\.id), ["c1"])

        _ = try till2.updateCustomer(customerJson: Docs.customer("c1", name: "Ana Silva Costa", email: "ana@example.com"))
        let value144 = await till2.syncNow().uploaded
        XCTAssertEqual(value144, 1)
        _ = await till1.syncNow()
        XCTAssertEqual(try till1.getCustomer(customerId: "c1")?.name, "Ana Silva Costa")
    }

    // MARK: conflicts

    func testConflictsAreListedStreamedAndResolvedThreeWays() async throws {
        let till = try engine { $0.conflictTieWindowMs = 60_000 }
        _ = try till.createCustomer(
            customerJson: Docs.customer("c1", name: "Ana Silva", phone: "100", email: "ana@example.com"))
        let value155 = await till.syncNow().outcome
        XCTAssertEqual(value155, .completed)
        let conflicts = StreamRecorder(till.conflictUpdates)
        defer { Task { await conflicts.stop() } }

        let resolutions: [(ConflictResolution, String)] = [
            (.keepLocal, "200"), (.keepServer, "301"),
            (try .merged(MergedCustomer(id: "c1", name: "Ana Silva", phone: "999", email: "ana@example.com")), "999"),
        ]
        for (i, (resolution, expectedPhone)) in resolutions.enumerated() {
            try await server.put("customer", [
                ["id": "c1", "name": "Ana Silva", "phone": "30\(i)", "email": "ana@example.com"]
            ])
            _ = try till.updateCustomer(
                customerJson: Docs.customer("c1", name: "Ana Silva", phone: "20\(i)", email: "ana@example.com"))
            let report = await till.syncNow()
            XCTAssertEqual(report.conflicts, 1, "\(report)")

            let open = try till.conflicts()
            XCTAssertEqual(open.count, 1)
            let conflict = try XCTUnwrap(open.first)
            XCTAssertEqual(conflict.entityType, .customer)
            XCTAssertEqual(conflict.entityId, "c1")
            XCTAssertTrue(conflict.reason.contains("phone"), conflict.reason)
            XCTAssertTrue(conflict.localJson.contains("20\(i)"))
            XCTAssertTrue(conflict.serverJson.contains("30\(i)"))
            XCTAssertEqual(try till.queueItems(state: .conflict, entityType: nil, limit: 5).count, 1)
            XCTAssertEqual(try till.queueStats().conflict, 1)
            let streamed = try await conflicts.wait(for: "conflict \(i) streamed") {
                $0.conflictId == conflict.conflictId
            }
            XCTAssertEqual(streamed, conflict)

            let resolved: Customer?
            if i == 0 {
                // The generated API as is.
                resolved = try await till.resolveConflict(
                    conflictId: conflict.conflictId, resolution: .keepLocal, mergedJson: nil)
            } else {
                resolved = try await till.resolve(conflict, with: resolution)
            }
            XCTAssertEqual(resolved?.phone, expectedPhone, "\(resolution)")
            XCTAssertEqual(try till.getCustomer(customerId: "c1")?.phone, expectedPhone)
            let onServer = try await server.records("customer").first { $0["id"] as? String == "c1" }
            XCTAssertEqual(onServer?["phone"] as? String, expectedPhone)
            XCTAssertEqual(try till.conflicts(), [])
            XCTAssertEqual(try till.queueStats().conflict, 0)
        }

        // A merged resolution without the merged document is refused, via the raw API.
        try await server.put("customer", [["id": "c1", "name": "Ana Silva", "phone": "400", "email": "ana@example.com"]])
        _ = try till.updateCustomer(customerJson: Docs.customer("c1", name: "Ana Silva", phone: "500", email: "ana@example.com"))
        _ = await till.syncNow()
        let conflict = try XCTUnwrap(try till.conflicts().first)
        do {
            _ = try await till.resolveConflict(conflictId: conflict.conflictId, resolution: .merged, mergedJson: nil)
            XCTFail("merged needs the document")
        } catch PosSyncError.InvalidInput(let message, _) {
            XCTAssertTrue(message.contains("merged"), message)
        }
        do {
            _ = try await till.resolve(conflict, with: .merged(json: Docs.customer("other", name: "X")))
            XCTFail("the merged document must be about the same customer")
        } catch PosSyncError.InvalidInput(let message, _) {
            XCTAssertTrue(message.contains("other"), message)
        }
        XCTAssertEqual(try till.conflicts().count, 1, "a refused resolution changes nothing")
    }

    // MARK: status stream, listeners

    func testStatusStreamSendsTheCurrentStatusFirstThenChanges() async throws {
        let till = try engine()
        _ = try till.recordSale(saleJson: Docs.sale("before"))
        let released = Locked(false)
        let statuses = StreamRecorder(
            till.statusUpdates(bufferingPolicy: .unbounded, onRelease: { released.withValue { $0 = true } }))
        let first = try await statuses.wait(for: "the current status") { _ in true }
        XCTAssertEqual(first.phase, .idle)
        XCTAssertEqual(first.queue.pending, 1, "the status at subscription time comes first")
        XCTAssertEqual(statuses.elements.first, first)

        _ = try till.recordSale(saleJson: Docs.sale("after"))
        _ = try await statuses.wait(for: "the new sale") { $0.queue.pending == 2 }
        let report = await till.syncNow()
        XCTAssertEqual(report.uploaded, 2)
        _ = try await statuses.wait(for: "uploading") { $0.phase == .uploading && $0.entityType == .sale }
        let done = try await statuses.wait(for: "synced") {
            $0.phase == .idle && $0.queue.synced == 2 && $0.lastSyncAtMs != nil
        }
        XCTAssertEqual(done.queue.pending, 0)

        // The event stream carries both kinds, in order.
        let events = StreamRecorder(till.events())
        _ = try await events.wait(for: "the first event") {
            if case .status = $0 { return true } else { return false }
        }
        await events.stop()

        // Ending the stream cancels the engine's subscription: it lets go of the listener.
        await statuses.stop()
        try await eventually("the engine released the stream's listener") { released.current }
    }

    func testSubscribeStatusAndTaskHandleCancel() async throws {
        final class Counter: SyncStatusListener, @unchecked Sendable {
            let statuses = Locked<[SyncStatus]>([])
            func onStatus(status: SyncStatus) { statuses.withValue { $0.append(status) } }
            func onConflict(conflict: Conflict) {}
        }
        let till = try engine()
        let counter = Counter()
        let handle = till.subscribeStatus(listener: counter)
        XCTAssertEqual(counter.statuses.current.count, 1, "the current status at once")
        _ = try till.recordSale(saleJson: Docs.sale("s1"))
        try await eventually("the change was sent") { counter.statuses.current.count >= 2 }
        handle.cancel()
        let count = counter.statuses.current.count
        _ = try till.recordSale(saleJson: Docs.sale("s2"))
        _ = await till.syncNow()
        XCTAssertEqual(counter.statuses.current.count, count, "nothing after cancel")
        handle.cancel()  // idempotent
    }

    // MARK: credentials

    func testTokenProviderIsAskedAgainAfterA401() async throws {
        let good = server.devices[0].token
        let till = try openEngine(scratch, server: server, token: "expired-token")
        let asked = Locked<[Bool]>([])
        try till.setTokenProvider { refresh in
            asked.withValue { $0.append(refresh) }
            return refresh ? good : "expired-token"
        }
        _ = try till.recordSale(saleJson: Docs.sale("s1"))
        let report = await till.syncNow()
        XCTAssertEqual(report.outcome, .completed, "\(report)")
        XCTAssertEqual(report.uploaded, 1)
        XCTAssertEqual(Array(asked.current.prefix(2)), [false, true], "asked again with refresh")

        // Credentials refused even after a refresh: an auth error, in words.
        final class Revoked: TokenProvider {
            func token(refresh: Bool) async throws -> String { "revoked" }
        }
        try till.setTokenProvider(provider: Revoked())
        _ = try till.recordSale(saleJson: Docs.sale("s2"))
        let refused = await till.syncNow()
        XCTAssertEqual(refused.outcome, .authError)
        XCTAssertTrue(refused.error?.contains("authentication failed") == true, "\(refused)")
        XCTAssertFalse(BackgroundSyncPolicy().isSuccess(refused))
        XCTAssertEqual(try till.status().phase, .error)
        XCTAssertNotNil(try till.status().lastError)

        // A provider that throws: an auth error with the app's reason, nothing is lost.
        try till.setTokenProvider { _ in throw TokenError.Unavailable(reason: "the cashier signed out") }
        let thrown = await till.syncNow()
        XCTAssertEqual(thrown.outcome, .authError, "\(thrown)")
        XCTAssertTrue(thrown.error?.contains("the cashier signed out") == true, "\(thrown)")
        XCTAssertFalse(BackgroundSyncPolicy().isSuccess(thrown))

        // Any other error thrown through ClosureTokenProvider counts the same.
        struct SignedOut: Error {}
        try till.setTokenProvider { _ in throw SignedOut() }
        let otherError = await till.syncNow()
        XCTAssertEqual(otherError.outcome, .authError, "\(otherError)")
        XCTAssertEqual(try till.queueStats().synced, 1)
        XCTAssertEqual(try till.getSale(saleId: "s2")?.saleId, "s2")
    }

    // MARK: failures and retries

    func testAnUnreachableServerFailsChangesThatRetryNowBringsBack() async throws {
        let dead = try openEngine(scratch, name: "dead.db", token: "t") {
            $0.serverUrl = "http://127.0.0.1:9"
            $0.connectTimeoutMs = 500
            $0.requestTimeoutMs = 1000
            $0.retryBaseMs = 60_000
            $0.retryMaxMs = 60_000
        }
        _ = try dead.recordSale(saleJson: Docs.sale("s1"))
        let report = await dead.syncNow()
        XCTAssertEqual(report.outcome, .networkError, "\(report)")
        XCTAssertTrue(report.error?.hasPrefix("network error") == true, "\(report)")
        XCTAssertNotNil(report.nextSyncAllowedAtMs)
        XCTAssertFalse(BackgroundSyncPolicy().isSuccess(report))
        XCTAssertEqual(try dead.status().phase, .offline)

        let failed = try dead.queueItems(state: .failed, entityType: nil, limit: 5)
        XCTAssertEqual(failed.count, 1)
        XCTAssertEqual(failed[0].attempts, 1)
        XCTAssertNotNil(failed[0].lastError)
        let due = try XCTUnwrap(failed[0].nextAttemptAtMs)
        XCTAssertEqual(try dead.retryFailedNow(), 1)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let retried = try dead.queueItems(state: .failed, entityType: nil, limit: 5)[0]
        XCTAssertLessThan(try XCTUnwrap(retried.nextAttemptAtMs), due)
        XCTAssertLessThanOrEqual(try XCTUnwrap(retried.nextAttemptAtMs), now + 1000)

        do {
            _ = try await dead.checkConsistency()
            XCTFail("no server to compare with")
        } catch let error as PosSyncError {
            guard case .Network = error else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isTransient())
        }
    }

    // MARK: batch entry point, cancel, auto sync

    func testBatchSyncReportsWorkLeftAndThePolicyMapsIt() async throws {
        let till = try engine {
            $0.uploadBatchSize = 5
            $0.maxUploadBatchesPerCycle = 2
            $0.durability = .normal
        }
        for i in 1...25 { _ = try till.recordSale(saleJson: Docs.sale("s\(i)")) }
        let policy = BackgroundSyncPolicy()
        let now = Date()

        let first = await till.runBatchSync(budgetMs: 60_000)
        XCTAssertEqual(first.uploaded, 10, "two batches of five per cycle")
        XCTAssertTrue(first.moreWorkPending)
        XCTAssertEqual(first.remaining, 15)
        XCTAssertTrue(policy.isSuccess(first))
        XCTAssertEqual(policy.nextBeginDate(for: .appRefresh, after: first, now: now), now + 60)

        let exhausted = await till.runBatchSync(budgetMs: 0)
        XCTAssertEqual(exhausted.outcome, .budgetExhausted, "\(exhausted)")
        XCTAssertTrue(exhausted.moreWorkPending)
        XCTAssertTrue(policy.isSuccess(exhausted))

        let wrapped = try await till.backgroundSync(budgetMs: 60_000)
        XCTAssertEqual(wrapped.uploaded, 10)

        // The coordinator with the real engine: what an iOS background launch does.
        let submitter = FakeSubmitter()
        let task = FakeTask("test.processing")
        let coordinator = BackgroundSyncCoordinator(
            identifiers: ids, submitter: submitter, engine: { till })
        let result = await coordinator.run(task)
        XCTAssertEqual(result.report?.uploaded, 5)
        XCTAssertEqual(result.report?.outcome, .completed)
        XCTAssertFalse(result.report?.moreWorkPending ?? true)
        XCTAssertEqual(task.completed, [true])
        XCTAssertEqual(result.nextRequest?.requiresNetworkConnectivity, true)
        let next = try XCTUnwrap(result.nextRequest?.earliestBeginDate)
        XCTAssertGreaterThan(next.timeIntervalSinceNow, 50 * 60, "nothing left: the regular interval")
        XCTAssertEqual(try till.queueStats().pending, 0)
        let value394 = try await server.records("sale").count
        XCTAssertEqual(value394, 25)
    }

    func testCancelStopsASyncAtABatchBoundary() async throws {
        let till = try engine {
            $0.uploadBatchSize = 1
            $0.maxUploadBatchesPerCycle = 10_000
            $0.durability = .normal
        }
        for i in 1...300 { _ = try till.recordSale(saleJson: Docs.sale("s\(i)")) }
        let statuses = StreamRecorder(till.statusUpdates(bufferingPolicy: .unbounded))

        // engine.cancel()
        let running = Task { await till.syncNow() }
        _ = try await statuses.wait(for: "uploading") { $0.phase == .uploading && $0.progress >= 1 }
        till.cancel()
        let report = await running.value
        XCTAssertEqual(report.outcome, .cancelled, "\(report)")
        XCTAssertTrue(report.moreWorkPending)
        XCTAssertGreaterThan(report.uploaded, 0)
        XCTAssertLessThan(report.uploaded, 300)
        XCTAssertEqual(report.remaining, Int64(300) - report.uploaded, "whole batches only")
        XCTAssertFalse(BackgroundSyncPolicy().isSuccess(report))
        XCTAssertEqual(try till.status().phase, .idle)
        XCTAssertEqual(try till.syncLog(limit: 5).first { $0.syncType == "cycle" }?.status, "CANCELLED")

        // Cancelling the Swift task that awaits sync() does the same.
        let before = try till.queueStats().synced
        let swiftTask = Task { try await till.sync() }
        _ = try await statuses.wait(for: "uploading again") {
            $0.phase == .uploading && $0.queue.synced > before
        }
        swiftTask.cancel()
        let cancelled = try await swiftTask.value
        XCTAssertEqual(cancelled.outcome, .cancelled, "\(cancelled)")
        XCTAssertGreaterThan(try till.queueStats().pending, 0)

        // A task cancelled before it starts does not start a sync.
        let never = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await till.sync()
        }
        do {
            _ = try await never.value
            XCTFail("expected CancellationError")
        } catch is CancellationError {}

        // Nothing was lost or duplicated: the rest goes up on the next sync.
        let rest = await till.syncNow()
        XCTAssertEqual(rest.outcome, .completed)
        XCTAssertEqual(try till.queueStats().synced, 300)
        let value445 = try await server.records("sale").count
        XCTAssertEqual(value445, 300)
        await statuses.stop()
    }

    func testAutoSyncFollowsTheNetworkSignal() async throws {
        let till = try engine()
        XCTAssertFalse(till.isAutoSyncRunning())
        try till.startAutoSync(intervalMs: 100)
        XCTAssertTrue(till.isAutoSyncRunning())
        _ = try till.recordSale(saleJson: Docs.sale("s1"))
        try await eventually("auto sync uploaded the sale") { try till.queueStats().synced == 1 }

        let monitor = NetworkAvailabilityForwarder(till)
        monitor.update(available: false)
        XCTAssertFalse(try till.status().online)
        monitor.update(available: true)
        XCTAssertTrue(try till.status().online)
        _ = try till.recordSale(saleJson: Docs.sale("s2"))
        try await eventually("synced after the network came back") { try till.queueStats().synced == 2 }

        till.stopAutoSync()
        XCTAssertFalse(till.isAutoSyncRunning())
    }

    // MARK: consistency

    func testConsistencyCheckFindsDriftAndSchedulesAResync() async throws {
        try await server.put("product", [["id": "p1", "name": "Tea", "price": 250]])
        let till = try engine()
        _ = await till.syncNow()
        let clean = try await till.checkConsistency()
        XCTAssertTrue(clean.consistent, "\(clean)")
        XCTAssertEqual(clean.resyncScheduled, [])
        let products = try XCTUnwrap(clean.entities.first { $0.entityType == .product })
        XCTAssertEqual(products.localCount, 1)
        XCTAssertEqual(products.serverCount, 1)
        XCTAssertTrue(products.inSync)

        // A hand import over the synced product (support tooling): the device's copy no
        // longer matches the server's, and no delta sync would notice.
        XCTAssertEqual(try till.importProducts(productsJson: #"[{"id":"p1","name":"Tea (local)"}]"#), 1)
        let drift = try await till.checkConsistency()
        XCTAssertFalse(drift.consistent)
        XCTAssertEqual(drift.resyncScheduled, [.product])
        XCTAssertEqual(drift.entities.first { $0.entityType == .product }?.inSync, false)

        // The scheduled full resync makes the device match the server again.
        _ = await till.syncNow()
        let healed = try await till.checkConsistency()
        XCTAssertTrue(healed.consistent, "\(healed)")
        XCTAssertEqual(try till.productById(productId: "p1")?.name, "Tea")
        XCTAssertTrue(try till.integrityCheck().ok)
    }
}

struct MergedCustomer: Encodable {
    let id: String
    let name: String
    let phone: String
    let email: String
}
