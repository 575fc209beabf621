package io.possync

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** What a till does all day without a server: every local call through the Kotlin facade. */
class OfflineTillTest {
    @TempDir
    lateinit var dir: Path
    private lateinit var pos: PosSync

    @BeforeEach
    fun open() = blocking {
        pos = PosSync.open(testConfig(dir))
    }

    @AfterEach
    fun close() = pos.close()

    @Test
    fun `sales get gapless receipts, are queued and read back`() = blocking {
        val first = pos.recordSale(saleJson("s1"))
        val second = pos.recordSale(saleJson("s2", quantity = 2))
        assertEquals("s1", first.saleId)
        assertTrue(first.receiptNumber.endsWith("-R1-000001"), first.receiptNumber)
        assertTrue(second.receiptNumber.endsWith("-R1-000002"), second.receiptNumber)
        assertTrue(second.hlc > first.hlc)

        // Recording the same sale again (a retried tap) returns the same receipt.
        assertEquals(first, pos.recordSale(saleJson("s1")))

        val sale = assertNotNull(pos.getSale("s2"))
        assertEquals(second.receiptNumber, sale.receiptNumber)
        assertContains(sale.json, "\"product_id\":\"p1\"")
        assertNull(pos.getSale("nope"))

        val stats = pos.queueStats()
        assertEquals(2, stats.pending)
        assertEquals(0, stats.synced)
        assertEquals(QueueHealth.OK, stats.health)
        assertEquals("", stats.healthReason)
        assertTrue(stats.bytesPending > 0)
        assertEquals(2, stats.byEntity.single { it.entityType == EntityType.SALE }.pending)

        val items = pos.queueItems(state = SyncState.PENDING, entityType = EntityType.SALE)
        assertEquals(listOf("s1", "s2"), items.map { it.entityId })
        assertEquals(first.changeId, items[0].changeId)
        assertEquals(Action.CREATE, items[0].action)
        assertEquals(1, items[0].priority)
        assertEquals(0, items[0].attempts)
        assertFalse(items[0].rejected)
        assertEquals(items[0].payloadJson.length.toLong(), items[0].payloadBytes)
        assertEquals(64, items[0].checksum.length)
        assertEquals(1, pos.queueItems(limit = 1).size)
        assertTrue(pos.queueItems(state = SyncState.SYNCED).isEmpty())
        assertTrue(pos.queueItems(entityType = EntityType.CUSTOMER).isEmpty())
    }

    @Test
    fun `stock adjustments are queued behind sales`() = blocking {
        pos.recordSale(saleJson("s1"))
        val change = pos.recordStockAdjustment("""{"id":"a1","product_id":"p1","quantity_delta":-3}""")
        assertEquals("a1", change.entityId)
        val items = pos.queueItems()
        assertEquals(listOf(EntityType.SALE, EntityType.STOCK_ADJUSTMENT), items.map { it.entityType })
        assertEquals(change.changeId, items[1].changeId)
        val again = assertFailsWith<PosSyncException.InvalidInput> {
            pos.recordStockAdjustment("""{"id":"a1","product_id":"p1","quantity_delta":1}""")
        }
        assertContains(again.message!!, "already recorded")
    }

    @Test
    fun `catalog lookups, search and catalog prices`() = blocking {
        val imported = pos.importProducts(
            """[{"id":"p1","sku":"SKU-1","barcode":"4006381333931","name":"Sparkling Water 1l","price":150},
               {"id":"p2","sku":"SKU-2","name":"Still Water 1l","price":120,"currency":"EUR"},
               {"id":"p3","name":"Sparkling Lemonade"}]""",
        )
        assertEquals(3, imported)
        assertEquals("p1", pos.productByBarcode("4006381333931")?.id)
        assertEquals("Still Water 1l", pos.productBySku("SKU-2")?.name)
        val p3 = assertNotNull(pos.productById("p3"))
        assertNull(p3.sku)
        assertNull(pos.productByBarcode("000"))
        assertEquals(setOf("p1", "p3"), pos.searchProducts("spark").map { it.id }.toSet())
        assertEquals(listOf("p1"), pos.searchProducts("spa wat").map { it.id })
        assertEquals(1, pos.searchProducts("water", limit = 1).size)

        val price = assertNotNull(pos.currentPrice("p2"))
        assertEquals(120, price.amount)
        assertEquals("EUR", price.currency)
        assertEquals(PriceSource.CATALOG, price.source)
        assertNull(price.priceId)
        assertNull(pos.currentPrice("p3"), "a product without a price has none")
        assertNull(pos.currentPrice("missing"))

        // Imports are all or nothing.
        assertFailsWith<PosSyncException.InvalidInput> {
            pos.importProducts("""[{"id":"p4","name":"ok"},{"name":"no id"}]""")
        }
        assertNull(pos.productById("p4"))
    }

