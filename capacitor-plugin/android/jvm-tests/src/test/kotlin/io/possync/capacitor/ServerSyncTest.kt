package io.possync.capacitor

import org.json.JSONObject
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * The plugin against the reference server, through the forwarder and the Rust bridge: the web
 * app's token round trip (`tokenRequested` event → `setToken`), a synced sale, and the
 * network-only calls.
 */
class ServerSyncTest {
    private val server = ReferenceServer(mapOf("good-token" to ("d1" to "S1")))
    private val harnesses = mutableListOf<Harness>()

    @AfterTest
    fun close() {
        harnesses.forEach { it.close() }
        server.close()
    }

    /** A plugin whose web app answers every token request with [answer] (null: no listener). */
    private fun plugin(answer: String?): Harness = Harness(
        listening = setOfNotNull("syncStatus", "conflict", "tokenRequested".takeIf { answer != null }),
        onEvent = { h, event, _ ->
            // The web app answers on its own thread, as setToken arrives through the bridge.
            if (event == "tokenRequested") Thread { h.call("setToken", js("token" to answer)).ok() }.start()
        },
    ).also { harnesses += it }

    private fun Harness.openOnline(vararg extra: Pair<String, Any?>) =
        open("serverUrl" to server.url, "retryBaseMs" to 50, "connectTimeoutMs" to 2_000, *extra)

    @Test
    fun `the first sync asks the web app for a token and uploads the sale`() {
        val h = plugin(answer = "good-token")
        h.openOnline()
        h.call("recordSale", js("sale" to sale("s1"))).ok()
        val report = h.call("syncNow").okObject()
        assertEquals("completed", report.getString("outcome"), report.toString())
        assertEquals(1, report.getInt("uploaded"))
        assertEquals(false, h.eventsNamed("tokenRequested").first().getBoolean("refresh"))
        assertEquals(0, h.call("getQueueStats").okObject().getInt("pending"))
        h.awaitEvent("syncStatus") { it.get("lastSyncAtMs") != JSONObject.NULL }
    }

    @Test
    fun `a refused token is refreshed through the web app`() {
        val h = plugin(answer = "good-token")
        h.openOnline("authToken" to "expired-token")
        h.call("recordSale", js("sale" to sale("s1"))).ok()
        val report = h.call("syncNow").okObject()
        assertEquals("completed", report.getString("outcome"), report.toString())
        assertEquals(listOf(true), h.eventsNamed("tokenRequested").map { it.getBoolean("refresh") })
    }

    @Test
    fun `a refused token with nobody to refresh it fails the sync as an auth error`() {
        val h = plugin(answer = null)
        h.openOnline("authToken" to "expired-token")
        h.call("recordSale", js("sale" to sale("s1"))).ok()
        val report = h.call("syncNow").okObject()
        assertEquals("auth_error", report.getString("outcome"), report.toString())
        assertEquals(1, report.getInt("remaining"))
        h.call("setToken", js("token" to "good-token")).ok()
        val retried = h.call("syncNow").okObject()
        assertEquals(1, retried.getInt("uploaded"), retried.toString())
    }

    @Test
    fun `consistency check and conflict resolution reach the server`() {
        val h = plugin(answer = null)
        h.openOnline("authToken" to "good-token")
        val report = h.call("checkConsistency").okObject()
        assertEquals(true, report.getBoolean("consistent"), report.toString())
        val entity = report.getJSONArray("entities").getJSONObject(0)
        assertTrue(entity.get("localChecksum") is String)
        val missing = h.call("resolveConflict", js("conflictId" to "nope", "resolution" to "keep_server"))
        assertEquals("NOT_FOUND", missing.code, missing.toString())
        h.call("startAutoSync", js("intervalMs" to 60_000)).ok()
        h.call("stopAutoSync").ok()
    }
}
