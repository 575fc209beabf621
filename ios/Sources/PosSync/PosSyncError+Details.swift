// Hand-written Swift over the generated bindings (Generated/PosSync.swift, never edited).

import Foundation

extension PosSyncError {
    /// The engine's message for people: what happened and what to do ("invalid input: a sale
    /// needs at least one line"). Never contains customer data, payloads or tokens.
    public var message: String {
        switch self {
        case .InvalidInput(let message), .PayloadTooLarge(let message), .NotFound(let message),
            .Database(let message), .StorageFull(let message), .SchemaTooNew(let message),
            .Network(let message), .Auth(let message), .Server(let message),
            .Integrity(let message), .RateLimited(let message), .Cancelled(let message),
            .NotConfigured(let message):
            return message
        }
    }

    /// A short stable code, the same as the Rust core's, the Kotlin binding's and the
    /// Capacitor plugin's (`INVALID_INPUT`, `NETWORK`, ...).
    public var code: String {
        switch self {
        case .InvalidInput: return "INVALID_INPUT"
        case .PayloadTooLarge: return "PAYLOAD_TOO_LARGE"
        case .NotFound: return "NOT_FOUND"
        case .Database: return "DATABASE"
        case .StorageFull: return "STORAGE_FULL"
        case .SchemaTooNew: return "SCHEMA_TOO_NEW"
        case .Network: return "NETWORK"
        case .Auth: return "AUTH"
        case .Server: return "SERVER"
        case .Integrity: return "INTEGRITY"
        case .RateLimited: return "RATE_LIMITED"
        case .Cancelled: return "CANCELLED"
        case .NotConfigured: return "NOT_CONFIGURED"
        }
    }

    /// Worth retrying later without any change by the app or a person.
    public var isTransient: Bool {
        switch self {
        case .Network, .Server, .Integrity, .RateLimited: return true
        default: return false
        }
    }
}

extension PosSyncError: CustomStringConvertible {
    public var description: String { "\(code): \(message)" }
}
