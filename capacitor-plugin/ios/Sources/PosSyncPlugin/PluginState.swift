// What a background task needs when the web app is not running (as on Android,
// PluginState.kt): the last `open` configuration and the last token the web app gave, in a
// JSON file of the plugin's data directory (Application Support, excluded from backups).
// iOS may launch the app in the background for a BGTaskScheduler task without loading the
// web view; `PosSyncPlugin.registerBackgroundTasks` then opens the engine from this file.

import Foundation
import PosSync

public final class PluginState: @unchecked Sendable {
    public static let fileName = "pos-sync-plugin.json"
    private let directory: URL
    private let lock = NSLock()

    public init(directory: URL) { self.directory = directory }

    private var file: URL { directory.appendingPathComponent(Self.fileName) }

    public func saveConfig(_ args: JSDict) {
        lock.lock()
        defer { lock.unlock() }
        var state = read() ?? [:]
        var config = args
        config.removeValue(forKey: "authToken")
        state["config"] = config
        if let token = args["authToken"] as? String { state["token"] = token }
        write(state)
    }

    public func saveToken(_ token: String?) {
        lock.lock()
        defer { lock.unlock() }
        guard var state = read() else { return }
        state["token"] = token ?? NSNull()
        write(state)
    }

    /// The interval the web app last asked for background sync (read at the next launch).
    public func saveBackgroundInterval(_ minutes: Int64) {
        lock.lock()
        defer { lock.unlock() }
        guard var state = read() else { return }
        state["backgroundIntervalMinutes"] = minutes
        write(state)
    }

    public func backgroundIntervalMinutes() -> Int64? {
        lock.lock()
        defer { lock.unlock() }
        return (read()?["backgroundIntervalMinutes"] as? NSNumber)?.int64Value
    }

    public func token() -> String? {
        lock.lock()
        defer { lock.unlock() }
        return read()?["token"] as? String
    }

    /// The saved configuration, if the web app opened the engine before.
    public func config() throws -> EngineConfig? {
        lock.lock()
        let saved = read()?["config"] as? JSDict
        lock.unlock()
        return try saved.map { try JSConvert.engineConfig($0, dataDirectory: directory) }
    }

    public func clear() {
        lock.lock()
        defer { lock.unlock() }
        try? FileManager.default.removeItem(at: file)
    }

    private func read() -> JSDict? {
        guard let data = try? Data(contentsOf: file) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? JSDict
    }

    private func write(_ state: JSDict) {
        guard JSONSerialization.isValidJSONObject(state),
            let data = try? JSONSerialization.data(withJSONObject: state)
        else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }
}
