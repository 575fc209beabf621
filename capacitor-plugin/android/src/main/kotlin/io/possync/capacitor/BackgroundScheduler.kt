package io.possync.capacitor

/**
 * Background sync with the OS scheduler. On Android it is WorkManager, through the pos-sync
 * Android library's scheduling helper ([WorkManagerScheduler], the only class of the plugin
 * that needs androidx); the JVM tests use a recording fake.
 */
interface BackgroundScheduler {
    /** Schedules (or reschedules) periodic background sync; returns the interval used. */
    fun enable(intervalMinutes: Long): Long

    /** Cancels it. */
    fun disable()
}
