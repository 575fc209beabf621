// What each plugin method does, on plain dictionaries (no Capacitor), so that it type-checks
// and runs on Linux: the arguments as the JavaScript layer sends them (src/native.ts) in, the
// result out. PosSyncPlugin.swift only hands calls to `call(_:_:)` and settles them.

import Foundation
import PosSync

/// The platform's background sync (BGTaskScheduler through the PosSync package on iOS).
public protocol BackgroundScheduling: Sendable {
    /// Submits background sync requests; returns the interval in minutes the OS was given.
    func enable(intervalMinutes: Int64) throws -> Int64
    func disable()
}

/// A call before `open()` (or after `close()`).
public struct NotOpen: Error {}

/// enableBackgroundSync before the app registered the background tasks at launch.
public struct BackgroundNotRegistered: Error {}

/// Where the plugin keeps the database (by default) and its saved state: Application Support,
/// excluded from backups (a till's database restored onto another device would issue the same
/// receipt numbers).
public enum PluginPaths {
    public static func dataDirectory() -> URL {
        let base = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask).first
            ?? URL(fileURLWithPath: NSTemporaryDirectory())
        var dir = base.appendingPathComponent("PosSync", isDirectory: true)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #if os(iOS) || os(macOS)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try? dir.setResourceValues(values)
        #endif
        return dir
    }
}

/// What a failed call rejects with: `call.reject(message, code)`.
public struct JSError: Equatable, Sendable {
    public let code: String
    public let message: String

    /// The stable codes of the TypeScript `PosSyncErrorCode` (the engine's are the Rust
    /// `PosSyncError::code()`, via the PosSync package's `PosSyncError.code`).
    public static func of(_ error: Error) -> JSError {
        switch error {
        case let e as PosSyncError: return JSError(code: e.code, message: e.message)
        case let e as InvalidArgument: return JSError(code: "INVALID_INPUT", message: "invalid input: \(e.message)")
        case is NotOpen: return JSError(code: "NOT_CONFIGURED", message: "not configured: call PosSync.open() first")
        case is BackgroundNotRegistered:
            return JSError(
                code: "NOT_CONFIGURED",
                message: "not configured: background sync needs PosSyncBackground.register(...) in the AppDelegate")
        case is CancellationError:
            return JSError(code: "CANCELLED", message: "cancelled: the plugin was unloaded before the call finished")
        default:
            return JSError(
                code: "INTERNAL", message: "the pos-sync plugin failed unexpectedly (\(error)); please report it")
        }
    }
}

public final class PluginCore: @unchecked Sendable {
    public static let syncStatus = "syncStatus"
    public static let conflict = "conflict"
    public static let tokenRequested = "tokenRequested"
    public static let defaultLimit: Int64 = 20
    public static let maxLimit: Int64 = 1000
    public static let defaultBackgroundMinutes: Int64 = 30

    /// Every method the web app can call (src/native.ts); PosSyncPlugin.swift registers these.
    public static let methods = [
        "open", "close", "setToken", "recordSale", "recordStockAdjustment", "getSale", "productByBarcode",
        "productBySku", "productById", "searchProducts", "currentPrice", "createCustomer", "updateCustomer",
        "getCustomer", "searchCustomers", "syncNow", "getStatus", "getQueueStats", "retryFailedNow",
        "listConflicts", "resolveConflict", "checkConsistency", "integrityCheck", "setNetworkAvailable",
        "startAutoSync", "stopAutoSync", "cancelSync", "enableBackgroundSync", "disableBackgroundSync",
    ]

    private let dataDirectory: URL
    private let scheduler: BackgroundScheduling
    private let emit: @Sendable (String, JSDict) -> Void
    private let lock = NSLock()
    private var engine: SyncEngine?
    private var events: Task<Void, Never>?
    public let state: PluginState
    public let tokens: TokenBroker

    public init(
        dataDirectory: URL,
        scheduler: BackgroundScheduling,
        emit: @escaping @Sendable (String, JSDict) -> Void,
        hasListeners: @escaping @Sendable (String) -> Bool,
        tokenTimeoutMs: Int64 = TokenBroker.defaultTimeoutMs
    ) {
        self.dataDirectory = dataDirectory
        self.scheduler = scheduler
        self.emit = emit
        self.state = PluginState(directory: dataDirectory)
        self.tokens = TokenBroker(
            timeoutMs: tokenTimeoutMs,
            hasListener: { hasListeners(PluginCore.tokenRequested) },
            request: { refresh, timeout in
                emit(PluginCore.tokenRequested, ["refresh": refresh, "timeoutMs": timeout])
            })
    }

    /// The open engine.
    public func openEngine() throws -> SyncEngine {
        lock.lock()
        defer { lock.unlock() }
        guard let engine else { throw NotOpen() }
        return engine
    }

