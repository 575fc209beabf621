package io.possync.capacitor

import android.content.ContentProvider
import android.content.ContentValues
import android.database.Cursor
import android.net.Uri

/**
 * Runs when the app's process starts, before any activity, service or WorkManager worker
 * (Android creates manifest providers first): configures the shared engine
 * ([BackgroundEngine]) from the bridge's saved state, so a background sync works in a process
 * that WorkManager started without the web app. It opens nothing itself (the engine opens on
 * first use). Not a real provider: it answers no queries.
 */
class PosSyncInitProvider : ContentProvider() {
    override fun onCreate(): Boolean {
        val context = context ?: return false
        // No saved state, or a keystore that refuses: background sync waits for the web app.
        runCatching { BackgroundEngine.configure(PosSyncPlugin.bridge(context)) }
        return true
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor? = null
    override fun getType(uri: Uri): String? = null
    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = 0
    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int = 0
}
