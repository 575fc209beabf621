package io.possync

import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** What a background worker returns to the OS scheduler (WorkManager's `Result`). */
enum class WorkResult {
    /** This run is done (it may still ask for a [FollowUp]). */
    SUCCESS,

    /** Run again after the scheduler's backoff: a transient failure (network, server). */
    RETRY,

    /** Retrying will not help until the app or a person changes something (credentials, setup). */
    FAILURE,
}

/** A one-time sync to enqueue after this run (network-constrained, never expedited: quota is
 * kept for reconnects). */
data class FollowUp(val delay: Duration)

/** How to finish a background run: the result, a follow-up sync if any, and why, in words. */
data class WorkDecision(val result: WorkResult, val followUp: FollowUp?, val reason: String)

/**
 * The decisions behind background sync, in plain Kotlin so the JVM tests run them: how a
 * [SyncReport] maps to a worker result, how long a run may take, how often periodic work runs,
 * and when a change of connectivity deserves a sync. The Android classes (`SyncWorker`,
 * `PosSyncBackgroundSync`, `NetworkMonitor`) only carry these decisions out.
 */
object BackgroundSyncPolicy {
    /** WorkManager's floor for periodic work (`PeriodicWorkRequest.MIN_PERIODIC_INTERVAL_MILLIS`). */
    val MIN_PERIODIC_INTERVAL: Duration = 15.minutes

    /** Periodic background sync when the app does not say otherwise. */
    val DEFAULT_PERIODIC_INTERVAL: Duration = 30.minutes

    /**
     * Time budget of one background run. WorkManager stops a worker after 10 minutes and an
     * expedited job may be stopped sooner; the engine only stops between batches, so the budget
     * leaves room for the batch in flight (one request timeout, 30 s by default).
     */
    val DEFAULT_BUDGET: Duration = 3.minutes

    /** The largest budget accepted: WorkManager's 10 minutes less two request timeouts. */
    val MAX_BUDGET: Duration = 9.minutes

    /** The smallest useful budget (one batch). */
    val MIN_BUDGET: Duration = 1.seconds

    /** Transient failures are retried with WorkManager's backoff this many times per request;
     * after that the run ends as [WorkResult.SUCCESS] and the periodic work takes over. */
    const val MAX_RETRIES: Int = 5

    /** The periodic interval WorkManager will accept for a [requested] one. */
    fun periodicInterval(requested: Duration): Duration =
        requested.coerceAtLeast(MIN_PERIODIC_INTERVAL)

    /** The budget for one run ([DEFAULT_BUDGET] when null), kept within what the OS allows. */
    fun budget(requested: Duration? = null): Duration =
        (requested ?: DEFAULT_BUDGET).coerceIn(MIN_BUDGET, MAX_BUDGET)

    /** How long until the engine will talk to the server again (zero when it may now). */
    fun backoffDelay(report: SyncReport, nowMs: Long): Duration =
        ((report.nextSyncAllowedAtMs ?: nowMs) - nowMs).coerceAtLeast(0).milliseconds

    /**
     * Maps the report of one background run to the worker's result.
     *
     * [runAttemptCount] is WorkManager's count of earlier attempts of this request (0 on the
     * first run); [nowMs] is the wall clock, to turn the engine's backoff into a delay.
     */
    fun decide(report: SyncReport, nowMs: Long, runAttemptCount: Int = 0): WorkDecision {
        val continueNow = if (report.moreWorkPending) FollowUp(Duration.ZERO) else null
        // A completed cycle sets moreWorkPending when it used up its upload share; it also does
        // so when that share ended exactly with the queue, so only follow up on real work.
        val continueCompleted = continueNow?.takeIf { report.remaining > 0 }
        fun retryOrYield(why: String): WorkDecision =
            if (runAttemptCount < MAX_RETRIES) {
                WorkDecision(WorkResult.RETRY, null, "$why; retried with backoff")
            } else {
                WorkDecision(
                    WorkResult.SUCCESS,
                    null,
                    "$why; gave up after $runAttemptCount retries, the periodic sync takes over",
                )
            }
        return when (report.outcome) {
            SyncOutcome.COMPLETED -> WorkDecision(
                WorkResult.SUCCESS,
                continueCompleted,
                if (continueCompleted != null) "synced a share of the backlog; continuing" else "synced",
            )
            SyncOutcome.BUDGET_EXHAUSTED -> WorkDecision(
                WorkResult.SUCCESS,
                continueNow,
                if (continueNow != null) "time budget used up with work left; continuing" else "time budget used up",
            )
            // The OS stopped the worker (or the app called cancel()): WorkManager reschedules
            // stopped work by itself; RETRY covers a cancel() from the app.
            SyncOutcome.CANCELLED -> WorkDecision(WorkResult.RETRY, null, "cancelled before the end")
            SyncOutcome.NETWORK_ERROR -> retryOrYield("server unreachable (${report.error ?: "network error"})")
            SyncOutcome.SERVER_ERROR -> retryOrYield("server failed (${report.error ?: "server error"})")
            SyncOutcome.AUTH_ERROR -> WorkDecision(
                WorkResult.FAILURE,
                null,
                "credentials refused (${report.error ?: "authentication failed"}); the app must supply a valid token",
            )
            SyncOutcome.BACKED_OFF -> {
                val hasWork = report.remaining > 0 || report.moreWorkPending
                val delay = backoffDelay(report, nowMs)
                WorkDecision(
                    WorkResult.SUCCESS,
                    if (hasWork) FollowUp(delay) else null,
                    "engine backing off for ${delay.inWholeSeconds} s" +
                        if (hasWork) "; follow-up sync scheduled after it" else "",
                )
            }
            SyncOutcome.NOT_CONFIGURED -> WorkDecision(
                WorkResult.FAILURE,
                null,
                "no server URL is configured; background sync has nothing to do",
            )
        }
    }

    /** Changes that are waiting to reach the server and can get there without a person. */
    fun unsyncedChanges(queue: QueueStats): Long =
        queue.pending + queue.syncing + (queue.failed - queue.rejected).coerceAtLeast(0)

    /**
     * Whether a connectivity change deserves a one-time sync that waits for the network
     * (WorkManager: unique, `KEEP`, network-constrained, expedited when quota allows):
     * - going offline with unsynced changes: the request waits, and runs as soon as the
     *   network returns, even if the app's process is gone by then;
     * - coming back online while the engine's own auto sync is not running (the app is in
     *   the background), with unsynced changes or data older than [staleAfter].
     * While auto sync runs, the engine syncs on reconnect by itself (after its debounce).
     */
    fun syncOnConnectivityChange(
        online: Boolean,
        status: SyncStatus,
        autoSyncRunning: Boolean,
        nowMs: Long,
        staleAfter: Duration = DEFAULT_PERIODIC_INTERVAL,
    ): Boolean {
        val unsynced = unsyncedChanges(status.queue) > 0
        if (!online) return unsynced
        if (autoSyncRunning) return false
        val last = status.lastSyncAtMs
        val stale = last == null || (nowMs - last).milliseconds >= staleAfter
        return unsynced || stale
    }
}

/**
 * Follows the default network from `ConnectivityManager.NetworkCallback` events and says when
 * the device went online or offline. Plain Kotlin (networks are opaque keys) so it is tested
 * on the JVM; `NetworkMonitor` feeds it on Android. Online means: a default network exists
 * and has the INTERNET capability (not necessarily validated: a till may talk to a server on
 * a shop LAN without internet access).
 */
class ConnectivityTracker {
    private var network: Any? = null
    private var hasInternet = false
    private var reported: Boolean? = null

    /** The last state reported, or null before the first event. */
    val online: Boolean? @Synchronized get() = reported

    /** A network became the default. Returns the new state if it changed, else null. */
    @Synchronized
    fun onAvailable(network: Any): Boolean? {
        if (this.network != network) {
            this.network = network
            // Until its capabilities arrive, a new default network is assumed usable.
            hasInternet = true
        }
        return report()
    }

    /** The default network's capabilities changed. */
    @Synchronized
    fun onCapabilitiesChanged(network: Any, hasInternet: Boolean): Boolean? {
        if (this.network == null || this.network == network) {
            this.network = network
            this.hasInternet = hasInternet
        }
        return report()
    }

    /** A network was lost (ignored unless it is the default one). */
    @Synchronized
    fun onLost(network: Any): Boolean? {
        if (this.network == network) {
            this.network = null
            hasInternet = false
        }
        return report()
    }

    /** No default network at all (`onUnavailable`, or nothing at registration). */
    @Synchronized
    fun onUnavailable(): Boolean? {
        network = null
        hasInternet = false
        return report()
    }

    private fun report(): Boolean? {
        val now = network != null && hasInternet
        if (now == reported) return null
        reported = now
        return now
    }
}
