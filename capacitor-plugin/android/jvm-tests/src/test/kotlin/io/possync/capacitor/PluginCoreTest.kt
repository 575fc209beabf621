package io.possync.capacitor

import com.getcapacitor.JSObject
import org.json.JSONObject
import java.io.File
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/** The plugin's methods against the real engine (offline), as the web app calls them. */
class PluginCoreTest {
    private val h = Harness()

    @AfterTest
    fun close() = h.close()

    @Test
    fun `before open every call says so`() {
        val r = h.call(js("saleJson" to saleJson("s1"))) { recordSale(it) }
        assertEquals("NOT_CONFIGURED", r.code)
        assertEquals("not configured: call PosSync.open() first", r.message)
    }

    @Test
    fun `open creates the database in the app's data directory and reports the status at once`() {
        val opened = h.open()
        assertEquals(File(h.dir.toFile(), "pos-sync.db").path, opened.getString("databasePath"))
        assertTrue(File(opened.getString("databasePath")).exists())
        assertTrue(opened.getString("version").isNotEmpty())
        val status = h.awaitEvent(PluginCore.SYNC_STATUS) { true }
        assertEquals("idle", status.getString("phase"))
        assertEquals(JSONObject.NULL, status.get("lastSyncAtMs"))
        assertEquals("ok", status.getJSONObject("queue").getString("health"))
    }

    @Test
    fun `a sale is recorded offline, read back, and shows in the queue and the status events`() {
        h.open()
        val receipt = h.call(js("saleJson" to saleJson("s1", quantity = 2))) { recordSale(it) }.ok()
        assertEquals("S1-R1-000001", receipt.getString("receiptNumber"))
        // An HLC is milliseconds << 16: past 2^53, so it must cross as a string.
        assertTrue(receipt.getString("hlc").toLong() > (1L shl 53))
        val again = h.call(js("saleJson" to saleJson("s1", quantity = 2))) { recordSale(it) }.ok()
        assertEquals(receipt.toString(), again.toString(), "recording the same sale again returns the same receipt")

        val sale = h.call(js("saleId" to "s1")) { getSale(it) }.ok().getJSONObject("sale")
        assertEquals("S1-R1-000001", sale.getString("receiptNumber"))
        assertEquals(2, JSONObject(sale.getString("json")).getJSONArray("lines").getJSONObject(0).getInt("quantity"))
        assertEquals(JSONObject.NULL, h.call(js("saleId" to "nope")) { getSale(it) }.ok().get("sale"))

        val stats = h.call { getQueueStats() }.ok()
        assertEquals(1, stats.getInt("pending"))
        assertEquals("ok", stats.getString("health"))
        h.awaitEvent(PluginCore.SYNC_STATUS) { it.getJSONObject("queue").getInt("pending") == 1 }

        val adjustment = h.call(js("adjustmentJson" to """{"id":"a1","product_id":"p1","quantity_delta":-1}""")) {
            recordStockAdjustment(it)
        }.ok()
        assertEquals("a1", adjustment.getString("entityId"))
        assertEquals(2, h.call { getQueueStats() }.ok().getInt("pending"))
    }

    @Test
    fun `products, prices and customers`() {
        h.open()
        h.core.engine().engine.importProducts(
            """[{"id":"p1","name":"Espresso Doppio","sku":"ESP-2","barcode":"4006381333931","price":250,"currency":"EUR"},
                {"id":"p2","name":"Espresso Tonic","barcode":"111"}]""",
        )
        val byBarcode = h.call(js("barcode" to "4006381333931")) { productByBarcode(it) }.ok().getJSONObject("product")
        assertEquals("p1", byBarcode.getString("id"))
        assertEquals("ESP-2", byBarcode.getString("sku"))
        assertEquals(250, JSONObject(byBarcode.getString("json")).getInt("price"))
        assertEquals("p1", h.call(js("sku" to "ESP-2")) { productBySku(it) }.ok().getJSONObject("product").getString("id"))
        assertEquals(JSONObject.NULL, h.call(js("productId" to "p2")) { productById(it) }.ok().getJSONObject("product").get("sku"))
        assertEquals(JSONObject.NULL, h.call(js("barcode" to "0")) { productByBarcode(it) }.ok().get("product"))
        val found = h.call(js("query" to "esp", "limit" to 1)) { searchProducts(it) }.ok().getJSONArray("products")
        assertEquals(1, found.length())
        assertEquals(2, h.call(js("query" to "esp", "limit" to 20)) { searchProducts(it) }.ok().getJSONArray("products").length())
        val price = h.call(js("productId" to "p1")) { currentPrice(it) }.ok().getJSONObject("price")
        assertEquals(250, price.getInt("amount"))
        assertEquals("catalog", price.getString("source"))

        val created = h.call(js("customerJson" to """{"id":"c1","name":"Ada Lovelace","phone":"+44 20 7946 0000"}""")) {
            createCustomer(it)
        }.ok()
        assertEquals(true, created.getBoolean("pendingUpload"))
        assertEquals(JSONObject.NULL, created.get("email"))
        h.call(js("customerJson" to """{"id":"c1","name":"Ada King","email":"ada@example.com"}""")) { updateCustomer(it) }.ok()
        val got = h.call(js("customerId" to "c1")) { getCustomer(it) }.ok().getJSONObject("customer")
        assertEquals("ada@example.com", got.getString("email"))
        val search = h.call(js("query" to "ada", "limit" to 5)) { searchCustomers(it) }.ok().getJSONArray("customers")
        assertEquals("Ada King", search.getJSONObject(0).getString("name"))
    }

