// Background sync on iOS through the PosSync package's BGTaskScheduler helper
// (PosSyncBackgroundTasks). iOS requires the task handlers to be registered before
// application(_:didFinishLaunchingWithOptions:) returns, on every launch, so the app's
// AppDelegate calls `PosSyncBackground.register(...)`; the web app's enableBackgroundSync
// then submits the requests. A background launch runs without the web view: the engine is
// opened from the bridge's saved state (the last open configuration; the key and the token
// from the Keychain).
//
// Compiled only where BackgroundTasks exists; unverified on Linux.

import Foundation
import PosSync

#if canImport(BackgroundTasks) && !os(macOS)
import BackgroundTasks

public enum PosSyncBackground {
    private final class Registered: @unchecked Sendable {
        private let lock = NSLock()
        private var value: PosSyncBackgroundTasks?
        var tasks: PosSyncBackgroundTasks? {
            get { lock.lock(); defer { lock.unlock() }; return value }
            set { lock.lock(); value = newValue; lock.unlock() }
        }
    }
    private static let registered = Registered()

    /// The registered tasks (nil until `register` ran).
    static var tasks: PosSyncBackgroundTasks? { registered.tasks }

    /// Registers the background tasks. Call it in `application(_:didFinishLaunchingWithOptions:)`
    /// before it returns, on every launch; both identifiers must be listed under
    /// `BGTaskSchedulerPermittedIdentifiers` in Info.plist (background modes `fetch` and
    /// `processing`). Returns false if iOS refused a registration.
    @discardableResult
    public static func register(appRefreshIdentifier: String, processingIdentifier: String) -> Bool {
        let bridge = PluginHost.bridge()
        var policy = BackgroundSyncPolicy()
        if let minutes = bridge.savedBackgroundIntervalMinutes() {
            policy.appRefreshInterval = TimeInterval(minutes * 60)
        }
        let tasks = PosSyncBackgroundTasks(
            appRefreshIdentifier: appRefreshIdentifier, processingIdentifier: processingIdentifier,
            policy: policy
        ) {
            guard let config = try bridge.savedConfig() else { throw NotOpenedYet() }
            let engine = try SyncEngine.open(config: config)
            try bridge.serveTokens(engine: engine)
            return engine
        }
        registered.tasks = tasks
        return tasks.register()
    }
}

/// A background launch before the web app ever opened the engine.
struct NotOpenedYet: Error, CustomStringConvertible {
    var description: String { "the web app has not opened the engine yet" }
}

struct AppleBackgroundSync: BackgroundScheduling {
    func enable(intervalMinutes: Int64) throws -> Int64 {
        guard let tasks = PosSyncBackground.tasks else { throw BackgroundNotRegistered() }
        tasks.schedule()
        return Int64(tasks.coordinator.policy.appRefreshInterval / 60)
    }

    func disable() {
        PosSyncBackground.tasks?.cancelScheduled()
    }
}
#else
/// No BGTaskScheduler on this platform.
struct AppleBackgroundSync: BackgroundScheduling {
    func enable(intervalMinutes: Int64) throws -> Int64 { throw BackgroundNotRegistered() }
    func disable() {}
}
#endif