    @Test
    fun `customers are created, edited, searched and queued`() = blocking {
        val created = pos.createCustomer("""{"id":"c1","name":"Ada Lovelace","phone":"+44 20 7946 0000","email":"ada@example.com"}""")
        assertEquals("Ada Lovelace", created.name)
        assertEquals(0, created.version)
        assertTrue(created.pendingUpload)
        val updated = pos.updateCustomer("""{"id":"c1","name":"Ada King","phone":"+44 20 7946 0000","email":"ada@example.com"}""")
        assertEquals("Ada King", updated.name)
        assertTrue(updated.updatedHlc > created.updatedHlc)
        assertEquals(updated, pos.getCustomer("c1"))
        assertNull(pos.getCustomer("c2"))
        assertEquals(listOf("c1"), pos.searchCustomers("ada").map { it.id })
        assertEquals(listOf("c1"), pos.searchCustomers("+44").map { it.id })
        assertTrue(pos.searchCustomers("bob").isEmpty())
        // Edits of a change never sent fold into it: one upload for the customer.
        val queued = pos.queueItems(entityType = EntityType.CUSTOMER)
        assertEquals(1, queued.size)
        assertEquals(Action.CREATE, queued.single().action)
        assertContains(queued.single().payloadJson, "Ada King")
        assertFailsWith<PosSyncException.NotFound> {
            pos.updateCustomer("""{"id":"c9","name":"Nobody"}""")
        }.also { assertContains(it.message!!, "c9") }
    }

    @Test
    fun `reports are cached locally`() = blocking {
        assertNull(pos.getReport("daily-2026-11-28"))
        pos.putReport("daily-2026-11-28", """{"id":"daily-2026-11-28","total":4200}""")
        val report = assertNotNull(pos.getReport("daily-2026-11-28"))
        assertEquals(0, report.version)
        assertContains(report.json, "4200")
    }

    @Test
    fun `history, integrity and status of a fresh till`() = blocking {
        pos.recordSale(saleJson("s1"))
        assertTrue(pos.syncLog().isEmpty())
        assertTrue(pos.auditTrail().isEmpty())
        assertTrue(pos.conflicts().isEmpty())
        assertEquals(0, pos.retryFailedNow())
        val integrity = pos.integrityCheck()
        assertTrue(integrity.ok, integrity.problems.joinToString())
        assertTrue(integrity.problems.isEmpty())

        val status = pos.status()
        assertEquals(SyncPhase.IDLE, status.phase)
        assertTrue(status.online)
        assertNull(status.lastSyncAtMs)
        assertEquals(1, status.queue.pending)

        pos.setNetworkAvailable(false)
        assertFalse(pos.status().online)
        assertEquals(SyncPhase.OFFLINE, pos.status().phase)
        pos.setNetworkAvailable(true)
        assertEquals(SyncPhase.IDLE, pos.status().phase)
    }

    @Test
    fun `a support copy is written, and encryption calls are typed errors without SQLCipher`() = blocking {
        pos.recordSale(saleJson("s1"))
        val copy = dir.resolve("support-copy.db").toString()
        pos.exportSupportCopy(copy)
        val header = java.io.File(copy).readBytes().copyOfRange(0, 15).decodeToString()
        assertEquals("SQLite format 3", header)
        assertFailsWith<PosSyncException.InvalidInput> { pos.exportSupportCopy(copy) }
            .also { assertContains(it.message!!, "already exists") }
        assertFailsWith<PosSyncException.NotConfigured> { pos.rotateEncryptionKey("new-key") }
        assertFailsWith<PosSyncException.NotConfigured> { encryptDatabase(copy, "new-key") }
        assertEquals(1, pos.queueStats().pending)
    }

    @Test
    fun `without a server URL, sync says so and background work gives up`() = blocking {
        pos.recordSale(saleJson("s1"))
        val report = pos.syncNow()
        assertEquals(SyncOutcome.NOT_CONFIGURED, report.outcome)
        assertNotNull(report.error)
        assertEquals(1, report.remaining)
        val batch = pos.runBatchSync(BackgroundSyncPolicy.budget())
        assertEquals(SyncOutcome.NOT_CONFIGURED, batch.outcome)
        val decision = BackgroundSyncPolicy.decide(batch, System.currentTimeMillis())
        assertEquals(WorkResult.FAILURE, decision.result)
        assertNull(decision.followUp)

        // Calls that need the server fail with NotConfigured and say what to set.
        val auto = assertFailsWith<PosSyncException.NotConfigured> { pos.startAutoSync(kotlin.time.Duration.parse("1m")) }
        assertContains(auto.message!!, "server_url")
        assertFalse(pos.isAutoSyncRunning)
        assertFailsWith<PosSyncException.NotConfigured> { pos.setTokenProvider { "t" } }
        assertFailsWith<PosSyncException.NotConfigured> { pos.checkConsistency() }
        assertFailsWith<PosSyncException.NotFound> { pos.resolveConflict("c-1", Resolution.KEEP_LOCAL) }
        pos.stopAutoSync() // harmless when not running
        pos.cancel() // harmless when nothing runs
    }

    @Test
    fun `entity type names and the version`() {
        assertEquals(EntityType.STOCK_ADJUSTMENT, entityTypeFromName("stock_adjustment"))
        assertEquals(EntityType.PRICE, EntityType.fromName("price"))
        val e = assertFailsWith<PosSyncException.InvalidInput> { EntityType.fromName("invoice") }
        assertContains(e.message!!, "invoice")
        assertTrue(posSyncVersion().matches(Regex("""\d+\.\d+\.\d+.*""")))
        assertEquals(posSyncVersion(), PosSync.version)
    }

    @Test
    fun `the same database file opens the same engine`() = blocking {
        val config = testConfig(dir)
        val a = SyncEngine.open(config)
        val b = SyncEngine.open(config)
        a.recordSale(saleJson("shared"))
        assertNotNull(b.getSale("shared"))
        val other = assertFailsWith<PosSyncException.InvalidInput> {
            SyncEngine.open(config.copy(registerId = "R2"))
        }
        assertContains(other.message!!, "already open")
        a.close()
        b.close()
        assertNotEquals(config.databasePath, testConfig(dir).databasePath)
    }
}
