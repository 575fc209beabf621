package io.possync

import kotlinx.coroutines.flow.first
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The status listener as a Flow: current value first, then phases and queue counts. */
class StatusFlowTest {
    @TempDir
    lateinit var dir: Path
    private val server get() = ReferenceServer.shared

    @Test
    fun `the first value is the current status`() = blocking {
        PosSync.open(testConfig(dir)).use { pos ->
            pos.recordSale(saleJson("s1"))
            val first = pos.statusFlow().first()
            // Equal to status() but for the age of the oldest change, which grows with time.
            assertEquals(pos.status().copy(queue = first.queue), first)
            assertEquals(pos.status().queue.copy(oldestUnsyncedAgeMs = null), first.queue.copy(oldestUnsyncedAgeMs = null))
            assertEquals(1, first.queue.pending)
            assertEquals(SyncPhase.IDLE, first.phase)
        }
    }

    @Test
    fun `sync phases, progress and queue counts arrive in order`() = blocking {
        val device = ReferenceServer.newDevice()
        PosSync.open(testConfig(dir, device, server)).use { pos ->
            server.put(device.storeId, "product", """[{"id":"p1","name":"Soup","price":450}]""")
            val (job, statuses) = collectInto(pos.statusFlow())
            assertEquals(0, statuses.receive().queue.pending)

            pos.recordSale(saleJson("s1"))
            assertEquals(1, receiveUntil(statuses, what = "a queued sale") { it.queue.pending == 1L }.queue.pending)

            pos.setNetworkAvailable(false)
            val offline = receiveUntil(statuses, what = "offline status") { !it.online }
            assertEquals(SyncPhase.OFFLINE, offline.phase)
            pos.setNetworkAvailable(true)
            receiveUntil(statuses, what = "online status") { it.online && it.phase == SyncPhase.IDLE }

            val report = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, report.outcome)
            val uploading = receiveUntil(statuses, what = "uploading sales") { it.phase == SyncPhase.UPLOADING }
            assertEquals(EntityType.SALE, uploading.entityType)
            val downloading = receiveUntil(statuses, what = "downloading products") {
                it.phase == SyncPhase.DOWNLOADING && it.entityType == EntityType.PRODUCT
            }
            assertNotNull(downloading)
            val done = receiveUntil(statuses, what = "idle after the cycle") {
                it.phase == SyncPhase.IDLE && it.lastSyncAtMs != null
            }
            assertEquals(0, done.queue.pending)
            assertEquals(1, done.queue.synced)
            job.cancel()
        }
    }

    @Test
    fun `a cancelled subscription hears nothing more`() = blocking {
        PosSync.open(testConfig(dir)).use { pos ->
            val statuses = AtomicInteger()
            val handle = pos.engine.subscribeStatus(statusListener(onStatus = { statuses.incrementAndGet() }))
            assertEquals(1, statuses.get(), "the current status is sent at once")
            pos.recordSale(saleJson("s1"))
            assertEquals(2, statuses.get())
            handle.cancel()
            pos.recordSale(saleJson("s2"))
            pos.setNetworkAvailable(false)
            assertEquals(2, statuses.get())
            handle.cancel() // twice is harmless
            handle.close()
        }
    }

    @Test
    fun `collectors that stop cancel their subscription`() = blocking {
        PosSync.open(testConfig(dir)).use { pos ->
            // Many short-lived collectors (a screen opened and closed): each first() ends its
            // subscription, so the engine never notifies more than the live ones.
            repeat(50) { assertTrue(pos.statusFlow().first().online) }
            val (job, statuses) = collectInto(pos.syncEvents())
            statuses.receive()
            job.cancel()
            job.join()
            pos.recordSale(saleJson("s1"))
            assertFalse(statuses.tryReceive().isSuccess)
        }
    }
}
