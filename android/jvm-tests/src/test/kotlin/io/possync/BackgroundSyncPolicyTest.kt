package io.possync

import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.time.Duration
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** The WorkManager decisions, as plain Kotlin: no engine, no Android. */
class BackgroundSyncPolicyTest {
    private val now = 1_800_000_000_000L

    private fun report(
        outcome: SyncOutcome,
        remaining: Long = 0,
        more: Boolean = false,
        nextAllowed: Long? = null,
        error: String? = null,
    ) = SyncReport(
        runId = "r", outcome = outcome, uploaded = 0, downloaded = 0, autoResolved = 0, conflicts = 0,
        failed = 0, rejected = 0, remaining = remaining, durationMs = 5, moreWorkPending = more,
        nextSyncAllowedAtMs = nextAllowed, error = error,
    )

    private fun queue(pending: Long = 0, syncing: Long = 0, failed: Long = 0, rejected: Long = 0, conflict: Long = 0) =
        QueueStats(
            pending = pending, syncing = syncing, synced = 0, failed = failed, conflict = conflict,
            rejected = rejected, byEntity = emptyList(), oldestUnsyncedAgeMs = null, bytesPending = 0,
            health = QueueHealth.OK, healthReason = "",
        )

    private fun status(queue: QueueStats = queue(), lastSync: Long? = now) = SyncStatus(
        phase = SyncPhase.IDLE, entityType = null, progress = 0, online = true, lastSyncAtMs = lastSync,
        nextSyncAtMs = null, lastError = null, queue = queue,
    )

    @Test
    fun `every outcome maps to a worker result`() {
        val expected = mapOf(
            SyncOutcome.COMPLETED to WorkResult.SUCCESS,
            SyncOutcome.BUDGET_EXHAUSTED to WorkResult.SUCCESS,
            SyncOutcome.CANCELLED to WorkResult.RETRY,
            SyncOutcome.NETWORK_ERROR to WorkResult.RETRY,
            SyncOutcome.SERVER_ERROR to WorkResult.RETRY,
            SyncOutcome.AUTH_ERROR to WorkResult.FAILURE,
            SyncOutcome.BACKED_OFF to WorkResult.SUCCESS,
            SyncOutcome.NOT_CONFIGURED to WorkResult.FAILURE,
        )
        assertEquals(SyncOutcome.entries.toSet(), expected.keys, "a new outcome needs a decision")
        for ((outcome, result) in expected) {
            val decision = BackgroundSyncPolicy.decide(report(outcome), now)
            assertEquals(result, decision.result, outcome.name)
            assertTrue(decision.reason.isNotBlank())
        }
    }

    @Test
    fun `follow-ups continue work that is left`() {
        val budget = BackgroundSyncPolicy.decide(report(SyncOutcome.BUDGET_EXHAUSTED, remaining = 4, more = true), now)
        assertEquals(FollowUp(Duration.ZERO), budget.followUp)
        val share = BackgroundSyncPolicy.decide(report(SyncOutcome.COMPLETED, remaining = 4, more = true), now)
        assertEquals(FollowUp(Duration.ZERO), share.followUp)
        // The engine flags more work when the share ended exactly with the queue: nothing to do.
        assertNull(BackgroundSyncPolicy.decide(report(SyncOutcome.COMPLETED, remaining = 0, more = true), now).followUp)
        assertNull(BackgroundSyncPolicy.decide(report(SyncOutcome.COMPLETED), now).followUp)
    }

    @Test
    fun `a backoff turns into a delayed follow-up only when work is waiting`() {
        val waiting = BackgroundSyncPolicy.decide(report(SyncOutcome.BACKED_OFF, remaining = 2, nextAllowed = now + 90_000), now)
        assertEquals(WorkResult.SUCCESS, waiting.result)
        assertEquals(FollowUp(90.seconds), waiting.followUp)
        assertNull(BackgroundSyncPolicy.decide(report(SyncOutcome.BACKED_OFF, nextAllowed = now + 90_000), now).followUp)
        // A backoff already over (or missing) means no delay.
        assertEquals(Duration.ZERO, BackgroundSyncPolicy.backoffDelay(report(SyncOutcome.BACKED_OFF, nextAllowed = now - 5), now))
        assertEquals(Duration.ZERO, BackgroundSyncPolicy.backoffDelay(report(SyncOutcome.BACKED_OFF), now))
    }

