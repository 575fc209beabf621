package io.possync.capacitor

import io.possync.BridgeHost
import io.possync.EngineHolder
import io.possync.HostException
import io.possync.PluginBridge
import java.io.File

/**
 * What the Rust bridge needs from Android, on Capacitor-free types so the JVM tests run it:
 * the data directory, the sealed [SecretStore], background scheduling, and the web app's
 * events (`emit`, `hasListeners`: the plugin's `notifyListeners`, no-ops in a background
 * process without the web view).
 */
class PluginHost(
    private val dataDir: File,
    private val secrets: SecretStore,
    private val scheduler: BackgroundScheduler,
    private val emit: (event: String, dataJson: String) -> Unit = { _, _ -> },
    private val hasListeners: (event: String) -> Boolean = { false },
) : BridgeHost {
    /** Set once the bridge exists (it takes this host): what `engineOpened` configures. */
    @Volatile
    var bridge: PluginBridge? = null

    override fun emit(event: String, dataJson: String) = emit.invoke(event, dataJson)

    override fun hasListeners(event: String): Boolean = hasListeners.invoke(event)

    override fun dataDir(): String = dataDir.path

    override fun loadSecret(name: String): String? = platform { secrets.load(name) }

    override fun saveSecret(name: String, value: String) = platform { secrets.save(name, value) }

    override fun deleteSecret(name: String) = platform { secrets.delete(name) }

    override fun scheduleBackgroundSync(intervalMinutes: Long): Long = platform { scheduler.enable(intervalMinutes) }

    override fun cancelBackgroundSync() = platform { scheduler.disable() }

    override fun engineOpened() {
        bridge?.let { BackgroundEngine.configure(it) }
        scheduler.engineOpened()
    }

    override fun engineClosed() = EngineHolder.reset()

    /** A platform failure reaches the bridge (and the app) as INTERNAL with its reason. */
    private fun <T> platform(block: () -> T): T = try {
        block()
    } catch (e: HostException) {
        throw e
    } catch (e: Exception) {
        throw HostException.Failed("${e.javaClass.simpleName}: ${e.message}")
    }

    companion object {
        /** The sealed secrets' directory inside the data directory. */
        const val SECRETS_DIR = "pos-sync-secrets"

        /** A bridge over a new host (the plugin, and the background process). */
        fun bridge(host: PluginHost): PluginBridge = PluginBridge(host).also { host.bridge = it }
    }
}

/**
 * The engine a background worker of this process (the Android library's WorkManager worker,
 * through [EngineHolder]) opens: the configuration of the web app's last `open` and its
 * tokens, from the bridge's saved state. Opening it hands out the engine the web app has open,
 * if any (the engine registry), so both share it.
 */
object BackgroundEngine {
    fun configure(bridge: PluginBridge) {
        val config = bridge.savedConfig() ?: return
        EngineHolder.configure(config = { config }, onOpen = { pos -> bridge.serveTokens(pos.engine) })
    }
}
