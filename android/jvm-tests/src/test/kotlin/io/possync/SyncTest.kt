package io.possync

import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Sync against the real reference server: uploads, downloads, history, rollback, drift. */
class SyncTest {
    @TempDir
    lateinit var dir: Path
    private val server get() = ReferenceServer.shared

    private suspend fun device(configure: (EngineConfig) -> EngineConfig = { it }): Pair<Device, PosSync> {
        val device = ReferenceServer.newDevice()
        return device to PosSync.open(configure(testConfig(dir, device, server)))
    }

    @Test
    fun `sales recorded offline upload once the network is back`() = blocking {
        val (device, pos) = device()
        pos.use {
            pos.setNetworkAvailable(false)
            repeat(5) { pos.recordSale(saleJson("s$it", quantity = it + 1)) }
            pos.recordStockAdjustment("""{"id":"a1","product_id":"p1","quantity_delta":-2}""")
            assertEquals(6, pos.queueStats().pending)

            pos.setNetworkAvailable(true)
            val report = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, report.outcome, report.error)
            assertEquals(6, report.uploaded)
            assertEquals(0, report.remaining)
            assertEquals(0, report.failed)
            assertFalse(report.moreWorkPending)
            assertNull(report.error)
            assertTrue(report.durationMs >= 0)

            assertEquals((0 until 5).map { "s$it" }.toSet(), server.ids(device.storeId, "sale"))
            assertEquals(setOf("a1"), server.ids(device.storeId, "stock_adjustment"))
            val stats = pos.queueStats()
            assertEquals(0, stats.pending)
            assertEquals(6, stats.synced)
            assertNull(stats.oldestUnsyncedAgeMs)
            assertEquals(QueueHealth.OK, stats.health)
            assertEquals(6, pos.queueItems(state = SyncState.SYNCED).size)

            // The server keeps the receipt number the till issued.
            val sale = server.records(device.storeId, "sale").first { it["entity_id"]!!.jsonPrimitive.content == "s0" }
            assertContains(sale["payload"].toString(), pos.getSale("s0")!!.receiptNumber)

            // A second sync has nothing to send and duplicates nothing.
            val again = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, again.outcome)
            assertEquals(0, again.uploaded)
            assertEquals(5, server.ids(device.storeId, "sale").size)

            val status = pos.status()
            assertNotNull(status.lastSyncAtMs)
            assertEquals(SyncPhase.IDLE, status.phase)
            assertNull(status.lastError)