    /// Runs the plugin method `method` with the call's arguments; nil means "resolve()".
    public func call(_ method: String, _ a: JSDict) async throws -> JSDict? {
        switch method {
        case "open": return try open(a)
        case "close": close(); return nil
        case "setToken":
            let token = try JSConvert.optText(a, "token")
            tokens.set(token)
            state.saveToken(token)
            return nil
        case "recordSale": return JSConvert.js(try openEngine().recordSale(saleJson: try JSConvert.text(a, "saleJson")))
        case "recordStockAdjustment":
            return JSConvert.js(
                try openEngine().recordStockAdjustment(adjustmentJson: try JSConvert.text(a, "adjustmentJson")))
        case "getSale":
            return ["sale": JSConvert.null(try openEngine().getSale(saleId: try JSConvert.text(a, "saleId")).map { JSConvert.js($0) })]
        case "productByBarcode":
            return product(try openEngine().productByBarcode(barcode: try JSConvert.text(a, "barcode")))
        case "productBySku": return product(try openEngine().productBySku(sku: try JSConvert.text(a, "sku")))
        case "productById": return product(try openEngine().productById(productId: try JSConvert.text(a, "productId")))
        case "searchProducts":
            let found = try openEngine().searchProducts(query: try JSConvert.text(a, "query"), limit: try limit(a))
            return ["products": found.map { JSConvert.js($0) }]
        case "currentPrice":
            let price = try openEngine().currentPrice(productId: try JSConvert.text(a, "productId"))
            return ["price": JSConvert.null(price.map { JSConvert.js($0) })]
        case "createCustomer":
            return JSConvert.js(try openEngine().createCustomer(customerJson: try JSConvert.text(a, "customerJson")))
        case "updateCustomer":
            return JSConvert.js(try openEngine().updateCustomer(customerJson: try JSConvert.text(a, "customerJson")))
        case "getCustomer":
            return customer(try openEngine().getCustomer(customerId: try JSConvert.text(a, "customerId")))
        case "searchCustomers":
            let found = try openEngine().searchCustomers(query: try JSConvert.text(a, "query"), limit: try limit(a))
            return ["customers": found.map { JSConvert.js($0) }]
        case "syncNow": return JSConvert.js(try await openEngine().sync())
        case "getStatus": return JSConvert.js(try openEngine().status())
        case "getQueueStats": return JSConvert.js(try openEngine().queueStats())
        case "retryFailedNow": return ["count": try openEngine().retryFailedNow()]
        case "listConflicts": return ["conflicts": try openEngine().conflicts().map { JSConvert.js($0) }]
        case "resolveConflict":
            let resolved = try await openEngine().resolveConflict(
                conflictId: try JSConvert.text(a, "conflictId"),
                resolution: try JSConvert.resolution(try JSConvert.text(a, "resolution")),
                mergedJson: try JSConvert.optText(a, "mergedJson"))
            return customer(resolved)
        case "checkConsistency": return JSConvert.js(try await openEngine().checkConsistency())
        case "integrityCheck": return JSConvert.js(try openEngine().integrityCheck())
        case "setNetworkAvailable":
            try openEngine().setNetworkAvailable(available: try JSConvert.flag(a, "available"))
            return nil
        case "startAutoSync":
            let interval = try JSConvert.whole(a, "intervalMs")
            guard interval >= 1 else { throw InvalidArgument("'intervalMs' must be at least 1") }
            try openEngine().startAutoSync(intervalMs: interval)
            return nil
        case "stopAutoSync": try openEngine().stopAutoSync(); return nil
        case "cancelSync": try openEngine().cancel(); return nil
        case "enableBackgroundSync":
            _ = try openEngine()
            let minutes = try JSConvert.optWhole(a, "intervalMinutes") ?? Self.defaultBackgroundMinutes
            guard minutes >= 1 else { throw InvalidArgument("'intervalMinutes' must be at least 1") }
            return ["enabled": true, "intervalMinutes": try scheduler.enable(intervalMinutes: minutes)]
        case "disableBackgroundSync": scheduler.disable(); return nil
        default:
            throw InvalidArgument("unknown method '\(method)'")
        }
    }

    private func product(_ p: Product?) -> JSDict { ["product": JSConvert.null(p.map { JSConvert.js($0) })] }
    private func customer(_ c: Customer?) -> JSDict { ["customer": JSConvert.null(c.map { JSConvert.js($0) })] }

    private func limit(_ a: JSDict) throws -> UInt32 {
        let limit = try JSConvert.optWhole(a, "limit") ?? Self.defaultLimit
        guard (1...Self.maxLimit).contains(limit) else { throw InvalidArgument("'limit' must be from 1 to \(Self.maxLimit)") }
        return UInt32(limit)
    }

    private func open(_ a: JSDict) throws -> JSDict {
        let config = try JSConvert.engineConfig(a, dataDirectory: dataDirectory)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: config.databasePath).deletingLastPathComponent(),
            withIntermediateDirectories: true)
        // The engine registry returns the engine already open for this file (a background
        // task's, or a previous open) when the configuration is the same, and refuses another.
        let opened = try SyncEngine.open(config: config)
        if let token = config.authToken ?? state.token() { tokens.set(token) }
        state.saveConfig(a)
        if config.serverUrl != nil {
            let tokens = self.tokens
            try opened.setTokenProvider { refresh in try tokens.token(refresh: refresh) }
        }
        let emit = self.emit
        lock.lock()
        events?.cancel()
        engine = opened
        events = Task.detached {
            for await event in opened.events() {
                switch event {
                case .status(let s): emit(PluginCore.syncStatus, JSConvert.js(s))
                case .conflict(let c): emit(PluginCore.conflict, JSConvert.js(c))
                }
            }
        }
        lock.unlock()
        return ["version": posSyncVersion(), "databasePath": config.databasePath]
    }

    /// Stops auto sync and event forwarding, releases the engine and forgets the saved state.
    public func close() {
        lock.lock()
        events?.cancel()
        events = nil
        engine?.stopAutoSync()
        engine = nil
        lock.unlock()
        tokens.set(nil)
        state.clear()
    }
}
