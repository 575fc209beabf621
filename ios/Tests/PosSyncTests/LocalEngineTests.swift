// The engine's local (blocking) API through the Swift bindings, with no server: what a till
// does all day while offline. These test the glue (types, errors, optional values, JSON
// helpers), not the Rust logic again.

import Foundation
import XCTest

@testable import PosSync

final class LocalEngineTests: XCTestCase {
    private var scratch: Scratch!
    private var engine: SyncEngine!

    override func setUpWithError() throws {
        scratch = try Scratch()
        engine = try openEngine(scratch)
    }

    override func tearDown() {
        engine = nil
        scratch = nil
    }

    func testVersionAndEntityTypeNames() throws {
        XCTAssertTrue(posSyncVersion().split(separator: ".").count >= 3, posSyncVersion())
        let names: [String: EntityType] = [
            "sale": .sale, "stock_adjustment": .stockAdjustment, "product": .product,
            "price": .price, "customer": .customer, "report": .report,
        ]
        for (name, type) in names {
            XCTAssertEqual(try entityTypeFromName(name: name), type)
        }
        let error = expectPosSyncError { try entityTypeFromName(name: "invoice") }
        guard case .InvalidInput = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(error?.code(), "INVALID_INPUT")
        XCTAssertTrue(error!.reason().contains("invoice"), error!.reason())
    }

    func testOpenRejectsABadConfigurationWithAClearMessage() throws {
        let error = expectPosSyncError {
            try SyncEngine.open(
                config: EngineConfig(
                    databasePath: scratch.path("bad.db"), storeId: "S1", registerId: "R1",
                    deviceId: "d", uploadBatchSize: 0))
        }
        guard case .InvalidInput(let message, _) = error else {
            return XCTFail("got \(String(describing: error))")
        }
        XCTAssertTrue(message.contains("upload_batch_size"), message)

        let http = expectPosSyncError {
            try SyncEngine.open(
                config: EngineConfig(
                    databasePath: scratch.path("http.db"), storeId: "S1", registerId: "R1",
                    deviceId: "d", serverUrl: "http://example.com"))
        }
        XCTAssertNotNil(http, "plain http to a remote host must be refused")
        XCTAssertTrue(http!.reason().contains("https"), http!.reason())
    }

    func testOpeningTheSameFileTwiceSharesTheEngine() throws {
        let again = try openEngine(scratch)
        _ = try engine.recordSale(saleJson: Docs.sale("shared"))
        XCTAssertNotNil(try again.getSale(saleId: "shared"), "both handles see one database")

        let different = expectPosSyncError {
            try openEngine(self.scratch) { $0.retentionDays = 7 }
        }
        guard case .InvalidInput(let message, _) = different else {
            return XCTFail("got \(String(describing: different))")
        }
        XCTAssertTrue(message.contains("already open"), message)
    }

    func testRecordSaleQueuesItWithAGaplessReceipt() throws {
        let first = try engine.recordSale(saleJson: Docs.sale("s1"))
        let second = try engine.recordSale(saleJson: Docs.sale("s2"))
        XCTAssertEqual(first.saleId, "s1")
        XCTAssertTrue(first.receiptNumber.hasPrefix("S1-R1-"), first.receiptNumber)
        XCTAssertNotEqual(first.receiptNumber, second.receiptNumber)
        XCTAssertFalse(first.changeId.isEmpty)

        // Recording the same sale again returns the same receipt (idempotent).
        XCTAssertEqual(try engine.recordSale(saleJson: Docs.sale("s1")), first)

        let sale = try XCTUnwrap(try engine.getSale(saleId: "s1"))
        XCTAssertEqual(sale.receiptNumber, first.receiptNumber)
        struct Line: Decodable { let productId: String; let quantity: Int }
        struct SaleDoc: Decodable { let id: String; let lines: [Line]; let total: Int }
        let doc: SaleDoc = try sale.decoded()
        XCTAssertEqual(doc.lines.first?.productId, "p1")
        XCTAssertEqual(doc.total, 300)
        XCTAssertNil(try engine.getSale(saleId: "nope"))

        let stats = try engine.queueStats()
        XCTAssertEqual(stats.pending, 2)
        XCTAssertEqual(stats.health, .ok)
        XCTAssertEqual(stats.healthReason, "")
        XCTAssertEqual(stats.byEntity.first(where: { $0.entityType == .sale })?.pending, 2)
        XCTAssertGreaterThan(stats.bytesPending, 0)
        XCTAssertNotNil(stats.oldestUnsyncedAgeMs)
    }

