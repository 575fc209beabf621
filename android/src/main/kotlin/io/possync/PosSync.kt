package io.possync

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.withContext
import kotlin.time.Duration

/**
 * Coroutine-friendly front of a [SyncEngine] (the generated binding).
 *
 * The engine's local operations (record a sale, look a product up, read the queue) are
 * blocking SQLite calls: here they are `suspend` functions that run on [io]
 * (`Dispatchers.IO` by default), so they are safe to call from the main thread. Network work
 * ([syncNow], [runBatchSync], [resolveConflict], [checkConsistency]) is already `suspend` in
 * the bindings; cancelling the calling coroutine asks the engine to stop at its next batch
 * boundary.
 *
 * Every failure is a [PosSyncException] subclass: `reason()` (and `toString()`) is the
 * engine's own sentence (for example `invalid input: the sale has no lines`), `code()` its
 * stable code, and the values to act on are typed properties of the subclass
 * ([PosSyncException.RateLimited.retryAfterMs], [PosSyncException.InvalidInput.field], ...).
 * Limits default to the engine's [defaultListLimit].
 *
 * One engine per database file per process: use [EngineHolder] to share it between the app
 * and a background worker. [close] releases this handle to the engine.
 */
class PosSync(
    /** The generated binding, for anything this wrapper does not cover. */
    val engine: SyncEngine,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {

    private suspend inline fun <T> onIo(crossinline block: SyncEngine.() -> T): T =
        withContext(io) { engine.block() }

    // ------------------------------------------------------------------ till operations

    /** Records and queues a sale (the app's JSON); recording the same sale again is a no-op. */
    suspend fun recordSale(saleJson: String): SaleReceipt = onIo { recordSale(saleJson) }

    /** Records and queues a stock adjustment (`id`, `product_id`, `quantity_delta`). */
    suspend fun recordStockAdjustment(adjustmentJson: String): ChangeRef =
        onIo { recordStockAdjustment(adjustmentJson) }

    suspend fun getSale(saleId: String): Sale? = onIo { getSale(saleId) }

    suspend fun productByBarcode(barcode: String): Product? = onIo { productByBarcode(barcode) }

    suspend fun productBySku(sku: String): Product? = onIo { productBySku(sku) }

    suspend fun productById(productId: String): Product? = onIo { productById(productId) }

    /** Typeahead search: products with words starting with each word of [query]. */
    suspend fun searchProducts(query: String, limit: Long = defaultListLimit()): List<Product> =
        onIo { searchProducts(query, limit) }

    /** The price of a product now (price list entry, else the catalog's own price). */
    suspend fun currentPrice(productId: String): Price? = onIo { currentPrice(productId) }

    suspend fun createCustomer(customerJson: String): Customer =
        onIo { createCustomer(customerJson) }

    suspend fun updateCustomer(customerJson: String): Customer =
        onIo { updateCustomer(customerJson) }

    suspend fun getCustomer(customerId: String): Customer? = onIo { getCustomer(customerId) }

    /** Customers by name, phone or e-mail prefix. */
    suspend fun searchCustomers(query: String, limit: Long = defaultListLimit()): List<Customer> =
        onIo { searchCustomers(query, limit) }

    suspend fun putReport(key: String, reportJson: String): Unit =
        onIo { putReport(key, reportJson) }

    suspend fun getReport(key: String): Report? = onIo { getReport(key) }

    /** Seeds the catalog from a JSON array of products; all or nothing. */
    suspend fun importProducts(productsJson: String): Long = onIo { importProducts(productsJson) }

    // ------------------------------------------------------------------ queue and history

    suspend fun queueStats(): QueueStats = onIo { queueStats() }

    /** Queue rows in sync order, optionally only one [state] and/or [entityType]. */
    suspend fun queueItems(
        state: SyncState? = null,
        entityType: EntityType? = null,
        limit: Long = defaultListLimit(),
    ): List<QueueItem> = onIo { queueItems(state, entityType, limit) }

    /** Makes every failed change due now; returns how many. */
    suspend fun retryFailedNow(): Long = onIo { retryFailedNow() }

    suspend fun syncLog(limit: Long = defaultListLimit()): List<SyncLogEntry> =
        onIo { syncLog(limit) }

    suspend fun auditTrail(limit: Long = defaultListLimit()): List<AuditEntry> =
        onIo { auditTrail(limit) }

    /** Conflicts waiting for a person, oldest first. */
    suspend fun conflicts(): List<Conflict> = onIo { conflicts() }

    /** Undoes everything sync run [runId] downloaded; returns how many records were restored. */
    suspend fun rollback(runId: String): Long = onIo { rollback(runId) }

    suspend fun integrityCheck(): IntegrityReport = onIo { integrityCheck() }

    // ------------------------------------------------------------------ encryption at rest

    /** Re-encrypts the database under [newKey]; keep the old key until this returns. */
    suspend fun rotateEncryptionKey(newKey: String): Unit = onIo { rotateEncryptionKey(newKey) }

    /** Writes a consistent copy (customer data included, no token) to a new file. */
    suspend fun exportSupportCopy(destinationPath: String, key: String? = null): Unit =
        onIo { exportSupportCopy(destinationPath, key) }

    // ------------------------------------------------------------------ sync

    suspend fun status(): SyncStatus = onIo { status() }

    /** One full sync cycle now (joins a cycle already running). Never throws for sync failures:
     * read [SyncReport.outcome] and [SyncReport.error]. */
    suspend fun syncNow(): SyncReport = engine.syncNow()

    /** The background entry point: one cycle that stops between batches after [budget]. */
    suspend fun runBatchSync(budget: Duration): SyncReport =
        engine.runBatchSync(budget.inWholeMilliseconds)

    /** Resolves a conflict from [conflicts]; [mergedJson] is required for [Resolution.MERGED]. */
    suspend fun resolveConflict(
        conflictId: String,
        resolution: Resolution,
        mergedJson: String? = null,
    ): Customer? = engine.resolveConflict(conflictId, resolution, mergedJson)

    /** Compares local counts and checksums with the server's; schedules resyncs of drift. */
    suspend fun checkConsistency(): ConsistencyReport = engine.checkConsistency()

    /** Status updates, the current one first (see [statusFlow]). */
    fun statusFlow(): Flow<SyncStatus> = engine.statusFlow(io)

    /** Conflicts as they are found (see [conflictFlow]). */
    fun conflictFlow(): Flow<Conflict> = engine.conflictFlow(io)

    /** Status changes and new conflicts in one stream (see [syncEvents]). */
    fun syncEvents(): Flow<SyncEvent> = engine.syncEvents(io)

    /** Feeds the app's connectivity signal to the engine (quick; safe on any thread). */
    fun setNetworkAvailable(available: Boolean) = engine.setNetworkAvailable(available)

    /** Foreground auto sync: every [interval], on reconnect and when failed changes are due. */
    suspend fun startAutoSync(interval: Duration): Unit =
        onIo { startAutoSync(interval.inWholeMilliseconds) }

    fun stopAutoSync() = engine.stopAutoSync()

    val isAutoSyncRunning: Boolean get() = engine.isAutoSyncRunning()

    /** Stops a running sync at its next batch boundary (an OS deadline, a "stop" button). */
    fun cancel() = engine.cancel()

    /** Supplies bearer tokens from the app; [provider] gets `refresh = true` after a 401. */
    suspend fun setTokenProvider(provider: suspend (refresh: Boolean) -> String): Unit =
        onIo { setTokenProvider(tokenProvider(provider)) }

    override fun close() = engine.close()

    companion object {
        /** Opens (or joins) the engine for [config]; blocking work runs on [io]. */
        suspend fun open(config: EngineConfig, io: CoroutineDispatcher = Dispatchers.IO): PosSync =
            withContext(io) { PosSync(SyncEngine.open(config), io) }

        /** The library's version, for support screens. */
        val version: String get() = posSyncVersion()
    }
}

/**
 * A [TokenProvider] from a lambda. When no token can be had, throw: a [TokenException] as it
 * is, any other exception as [TokenException.Unavailable] with its message. The sync then
 * ends with `AUTH_ERROR` and that reason, and nothing queued is lost.
 */
fun tokenProvider(provide: suspend (refresh: Boolean) -> String): TokenProvider =
    object : TokenProvider {
        override suspend fun token(refresh: Boolean): String =
            try {
                provide(refresh)
            } catch (e: TokenException) {
                throw e
            } catch (e: Exception) {
                throw TokenException.Unavailable(e.message ?: e.javaClass.name)
            }
    }

/** Parses `sale`, `stock_adjustment`, `product`, `price`, `customer` or `report`. */
fun EntityType.Companion.fromName(name: String): EntityType = entityTypeFromName(name)

