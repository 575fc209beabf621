// The plugin's side of `PluginBridge.call`: the generated `PluginCallError` is internal to
// this module, so the Capacitor plugin (another module) gets the rejection's fields here.

import Foundation

/// A plugin call the bridge rejected: `call.reject(message, code, details)` in the plugin.
public struct PluginRejection: Error, Equatable, Sendable {
    public let code: String
    public let message: String
    /// The error's fields as a JSON object text (`retryAfterMs`, `field`, ...), if any.
    public let detailsJson: String?
}

extension PluginBridge {
    /// Runs a plugin method through the bridge: its JSON result, or the rejection.
    public func forward(method: String, argsJson: String) async -> Result<String, PluginRejection> {
        do {
            return .success(try await call(method: method, argsJson: argsJson))
        } catch PluginCallError.Rejected(let code, let reason, let detailsJson) {
            return .failure(PluginRejection(code: code, message: reason, detailsJson: detailsJson))
        } catch {
            return .failure(PluginRejection(
                code: "INTERNAL", message: "the pos-sync plugin failed unexpectedly (\(error)); please report it",
                detailsJson: nil))
        }
    }
}
