// The Capacitor side of PosSync on iOS: a forwarder. The TypeScript client sends every method
// through the one `call` method as `{ method, args }` (the arguments as JSON text); the Rust
// bridge (PosSync.PluginBridge) does the rest, see docs/architecture.md, "The plugin bridge".
// Engine events reach the web app through notifyListeners as `{ data: JSON text }`.
//
// Not compiled on Linux (Capacitor is an iOS framework): this file is unverified here.

import Capacitor
import Foundation
import PosSync

@objc(PosSyncPlugin)
public class PosSyncPlugin: CAPPlugin, CAPBridgedPlugin {
    public let identifier = "PosSyncPlugin"
    public let jsName = "PosSync"
    public let pluginMethods: [CAPPluginMethod] = [
        CAPPluginMethod(name: "call", returnType: CAPPluginReturnPromise)
    ]

    private var bridge: PluginBridge!

    override public func load() {
        bridge = PluginHost.bridge(
            emit: { [weak self] event, data in self?.notifyListeners(event, data: ["data": data]) },
            hasListeners: { [weak self] event in self?.hasListeners(event) ?? false })
    }

    @objc func call(_ call: CAPPluginCall) {
        guard let method = call.getString("method") else {
            call.reject("a call without a method", "INVALID_ARGUMENT")
            return
        }
        let args = call.getString("args") ?? "{}"
        let bridge = self.bridge!
        // Off Capacitor's thread: a slow call must not stall the other plugins.
        Task.detached {
            switch await bridge.forward(method: method, argsJson: args) {
            case .success(let result):
                call.resolve(["result": result])
            case .failure(let e):
                let details = e.detailsJson
                    .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                call.reject(e.message, e.code, nil, details)
            }
        }
    }
}