    @Test
    fun `engine errors reject with the stable code and the engine's message`() {
        h.open()
        val noLines = h.call(js("saleJson" to """{"id":"s1"}""")) { recordSale(it) }
        assertEquals("INVALID_INPUT", noLines.code)
        assertTrue(noLines.message!!.startsWith("invalid input:"), noLines.message)
        assertEquals("INVALID_INPUT", h.call(js("saleJson" to "not json")) { recordSale(it) }.code)
        val big = """{"id":"s2","lines":[{"product_id":"p","quantity":1}],"note":"${"x".repeat(2_000_000)}"}"""
        assertEquals("PAYLOAD_TOO_LARGE", h.call(js("saleJson" to big)) { recordSale(it) }.code)
        val missing = h.call(JSObject()) { recordSale(it) }
        assertEquals("INVALID_INPUT", missing.code)
        assertEquals("invalid input: 'saleJson' is required", missing.message)
        assertEquals("INVALID_INPUT", h.call(js("query" to "a", "limit" to 5000)) { searchProducts(it) }.code)
        assertEquals("INVALID_INPUT", h.call(js("conflictId" to "k", "resolution" to "mine")) { resolveConflict(it) }.code)
        // No server configured: sync says so in its report, and server-only calls reject.
        assertEquals("not_configured", h.call { syncNow() }.ok().getString("outcome"))
        assertEquals("NOT_CONFIGURED", h.call { checkConsistency() }.code)
    }

    @Test
    fun `the same configuration joins the open engine, a different one is refused, close releases it`() {
        h.open()
        h.call(js("saleJson" to saleJson("s1"))) { recordSale(it) }.ok()
        h.open()
        assertEquals(1, h.call { getQueueStats() }.ok().getInt("pending"))
        val other = h.call(js("storeId" to "S2", "registerId" to "R1", "deviceId" to "d1")) { open(it) }
        assertEquals("INVALID_INPUT", other.code)
        assertTrue(other.message!!.contains("already open in this process"), other.message)

        h.call { close() }.ok()
        assertEquals("NOT_CONFIGURED", h.call { getStatus() }.code)
        // Released: the same file opens again, with its sale still queued.
        h.open()
        assertEquals(1, h.call { getQueueStats() }.ok().getInt("pending"))
    }

    @Test
    fun `status, integrity, auto sync, background scheduling`() {
        h.open()
        assertEquals("idle", h.call { getStatus() }.ok().getString("phase"))
        assertEquals(true, h.call { integrityCheck() }.ok().getBoolean("ok"))
        assertEquals(0, h.call { retryFailedNow() }.ok().getInt("count"))
        assertEquals(0, h.call { listConflicts() }.ok().getJSONArray("conflicts").length())
        h.call(js("available" to false)) { setNetworkAvailable(it) }.ok()
        h.awaitEvent(PluginCore.SYNC_STATUS) { !it.getBoolean("online") }
        // Auto sync needs a server.
        assertEquals("NOT_CONFIGURED", h.call(js("intervalMs" to 60_000)) { startAutoSync(it) }.code)
        h.call { stopAutoSync() }.ok()
        h.call { cancelSync() }.ok()
        assertEquals(15, h.call(js("intervalMinutes" to 5)) { enableBackgroundSync(it) }.ok().getInt("intervalMinutes"))
        h.call { disableBackgroundSync() }.ok()
        assertEquals(listOf("engine opened", "enable 5", "disable"), h.scheduler.calls.toList())
    }

    @Test
    fun `open saves what a background worker needs when the web app is not running, close forgets it`() {
        val state = PluginState(h.dir.toFile())
        assertEquals(null, state.config())
        h.open("serverUrl" to "https://sync.example.com", "authToken" to "t1", "retentionDays" to 7)
        val saved = state.config()!!
        assertEquals("https://sync.example.com", saved.serverUrl)
        assertEquals(7L, saved.retentionDays)
        assertEquals(null, saved.authToken, "the token is kept apart from the configuration")
        assertEquals("t1", state.token())
        assertTrue(!File(h.dir.toFile(), PluginState.FILE_NAME).readText().contains("authToken"))
        h.call(js("token" to "t2")) { setToken(it) }.ok()
        assertEquals("t2", state.token())
        // After a restart the web app may open without a token: the last one is used.
        h.call { close() }.ok()
        assertEquals(null, state.config())
        assertEquals(null, state.token())
    }
}
