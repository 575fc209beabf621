package io.possync.android

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.util.Log
import io.possync.BackgroundSyncPolicy
import io.possync.ConnectivityTracker
import io.possync.EngineHolder
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch

/**
 * Feeds the device's connectivity to the engine (`setNetworkAvailable`) while the app's process
 * runs, from a `ConnectivityManager` default-network callback; [ConnectivityTracker] (plain
 * Kotlin) turns the callbacks into online/offline transitions and [BackgroundSyncPolicy]
 * decides whether a transition queues a WorkManager sync for when the network is back.
 *
 * Start it once in `Application.onCreate`, after `EngineHolder.configure`.
 */
object NetworkMonitor {
    private val tracker = ConnectivityTracker()

    @OptIn(ExperimentalCoroutinesApi::class)
    private val serial = CoroutineScope(SupervisorJob() + Dispatchers.IO.limitedParallelism(1))
    private var callback: ConnectivityManager.NetworkCallback? = null

    /** Starts listening (a second call does nothing). */
    @Synchronized
    fun start(context: Context) {
        if (callback != null) return
        val app = context.applicationContext
        val connectivity = app.getSystemService(ConnectivityManager::class.java) ?: return
        val cb = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) = onTransition(app, tracker.onAvailable(network))

            override fun onCapabilitiesChanged(network: Network, capabilities: NetworkCapabilities) = onTransition(
                app,
                tracker.onCapabilitiesChanged(
                    network,
                    capabilities.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET),
                ),
            )

            override fun onLost(network: Network) = onTransition(app, tracker.onLost(network))
        }
        // The callback reports a current default network at once; with none, it stays silent.
        if (connectivity.activeNetwork == null) onTransition(app, tracker.onUnavailable())
        connectivity.registerDefaultNetworkCallback(cb)
        callback = cb
    }

    /** Stops listening. */
    @Synchronized
    fun stop(context: Context) {
        val cb = callback ?: return
        context.applicationContext.getSystemService(ConnectivityManager::class.java)?.unregisterNetworkCallback(cb)
        callback = null
    }

    /** Acts on a transition, in order, off the callback thread (the engine touches SQLite). */
    private fun onTransition(context: Context, online: Boolean?) {
        if (online == null) return
        serial.launch {
            try {
                val pos = EngineHolder.engine()
                pos.setNetworkAvailable(online)
                val queueSync = BackgroundSyncPolicy.syncOnConnectivityChange(
                    online = online,
                    status = pos.status(),
                    autoSyncRunning = pos.isAutoSyncRunning,
                    nowMs = System.currentTimeMillis(),
                )
                if (queueSync) PosSyncBackgroundSync.syncWhenConnected(context)
            } catch (e: Exception) {
                Log.w(SyncWorker.TAG, "could not pass connectivity (online=$online) to the engine: ${e.message}")
            }
        }
    }
}