    @Test
    fun `transient failures are retried a bounded number of times`() {
        val failing = report(SyncOutcome.NETWORK_ERROR, remaining = 1, error = "network error: refused")
        assertEquals(WorkResult.RETRY, BackgroundSyncPolicy.decide(failing, now, runAttemptCount = 0).result)
        assertEquals(WorkResult.RETRY, BackgroundSyncPolicy.decide(failing, now, BackgroundSyncPolicy.MAX_RETRIES - 1).result)
        val gaveUp = BackgroundSyncPolicy.decide(failing, now, BackgroundSyncPolicy.MAX_RETRIES)
        assertEquals(WorkResult.SUCCESS, gaveUp.result)
        assertTrue("periodic" in gaveUp.reason)
    }

    @Test
    fun `intervals and budgets stay within what WorkManager allows`() {
        assertEquals(15.minutes, BackgroundSyncPolicy.periodicInterval(1.minutes))
        assertEquals(15.minutes, BackgroundSyncPolicy.periodicInterval(Duration.ZERO))
        assertEquals(2.hours, BackgroundSyncPolicy.periodicInterval(2.hours))
        assertEquals(BackgroundSyncPolicy.DEFAULT_BUDGET, BackgroundSyncPolicy.budget())
        assertEquals(BackgroundSyncPolicy.MAX_BUDGET, BackgroundSyncPolicy.budget(1.hours))
        assertEquals(BackgroundSyncPolicy.MIN_BUDGET, BackgroundSyncPolicy.budget(1.milliseconds))
        assertEquals(90.seconds, BackgroundSyncPolicy.budget(90.seconds))
        assertTrue(BackgroundSyncPolicy.MAX_BUDGET < 10.minutes)
    }

    @Test
    fun `connectivity changes request a sync only when it helps`() {
        val unsynced = status(queue(pending = 3))
        val clean = status()
        // Going offline with unsynced changes: a sync that waits for the network.
        assertTrue(BackgroundSyncPolicy.syncOnConnectivityChange(false, unsynced, autoSyncRunning = true, nowMs = now))
        assertFalse(BackgroundSyncPolicy.syncOnConnectivityChange(false, clean, autoSyncRunning = false, nowMs = now))
        // Back online: the engine's auto sync handles it while it runs.
        assertFalse(BackgroundSyncPolicy.syncOnConnectivityChange(true, unsynced, autoSyncRunning = true, nowMs = now))
        assertTrue(BackgroundSyncPolicy.syncOnConnectivityChange(true, unsynced, autoSyncRunning = false, nowMs = now))
        assertFalse(BackgroundSyncPolicy.syncOnConnectivityChange(true, clean, autoSyncRunning = false, nowMs = now))
        // ...or when the data is stale, or was never synced.
        val stale = status(lastSync = now - 2.hours.inWholeMilliseconds)
        assertTrue(BackgroundSyncPolicy.syncOnConnectivityChange(true, stale, autoSyncRunning = false, nowMs = now))
        assertTrue(BackgroundSyncPolicy.syncOnConnectivityChange(true, status(lastSync = null), false, now))
    }

    @Test
    fun `rejected changes and conflicts are not work a sync can do`() {
        assertEquals(0, BackgroundSyncPolicy.unsyncedChanges(queue(failed = 2, rejected = 2, conflict = 5)))
        assertEquals(6, BackgroundSyncPolicy.unsyncedChanges(queue(pending = 1, syncing = 2, failed = 4, rejected = 1)))
    }

    @Test
    fun `the connectivity tracker follows the default network`() {
        val t = ConnectivityTracker()
        assertNull(t.online)
        assertEquals(false, t.onUnavailable(), "no network at registration: offline")
        assertEquals(true, t.onAvailable("wifi"))
        assertNull(t.onAvailable("wifi"), "no change, no report")
        assertNull(t.onCapabilitiesChanged("wifi", hasInternet = true))
        assertEquals(false, t.onCapabilitiesChanged("wifi", hasInternet = false))
        assertEquals(true, t.onCapabilitiesChanged("wifi", hasInternet = true))
        // Switching default network: the new one arrives before the old one is lost.
        assertNull(t.onAvailable("cell"))
        assertNull(t.onLost("wifi"), "losing a network that is no longer the default changes nothing")
        assertEquals(false, t.onLost("cell"))
        assertEquals(false, t.online)
        assertNull(t.onLost("cell"))
    }
}
