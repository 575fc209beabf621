// The engine's records as the JavaScript layer receives them, and its arguments as engine
// values: the same rules as the Android plugin (capacitor-plugin/bridge-rules.json). Field
// names as in the bindings; enum cases as snake_case strings (`.backedOff` → "backed_off");
// NSNull for an absent optional; hybrid-logical-clock timestamps and checksums as decimal
// strings; JSON documents as their JSON text (client.ts parses them).
// Plain Swift over the PosSync package: no Capacitor, so it type-checks on Linux.

import Foundation
import PosSync

/// A JavaScript object as Capacitor hands it over and takes it back.
public typealias JSDict = [String: Any]

/// An argument the plugin cannot use: rejected with `INVALID_INPUT`.
public struct InvalidArgument: Error, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

public enum JSConvert {
    static func null(_ value: Any?) -> Any { value ?? NSNull() }

    // MARK: enums (exhaustive switches: a new case in the bindings does not compile until
    // it has its JavaScript name)

    public static func js(_ v: EntityType) -> String {
        switch v {
        case .sale: return "sale"
        case .stockAdjustment: return "stock_adjustment"
        case .product: return "product"
        case .price: return "price"
        case .customer: return "customer"
        case .report: return "report"
        }
    }

    public static func js(_ v: SyncPhase) -> String {
        switch v {
        case .idle: return "idle"
        case .uploading: return "uploading"
        case .downloading: return "downloading"
        case .offline: return "offline"
        case .backedOff: return "backed_off"
        case .error: return "error"
        }
    }

    public static func js(_ v: SyncOutcome) -> String {
        switch v {
        case .completed: return "completed"
        case .budgetExhausted: return "budget_exhausted"
        case .cancelled: return "cancelled"
        case .networkError: return "network_error"
        case .serverError: return "server_error"
        case .authError: return "auth_error"
        case .backedOff: return "backed_off"
        case .notConfigured: return "not_configured"
        }
    }

    public static func js(_ v: QueueHealth) -> String {
        switch v {
        case .ok: return "ok"
        case .warning: return "warning"
        case .critical: return "critical"
        }
    }

    public static func js(_ v: PriceSource) -> String {
        switch v {
        case .priceList: return "price_list"
        case .catalog: return "catalog"
        }
    }

    public static func resolution(_ s: String) throws -> Resolution {
        switch s {
        case "keep_local": return .keepLocal
        case "keep_server": return .keepServer
        case "merged": return .merged
        default: throw InvalidArgument("'resolution' must be one of keep_local, keep_server, merged, not '\(s)'")
        }
    }

    static func compression(_ s: String) throws -> Compression {
        switch s {
        case "none": return Compression.none
        case "fast": return .fast
        case "best": return .best
        default: throw InvalidArgument("'compression' must be one of none, fast, best, not '\(s)'")
        }
    }

    static func durability(_ s: String) throws -> Durability {
        switch s {
        case "full": return .full
        case "normal": return .normal
        default: throw InvalidArgument("'durability' must be one of full, normal, not '\(s)'")
        }
    }

    // MARK: records

    public static func js(_ r: SaleReceipt) -> JSDict {
        ["saleId": r.saleId, "receiptNumber": r.receiptNumber, "changeId": r.changeId, "hlc": String(r.hlc)]
    }

    public static func js(_ r: ChangeRef) -> JSDict {
        ["entityId": r.entityId, "changeId": r.changeId, "hlc": String(r.hlc)]
    }

    public static func js(_ r: Sale) -> JSDict {
        ["saleId": r.saleId, "receiptNumber": r.receiptNumber, "json": r.json, "createdAtMs": r.createdAtMs]
    }

    public static func js(_ r: Product) -> JSDict {
        [
            "id": r.id, "sku": null(r.sku), "barcode": null(r.barcode), "name": r.name, "json": r.json,
            "version": r.version,
        ]
    }

