package io.possync.capacitor

import android.content.Context
import io.possync.BackgroundSyncPolicy
import io.possync.android.NetworkMonitor
import io.possync.android.PosSyncBackgroundSync
import kotlin.time.Duration.Companion.minutes

/**
 * Background sync through the pos-sync Android library: WorkManager periodic work
 * ([PosSyncBackgroundSync]) and the default-network callback ([NetworkMonitor]), which feeds
 * the engine's connectivity and queues a sync for when the network returns.
 */
class AndroidBackgroundSync(private val context: Context) : BackgroundScheduler {
    override fun engineOpened() = NetworkMonitor.start(context)

    override fun enable(intervalMinutes: Long): Long {
        val interval = intervalMinutes.minutes
        PosSyncBackgroundSync.schedule(context, interval = interval)
        return BackgroundSyncPolicy.periodicInterval(interval).inWholeMinutes
    }

    override fun disable() = PosSyncBackgroundSync.cancel(context)
}
