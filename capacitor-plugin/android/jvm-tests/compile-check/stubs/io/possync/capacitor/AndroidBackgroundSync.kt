package io.possync.capacitor

import android.content.Context

/**
 * COMPILE-CHECK STUB, never shipped: stands in for android/src/main/kotlin/…/
 * AndroidBackgroundSync.kt, which calls WorkManager and ConnectivityManager through the
 * pos-sync Android library's Android-only classes (androidx is not on Maven Central). Same
 * name and constructor, so PosSyncPlugin.kt compiles against the real Capacitor API here.
 */
class AndroidBackgroundSync(@Suppress("UNUSED_PARAMETER") context: Context) : BackgroundScheduler {
    override fun engineOpened(): Unit = error("compile-check stub")
    override fun enable(intervalMinutes: Long): Long = error("compile-check stub")
    override fun disable(): Unit = error("compile-check stub")
}
