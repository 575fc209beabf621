import Foundation

/// Receives the app's connectivity signal. `SyncEngine` conforms.
public protocol NetworkAvailabilityReceiver: AnyObject, Sendable {
    func setNetworkAvailable(available: Bool)
}

extension SyncEngine: NetworkAvailabilityReceiver {}

/// Forwards connectivity to the engine when it changes (path monitors report every change of
/// interface, most of which do not change whether the server is reachable).
public final class NetworkAvailabilityForwarder: Sendable {
    private let receiver: any NetworkAvailabilityReceiver
    private let last = Locked<Bool?>(nil)

    public init(_ receiver: any NetworkAvailabilityReceiver) { self.receiver = receiver }

    /// The last value forwarded, if any.
    public var lastForwarded: Bool? { last.current }

    /// Returns whether the value was forwarded (it differed from the last one).
    @discardableResult
    public func update(available: Bool) -> Bool {
        let changed = last.withValue { value -> Bool in
            guard value != available else { return false }
            value = available
            return true
        }
        if changed { receiver.setNetworkAvailable(available: available) }
        return changed
    }

    /// Forgets the last value, so the next update is forwarded (after a monitor restart).
    public func reset() { last.withValue { $0 = nil } }
}
