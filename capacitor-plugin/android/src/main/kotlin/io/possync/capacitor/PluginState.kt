package io.possync.capacitor

import com.getcapacitor.JSObject
import io.possync.EngineConfig
import org.json.JSONObject
import java.io.File

/**
 * What a background worker needs when the web app is not running: the last `open`
 * configuration and the last token the web app gave, in a file of the app's private,
 * not-backed-up data directory. WorkManager may start the app's process for a sync without
 * any activity (so without Capacitor or JavaScript); [PosSyncInitProvider] then configures
 * the engine from this file. `close()` deletes it.
 */
class PluginState(private val dataDir: File) {
    private val file = File(dataDir, FILE_NAME)

    /** Saves `open`'s arguments; the token goes to [saveToken]. */
    @Synchronized
    fun saveConfig(args: JSObject) {
        val state = read() ?: JSONObject()
        val config = JSONObject(args.toString())
        config.remove("authToken")
        state.put("config", config)
        args.optText("authToken")?.let { state.put("token", it) }
        write(state)
    }

    @Synchronized
    fun saveToken(token: String?) {
        val state = read() ?: return
        if (token == null) state.remove("token") else state.put("token", token)
        write(state)
    }

    @Synchronized
    fun token(): String? = read()?.let { if (it.has("token") && !it.isNull("token")) it.getString("token") else null }

    /** The saved configuration, if the web app opened the engine before. */
    @Synchronized
    fun config(): EngineConfig? {
        val config = read()?.optJSONObject("config") ?: return null
        return JsConvert.engineConfig(JSObject.fromJSONObject(config), dataDir)
    }

    @Synchronized
    fun clear() {
        file.delete()
    }

    private fun read(): JSONObject? = try {
        if (file.exists()) JSONObject(file.readText()) else null
    } catch (e: Exception) {
        null // a damaged file is as good as none: the web app writes it again on open
    }

    private fun write(state: JSONObject) {
        dataDir.mkdirs()
        val tmp = File(dataDir, "$FILE_NAME.tmp")
        tmp.writeText(state.toString())
        if (!tmp.renameTo(file)) {
            file.delete()
            tmp.renameTo(file)
        }
    }

    companion object {
        const val FILE_NAME = "pos-sync-plugin.json"
    }
}
