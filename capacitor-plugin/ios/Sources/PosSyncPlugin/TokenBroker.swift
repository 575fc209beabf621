// Bearer tokens from the web app, as on Android (TokenBroker.kt): the engine asks `token` on
// its own thread; the app gives tokens with `setToken`. With a current token and no refresh
// asked, the answer is immediate; otherwise the web app is asked (the `tokenRequested` event)
// and the engine waits up to `timeout` for the next `setToken`, then uses the token it has
// (the server refuses it again and the sync fails with AUTH) or fails if it has none.

import Foundation

public final class TokenBroker: @unchecked Sendable {
    public static let defaultTimeoutMs: Int64 = 10_000

    private let condition = NSCondition()
    private var current: String?
    private var generation: UInt64 = 0
    private let timeoutMs: Int64
    private let hasListener: @Sendable () -> Bool
    private let request: @Sendable (_ refresh: Bool, _ timeoutMs: Int64) -> Void

    public init(
        timeoutMs: Int64 = TokenBroker.defaultTimeoutMs,
        hasListener: @escaping @Sendable () -> Bool,
        request: @escaping @Sendable (_ refresh: Bool, _ timeoutMs: Int64) -> Void
    ) {
        self.timeoutMs = timeoutMs
        self.hasListener = hasListener
        self.request = request
    }

    /// The app's token (nil: it has none). Wakes a waiting `token(refresh:)`.
    public func set(_ token: String?) {
        condition.lock()
        current = token
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    public struct NoToken: Error, CustomStringConvertible {
        public let description: String
    }

    /// Called by the engine (through `ClosureTokenProvider`), never on the main thread.
    public func token(refresh: Bool) throws -> String {
        condition.lock()
        let (token, asked) = (current, generation)
        condition.unlock()
        if let token, !refresh { return token }
        if !hasListener() {
            if let token { return token }
            throw NoToken(description: "no token: call PosSync.setToken() or listen to 'tokenRequested'")
        }
        request(refresh, timeoutMs)
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while generation == asked {
            if !condition.wait(until: deadline) { break }
        }
        if generation != asked {
            guard let answer = current else { throw NoToken(description: "no token: the app answered setToken(null)") }
            return answer
        }
        guard let stale = current else {
            throw NoToken(description: "no token: the app did not answer 'tokenRequested' within \(timeoutMs) ms")
        }
        return stale
    }
}
