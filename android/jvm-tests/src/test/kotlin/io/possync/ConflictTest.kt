package io.possync

import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/**
 * Customers edited on the till and on the server at (nearly) the same time: the engine
 * lists the conflict, tells the listener, and a person resolves it three ways.
 */
class ConflictTest {
    @TempDir
    lateinit var dir: Path
    private val server get() = ReferenceServer.shared

    /** Both sides rename customer [id] within the (widened) tie window; returns the conflict. */
    private suspend fun conflicted(id: String = "c1"): Triple<Device, PosSync, Conflict> {
        val device = ReferenceServer.newDevice()
        // A wide tie window makes "edited at the same time" independent of machine speed.
        val pos = PosSync.open(testConfig(dir, device, server).copy(conflictTieWindowMs = 60_000))
        pos.createCustomer("""{"id":"$id","name":"Ada","phone":"+1 555 0100"}""")
        assertEquals(1, pos.syncNow().uploaded)
        server.put(device.storeId, "customer", """[{"id":"$id","name":"Ada (server)","phone":"+1 555 0100"}]""")
        pos.updateCustomer("""{"id":"$id","name":"Ada (till)","phone":"+1 555 0100"}""")

        val report = pos.syncNow()
        assertEquals(1, report.conflicts, report.toString())
        val conflict = pos.conflicts().single()
        assertEquals(EntityType.CUSTOMER, conflict.entityType)
        assertEquals(id, conflict.entityId)
        assertContains(conflict.localJson, "Ada (till)")
        assertContains(conflict.serverJson, "Ada (server)")
        assertContains(conflict.reason, "name")
        assertTrue(conflict.serverVersion >= 2)
        assertEquals(1, pos.queueStats().conflict)
        assertEquals(conflict.changeId, pos.queueItems(state = SyncState.CONFLICT).single().changeId)
        assertTrue(pos.getCustomer(id)!!.pendingUpload)
        return Triple(device, pos, conflict)
    }

    private fun serverName(device: Device, id: String): String =
        server.records(device.storeId, "customer").first { it["entity_id"]!!.jsonPrimitive.content == id }
            .let { it["payload"]!!.jsonObjectField("name") }

    private fun kotlinx.serialization.json.JsonElement.jsonObjectField(name: String): String =
        (this as kotlinx.serialization.json.JsonObject)[name]!!.jsonPrimitive.content

    @Test
    fun `a conflict reaches the listener and KEEP_LOCAL sends the till's version`() = blocking {
        val device = ReferenceServer.newDevice()
        val pos = PosSync.open(testConfig(dir, device, server).copy(conflictTieWindowMs = 60_000))
        pos.use {
            pos.createCustomer("""{"id":"c1","name":"Ada"}""")
            pos.syncNow()
            // A listener implemented directly on the generated interface, beside the Flow.
            val raw = java.util.Collections.synchronizedList(mutableListOf<Conflict>())
            val rawHandle = pos.engine.subscribeStatus(
                object : SyncStatusListener {
                    override fun onStatus(status: SyncStatus) {}
                    override fun onConflict(conflict: Conflict) {
                        raw += conflict
                    }
                },
            )
            val (job, events) = collectInto(pos.syncEvents())
            // The first event is the current status: from here on the listener is subscribed.
            assertIs<SyncEvent.StatusChanged>(events.receive())
            server.put(device.storeId, "customer", """[{"id":"c1","name":"Ada (server)"}]""")
            pos.updateCustomer("""{"id":"c1","name":"Ada (till)"}""")
            pos.syncNow()
            val found = receiveUntil(events, what = "conflict event") { it is SyncEvent.ConflictFound }
            val conflict = (found as SyncEvent.ConflictFound).conflict
            assertEquals(pos.conflicts().single(), conflict)
            assertEquals(listOf(conflict), raw.toList())
            rawHandle.close()
            job.cancel()

            val kept = assertNotNull(pos.resolveConflict(conflict.conflictId, Resolution.KEEP_LOCAL))
            assertEquals("Ada (till)", kept.name)
            assertEquals("Ada (till)", serverName(device, "c1"))
            assertTrue(pos.conflicts().isEmpty())
            assertEquals(0, pos.queueStats().conflict)
            assertTrue(pos.auditTrail().any { it.event.startsWith("resolved") || it.event == "resolved_local" })
            assertTrue(pos.syncLog().any { it.syncType == "customer" || it.direction == "both" })
            // Resolving twice is refused: the conflict is closed.
            assertFailsWith<PosSyncException.NotFound> {
                pos.resolveConflict(conflict.conflictId, Resolution.KEEP_LOCAL)
            }
        }
    }

    @Test
    fun `KEEP_SERVER drops the till's edit`() = blocking {
        val (device, pos, conflict) = conflicted()
        pos.use {
            val kept = assertNotNull(pos.resolveConflict(conflict.conflictId, Resolution.KEEP_SERVER))
            assertEquals("Ada (server)", kept.name)
            assertEquals("Ada (server)", pos.getCustomer("c1")!!.name)
            assertEquals("Ada (server)", serverName(device, "c1"))
            assertTrue(pos.conflicts().isEmpty())
            assertEquals(false, pos.getCustomer("c1")!!.pendingUpload)
        }
    }

    @Test
    fun `MERGED sends the person's merge, which needs valid JSON for the same customer`() = blocking {
        val (device, pos, conflict) = conflicted()
        pos.use {
            val missing = assertFailsWith<PosSyncException.InvalidInput> {
                pos.resolveConflict(conflict.conflictId, Resolution.MERGED)
            }
            assertContains(missing.message!!, "merged customer JSON")
            val wrongId = assertFailsWith<PosSyncException.InvalidInput> {
                pos.resolveConflict(conflict.conflictId, Resolution.MERGED, """{"id":"c2","name":"X"}""")
            }
            assertContains(wrongId.message!!, "c2")
            assertFailsWith<PosSyncException.InvalidInput> {
                pos.resolveConflict(conflict.conflictId, Resolution.MERGED, "{not json")
            }
            assertEquals(1, pos.conflicts().size, "a refused resolution changes nothing")

            val merged = assertNotNull(
                pos.resolveConflict(
                    conflict.conflictId,
                    Resolution.MERGED,
                    """{"id":"c1","name":"Ada Lovelace","phone":"+1 555 0100"}""",
                ),
            )
            assertEquals("Ada Lovelace", merged.name)
            assertEquals("Ada Lovelace", serverName(device, "c1"))
            assertTrue(pos.conflicts().isEmpty())
            assertTrue(pos.integrityCheck().ok)
        }
    }

    @Test
    fun `edits of different fields merge by themselves`() = blocking {
        val device = ReferenceServer.newDevice()
        val pos = PosSync.open(testConfig(dir, device, server).copy(conflictTieWindowMs = 60_000))
        pos.use {
            pos.createCustomer("""{"id":"c1","name":"Ada","phone":"+1 555 0100"}""")
            pos.syncNow()
            server.put(device.storeId, "customer", """[{"id":"c1","name":"Ada","phone":"+1 555 0199"}]""")
            pos.updateCustomer("""{"id":"c1","name":"Ada Lovelace","phone":"+1 555 0100"}""")
            val report = pos.syncNow()
            assertEquals(0, report.conflicts)
            assertEquals(1, report.autoResolved)
            val customer = pos.getCustomer("c1")!!
            assertEquals("Ada Lovelace", customer.name)
            assertEquals("+1 555 0199", customer.phone)
            assertEquals("Ada Lovelace", serverName(device, "c1"))
        }
    }
}