    public static func js(_ r: Price) -> JSDict {
        [
            "productId": r.productId, "amount": r.amount, "currency": null(r.currency), "source": js(r.source),
            "priceId": null(r.priceId), "validFromMs": r.validFromMs,
        ]
    }

    public static func js(_ r: Customer) -> JSDict {
        [
            "id": r.id, "name": r.name, "phone": null(r.phone), "email": null(r.email), "json": r.json,
            "version": r.version, "pendingUpload": r.pendingUpload, "updatedHlc": String(r.updatedHlc),
        ]
    }

    public static func js(_ r: EntityQueueCounts) -> JSDict {
        [
            "entityType": js(r.entityType), "pending": r.pending, "syncing": r.syncing, "synced": r.synced,
            "failed": r.failed, "conflict": r.conflict,
        ]
    }

    public static func js(_ r: QueueStats) -> JSDict {
        [
            "pending": r.pending, "syncing": r.syncing, "synced": r.synced, "failed": r.failed,
            "conflict": r.conflict, "rejected": r.rejected, "byEntity": r.byEntity.map { js($0) },
            "oldestUnsyncedAgeMs": null(r.oldestUnsyncedAgeMs), "bytesPending": r.bytesPending,
            "health": js(r.health), "healthReason": r.healthReason,
        ]
    }

    public static func js(_ r: SyncStatus) -> JSDict {
        [
            "phase": js(r.phase), "entityType": null(r.entityType.map { js($0) }), "progress": r.progress,
            "online": r.online, "lastSyncAtMs": null(r.lastSyncAtMs), "nextSyncAtMs": null(r.nextSyncAtMs),
            "lastError": null(r.lastError), "queue": js(r.queue),
        ]
    }

    public static func js(_ r: SyncReport) -> JSDict {
        [
            "runId": r.runId, "outcome": js(r.outcome), "uploaded": r.uploaded, "downloaded": r.downloaded,
            "autoResolved": r.autoResolved, "conflicts": r.conflicts, "failed": r.failed, "rejected": r.rejected,
            "remaining": r.remaining, "durationMs": r.durationMs, "moreWorkPending": r.moreWorkPending,
            "nextSyncAllowedAtMs": null(r.nextSyncAllowedAtMs), "error": null(r.error),
        ]
    }

    public static func js(_ r: Conflict) -> JSDict {
        [
            "conflictId": r.conflictId, "changeId": r.changeId, "entityType": js(r.entityType),
            "entityId": r.entityId, "localJson": r.localJson, "serverJson": r.serverJson,
            "serverVersion": r.serverVersion, "localHlc": String(r.localHlc), "serverHlc": String(r.serverHlc),
            "reason": r.reason, "createdAtMs": r.createdAtMs,
        ]
    }

    public static func js(_ r: EntityConsistency) -> JSDict {
        [
            "entityType": js(r.entityType), "localCount": r.localCount, "serverCount": r.serverCount,
            "localChecksum": String(r.localChecksum), "serverChecksum": String(r.serverChecksum),
            "inSync": r.inSync,
        ]
    }

    public static func js(_ r: ConsistencyReport) -> JSDict {
        [
            "checkedAtMs": r.checkedAtMs, "entities": r.entities.map { js($0) },
            "resyncScheduled": r.resyncScheduled.map { js($0) }, "consistent": r.consistent,
        ]
    }

    public static func js(_ r: IntegrityReport) -> JSDict {
        ["ok": r.ok, "problems": r.problems, "warnings": r.warnings]
    }

    // MARK: from JavaScript

    /// The default database file name, in the plugin's data directory.
    public static let defaultDatabase = "pos-sync.db"

