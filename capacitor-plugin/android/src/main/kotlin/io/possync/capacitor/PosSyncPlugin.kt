package io.possync.capacitor

import android.content.Context
import com.getcapacitor.JSObject
import com.getcapacitor.Plugin
import com.getcapacitor.PluginCall
import com.getcapacitor.PluginMethod
import com.getcapacitor.annotation.CapacitorPlugin
import io.possync.PluginBridge
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import java.io.File

/**
 * The Capacitor side of `PosSync` on Android: a forwarder. The TypeScript client sends every
 * method through the one `call` method, and the Rust bridge (io.possync.PluginBridge) does the
 * rest; see docs/architecture.md, "The plugin bridge". Engine events reach the web app through
 * `notifyListeners` as `{ data: JSON text }`.
 */
@CapacitorPlugin(name = "PosSync")
class PosSyncPlugin : Plugin() {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    private lateinit var forwarder: CallForwarder

    override fun load() {
        val bridge = bridge(
            context.applicationContext,
            emit = { event, data -> notifyListeners(event, JSObject().put("data", data)) },
            hasListeners = { event -> hasListeners(event) },
        )
        forwarder = CallForwarder(scope, bridge)
    }

    override fun handleOnDestroy() {
        // The engine stays open for background work; only this plugin instance's work stops.
        scope.cancel()
    }

    @PluginMethod
    fun call(call: PluginCall) {
        forwarder.forward(call)
    }

    companion object {
        /** The bridge on Android: state in noBackupFilesDir, secrets sealed by the AndroidKeyStore. */
        fun bridge(
            context: Context,
            emit: (String, String) -> Unit = { _, _ -> },
            hasListeners: (String) -> Boolean = { false },
        ): PluginBridge {
            val dir = context.noBackupFilesDir
            val secrets = SecretStore(File(dir, PluginHost.SECRETS_DIR)) { AndroidKeystoreKey.get() }
            return PluginHost.bridge(PluginHost(dir, secrets, AndroidBackgroundSync(context), emit, hasListeners))
        }
    }
}
