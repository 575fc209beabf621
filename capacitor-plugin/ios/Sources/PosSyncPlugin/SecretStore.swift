// Secrets by name (the bridge's `authToken` and `encryptionKey`). On iOS the Keychain, as
// generic passwords readable after the first unlock on this device only, so a background task
// can open the database while the phone is locked, and a backup restored elsewhere cannot.
// The Keychain calls are kept thin; the logic around them is the bridge's (tested on Linux
// with an in-memory store).

import Foundation

public protocol SecretStoring: Sendable {
    func load(_ name: String) throws -> String?
    func save(_ name: String, _ value: String) throws
    /// Deleting a missing secret is not an error.
    func delete(_ name: String) throws
}

public struct SecretStoreError: Error, CustomStringConvertible {
    public let description: String
}

public enum PlatformSecrets {
    public static func store() -> SecretStoring {
        #if canImport(Security)
        return KeychainSecretStore(service: "io.possync.capacitor")
        #else
        return NoSecretStore()
        #endif
    }
}

/// Where there is no Keychain (Linux): every call fails, nothing is written in clear.
struct NoSecretStore: SecretStoring {
    func load(_ name: String) throws -> String? { throw SecretStoreError(description: "no Keychain on this platform") }
    func save(_ name: String, _ value: String) throws { throw SecretStoreError(description: "no Keychain on this platform") }
    func delete(_ name: String) throws { throw SecretStoreError(description: "no Keychain on this platform") }
}

#if canImport(Security)
import Security

struct KeychainSecretStore: SecretStoring {
    let service: String

    private func query(_ name: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: service, kSecAttrAccount as String: name]
    }

    func load(_ name: String) throws -> String? {
        var q = query(name)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let data = item as? Data else { throw failure("read", status) }
        return String(decoding: data, as: UTF8.self)
    }

    func save(_ name: String, _ value: String) throws {
        let attributes: [String: Any] = [
            kSecValueData as String: Data(value.utf8),
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        var status = SecItemUpdate(query(name) as CFDictionary, attributes as CFDictionary)
        if status == errSecItemNotFound {
            status = SecItemAdd(query(name).merging(attributes) { $1 } as CFDictionary, nil)
        }
        guard status == errSecSuccess else { throw failure("store", status) }
    }

    func delete(_ name: String) throws {
        let status = SecItemDelete(query(name) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw failure("delete", status) }
    }

    private func failure(_ what: String, _ status: OSStatus) -> SecretStoreError {
        SecretStoreError(description: "the Keychain could not \(what) a secret (OSStatus \(status))")
    }
}
#endif
