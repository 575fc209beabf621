package io.possync.capacitor

import android.content.Context

/**
 * COMPILE-CHECK STUB, never shipped: stands in for android/src/main/kotlin/…/
 * WorkManagerScheduler.kt, which calls WorkManager (androidx, not on Maven Central) through
 * the pos-sync Android library. Same name and constructor, so PosSyncPlugin.kt compiles
 * against the real Capacitor API here.
 */
class WorkManagerScheduler(@Suppress("UNUSED_PARAMETER") context: Context) : BackgroundScheduler {
    override fun enable(intervalMinutes: Long): Long = error("compile-check stub")
    override fun disable(): Unit = error("compile-check stub")
}
