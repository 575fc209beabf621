// What the Rust bridge (PosSync.PluginBridge) needs from iOS, on plain Swift types so that it
// type-checks and runs on Linux: the data directory, the secret store (the Keychain on iOS),
// background scheduling, and the web app's events (no-ops in a background launch).

import Foundation
import PosSync

/// The platform's background sync (BGTaskScheduler through the PosSync package on iOS).
public protocol BackgroundScheduling: Sendable {
    /// Submits background sync requests; returns the interval in minutes the OS was given.
    func enable(intervalMinutes: Int64) throws -> Int64
    func disable()
}

/// enableBackgroundSync before the app registered the background tasks at launch.
public struct BackgroundNotRegistered: Error, CustomStringConvertible {
    public var description: String {
        "background sync is not registered: call PosSyncBackground.register in the AppDelegate"
    }
}

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

public final class PluginHost: BridgeHost, @unchecked Sendable {
    private let directory: URL
    private let secrets: SecretStoring
    private let scheduler: BackgroundScheduling
    private let emitEvent: @Sendable (String, String) -> Void
    private let listens: @Sendable (String) -> Bool

    public init(
        directory: URL, secrets: SecretStoring, scheduler: BackgroundScheduling,
        emit: @escaping @Sendable (String, String) -> Void = { _, _ in },
        hasListeners: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
        self.directory = directory
        self.secrets = secrets
        self.scheduler = scheduler
        self.emitEvent = emit
        self.listens = hasListeners
    }

    /// The bridge on iOS: state in Application Support, secrets in the Keychain.
    public static func bridge(
        emit: @escaping @Sendable (String, String) -> Void = { _, _ in },
        hasListeners: @escaping @Sendable (String) -> Bool = { _ in false }
    ) -> PluginBridge {
        PluginBridge(host: PluginHost(
            directory: PluginPaths.dataDirectory(), secrets: PlatformSecrets.store(),
            scheduler: AppleBackgroundSync(), emit: emit, hasListeners: hasListeners))
    }

    public func emit(event: String, dataJson: String) { emitEvent(event, dataJson) }
    public func hasListeners(event: String) -> Bool { listens(event) }
    public func dataDir() -> String { directory.path }
    // A thrown Swift error reaches the bridge as HostError.Failed (INTERNAL for the app).
    public func loadSecret(name: String) throws -> String? { try secrets.load(name) }
    public func saveSecret(name: String, value: String) throws { try secrets.save(name, value) }
    public func deleteSecret(name: String) throws { try secrets.delete(name) }
    public func scheduleBackgroundSync(intervalMinutes: Int64) throws -> Int64 {
        try scheduler.enable(intervalMinutes: intervalMinutes)
    }
    public func cancelBackgroundSync() throws { scheduler.disable() }
    // iOS's background tasks open their own engine from the saved state (AppleBackgroundSync).
    public func engineOpened() {}
    public func engineClosed() {}
}
