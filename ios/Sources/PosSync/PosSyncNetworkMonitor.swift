// NWPathMonitor glue: thin on purpose; the change detection is NetworkAvailabilityForwarder,
// which the Linux tests run.

#if canImport(Network)
import Dispatch
import Network

/// Feeds the engine's network-available signal from `NWPathMonitor` while the app runs (the
/// engine then syncs soon after the network comes back, when auto sync is running).
///
/// ```swift
/// let monitor = PosSyncNetworkMonitor(engine: engine)
/// monitor.start()   // app became active
/// monitor.stop()    // app went to the background (background tasks do not need it)
/// ```
public final class PosSyncNetworkMonitor: @unchecked Sendable {
    private let forwarder: NetworkAvailabilityForwarder
    private let queue = DispatchQueue(label: "io.possync.network-monitor")
    // Guarded by `queue`. An NWPathMonitor cannot be restarted after `cancel()`, so each
    // start makes a new one.
    private var monitor: NWPathMonitor?

    public init(engine: SyncEngine) {
        forwarder = NetworkAvailabilityForwarder(engine)
    }

    public func start() {
        queue.sync {
            guard monitor == nil else { return }
            let pathMonitor = NWPathMonitor()
            let forwarder = self.forwarder
            forwarder.reset()
            pathMonitor.pathUpdateHandler = { path in
                forwarder.update(available: path.status == .satisfied)
            }
            pathMonitor.start(queue: queue)
            monitor = pathMonitor
        }
    }

    public func stop() {
        queue.sync {
            monitor?.cancel()
            monitor = nil
        }
    }

    deinit { monitor?.cancel() }
}
#endif
