package io.possync.capacitor

import com.getcapacitor.JSArray
import com.getcapacitor.JSObject
import io.possync.ChangeRef
import io.possync.Compression
import io.possync.Conflict
import io.possync.ConsistencyReport
import io.possync.Customer
import io.possync.Durability
import io.possync.EngineConfig
import io.possync.EntityConsistency
import io.possync.EntityQueueCounts
import io.possync.HealthThresholds
import io.possync.IntegrityReport
import io.possync.Price
import io.possync.Product
import io.possync.QueueStats
import io.possync.Resolution
import io.possync.Sale
import io.possync.SaleReceipt
import io.possync.SyncReport
import io.possync.SyncStatus
import org.json.JSONObject
import java.io.File

/**
 * The engine's records as the JavaScript layer receives them, and the JavaScript arguments as
 * engine values. The rules (capacitor-plugin/bridge-rules.json, checked by the JVM tests):
 * field names as in the Kotlin bindings; enum constants in lower case (`BACKED_OFF` →
 * `"backed_off"`); null for an absent optional value (always present); hybrid-logical-clock
 * timestamps and checksums as decimal strings (JavaScript numbers hold 53 bits); JSON
 * documents as their JSON text (client.ts parses them).
 */
object JsConvert {
    /** An enum constant as JavaScript sees it. */
    fun enumJs(value: Enum<*>): String = value.name.lowercase()

    /** The enum constant [value] names, or an [InvalidArgument] naming [field] and the choices. */
    inline fun <reified E : Enum<E>> enumOf(value: String, field: String): E =
        enumValues<E>().firstOrNull { enumJs(it) == value }
            ?: throw InvalidArgument(
                "'$field' must be one of ${enumValues<E>().joinToString(", ") { enumJs(it) }}, not '$value'",
            )

    private fun JSObject.putOrNull(key: String, value: Any?): JSObject {
        put(key, value ?: JSONObject.NULL)
        return this
    }

    private fun <T> List<T>.toJsArray(convert: (T) -> Any): JSArray {
        val array = JSArray()
        for (item in this) array.put(convert(item))
        return array
    }

    fun saleReceipt(r: SaleReceipt): JSObject = JSObject()
        .put("saleId", r.saleId)
        .put("receiptNumber", r.receiptNumber)
        .put("changeId", r.changeId)
        .put("hlc", r.hlc.toString())

    fun changeRef(r: ChangeRef): JSObject = JSObject()
        .put("entityId", r.entityId)
        .put("changeId", r.changeId)
        .put("hlc", r.hlc.toString())

    fun sale(r: Sale): JSObject = JSObject()
        .put("saleId", r.saleId)
        .put("receiptNumber", r.receiptNumber)
        .put("json", r.json)
        .put("createdAtMs", r.createdAtMs)

    fun product(r: Product): JSObject = JSObject()
        .put("id", r.id)
        .putOrNull("sku", r.sku)
        .putOrNull("barcode", r.barcode)
        .put("name", r.name)
        .put("json", r.json)
        .put("version", r.version)

    fun price(r: Price): JSObject = JSObject()
        .put("productId", r.productId)
        .put("amount", r.amount)
        .putOrNull("currency", r.currency)
        .put("source", enumJs(r.source))
        .putOrNull("priceId", r.priceId)
        .put("validFromMs", r.validFromMs)

    fun customer(r: Customer): JSObject = JSObject()
        .put("id", r.id)
        .put("name", r.name)
        .putOrNull("phone", r.phone)
        .putOrNull("email", r.email)
        .put("json", r.json)
        .put("version", r.version)
        .put("pendingUpload", r.pendingUpload)
        .put("updatedHlc", r.updatedHlc.toString())

    fun entityQueueCounts(r: EntityQueueCounts): JSObject = JSObject()
        .put("entityType", enumJs(r.entityType))
        .put("pending", r.pending)
        .put("syncing", r.syncing)
        .put("synced", r.synced)
        .put("failed", r.failed)
        .put("conflict", r.conflict)

