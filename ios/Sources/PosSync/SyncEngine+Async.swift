import Foundation

/// What a background runner needs from an engine. `SyncEngine` conforms; tests substitute
/// engines that misbehave on purpose (ignore a cancel, never finish).
public protocol BatchSyncEngine: AnyObject, Sendable {
    /// One priority-ordered sync cycle that stops between batches once `budgetMs` has passed.
    func runBatchSync(budgetMs: Int64) async -> SyncReport
    /// Asks a running cycle to stop at its next batch boundary.
    func cancel()
}

extension SyncEngine: BatchSyncEngine {}

/// Cancels an engine's running work, and keeps asking until the work has returned.
///
/// Why more than once: the engine clears its cancel flag when a cycle starts, so a `cancel()`
/// that lands after the Swift side decided to start but before the Rust cycle began would be
/// lost. Asking again every `interval` until `finish()` closes that window; a late extra
/// cancel is harmless because the next cycle clears it.
final class CancelPump: Sendable {
    private struct State {
        var finished = false
        var fired = false
    }

    private let state = Locked(State())
    private let engine: any BatchSyncEngine
    private let intervalNanoseconds: UInt64

    init(engine: any BatchSyncEngine, interval: TimeInterval = 0.1) {
        self.engine = engine
        self.intervalNanoseconds = UInt64(max(interval, 0.001) * 1_000_000_000)
    }

    var isFinished: Bool { state.withValue { $0.finished } }

    /// Starts cancelling (idempotent; a no-op once the work has finished).
    func fire() {
        let start = state.withValue { s -> Bool in
            guard !s.finished, !s.fired else { return false }
            s.fired = true
            return true
        }
        guard start else { return }
        engine.cancel()
        let engine = self.engine
        let interval = intervalNanoseconds
        Task.detached { [self] in
            while !self.isFinished {
                try? await Task.sleep(nanoseconds: interval)
                if self.isFinished { break }
                engine.cancel()
            }
        }
    }

    /// The work has returned: stop asking.
    func finish() { state.withValue { $0.finished = true } }
}

extension BatchSyncEngine {
    /// Runs `operation` so that cancelling the calling Swift task cancels the engine.
    /// (Cancelling a Swift task does not cancel a Rust future; `cancel()` does.)
    func withEngineCancellation<T>(_ operation: () async throws -> T) async rethrows -> T {
        let pump = CancelPump(engine: self)
        defer { pump.finish() }
        return try await withTaskCancellationHandler {
            try await operation()
        } onCancel: {
            pump.fire()
        }
    }
}

extension SyncEngine {
    /// `syncNow()` that honours Swift task cancellation: cancelling the task stops the cycle at
    /// its next batch boundary (the report then says `.cancelled`). Throws `CancellationError`
    /// only when the task was already cancelled before the cycle started.
    public func sync() async throws -> SyncReport {
        try Task.checkCancellation()
        return await withEngineCancellation { await self.syncNow() }
    }

    /// `runBatchSync(budgetMs:)` that honours Swift task cancellation (see `sync()`).
    public func backgroundSync(budgetMs: Int64) async throws -> SyncReport {
        try Task.checkCancellation()
        return await withEngineCancellation { await self.runBatchSync(budgetMs: budgetMs) }
    }

    /// Resolves a conflict from the review queue (needs the network). Returns the customer as
    /// the server now holds it, `nil` if the server's version is a delete.
    @discardableResult
    public func resolve(_ conflict: Conflict, with resolution: ConflictResolution) async throws
        -> Customer?
    {
        try await resolve(conflictId: conflict.conflictId, with: resolution)
    }

    @discardableResult
    public func resolve(conflictId: String, with resolution: ConflictResolution) async throws
        -> Customer?
    {
        switch resolution {
        case .keepLocal:
            return try await resolveConflict(
                conflictId: conflictId, resolution: .keepLocal, mergedJson: nil)
        case .keepServer:
            return try await resolveConflict(
                conflictId: conflictId, resolution: .keepServer, mergedJson: nil)
        case .merged(let json):
            return try await resolveConflict(
                conflictId: conflictId, resolution: .merged, mergedJson: json)
        }
    }

    /// Replaces the source of bearer tokens with a closure. `refresh` is true when the server
    /// refused the previous token: fetch a new one. Called on an engine thread; do not block it
    /// for long. An error thrown here ends the sync (its report's `error` carries the message);
    /// see `ClosureTokenProvider` for why it never reaches the engine as a `PosSyncError`.
    public func setTokenProvider(
        _ token: @escaping @Sendable (_ refresh: Bool) async throws -> String
    ) throws {
        try setTokenProvider(provider: ClosureTokenProvider(token))
    }
}

/// How a person settled a conflict, with the merged document carried by the case that needs it.
public enum ConflictResolution: Sendable, Equatable {
    case keepLocal
    case keepServer
    /// The merged customer as JSON (same `id` as the conflict's record).
    case merged(json: String)

    /// A merged resolution from any `Encodable` customer (keys in snake_case).
    public static func merged(_ customer: some Encodable) throws -> ConflictResolution {
        .merged(json: try PosSyncJSON.encode(customer))
    }
}

/// A `TokenProvider` backed by a closure. When no token can be had, throw: a `TokenError`
/// passes as it is, any other error becomes `TokenError.Unavailable` with its description.
/// The sync then ends with `.authError` and that reason; queued changes stay pending.
public final class ClosureTokenProvider: TokenProvider {
    private let fetch: @Sendable (Bool) async throws -> String

    public init(_ fetch: @escaping @Sendable (_ refresh: Bool) async throws -> String) {
        self.fetch = fetch
    }

    public func token(refresh: Bool) async throws -> String {
        do {
            return try await fetch(refresh)
        } catch let error as TokenError {
            throw error
        } catch let error as PosSyncError {
            throw TokenError.Unavailable(reason: error.reason())
        } catch {
            throw TokenError.Unavailable(reason: "\(error)")
        }
    }
}
