package io.possync.capacitor

import android.content.ContentProvider
import android.content.ContentValues
import android.database.Cursor
import android.net.Uri
import io.possync.EngineHolder

/**
 * Runs when the app's process starts, before any activity, service or WorkManager worker
 * (Android creates manifest providers first): configures the shared engine ([EngineHolder])
 * from the plugin's saved state, so a background sync works in a process that WorkManager
 * started without the web app. It opens nothing itself (the engine opens on first use).
 * Not a real provider: it answers no queries.
 */
class PosSyncInitProvider : ContentProvider() {
    override fun onCreate(): Boolean {
        val context = context ?: return false
        val state = PluginState(context.noBackupFilesDir)
        val config = try {
            state.config()
        } catch (e: Exception) {
            null
        } ?: return true
        EngineHolder.configure(
            config = { config },
            onOpen = { pos ->
                if (config.serverUrl != null) {
                    pos.engine.setTokenProvider(
                        io.possync.tokenProvider { _ ->
                            state.token() ?: throw IllegalStateException("no token saved: open the app to sign in")
                        },
                    )
                }
            },
        )
        return true
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor? = null
    override fun getType(uri: Uri): String? = null
    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = 0
    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int = 0
}
