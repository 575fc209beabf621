import Foundation

/// A value behind a lock. (`NSLocking.withLock` and `Synchronization.Mutex` need newer OS
/// versions than iOS 15, so this is the portable spelling.)
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withValue { $0 } }
}