            val log = pos.syncLog()
            assertTrue(log.any { it.syncType == "cycle" && it.runId == report.runId && it.status == "OK" }, log.toString())
            assertTrue(log.any { it.syncType == "sale" && it.direction == "upload" && it.recordsCount == 5L }, log.toString())
            assertEquals("manual", log.first { it.runId == report.runId && it.syncType == "cycle" }.reason)
            val audit = pos.auditTrail(limit = 50)
            assertEquals(6, audit.count { it.event == "uploaded" })
            assertTrue(audit.all { it.atMs > 0 })
        }
    }

    @Test
    fun `catalog, prices and reports edited on the server reach the till`() = blocking {
        val (device, pos) = device()
        pos.use {
            server.put(
                device.storeId, "product",
                """[{"id":"p1","sku":"SKU-1","barcode":"590123412345","name":"Espresso","price":250},
                    {"id":"p2","sku":"SKU-2","name":"Flat White","price":380}]""",
            )
            server.put(
                device.storeId, "price",
                """[{"id":"pr1","product_id":"p1","amount":270,"currency":"EUR","valid_from":0}]""",
            )
            server.put(device.storeId, "report", """[{"id":"daily","total":12345}]""")
            server.put(device.storeId, "customer", """[{"id":"c1","name":"Grace Hopper"}]""")

            val report = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, report.outcome, report.error)
            assertEquals(5, report.downloaded)

            assertEquals("Espresso", pos.productByBarcode("590123412345")?.name)
            assertEquals(1, pos.productBySku("SKU-1")?.version)
            assertEquals(listOf("p2"), pos.searchProducts("flat").map { it.id })
            val price = assertNotNull(pos.currentPrice("p1"))
            assertEquals(270, price.amount)
            assertEquals(PriceSource.PRICE_LIST, price.source)
            assertEquals("pr1", price.priceId)
            assertEquals(380, pos.currentPrice("p2")?.amount)
            assertEquals(PriceSource.CATALOG, pos.currentPrice("p2")?.source)
            val daily = assertNotNull(pos.getReport("daily"))
            assertEquals(1, daily.version)
            assertContains(daily.json, "12345")
            val customer = assertNotNull(pos.getCustomer("c1"))
            assertFalse(customer.pendingUpload)
            assertEquals(1, customer.version)

            // A new price list entry replaces the current price on the next sync.
            server.put(device.storeId, "price", """[{"id":"pr1","product_id":"p1","amount":290,"currency":"EUR","valid_from":0}]""")
            assertEquals(1, pos.syncNow().downloaded)
            assertEquals(290, pos.currentPrice("p1")?.amount)

            // A server-side delete removes the product on the till.
            server.delete(device.storeId, "product", "p2")
            pos.syncNow()
            assertNull(pos.productById("p2"))
            assertTrue(pos.auditTrail().any { it.event == "downloaded" && it.entityType == EntityType.PRODUCT })
        }
    }

    @Test
    fun `a sync run's downloads can be rolled back`() = blocking {
        val (device, pos) = device()
        pos.use {
            server.put(device.storeId, "product", """[{"id":"p1","name":"Tea","price":200}]""")
            pos.syncNow()
            server.put(device.storeId, "product", """[{"id":"p1","name":"Green Tea","price":220},{"id":"p2","name":"Coffee"}]""")
            val run = pos.syncNow()
            assertEquals(2, run.downloaded)
            assertEquals("Green Tea", pos.productById("p1")?.name)

            val restored = pos.rollback(run.runId)
            assertEquals(2, restored)
            assertEquals("Tea", pos.productById("p1")?.name)
            assertNull(pos.productById("p2"))
            assertTrue(pos.syncLog().any { it.runId == run.runId && it.status == "ROLLED_BACK" })
            assertTrue(pos.auditTrail().any { it.event == "rolled_back" })
            assertTrue(pos.integrityCheck().ok)

            // The run's sync tokens were rewound: the next sync fetches the changes again.
            val refetch = pos.syncNow()
            assertEquals(2, refetch.downloaded)
            assertEquals("Green Tea", pos.productById("p1")?.name)
        }
    }

    @Test
    fun `consistency check compares counts and checksums with the server`() = blocking {
        val (device, pos) = device()
        pos.use {
            server.put(device.storeId, "product", """[{"id":"p1","name":"Bread"},{"id":"p2","name":"Butter"}]""")
            val report = pos.checkConsistency()
            assertTrue(report.consistent, report.toString())
            assertTrue(report.resyncScheduled.isEmpty())
            val products = report.entities.single { it.entityType == EntityType.PRODUCT }
            assertEquals(2, products.localCount)
            assertEquals(products.serverCount, products.localCount)
            assertEquals(products.serverChecksum, products.localChecksum)
            assertTrue(products.inSync)
            assertTrue(report.checkedAtMs > 0)
        }
    }

    @Test
    fun `batch sync reports what it did and maps to a worker result`() = blocking {
        val (_, pos) = device()
        pos.use {
            repeat(3) { pos.recordSale(saleJson("b$it")) }
            val report = pos.runBatchSync(BackgroundSyncPolicy.budget(30.seconds))
            assertEquals(SyncOutcome.COMPLETED, report.outcome, report.error)
            assertEquals(3, report.uploaded)
            val decision = BackgroundSyncPolicy.decide(report, System.currentTimeMillis())
            assertEquals(WorkResult.SUCCESS, decision.result)
            assertNull(decision.followUp)
            assertEquals("background", pos.syncLog().first { it.runId == report.runId && it.syncType == "cycle" }.reason)
        }
    }

    @Test
    fun `a spent budget stops between steps and asks for a follow-up`() = blocking {
        val (_, pos) = device()
        pos.use {
            repeat(3) { pos.recordSale(saleJson("m$it")) }
            val report = pos.runBatchSync(1.milliseconds)
            assertEquals(SyncOutcome.BUDGET_EXHAUSTED, report.outcome, report.toString())
            assertTrue(report.moreWorkPending)
            assertEquals(3 - report.uploaded, report.remaining)
            val decision = BackgroundSyncPolicy.decide(report, System.currentTimeMillis())
            assertEquals(WorkResult.SUCCESS, decision.result)
            assertEquals(FollowUp(Duration.ZERO), decision.followUp)

            // The follow-up run finishes the job.
            val rest = pos.runBatchSync(BackgroundSyncPolicy.budget())
            assertEquals(SyncOutcome.COMPLETED, rest.outcome)
            assertEquals(0, rest.remaining)
        }
    }

    @Test
    fun `a backlog larger than a cycle's upload share continues in a follow-up`() = blocking {
        val (device, pos) = device { it.copy(uploadBatchSize = 2, maxUploadBatchesPerCycle = 2) }
        pos.use {
            repeat(7) { pos.recordSale(saleJson("q$it")) }
            server.put(device.storeId, "product", """[{"id":"p1","name":"Cake","price":300}]""")
            val report = pos.runBatchSync(BackgroundSyncPolicy.budget())
            // Downloads are not held back by the backlog of sales.
            assertEquals(SyncOutcome.COMPLETED, report.outcome, report.toString())
            assertEquals(4, report.uploaded)
            assertEquals(1, report.downloaded)
            assertEquals(3, report.remaining)
            assertTrue(report.moreWorkPending)
            val decision = BackgroundSyncPolicy.decide(report, System.currentTimeMillis())
            assertEquals(WorkResult.SUCCESS, decision.result)
            assertEquals(FollowUp(Duration.ZERO), decision.followUp)
            val next = pos.runBatchSync(BackgroundSyncPolicy.budget())
            assertEquals(3, next.uploaded)
            assertEquals(0, next.remaining)
            assertNull(BackgroundSyncPolicy.decide(next, System.currentTimeMillis()).followUp)
            assertEquals(7, server.ids(device.storeId, "sale").size)
        }
    }
}
