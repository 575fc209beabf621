package io.possync

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.seconds

/** Cancel, network failures and backoff, failed-change retries, and foreground auto sync. */
class ControlTest {
    @TempDir
    lateinit var dir: Path
    private val server get() = ReferenceServer.shared

    @Test
    fun `cancel stops a sync at the next batch boundary`() = blocking {
        val device = ReferenceServer.newDevice()
        PosSync.open(testConfig(dir, device, server).copy(uploadBatchSize = 1, maxUploadBatchesPerCycle = 100)).use { pos ->
            repeat(30) { pos.recordSale(saleJson("s$it")) }
            // Cancel from the listener as soon as the first batch is through: deterministic.
            val handle = pos.engine.subscribeStatus(
                statusListener(onStatus = { if (it.phase == SyncPhase.UPLOADING && it.progress >= 1) pos.cancel() }),
            )
            val report = pos.syncNow()
            handle.cancel()
            assertEquals(SyncOutcome.CANCELLED, report.outcome, report.toString())
            assertTrue(report.moreWorkPending)
            assertTrue(report.uploaded in 1..29, "uploaded ${report.uploaded}")
            assertEquals(30 - report.uploaded, report.remaining)
            assertEquals(WorkResult.RETRY, BackgroundSyncPolicy.decide(report, System.currentTimeMillis()).result)
            assertTrue(pos.syncLog().any { it.runId == report.runId && it.status == "CANCELLED" })

            // Nothing is lost or sent twice: the next cycle sends the rest.
            val rest = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, rest.outcome)
            assertEquals(30, report.uploaded + rest.uploaded)
            assertEquals(30, server.ids(device.storeId, "sale").size)
        }
    }

    @Test
    fun `cancelling the calling coroutine stops the engine's cycle too`() = blocking {
        val device = ReferenceServer.newDevice()
        PosSync.open(testConfig(dir, device, server).copy(uploadBatchSize = 1, maxUploadBatchesPerCycle = 100)).use { pos ->
            repeat(30) { pos.recordSale(saleJson("s$it")) }
            val started = CompletableDeferred<Unit>()
            val handle = pos.engine.subscribeStatus(
                statusListener(onStatus = {
                    if (it.phase == SyncPhase.UPLOADING && it.progress == 1L) {
                        started.complete(Unit)
                        // Hold the engine thread briefly so the cancellation lands mid-cycle.
                        Thread.sleep(300)
                    }
                }),
            )
            val sync = async { pos.syncNow() }
            started.await()
            sync.cancel()
            sync.join()
            eventually(what = "the abandoned cycle to stop") { pos.status().phase == SyncPhase.IDLE }
            handle.cancel()
            val left = pos.queueStats().pending
            assertTrue(left in 1..29, "pending after the cancelled cycle: $left")

            val rest = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, rest.outcome)
            assertEquals(30, server.ids(device.storeId, "sale").size)
        }
    }

    @Test
    fun `an unreachable server fails the changes, backs off, and retries on demand`() = blocking {
        val device = ReferenceServer.newDevice()
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        val config = testConfig(dir, device, server).copy(serverUrl = "http://127.0.0.1:1")
        PosSync.open(config).use { pos ->
            pos.recordSale(saleJson("s1"))
            val now = System.currentTimeMillis()
            val report = pos.syncNow()
            assertEquals(SyncOutcome.NETWORK_ERROR, report.outcome)
            assertNotNull(report.error)
            val next = assertNotNull(report.nextSyncAllowedAtMs)
            assertTrue(next >= now)
            assertEquals(WorkResult.RETRY, BackgroundSyncPolicy.decide(report, now).result)
            assertEquals(
                WorkResult.SUCCESS,
                BackgroundSyncPolicy.decide(report, now, runAttemptCount = BackgroundSyncPolicy.MAX_RETRIES).result,
            )
            assertEquals(SyncPhase.OFFLINE, pos.status().phase)

            val failed = pos.queueItems(state = SyncState.FAILED).single()
            assertEquals("s1", failed.entityId)
            assertEquals(1, failed.attempts)
            assertNotNull(failed.lastError)
            assertNotNull(failed.nextAttemptAtMs)
            assertEquals(1, pos.queueStats().failed)
            assertNotNull(pos.queueStats().oldestUnsyncedAgeMs)

            // A background run inside the engine's backoff does not touch the network.
            val backedOff = pos.runBatchSync(BackgroundSyncPolicy.budget())
            if (backedOff.outcome == SyncOutcome.BACKED_OFF) {
                val decision = BackgroundSyncPolicy.decide(backedOff, System.currentTimeMillis())
                assertEquals(WorkResult.SUCCESS, decision.result)
                assertNotNull(decision.followUp, "remaining work is followed up after the backoff")
                assertNotNull(backedOff.nextSyncAllowedAtMs)
            } else {
                // The backoff (50 ms base in tests) may already be over.
                assertEquals(SyncOutcome.NETWORK_ERROR, backedOff.outcome)
            }
            // The app (or a support screen) can make failed changes due now.
            assertEquals(1, pos.retryFailedNow())
            val due = pos.queueItems(state = SyncState.FAILED).single()
            assertTrue(due.nextAttemptAtMs!! <= System.currentTimeMillis())
        }
    }

    @Test
    fun `auto sync uploads by itself and on reconnect`() = blocking {
        val device = ReferenceServer.newDevice()
        PosSync.open(testConfig(dir, device, server)).use { pos ->
            assertFalse(pos.isAutoSyncRunning)
            // A long interval: after its first run, only the reconnect can trigger a sync.
            pos.startAutoSync(1.hours)
            assertTrue(pos.isAutoSyncRunning)
            assertTrue(pos.engine.isAutoSyncRunning())
            eventually(what = "the first auto sync") { pos.status().lastSyncAtMs != null }

            pos.setNetworkAvailable(false)
            pos.recordSale(saleJson("s1"))
            pos.setNetworkAvailable(true)
            eventually(10.seconds, "the reconnect sync to upload the sale") {
                server.ids(device.storeId, "sale") == setOf("s1")
            }
            pos.stopAutoSync()
            assertFalse(pos.isAutoSyncRunning)
        }
    }
}
