package io.possync.capacitor

import com.getcapacitor.JSObject
import com.getcapacitor.Plugin
import com.getcapacitor.PluginCall
import com.getcapacitor.PluginMethod
import com.getcapacitor.annotation.CapacitorPlugin
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel

/**
 * The Capacitor side of `PosSync` on Android. Thin on purpose: every method hands the call's
 * arguments to [PluginCore] on a coroutine (Dispatchers.IO; never the caller's thread) and
 * settles the call through [CallRunner]. Engine events reach the web app through
 * `notifyListeners` (`syncStatus`, `conflict`, `tokenRequested`); `addListener` and
 * `removeAllListeners` are Capacitor's own.
 */
@CapacitorPlugin(name = "PosSync")
class PosSyncPlugin : Plugin() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private val runner = CallRunner(scope)
    private lateinit var core: PluginCore

    override fun load() {
        val app = context.applicationContext
        core = PluginCore(
            dataDir = app.noBackupFilesDir,
            scheduler = AndroidBackgroundSync(app),
            emit = { event, data -> notifyListeners(event, data) },
            hasListeners = { event -> hasListeners(event) },
            scope = scope,
        )
    }

    override fun handleOnDestroy() {
        // The engine stays open for background work; only this plugin instance's work stops.
        scope.cancel()
    }

    private fun run(call: PluginCall, block: suspend (JSObject) -> JSObject?) {
        runner.run(call, block)
    }

    @PluginMethod
    fun open(call: PluginCall) = run(call) { core.open(it) }

    @PluginMethod
    fun close(call: PluginCall) = run(call) { core.close() }

    @PluginMethod
    fun setToken(call: PluginCall) = run(call) { core.setToken(it) }

    @PluginMethod
    fun recordSale(call: PluginCall) = run(call) { core.recordSale(it) }

    @PluginMethod
    fun recordStockAdjustment(call: PluginCall) = run(call) { core.recordStockAdjustment(it) }

    @PluginMethod
    fun getSale(call: PluginCall) = run(call) { core.getSale(it) }

    @PluginMethod
    fun productByBarcode(call: PluginCall) = run(call) { core.productByBarcode(it) }

    @PluginMethod
    fun productBySku(call: PluginCall) = run(call) { core.productBySku(it) }

    @PluginMethod
    fun productById(call: PluginCall) = run(call) { core.productById(it) }

    @PluginMethod
    fun searchProducts(call: PluginCall) = run(call) { core.searchProducts(it) }

    @PluginMethod
    fun currentPrice(call: PluginCall) = run(call) { core.currentPrice(it) }

    @PluginMethod
    fun createCustomer(call: PluginCall) = run(call) { core.createCustomer(it) }

    @PluginMethod
    fun updateCustomer(call: PluginCall) = run(call) { core.updateCustomer(it) }

    @PluginMethod
    fun getCustomer(call: PluginCall) = run(call) { core.getCustomer(it) }

    @PluginMethod
    fun searchCustomers(call: PluginCall) = run(call) { core.searchCustomers(it) }

    @PluginMethod
    fun syncNow(call: PluginCall) = run(call) { core.syncNow() }

    @PluginMethod
    fun getStatus(call: PluginCall) = run(call) { core.getStatus() }

    @PluginMethod
    fun getQueueStats(call: PluginCall) = run(call) { core.getQueueStats() }

    @PluginMethod
    fun retryFailedNow(call: PluginCall) = run(call) { core.retryFailedNow() }

    @PluginMethod
    fun listConflicts(call: PluginCall) = run(call) { core.listConflicts() }

    @PluginMethod
    fun resolveConflict(call: PluginCall) = run(call) { core.resolveConflict(it) }

    @PluginMethod
    fun checkConsistency(call: PluginCall) = run(call) { core.checkConsistency() }

    @PluginMethod
    fun integrityCheck(call: PluginCall) = run(call) { core.integrityCheck() }

    @PluginMethod
    fun setNetworkAvailable(call: PluginCall) = run(call) { core.setNetworkAvailable(it) }

    @PluginMethod
    fun startAutoSync(call: PluginCall) = run(call) { core.startAutoSync(it) }

    @PluginMethod
    fun stopAutoSync(call: PluginCall) = run(call) { core.stopAutoSync() }

    @PluginMethod
    fun cancelSync(call: PluginCall) = run(call) { core.cancelSync() }

    @PluginMethod
    fun enableBackgroundSync(call: PluginCall) = run(call) { core.enableBackgroundSync(it) }

    @PluginMethod
    fun disableBackgroundSync(call: PluginCall) = run(call) { core.disableBackgroundSync() }
}
