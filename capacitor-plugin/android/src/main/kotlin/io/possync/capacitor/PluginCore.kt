package io.possync.capacitor

import com.getcapacitor.JSObject
import io.possync.EngineHolder
import io.possync.PosSync
import io.possync.SyncEvent
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import java.io.File
import kotlin.time.Duration.Companion.milliseconds

/**
 * What each plugin method does, on Capacitor-free types (JSObject is plain org.json): the
 * arguments as the JavaScript layer sends them (native.ts) in, the result out. Kept apart from
 * [PosSyncPlugin] so the JVM tests run it against the real engine.
 *
 * @param dataDir where a relative `databasePath` and the plugin's state live (the app's
 *   not-backed-up files directory: a restored copy of a till's database on another device
 *   would issue the same receipt numbers)
 * @param emit sends an event to the web app (`notifyListeners`)
 * @param hasListeners whether the web app listens to an event
 * @param scope where event forwarding runs (the plugin's scope)
 */
class PluginCore(
    private val dataDir: File,
    private val scheduler: BackgroundScheduler,
    private val emit: (event: String, data: JSObject) -> Unit,
    private val hasListeners: (event: String) -> Boolean,
    private val scope: CoroutineScope,
    tokenTimeoutMs: Long = TokenBroker.DEFAULT_TIMEOUT_MS,
) {
    @Volatile
    private var engine: PosSync? = null
    private var events: Job? = null
    private val lock = Any()
    private val state = PluginState(dataDir)

    /** Tokens from the web app (`setToken`, the `tokenRequested` event). */
    val tokens = TokenBroker(
        timeoutMs = tokenTimeoutMs,
        hasListener = { hasListeners(TOKEN_REQUESTED) },
        request = { refresh, timeout ->
            emit(TOKEN_REQUESTED, JSObject().put("refresh", refresh).put("timeoutMs", timeout))
        },
    )

    /** The open engine, for the methods below (and tests). */
    fun engine(): PosSync = engine ?: throw NotOpen()

    suspend fun open(data: JSObject): JSObject {
        val config = JsConvert.engineConfig(data, dataDir)
        File(config.databasePath).parentFile?.mkdirs()
        // The engine registry returns the engine already open for this file (the background
        // worker's, or a previous open) when the configuration is the same, and refuses a
        // different one with INVALID_INPUT.
        val opened = PosSync.open(config)
        // A background worker of this process (the Android library's) opens the engine through
        // EngineHolder: give it this configuration (ignored if it is already open).
        EngineHolder.configure(config = { config })
        // The token the app gives now, else the last one it gave (kept across restarts).
        (config.authToken ?: state.token())?.let { tokens.set(it) }
        state.saveConfig(data)
        if (config.serverUrl != null) opened.setTokenProvider { refresh -> tokens.token(refresh) }
        scheduler.engineOpened()
        synchronized(lock) {
            events?.cancel()
            engine?.takeIf { it !== opened }?.close()
            engine = opened
            events = scope.launch { forwardEvents(opened) }
        }
        return JSObject().put("version", PosSync.version).put("databasePath", config.databasePath)
    }

    private suspend fun forwardEvents(engine: PosSync) {
        engine.syncEvents().collect { event ->
            when (event) {
                is SyncEvent.StatusChanged -> emit(SYNC_STATUS, JsConvert.syncStatus(event.status))
                is SyncEvent.ConflictFound -> emit(CONFLICT, JsConvert.conflict(event.conflict))
            }
        }
    }

    /** Stops auto sync and event forwarding, releases the engine and forgets its configuration. */
    fun close(): JSObject? {
        synchronized(lock) {
            events?.cancel()
            events = null
            engine?.let {
                it.stopAutoSync()
                it.close()
            }
            engine = null
        }
        EngineHolder.reset()
        tokens.set(null)
        state.clear()
        return null
    }

    fun setToken(data: JSObject): JSObject? {
        val token = data.optText("token")
        tokens.set(token)
        state.saveToken(token)
        return null
    }

    suspend fun recordSale(data: JSObject): JSObject =
        JsConvert.saleReceipt(engine().recordSale(data.text("saleJson")))

    suspend fun recordStockAdjustment(data: JSObject): JSObject =
        JsConvert.changeRef(engine().recordStockAdjustment(data.text("adjustmentJson")))

    suspend fun getSale(data: JSObject): JSObject =
        JsConvert.optional("sale", engine().getSale(data.text("saleId")), JsConvert::sale)

    suspend fun productByBarcode(data: JSObject): JSObject =
        JsConvert.optional("product", engine().productByBarcode(data.text("barcode")), JsConvert::product)

    suspend fun productBySku(data: JSObject): JSObject =
        JsConvert.optional("product", engine().productBySku(data.text("sku")), JsConvert::product)

    suspend fun productById(data: JSObject): JSObject =
        JsConvert.optional("product", engine().productById(data.text("productId")), JsConvert::product)

    suspend fun searchProducts(data: JSObject): JSObject = JSObject().put(
        "products",
        JsConvert.products(engine().searchProducts(data.text("query"), limit(data))),
    )

    suspend fun currentPrice(data: JSObject): JSObject =
        JsConvert.optional("price", engine().currentPrice(data.text("productId")), JsConvert::price)

    suspend fun createCustomer(data: JSObject): JSObject =
        JsConvert.customer(engine().createCustomer(data.text("customerJson")))

    suspend fun updateCustomer(data: JSObject): JSObject =
        JsConvert.customer(engine().updateCustomer(data.text("customerJson")))

    suspend fun getCustomer(data: JSObject): JSObject =
        JsConvert.optional("customer", engine().getCustomer(data.text("customerId")), JsConvert::customer)

    suspend fun searchCustomers(data: JSObject): JSObject = JSObject().put(
        "customers",
        JsConvert.customers(engine().searchCustomers(data.text("query"), limit(data))),
    )

    suspend fun syncNow(): JSObject = JsConvert.syncReport(engine().syncNow())

    suspend fun getStatus(): JSObject = JsConvert.syncStatus(engine().status())

    suspend fun getQueueStats(): JSObject = JsConvert.queueStats(engine().queueStats())

    suspend fun retryFailedNow(): JSObject = JSObject().put("count", engine().retryFailedNow())

    suspend fun listConflicts(): JSObject =
        JSObject().put("conflicts", JsConvert.conflicts(engine().conflicts()))

    suspend fun resolveConflict(data: JSObject): JSObject = JsConvert.optional(
        "customer",
        engine().resolveConflict(data.text("conflictId"), JsConvert.resolution(data), data.optText("mergedJson")),
        JsConvert::customer,
    )

    suspend fun checkConsistency(): JSObject = JsConvert.consistencyReport(engine().checkConsistency())

    suspend fun integrityCheck(): JSObject = JsConvert.integrityReport(engine().integrityCheck())

    fun setNetworkAvailable(data: JSObject): JSObject? {
        engine().setNetworkAvailable(data.flag("available"))
        return null
    }

    suspend fun startAutoSync(data: JSObject): JSObject? {
        val interval = data.whole("intervalMs")
        if (interval < 1) throw InvalidArgument("'intervalMs' must be at least 1")
        engine().startAutoSync(interval.milliseconds)
        return null
    }

    fun stopAutoSync(): JSObject? {
        engine().stopAutoSync()
        return null
    }

    fun cancelSync(): JSObject? {
        engine().cancel()
        return null
    }

    fun enableBackgroundSync(data: JSObject): JSObject {
        engine() // background sync of an engine that was never opened would have nothing to run
        val minutes = data.optWhole("intervalMinutes") ?: DEFAULT_BACKGROUND_MINUTES
        if (minutes < 1) throw InvalidArgument("'intervalMinutes' must be at least 1")
        val used = scheduler.enable(minutes)
        return JSObject().put("enabled", true).put("intervalMinutes", used)
    }

    fun disableBackgroundSync(): JSObject? {
        scheduler.disable()
        return null
    }

    private fun limit(data: JSObject): Int {
        val limit = data.optWhole("limit") ?: DEFAULT_LIMIT.toLong()
        if (limit !in 1..MAX_LIMIT) throw InvalidArgument("'limit' must be from 1 to $MAX_LIMIT")
        return limit.toInt()
    }

    companion object {
        const val SYNC_STATUS = "syncStatus"
        const val CONFLICT = "conflict"
        const val TOKEN_REQUESTED = "tokenRequested"
        const val DEFAULT_LIMIT = 20
        const val MAX_LIMIT = 1000L
        const val DEFAULT_BACKGROUND_MINUTES = 30L
    }
}
