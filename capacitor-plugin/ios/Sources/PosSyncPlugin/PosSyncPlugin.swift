// The Capacitor side of PosSync on iOS. Thin on purpose: every method hands the call's
// arguments to PluginCore (plain Swift, type-checked and run on Linux) in a Task, off the
// caller's thread, and settles the call with resolve or reject(message, code). Engine events
// reach the web app through notifyListeners (syncStatus, conflict, tokenRequested).
//
// Not compiled on Linux (Capacitor is an iOS framework): this file is unverified here.

import Capacitor
import Foundation
import PosSync

@objc(PosSyncPlugin)
public class PosSyncPlugin: CAPPlugin, CAPBridgedPlugin {
    public let identifier = "PosSyncPlugin"
    public let jsName = "PosSync"
    public let pluginMethods: [CAPPluginMethod] = PluginCore.methods.map {
        CAPPluginMethod(name: $0, returnType: CAPPluginReturnPromise)
    }

    private var core: PluginCore!

    override public func load() {
        core = PluginCore(
            dataDirectory: PluginPaths.dataDirectory(),
            scheduler: AppleBackgroundSync(),
            emit: { [weak self] event, data in self?.notifyListeners(event, data: data) },
            hasListeners: { [weak self] event in self?.hasListeners(event) ?? false })
    }

    private func run(_ method: String, _ call: CAPPluginCall) {
        let args = (call.options as? [String: Any]) ?? [:]
        let core = self.core!
        Task.detached {
            do {
                if let result = try await core.call(method, args) {
                    call.resolve(result)
                } else {
                    call.resolve()
                }
            } catch {
                let e = JSError.of(error)
                call.reject(e.message, e.code)
            }
        }
    }

    @objc func open(_ call: CAPPluginCall) { run("open", call) }
    @objc func close(_ call: CAPPluginCall) { run("close", call) }
    @objc func setToken(_ call: CAPPluginCall) { run("setToken", call) }
    @objc func recordSale(_ call: CAPPluginCall) { run("recordSale", call) }
    @objc func recordStockAdjustment(_ call: CAPPluginCall) { run("recordStockAdjustment", call) }
    @objc func getSale(_ call: CAPPluginCall) { run("getSale", call) }
    @objc func productByBarcode(_ call: CAPPluginCall) { run("productByBarcode", call) }
    @objc func productBySku(_ call: CAPPluginCall) { run("productBySku", call) }
    @objc func productById(_ call: CAPPluginCall) { run("productById", call) }
    @objc func searchProducts(_ call: CAPPluginCall) { run("searchProducts", call) }
    @objc func currentPrice(_ call: CAPPluginCall) { run("currentPrice", call) }
    @objc func createCustomer(_ call: CAPPluginCall) { run("createCustomer", call) }
    @objc func updateCustomer(_ call: CAPPluginCall) { run("updateCustomer", call) }
    @objc func getCustomer(_ call: CAPPluginCall) { run("getCustomer", call) }
    @objc func searchCustomers(_ call: CAPPluginCall) { run("searchCustomers", call) }
    @objc func syncNow(_ call: CAPPluginCall) { run("syncNow", call) }
    @objc func getStatus(_ call: CAPPluginCall) { run("getStatus", call) }
    @objc func getQueueStats(_ call: CAPPluginCall) { run("getQueueStats", call) }
    @objc func retryFailedNow(_ call: CAPPluginCall) { run("retryFailedNow", call) }
    @objc func listConflicts(_ call: CAPPluginCall) { run("listConflicts", call) }
    @objc func resolveConflict(_ call: CAPPluginCall) { run("resolveConflict", call) }
    @objc func checkConsistency(_ call: CAPPluginCall) { run("checkConsistency", call) }
    @objc func integrityCheck(_ call: CAPPluginCall) { run("integrityCheck", call) }
    @objc func setNetworkAvailable(_ call: CAPPluginCall) { run("setNetworkAvailable", call) }
    @objc func startAutoSync(_ call: CAPPluginCall) { run("startAutoSync", call) }
    @objc func stopAutoSync(_ call: CAPPluginCall) { run("stopAutoSync", call) }
    @objc func cancelSync(_ call: CAPPluginCall) { run("cancelSync", call) }
    @objc func enableBackgroundSync(_ call: CAPPluginCall) { run("enableBackgroundSync", call) }
    @objc func disableBackgroundSync(_ call: CAPPluginCall) { run("disableBackgroundSync", call) }
}
