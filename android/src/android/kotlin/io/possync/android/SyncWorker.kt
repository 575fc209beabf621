package io.possync.android

import android.content.Context
import android.util.Log
import androidx.core.app.NotificationChannelCompat
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.work.CoroutineWorker
import androidx.work.ForegroundInfo
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import io.possync.BackgroundSyncPolicy
import io.possync.EngineHolder
import io.possync.PosSync
import io.possync.PosSyncException
import io.possync.R
import io.possync.WorkResult
import kotlin.time.Duration.Companion.milliseconds

/**
 * WorkManager's entry into pos-sync: one budgeted batch sync on the process's shared engine
 * ([EngineHolder]), its report mapped to a result by [BackgroundSyncPolicy]. Thin on purpose:
 * every decision is in the plain-Kotlin policy that the JVM tests run.
 *
 * When WorkManager stops the worker (constraints lost, the 10-minute limit), the coroutine is
 * cancelled; that drops the engine's future, which asks the engine to stop at its next batch
 * boundary. Nothing is lost: unsent changes stay queued.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result {
        val pos: PosSync = try {
            EngineHolder.engine()
        } catch (e: IllegalStateException) {
            Log.w(TAG, "background sync skipped: ${e.message}")
            return Result.failure()
        } catch (e: PosSyncException) {
            Log.w(TAG, "background sync could not open the engine: ${e.message}")
            return when (e) {
                is PosSyncException.Database, is PosSyncException.StorageFull -> Result.retry()
                else -> Result.failure()
            }
        }
        val requested = inputData.getLong(KEY_BUDGET_MS, 0L).takeIf { it > 0 }?.milliseconds
        val report = pos.runBatchSync(BackgroundSyncPolicy.budget(requested))
        val decision = BackgroundSyncPolicy.decide(report, System.currentTimeMillis(), runAttemptCount)
        Log.i(
            TAG,
            "background sync ${report.outcome}: ${report.uploaded} up, ${report.downloaded} down, " +
                "${report.remaining} left; ${decision.result}: ${decision.reason}",
        )
        decision.followUp?.let { PosSyncBackgroundSync.enqueueFollowUp(applicationContext, it.delay, requested) }
        val output = workDataOf(
            KEY_OUTCOME to report.outcome.name,
            KEY_UPLOADED to report.uploaded,
            KEY_DOWNLOADED to report.downloaded,
            KEY_REMAINING to report.remaining,
        )
        return when (decision.result) {
            WorkResult.SUCCESS -> Result.success(output)
            WorkResult.RETRY -> Result.retry()
            WorkResult.FAILURE -> Result.failure(output)
        }
    }

    /** Expedited work runs as a foreground service on Android 11 and older: it needs a notification. */
    override suspend fun getForegroundInfo(): ForegroundInfo {
        val context = applicationContext
        val manager = NotificationManagerCompat.from(context)
        manager.createNotificationChannel(
            NotificationChannelCompat.Builder(CHANNEL_ID, NotificationManagerCompat.IMPORTANCE_LOW)
                .setName(context.getString(R.string.pos_sync_notification_channel))
                .build(),
        )
        val notification = NotificationCompat.Builder(context, CHANNEL_ID)
            .setSmallIcon(android.R.drawable.stat_notify_sync)
            .setContentTitle(context.getString(R.string.pos_sync_notification_title))
            .setOngoing(true)
            .setSilent(true)
            .setPriority(NotificationCompat.PRIORITY_LOW)
            .build()
        return ForegroundInfo(NOTIFICATION_ID, notification)
    }

    companion object {
        /** Input: the run's time budget in milliseconds (default [BackgroundSyncPolicy.DEFAULT_BUDGET]). */
        const val KEY_BUDGET_MS = "io.possync.budget_ms"

        /** Output of a finished run, for apps that observe the work's WorkInfo. */
        const val KEY_OUTCOME = "io.possync.outcome"
        const val KEY_UPLOADED = "io.possync.uploaded"
        const val KEY_DOWNLOADED = "io.possync.downloaded"
        const val KEY_REMAINING = "io.possync.remaining"

        internal const val TAG = "pos-sync"
        private const val CHANNEL_ID = "io.possync.sync"
        private const val NOTIFICATION_ID = 0x5053 // "PS"
    }
}
