package io.possync

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flowOn

/** How many undelivered events a slow collector may fall behind before the oldest are dropped. */
internal const val EVENT_BUFFER = 64

/**
 * The engine's sync status as a cold [Flow]: each collector subscribes with
 * [SyncEngine.subscribeStatus], receives the current status at once, then every change
 * (phase, progress, connectivity, queue counts). Cancelling the collector cancels the
 * subscription's [TaskHandle].
 *
 * A collector that falls more than 64 updates behind loses the oldest ones, never the newest,
 * so a UI always ends on the true current status. The subscription itself (which reads the
 * queue counts) runs on [io].
 */
fun SyncEngine.statusFlow(io: CoroutineDispatcher = Dispatchers.IO): Flow<SyncStatus> =
    listenerFlow(io) { send -> statusListener(onStatus = send) }

/**
 * Conflicts that need a person, as the engine finds them (not the ones already open: read
 * [SyncEngine.conflicts] for those). Same buffering as [statusFlow].
 */
fun SyncEngine.conflictFlow(io: CoroutineDispatcher = Dispatchers.IO): Flow<Conflict> =
    listenerFlow(io) { send -> statusListener(onConflict = send) }

/** One event of [syncEvents]. */
sealed interface SyncEvent {
    /** The sync status changed (the first event of every subscription is the current one). */
    data class StatusChanged(val status: SyncStatus) : SyncEvent

    /** A conflict was found that needs a person. */
    data class ConflictFound(val conflict: Conflict) : SyncEvent
}

/**
 * Status changes and new conflicts through one subscription, in the order the engine reported
 * them; the first event is always the current status, so a collector knows it is subscribed.
 */
fun SyncEngine.syncEvents(io: CoroutineDispatcher = Dispatchers.IO): Flow<SyncEvent> =
    listenerFlow(io) { send ->
        statusListener(
            onStatus = { send(SyncEvent.StatusChanged(it)) },
            onConflict = { send(SyncEvent.ConflictFound(it)) },
        )
    }

private fun <T> SyncEngine.listenerFlow(
    io: CoroutineDispatcher,
    listener: (send: (T) -> Unit) -> SyncStatusListener,
): Flow<T> = callbackFlow {
    // The engine calls the listener on its own threads and expects it not to block:
    // trySend never blocks, and the buffer below never refuses (it drops the oldest).
    val handle = subscribeStatus(listener { value -> trySend(value) })
    awaitClose {
        handle.cancel()
        handle.close()
    }
}.buffer(EVENT_BUFFER, BufferOverflow.DROP_OLDEST).flowOn(io)

/** A [SyncStatusListener] from lambdas (each defaults to ignoring its event). */
fun statusListener(
    onStatus: (SyncStatus) -> Unit = {},
    onConflict: (Conflict) -> Unit = {},
): SyncStatusListener {
    val statusHandler = onStatus
    val conflictHandler = onConflict
    return object : SyncStatusListener {
        override fun onStatus(status: SyncStatus) = statusHandler(status)
        override fun onConflict(conflict: Conflict) = conflictHandler(conflict)
    }
}