    fun queueStats(r: QueueStats): JSObject = JSObject()
        .put("pending", r.pending)
        .put("syncing", r.syncing)
        .put("synced", r.synced)
        .put("failed", r.failed)
        .put("conflict", r.conflict)
        .put("rejected", r.rejected)
        .put("byEntity", r.byEntity.toJsArray(::entityQueueCounts))
        .putOrNull("oldestUnsyncedAgeMs", r.oldestUnsyncedAgeMs)
        .put("bytesPending", r.bytesPending)
        .put("health", enumJs(r.health))
        .put("healthReason", r.healthReason)

    fun syncStatus(r: SyncStatus): JSObject = JSObject()
        .put("phase", enumJs(r.phase))
        .putOrNull("entityType", r.entityType?.let(::enumJs))
        .put("progress", r.progress)
        .put("online", r.online)
        .putOrNull("lastSyncAtMs", r.lastSyncAtMs)
        .putOrNull("nextSyncAtMs", r.nextSyncAtMs)
        .putOrNull("lastError", r.lastError)
        .put("queue", queueStats(r.queue))

    fun syncReport(r: SyncReport): JSObject = JSObject()
        .put("runId", r.runId)
        .put("outcome", enumJs(r.outcome))
        .put("uploaded", r.uploaded)
        .put("downloaded", r.downloaded)
        .put("autoResolved", r.autoResolved)
        .put("conflicts", r.conflicts)
        .put("failed", r.failed)
        .put("rejected", r.rejected)
        .put("remaining", r.remaining)
        .put("durationMs", r.durationMs)
        .put("moreWorkPending", r.moreWorkPending)
        .putOrNull("nextSyncAllowedAtMs", r.nextSyncAllowedAtMs)
        .putOrNull("error", r.error)

    fun conflict(r: Conflict): JSObject = JSObject()
        .put("conflictId", r.conflictId)
        .put("changeId", r.changeId)
        .put("entityType", enumJs(r.entityType))
        .put("entityId", r.entityId)
        .put("localJson", r.localJson)
        .put("serverJson", r.serverJson)
        .put("serverVersion", r.serverVersion)
        .put("localHlc", r.localHlc.toString())
        .put("serverHlc", r.serverHlc.toString())
        .put("reason", r.reason)
        .put("createdAtMs", r.createdAtMs)

    fun entityConsistency(r: EntityConsistency): JSObject = JSObject()
        .put("entityType", enumJs(r.entityType))
        .put("localCount", r.localCount)
        .put("serverCount", r.serverCount)
        .put("localChecksum", r.localChecksum.toString())
        .put("serverChecksum", r.serverChecksum.toString())
        .put("inSync", r.inSync)

    fun consistencyReport(r: ConsistencyReport): JSObject = JSObject()
        .put("checkedAtMs", r.checkedAtMs)
        .put("entities", r.entities.toJsArray(::entityConsistency))
        .put("resyncScheduled", r.resyncScheduled.toJsArray(::enumJs))
        .put("consistent", r.consistent)

    fun integrityReport(r: IntegrityReport): JSObject = JSObject()
        .put("ok", r.ok)
        .put("problems", r.problems.toJsArray { it })
        .put("warnings", r.warnings.toJsArray { it })

    fun products(list: List<Product>): JSArray = list.toJsArray(::product)
    fun customers(list: List<Customer>): JSArray = list.toJsArray(::customer)
    fun conflicts(list: List<Conflict>): JSArray = list.toJsArray(::conflict)

    /** `{ key: value-or-null }`, for results that may be absent. */
    fun <T> optional(key: String, value: T?, convert: (T) -> JSObject): JSObject =
        JSObject().putOrNull(key, value?.let(convert))

    // ------------------------------------------------------------------ from JavaScript

    /** The default database file name, in the app's data directory. */
    const val DEFAULT_DATABASE = "pos-sync.db"

