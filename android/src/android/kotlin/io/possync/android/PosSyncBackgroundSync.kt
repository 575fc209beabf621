package io.possync.android

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.Data
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.OutOfQuotaPolicy
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.workDataOf
import io.possync.BackgroundSyncPolicy
import java.util.concurrent.TimeUnit
import kotlin.time.Duration

/**
 * Schedules background sync with WorkManager. Call [schedule] once at app start (after
 * `EngineHolder.configure`); it is idempotent. Intervals and budgets go through
 * [BackgroundSyncPolicy] (periodic work runs at most every 15 minutes, and inexactly).
 */
object PosSyncBackgroundSync {
    /** Unique work names, for apps that observe or cancel the work themselves. */
    const val PERIODIC_WORK = "io.possync.sync.periodic"
    const val RECONNECT_WORK = "io.possync.sync.reconnect"
    const val FOLLOW_UP_WORK = "io.possync.sync.follow-up"

    private val connected: Constraints =
        Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build()

    /**
     * Periodic sync every [interval] (at least 15 minutes) while a network is connected, each run
     * limited to [budget]; `UPDATE` keeps the schedule of an existing request and applies new
     * settings. Syncs on reconnect come from [syncWhenConnected], which [NetworkMonitor] calls.
     */
    fun schedule(
        context: Context,
        interval: Duration = BackgroundSyncPolicy.DEFAULT_PERIODIC_INTERVAL,
        budget: Duration? = null,
    ) {
        val every = BackgroundSyncPolicy.periodicInterval(interval)
        val request = PeriodicWorkRequestBuilder<SyncWorker>(every.inWholeMilliseconds, TimeUnit.MILLISECONDS)
            .setConstraints(connected)
            .setInputData(input(budget))
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
            .build()
        val workManager = WorkManager.getInstance(context)
        workManager.enqueueUniquePeriodicWork(PERIODIC_WORK, ExistingPeriodicWorkPolicy.UPDATE, request)
    }

    /**
     * One expedited sync as soon as a network is connected (now, if one is): unique and `KEEP`,
     * so connectivity flapping queues it once. Out of expedited quota it still runs, as
     * ordinary work. It survives the app's process: enqueued while offline, it runs when the
     * network returns even if the app is gone by then.
     */
    fun syncWhenConnected(context: Context, budget: Duration? = null) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(connected)
            .setExpedited(OutOfQuotaPolicy.RUN_AS_NON_EXPEDITED_WORK_REQUEST)
            .setInputData(input(budget))
            .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
            .build()
        WorkManager.getInstance(context).enqueueUniqueWork(RECONNECT_WORK, ExistingWorkPolicy.KEEP, request)
    }

    /** A continuation run after [delay] (work left over, or the engine's backoff). */
    internal fun enqueueFollowUp(context: Context, delay: Duration, budget: Duration?) {
        val request = OneTimeWorkRequestBuilder<SyncWorker>()
            .setConstraints(connected)
            .setInitialDelay(delay.inWholeMilliseconds, TimeUnit.MILLISECONDS)
            .setInputData(input(budget))
            .build()
        // APPEND_OR_REPLACE: a follow-up asked for by a running follow-up runs after it.
        WorkManager.getInstance(context)
            .enqueueUniqueWork(FOLLOW_UP_WORK, ExistingWorkPolicy.APPEND_OR_REPLACE, request)
    }

    /** Stops all background sync (sign-out, the till is decommissioned). */
    fun cancel(context: Context) {
        val workManager = WorkManager.getInstance(context)
        listOf(PERIODIC_WORK, RECONNECT_WORK, FOLLOW_UP_WORK).forEach(workManager::cancelUniqueWork)
    }

    private fun input(budget: Duration?): Data =
        workDataOf(SyncWorker.KEY_BUDGET_MS to BackgroundSyncPolicy.budget(budget).inWholeMilliseconds)
}