    func testBadSalesAreTypedErrorsAndChangeNothing() throws {
        let noLines = expectPosSyncError {
            try engine.recordSale(saleJson: #"{"id":"s1","lines":[],"total":0}"#)
        }
        guard case .InvalidInput(let message, _) = noLines else {
            return XCTFail("a sale without lines must be InvalidInput, got \(String(describing: noLines))")
        }
        XCTAssertTrue(message.hasPrefix("invalid input: "), message)
        XCTAssertTrue(message.contains("no lines"), message)

        let malformed = expectPosSyncError { try engine.recordSale(saleJson: "{not json") }
        guard case .InvalidInput = malformed else { return XCTFail("\(String(describing: malformed))") }

        let big = String(repeating: "x", count: 300 * 1024)
        let tooLarge = expectPosSyncError {
            try engine.recordSale(
                saleJson: #"{"id":"big","lines":[{"product_id":"p","quantity":1}],"note":"\#(big)"}"#)
        }
        guard case .PayloadTooLarge = tooLarge else { return XCTFail("\(String(describing: tooLarge))") }
        XCTAssertFalse(tooLarge!.isTransient())

        XCTAssertEqual(try engine.queueStats().pending, 0, "nothing was queued")
        XCTAssertNil(try engine.getSale(saleId: "s1"))
    }

    func testStockAdjustmentsAndQueueItemsFilters() throws {
        _ = try engine.recordSale(saleJson: Docs.sale("s1"))
        let change = try engine.recordStockAdjustment(
            adjustmentJson: #"{"id":"adj1","product_id":"p1","quantity_delta":-3}"#)
        XCTAssertEqual(change.entityId, "adj1")
        XCTAssertGreaterThan(change.hlc, 0)

        let all = try engine.queueItems(state: nil, entityType: nil, limit: 10)
        XCTAssertEqual(all.map(\.entityType), [.sale, .stockAdjustment], "sync (priority) order")
        let adjustments = try engine.queueItems(state: .pending, entityType: .stockAdjustment, limit: 10)
        XCTAssertEqual(adjustments.count, 1)
        let item = adjustments[0]
        XCTAssertEqual(item.changeId, change.changeId)
        XCTAssertEqual(item.action, .create)
        XCTAssertEqual(item.status, .pending)
        XCTAssertEqual(item.attempts, 0)
        XCTAssertFalse(item.rejected)
        XCTAssertFalse(item.checksum.isEmpty)
        XCTAssertTrue(item.payloadJson.contains("quantity_delta"))
        XCTAssertEqual(try engine.queueItems(state: .synced, entityType: nil, limit: 10), [])
        XCTAssertEqual(try engine.queueItems(state: nil, entityType: nil, limit: 1).count, 1)

        let bad = expectPosSyncError {
            try engine.recordStockAdjustment(adjustmentJson: #"{"id":"a","product_id":"p1"}"#)
        }
        guard case .InvalidInput = bad else { return XCTFail("\(String(describing: bad))") }
    }

    func testCatalogLookupsSearchAndPrices() throws {
        let imported = try engine.importProducts(
            productsJson: """
                [{"id":"p1","sku":"SKU-1","barcode":"4006381333931","name":"Sparkling Water","price":150},
                 {"id":"p2","sku":"SKU-2","name":"Still Water"},
                 {"id":"p3","name":"Orange Juice","price":320,"currency":"EUR"}]
                """)
        XCTAssertEqual(imported, 3)

        XCTAssertEqual(try engine.productByBarcode(barcode: "4006381333931")?.id, "p1")
        XCTAssertEqual(try engine.productBySku(sku: "SKU-2")?.name, "Still Water")
        let p3 = try XCTUnwrap(try engine.productById(productId: "p3"))
        XCTAssertNil(p3.sku)
        XCTAssertNil(p3.barcode)
        XCTAssertNil(try engine.productByBarcode(barcode: "0000"))
        XCTAssertNil(try engine.productBySku(sku: "nope"))
        XCTAssertNil(try engine.productById(productId: "nope"))

        XCTAssertEqual(Set(try engine.searchProducts(query: "wat", limit: 10).map(\.id)), ["p1", "p2"])
        XCTAssertEqual(try engine.searchProducts(query: "spark wat", limit: 10).map(\.id), ["p1"])
        XCTAssertEqual(try engine.searchProducts(query: "water", limit: 1).count, 1)

        let price = try XCTUnwrap(try engine.currentPrice(productId: "p1"))
        XCTAssertEqual(price.amount, 150)
        XCTAssertEqual(price.source, .catalog)
        XCTAssertNil(price.priceId)
        XCTAssertEqual(try engine.currentPrice(productId: "p3")?.currency, "EUR")
        XCTAssertNil(try engine.currentPrice(productId: "p2"), "no price anywhere")
        XCTAssertNil(try engine.currentPrice(productId: "nope"))

        // All or nothing.
        let bad = expectPosSyncError {
            try engine.importProducts(productsJson: #"[{"id":"p9","name":"ok"},{"name":"no id"}]"#)
        }
        guard case .InvalidInput = bad else { return XCTFail("\(String(describing: bad))") }
        XCTAssertNil(try engine.productById(productId: "p9"))
    }

    func testCustomersCreateUpdateGetSearch() throws {
        let created = try engine.createCustomer(
            customerJson: Docs.customer("c1", name: "Ada Lovelace", phone: "+44 20 1234", email: "ada@example.com"))
        XCTAssertEqual(created.id, "c1")
        XCTAssertEqual(created.phone, "+44 20 1234")
        XCTAssertTrue(created.pendingUpload)

        let updated = try engine.updateCustomer(
            customerJson: Docs.customer("c1", name: "Ada King", email: "ada@example.com"))
        XCTAssertEqual(updated.name, "Ada King")
        XCTAssertNil(updated.phone)
        XCTAssertEqual(try engine.getCustomer(customerId: "c1"), updated)
        XCTAssertNil(try engine.getCustomer(customerId: "c2"))

        _ = try engine.createCustomer(customerJson: Docs.customer("c2", name: "Grace Hopper"))
        XCTAssertEqual(try engine.searchCustomers(query: "ada", limit: 10).map(\.id), ["c1"])
        XCTAssertEqual(try engine.searchCustomers(query: "ada@", limit: 10).map(\.id), ["c1"])
        XCTAssertEqual(try engine.searchCustomers(query: "grace", limit: 10).map(\.id), ["c2"])

        let noName = expectPosSyncError { try engine.createCustomer(customerJson: #"{"id":"c3"}"#) }
        guard case .InvalidInput(let message, _) = noName else {
            return XCTFail("\(String(describing: noName))")
        }
        XCTAssertTrue(message.contains("name"), message)
        let queued = try engine.queueItems(state: nil, entityType: .customer, limit: 10)
        XCTAssertEqual(Set(queued.map(\.entityId)), ["c1", "c2"])
    }

    func testReports() throws {
        XCTAssertNil(try engine.getReport(key: "daily"))
        try engine.putReport(key: "daily", reportJson: #"{"id":"daily","total":1200}"#)
        let report = try XCTUnwrap(try engine.getReport(key: "daily"))
        XCTAssertEqual(report.key, "daily")
        struct Daily: Decodable { let total: Int }
        XCTAssertEqual(try report.decoded(as: Daily.self).total, 1200)
        let bad = expectPosSyncError { try engine.putReport(key: "daily", reportJson: "{") }
        guard case .InvalidInput = bad else { return XCTFail("\(String(describing: bad))") }
    }

    func testEncodableHelpersWriteTheEnginesJSON() throws {
        struct Line: Encodable { let productId: String; let quantity: Int; let unitPrice: Int }
        struct Payment: Encodable { let method: String; let amount: Int }
        struct NewSale: Encodable { let id: String; let lines: [Line]; let payments: [Payment]; let total: Int }
        struct Adjustment: Encodable { let id: String; let productId: String; let quantityDelta: Int }
        struct NewCustomer: Codable, Equatable { let id: String; let name: String; let email: String? }
        struct NewProduct: Encodable { let id: String; let name: String; let price: Int }

        let receipt = try engine.recordSale(
            NewSale(id: "s1", lines: [Line(productId: "p1", quantity: 1, unitPrice: 99)],
                    payments: [Payment(method: "card", amount: 99)], total: 99))
        XCTAssertEqual(receipt.saleId, "s1")
        XCTAssertEqual(try engine.recordStockAdjustment(
            Adjustment(id: "a1", productId: "p1", quantityDelta: 5)).entityId, "a1")
        let customer = try engine.createCustomer(NewCustomer(id: "c1", name: "Ada", email: nil))
        XCTAssertEqual(try customer.decoded(as: NewCustomer.self), NewCustomer(id: "c1", name: "Ada", email: nil))
        XCTAssertEqual(try engine.updateCustomer(NewCustomer(id: "c1", name: "Ada L", email: "a@b.c")).email, "a@b.c")
        XCTAssertEqual(try engine.importProducts([NewProduct(id: "p1", name: "Tea", price: 250)]), 1)
        XCTAssertEqual(try engine.currentPrice(productId: "p1")?.amount, 250)
        try engine.putReport(key: "z", ["id": "z"])
        XCTAssertNotNil(try engine.getReport(key: "z"))
        XCTAssertEqual(try PosSyncJSON.encode(Adjustment(id: "a", productId: "p", quantityDelta: 1)),
                       #"{"id":"a","product_id":"p","quantity_delta":1}"#)
    }

    func testHistoryAndIntegrityCheck() throws {
        _ = try engine.recordSale(saleJson: Docs.sale("s1"))
        // The audit trail lists applied changes (see SyncTests); nothing was applied yet.
        XCTAssertEqual(try engine.auditTrail(limit: 10), [])
        XCTAssertEqual(try engine.syncLog(limit: 10), [], "no sync has run")

        let check = try engine.integrityCheck()
        XCTAssertTrue(check.ok, "\(check.problems)")
        XCTAssertEqual(check.problems, [])
    }

    func testSupportCopyAndEncryptionCallsWithoutSQLCipher() throws {
        _ = try engine.recordSale(saleJson: Docs.sale("s1"))
        let copy = scratch.path("support-copy.db")
        try engine.exportSupportCopy(destinationPath: copy, key: nil)
        let header = try Data(contentsOf: URL(fileURLWithPath: copy)).prefix(15)
        XCTAssertEqual(String(decoding: header, as: UTF8.self), "SQLite format 3")
        XCTAssertThrowsError(try engine.exportSupportCopy(destinationPath: copy, key: nil)) { error in
            guard case PosSyncError.InvalidInput = error else { return XCTFail("\(error)") }
        }
        // This build has no SQLCipher: encryption is refused, never faked.
        XCTAssertThrowsError(try engine.rotateEncryptionKey(newKey: "new-key")) { error in
            guard case PosSyncError.NotConfigured = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try encryptDatabase(databasePath: copy, key: "new-key")) { error in
            guard case PosSyncError.NotConfigured = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try engine.queueStats().pending, 1)
    }

    func testWithoutAServerSyncIsNotConfigured() async throws {
        let report = await engine.syncNow()
        XCTAssertEqual(report.outcome, .notConfigured)
        XCTAssertFalse(report.runId.isEmpty)
        XCTAssertNotNil(report.error)
        XCTAssertTrue(BackgroundSyncPolicy().isSuccess(report))
        XCTAssertNil(BackgroundSyncPolicy().nextBeginDate(for: .appRefresh, after: report, now: Date()))

        let batch = await engine.runBatchSync(budgetMs: 1000)
        XCTAssertEqual(batch.outcome, .notConfigured)

        for call in [
            { try self.engine.startAutoSync(intervalMs: 1000) },
            { try self.engine.setTokenProvider { _ in "t" } },
        ] {
            let error = expectPosSyncError(call)
            guard case .NotConfigured(let message) = error else {
                return XCTFail("\(String(describing: error))")
            }
            XCTAssertTrue(message.contains("server_url"), message)
        }
        XCTAssertFalse(engine.isAutoSyncRunning())
        engine.stopAutoSync()  // a no-op when not running
        engine.cancel()  // a no-op when nothing runs

        do {
            _ = try await engine.checkConsistency()
            XCTFail("a consistency check needs a server")
        } catch let error as PosSyncError {
            guard case .NotConfigured = error else { return XCTFail("\(error)") }
        }
        do {
            _ = try await engine.resolve(conflictId: "nope", with: .keepServer)
            XCTFail("there is no such conflict")
        } catch let error as PosSyncError {
            guard case .NotFound(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("nope"), message)
        }
        XCTAssertEqual(try engine.conflicts(), [])
        let rollback = expectPosSyncError { try self.engine.rollback(runId: "no-such-run") }
        guard case .NotFound = rollback else { return XCTFail("\(String(describing: rollback))") }
        XCTAssertEqual(try engine.retryFailedNow(), 0)
    }

    func testStatusAndNetworkSignal() throws {
        let initial = try engine.status()
        XCTAssertEqual(initial.phase, .idle)
        XCTAssertTrue(initial.online)
        XCTAssertNil(initial.lastSyncAtMs)
        engine.setNetworkAvailable(available: false)
        let offline = try engine.status()
        XCTAssertFalse(offline.online)
        XCTAssertEqual(offline.phase, .offline)
        engine.setNetworkAvailable(available: true)
        XCTAssertTrue(try engine.status().online)

        // The forwarder passes changes only.
        let forwarder = NetworkAvailabilityForwarder(engine)
        XCTAssertTrue(forwarder.update(available: false))
        XCTAssertFalse(forwarder.update(available: false))
        XCTAssertFalse(try engine.status().online)
        XCTAssertTrue(forwarder.update(available: true))
        XCTAssertTrue(try engine.status().online)
        forwarder.reset()
        XCTAssertNil(forwarder.lastForwarded)
        XCTAssertTrue(forwarder.update(available: true))
    }

    func testErrorsReadLikeSentencesAndCarryTheirFields() throws {
        let engine = try SyncEngine.open(config: EngineConfig(
            databasePath: ":memory:", storeId: "S", registerId: "R", deviceId: "D"))
        do {
            _ = try engine.recordSale(saleJson: #"{"id":"s1"}"#)
            XCTFail("a sale without lines was accepted")
        } catch let error as PosSyncError {
            guard case .InvalidInput(let reason, let field) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "lines")
            XCTAssertEqual(reason, "invalid input: the sale has no 'lines'")
            // What Swift users read: the sentence, not a dump of the enum case.
            XCTAssertEqual(error.localizedDescription, reason)
            XCTAssertEqual("\(error)", reason)
            XCTAssertEqual(error.reason(), reason)
            XCTAssertEqual(error.code(), "INVALID_INPUT")
            XCTAssertFalse(error.isTransient())
        }
        XCTAssertThrowsError(try engine.searchProducts(query: "x", limit: -1)) { error in
            guard case PosSyncError.InvalidInput(_, let field) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "limit")
        }
        XCTAssertEqual(PosSync.defaultListLimit(), 20)
    }
}