    /**
     * The engine configuration from `open`'s argument. Optional numbers keep the engine's
     * defaults; a relative `databasePath` (default [DEFAULT_DATABASE]) lives in [dataDir].
     */
    fun engineConfig(data: JSObject, dataDir: File): EngineConfig {
        val defaults = EngineConfig(databasePath = "", storeId = "", registerId = "", deviceId = "")
        val path = data.optText("databasePath") ?: DEFAULT_DATABASE
        val file = File(path).let { if (it.isAbsolute) it else File(dataDir, path) }
        return EngineConfig(
            databasePath = file.path,
            storeId = data.text("storeId"),
            registerId = data.text("registerId"),
            deviceId = data.text("deviceId"),
            serverUrl = data.optText("serverUrl"),
            authToken = data.optText("authToken"),
            uploadBatchSize = data.optWhole("uploadBatchSize") ?: defaults.uploadBatchSize,
            uploadBatchBytes = data.optWhole("uploadBatchBytes") ?: defaults.uploadBatchBytes,
            maxUploadBatchesPerCycle = data.optWhole("maxUploadBatchesPerCycle") ?: defaults.maxUploadBatchesPerCycle,
            downloadPageSize = data.optWhole("downloadPageSize") ?: defaults.downloadPageSize,
            connectTimeoutMs = data.optWhole("connectTimeoutMs") ?: defaults.connectTimeoutMs,
            requestTimeoutMs = data.optWhole("requestTimeoutMs") ?: defaults.requestTimeoutMs,
            conflictTieWindowMs = data.optWhole("conflictTieWindowMs") ?: defaults.conflictTieWindowMs,
            retentionDays = data.optWhole("retentionDays") ?: defaults.retentionDays,
            retryBaseMs = data.optWhole("retryBaseMs") ?: defaults.retryBaseMs,
            retryMaxMs = data.optWhole("retryMaxMs") ?: defaults.retryMaxMs,
            networkDebounceMs = data.optWhole("networkDebounceMs") ?: defaults.networkDebounceMs,
            compression = data.optText("compression")?.let { enumOf<Compression>(it, "compression") },
            durability = data.optText("durability")?.let { enumOf<Durability>(it, "durability") },
            health = data.optObject("health")?.let(::healthThresholds),
            encryptionKey = data.optText("encryptionKey"),
        )
    }

    fun healthThresholds(data: JSObject): HealthThresholds {
        val defaults = HealthThresholds()
        return HealthThresholds(
            warningPending = data.optWhole("warningPending") ?: defaults.warningPending,
            criticalPending = data.optWhole("criticalPending") ?: defaults.criticalPending,
            warningAgeMs = data.optWhole("warningAgeMs") ?: defaults.warningAgeMs,
            criticalAgeMs = data.optWhole("criticalAgeMs") ?: defaults.criticalAgeMs,
        )
    }

    fun resolution(data: JSObject): Resolution = enumOf(data.text("resolution"), "resolution")
}

/** An argument the plugin cannot use: rejected with `INVALID_INPUT`. */
class InvalidArgument(message: String) : RuntimeException(message)

private fun JSObject.present(key: String): Boolean = has(key) && !isNull(key)

/** A required string argument. */
fun JSObject.text(key: String): String {
    if (!present(key)) throw InvalidArgument("'$key' is required")
    return opt(key) as? String ?: throw InvalidArgument("'$key' must be a string")
}

/** An optional string argument (absent or null: null). */
fun JSObject.optText(key: String): String? = if (present(key)) text(key) else null

/** A required boolean argument. */
fun JSObject.flag(key: String): Boolean {
    if (!present(key)) throw InvalidArgument("'$key' is required")
    return opt(key) as? Boolean ?: throw InvalidArgument("'$key' must be true or false")
}

/** An optional whole-number argument (JavaScript numbers arrive as Integer, Long or Double). */
fun JSObject.optWhole(key: String): Long? {
    if (!present(key)) return null
    return when (val v = opt(key)) {
        is Int -> v.toLong()
        is Long -> v
        is Double -> if (v % 1.0 == 0.0 && kotlin.math.abs(v) <= 9.007199254740991E15) v.toLong() else null
        else -> null
    } ?: throw InvalidArgument("'$key' must be a whole number")
}

/** A required whole-number argument. */
fun JSObject.whole(key: String): Long = optWhole(key) ?: throw InvalidArgument("'$key' is required")

/** An optional object argument. */
fun JSObject.optObject(key: String): JSObject? {
    if (!present(key)) return null
    val v = opt(key) as? JSONObject ?: throw InvalidArgument("'$key' must be an object")
    return JSObject.fromJSONObject(v)
}
