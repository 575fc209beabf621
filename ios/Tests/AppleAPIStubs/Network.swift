// Stub of the parts of Apple's Network framework PosSync uses (type-checking only).
import Dispatch

public struct NWPath {
    public enum Status { case satisfied, unsatisfied, requiresConnection }
    public var status: Status
}

public final class NWPathMonitor {
    public init() {}
    public var pathUpdateHandler: ((NWPath) -> Void)?
    public func start(queue: DispatchQueue) {}
    public func cancel() {}
}
