package io.possync.capacitor

import io.possync.EngineConfig
import io.possync.EngineHolder
import io.possync.SyncEngine
import kotlinx.coroutines.runBlocking
import org.json.JSONObject
import java.io.File
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * A call as the web app makes it, through Capacitor's real PluginCall, the forwarder and the
 * Rust bridge, against the real engine: results, errors with their codes and details, events,
 * and the background worker's engine.
 */
class BridgeCallTest {
    private val h = Harness()

    @AfterTest
    fun close() = h.close()

    @Test
    fun `a sale goes in and comes back in the TypeScript shapes`() {
        val opened = h.open()
        assertEquals(File(h.dir.toFile(), "pos-sync.db").path, opened.getString("databasePath"))
        val receipt = h.call("recordSale", js("sale" to sale("s1", quantity = 2))).okObject()
        assertEquals("S1-R1-000001", receipt.getString("receiptNumber"))
        assertTrue(receipt.get("hlc") is String, "64-bit clocks cross as strings: $receipt")
        val got = h.call("getSale", js("saleId" to "s1")).okObject().getJSONObject("sale")
        assertEquals(500, got.getJSONObject("json").getInt("total"), "documents cross as objects")
        assertNull(h.call("getCustomer", js("customerId" to "nobody")).okObject().opt("customer").takeIf { it != JSONObject.NULL })
        assertNull(h.call("stopAutoSync").ok(), "no result: resolve with null")
        // The listener got the current status at once, and the sale's status after it.
        h.awaitEvent("syncStatus") { it.getJSONObject("queue").getInt("pending") == 1 }
    }

    @Test
    fun `errors carry the bridge's code, message and details`() {
        val notOpen = h.call("getStatus")
        assertEquals("NOT_OPEN", notOpen.code, notOpen.toString())
        val unknown = h.call("frobnicate")
        assertEquals("UNIMPLEMENTED", unknown.code)
        val bad = h.call("open", js("storeId" to "S1", "registerId" to "R1", "deviceId" to "d1", "uploadBatchSize" to "many"))
        assertEquals("INVALID_INPUT", bad.code)
        assertTrue(bad.message!!.contains("'uploadBatchSize'"), bad.toString())

        // A database from a newer pos-sync: SCHEMA_TOO_NEW with the versions as fields.
        val newer = File(h.dir.toFile(), "newer.db")
        SyncEngine.open(EngineConfig(databasePath = newer.path, storeId = "S1", registerId = "R1", deviceId = "d1")).close()
        bumpUserVersion(newer, 999)
        val tooNew = h.call("open", js("storeId" to "S1", "registerId" to "R1", "deviceId" to "d1", "databasePath" to "newer.db"))
        assertEquals("SCHEMA_TOO_NEW", tooNew.code, tooNew.toString())
        assertEquals(999, tooNew.details!!.getInt("found"))
        assertTrue(tooNew.details!!.getInt("supported") in 1..998)
    }

    @Test
    fun `background sync is scheduled through the host, and its worker shares the app's engine`() {
        h.open()
        h.call("recordSale", js("sale" to sale("s1"))).ok()
        val info = h.call("enableBackgroundSync").okObject()
        assertEquals(30, info.getInt("intervalMinutes"))
        assertEquals(listOf("engine opened", "enable 30"), h.scheduler.calls)
        // What the Android library's WorkManager worker opens: the very engine the app has.
        val worker = runBlocking { EngineHolder.engine() }
        assertEquals(1L, worker.engine.queueStats().pending)
        h.call("disableBackgroundSync").ok()
        assertNotNull(h.scheduler.calls.lastOrNull { it == "disable" })
    }
}

/** Sets SQLite's `PRAGMA user_version` (bytes 60..63 of the header, big-endian) of a closed file. */
fun bumpUserVersion(file: File, version: Int) {
    java.io.RandomAccessFile(file, "rw").use { raf ->
        raf.seek(60)
        raf.writeInt(version)
    }
}