    /// The engine configuration from `open`'s argument. Optional numbers keep the engine's
    /// defaults; a relative `databasePath` (default `pos-sync.db`) lives in `dataDirectory`.
    public static func engineConfig(_ a: JSDict, dataDirectory: URL) throws -> EngineConfig {
        let path = try optText(a, "databasePath") ?? defaultDatabase
        let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : dataDirectory.appendingPathComponent(path)
        var c = EngineConfig(
            databasePath: file.path, storeId: try text(a, "storeId"), registerId: try text(a, "registerId"),
            deviceId: try text(a, "deviceId"))
        c.serverUrl = try optText(a, "serverUrl")
        c.authToken = try optText(a, "authToken")
        if let v = try optWhole(a, "uploadBatchSize") { c.uploadBatchSize = v }
        if let v = try optWhole(a, "uploadBatchBytes") { c.uploadBatchBytes = v }
        if let v = try optWhole(a, "maxUploadBatchesPerCycle") { c.maxUploadBatchesPerCycle = v }
        if let v = try optWhole(a, "downloadPageSize") { c.downloadPageSize = v }
        if let v = try optWhole(a, "connectTimeoutMs") { c.connectTimeoutMs = v }
        if let v = try optWhole(a, "requestTimeoutMs") { c.requestTimeoutMs = v }
        if let v = try optWhole(a, "conflictTieWindowMs") { c.conflictTieWindowMs = v }
        if let v = try optWhole(a, "retentionDays") { c.retentionDays = v }
        if let v = try optWhole(a, "retryBaseMs") { c.retryBaseMs = v }
        if let v = try optWhole(a, "retryMaxMs") { c.retryMaxMs = v }
        if let v = try optWhole(a, "networkDebounceMs") { c.networkDebounceMs = v }
        c.compression = try optText(a, "compression").map(compression)
        c.durability = try optText(a, "durability").map(durability)
        c.health = try optObject(a, "health").map(healthThresholds)
        c.encryptionKey = try optText(a, "encryptionKey")
        return c
    }

    static func healthThresholds(_ a: JSDict) throws -> HealthThresholds {
        var h = HealthThresholds()
        if let v = try optWhole(a, "warningPending") { h.warningPending = v }
        if let v = try optWhole(a, "criticalPending") { h.criticalPending = v }
        if let v = try optWhole(a, "warningAgeMs") { h.warningAgeMs = v }
        if let v = try optWhole(a, "criticalAgeMs") { h.criticalAgeMs = v }
        return h
    }

    static func present(_ a: JSDict, _ key: String) -> Any? {
        guard let v = a[key], !(v is NSNull) else { return nil }
        return v
    }

    public static func text(_ a: JSDict, _ key: String) throws -> String {
        guard let v = present(a, key) else { throw InvalidArgument("'\(key)' is required") }
        guard let s = v as? String else { throw InvalidArgument("'\(key)' must be a string") }
        return s
    }

    public static func optText(_ a: JSDict, _ key: String) throws -> String? {
        present(a, key) == nil ? nil : try text(a, key)
    }

    public static func flag(_ a: JSDict, _ key: String) throws -> Bool {
        guard let v = present(a, key) else { throw InvalidArgument("'\(key)' is required") }
        guard let b = v as? Bool else { throw InvalidArgument("'\(key)' must be true or false") }
        return b
    }

    /// A whole number (JavaScript numbers arrive as NSNumber: Int or Double).
    public static func optWhole(_ a: JSDict, _ key: String) throws -> Int64? {
        guard let v = present(a, key) else { return nil }
        if let i = v as? Int64 { return i }
        if let i = v as? Int { return Int64(i) }
        if let d = v as? Double, d.rounded() == d, abs(d) <= 9_007_199_254_740_991 { return Int64(d) }
        throw InvalidArgument("'\(key)' must be a whole number")
    }

    public static func whole(_ a: JSDict, _ key: String) throws -> Int64 {
        guard let v = try optWhole(a, key) else { throw InvalidArgument("'\(key)' is required") }
        return v
    }

    static func optObject(_ a: JSDict, _ key: String) throws -> JSDict? {
        guard let v = present(a, key) else { return nil }
        guard let o = v as? JSDict else { throw InvalidArgument("'\(key)' must be an object") }
        return o
    }
}
