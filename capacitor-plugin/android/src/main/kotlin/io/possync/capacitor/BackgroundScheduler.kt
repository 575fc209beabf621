package io.possync.capacitor

/**
 * The platform's side of background sync. On Android it is the pos-sync Android library's
 * WorkManager scheduling and connectivity monitor ([AndroidBackgroundSync], the only plugin
 * class that needs androidx); the JVM tests use a recording fake.
 */
interface BackgroundScheduler {
    /** The engine was opened: start following connectivity (reconnect syncs). */
    fun engineOpened()

    /** Schedules (or reschedules) periodic background sync; returns the interval used. */
    fun enable(intervalMinutes: Long): Long

    /** Cancels it. */
    fun disable()
}
