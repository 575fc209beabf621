import Foundation

/// One thing the engine tells its listeners.
public enum SyncEvent: Sendable, Equatable {
    case status(SyncStatus)
    case conflict(Conflict)
}

/// A `SyncStatusListener` that hands each value to closures (which must not block: they are
/// called on an engine thread).
public final class ClosureStatusListener: SyncStatusListener {
    private let status: @Sendable (SyncStatus) -> Void
    private let conflict: @Sendable (Conflict) -> Void
    private let released: (@Sendable () -> Void)?

    public convenience init(
        onStatus: @escaping @Sendable (SyncStatus) -> Void,
        onConflict: @escaping @Sendable (Conflict) -> Void = { _ in }
    ) {
        self.init(onStatus: onStatus, onConflict: onConflict, onRelease: nil)
    }

    /// `onRelease` runs when the engine lets go of the listener (the subscription ended).
    init(
        onStatus: @escaping @Sendable (SyncStatus) -> Void,
        onConflict: @escaping @Sendable (Conflict) -> Void,
        onRelease: (@Sendable () -> Void)?
    ) {
        self.status = onStatus
        self.conflict = onConflict
        self.released = onRelease
    }

    deinit { released?() }

    public func onStatus(status: SyncStatus) { self.status(status) }
    public func onConflict(conflict: Conflict) { self.conflict(conflict) }
}

extension SyncEngine {
    /// The sync status: the current one first, then every change, for as long as the stream is
    /// iterated. The subscription ends when the iterating task ends or is cancelled. A slow
    /// reader sees the newest 64 statuses (a status is a snapshot: older ones are stale).
    public var statusUpdates: AsyncStream<SyncStatus> {
        statusUpdates(bufferingPolicy: .bufferingNewest(64))
    }

    public func statusUpdates(
        bufferingPolicy: AsyncStream<SyncStatus>.Continuation.BufferingPolicy
    ) -> AsyncStream<SyncStatus> {
        statusUpdates(bufferingPolicy: bufferingPolicy, onRelease: nil)
    }

    /// `onRelease` (tests): runs when the engine has dropped the stream's listener.
    func statusUpdates(
        bufferingPolicy: AsyncStream<SyncStatus>.Continuation.BufferingPolicy,
        onRelease: (@Sendable () -> Void)?
    ) -> AsyncStream<SyncStatus> {
        subscribe(bufferingPolicy: bufferingPolicy) { continuation in
            ClosureStatusListener(
                onStatus: { continuation.yield($0) }, onConflict: { _ in }, onRelease: onRelease)
        }
    }

    /// Conflicts that need a person, as they appear (none are dropped). Conflicts that existed
    /// before subscribing are in `conflicts()`.
    public var conflictUpdates: AsyncStream<Conflict> {
        subscribe(bufferingPolicy: .unbounded) { continuation in
            ClosureStatusListener(onStatus: { _ in }, onConflict: { continuation.yield($0) })
        }
    }

    /// Statuses and new conflicts in the order the engine sent them (for bridges such as the
    /// Capacitor plugin that forward both).
    public func events(
        bufferingPolicy: AsyncStream<SyncEvent>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<SyncEvent> {
        subscribe(bufferingPolicy: bufferingPolicy) { continuation in
            ClosureStatusListener(
                onStatus: { continuation.yield(.status($0)) },
                onConflict: { continuation.yield(.conflict($0)) })
        }
    }

    /// Subscribes a listener that feeds a stream, and keeps the engine's `TaskHandle` until the
    /// stream terminates (the reader stops, its task is cancelled, or the stream is dropped).
    private func subscribe<Element>(
        bufferingPolicy: AsyncStream<Element>.Continuation.BufferingPolicy,
        listener: (AsyncStream<Element>.Continuation) -> ClosureStatusListener
    ) -> AsyncStream<Element> {
        AsyncStream(bufferingPolicy: bufferingPolicy) { continuation in
            // The engine sends the current status from inside this call.
            let handle = subscribeStatus(listener: listener(continuation))
            continuation.onTermination = { _ in handle.cancel() }
        }
    }
}
