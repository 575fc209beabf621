package io.possync.capacitor

import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

/**
 * Bearer tokens from the web app. The engine asks [token] on its own thread before a request;
 * the app gives tokens with `setToken` ([set]). With a current token and no refresh asked,
 * [token] answers at once. Otherwise (no token yet, or the server refused it) it asks the app
 * through [request] (the `tokenRequested` event) and waits up to [timeoutMs] for the next
 * [set]; without an answer it returns the token it has (the server refuses it again, and the
 * sync fails with `AUTH` and is retried later) or fails if it has none. No listener: no wait.
 */
class TokenBroker(
    private val timeoutMs: Long = DEFAULT_TIMEOUT_MS,
    private val hasListener: () -> Boolean,
    private val request: (refresh: Boolean, timeoutMs: Long) -> Unit,
) {
    private val lock = ReentrantLock()
    private val changed = lock.newCondition()
    private var current: String? = null
    private var generation = 0L

    /** The app's token (null: it has none, e.g. signed out). Wakes a waiting [token]. */
    fun set(token: String?) = lock.withLock {
        current = token
        generation++
        changed.signalAll()
    }

    /** Called by the engine (through `io.possync.tokenProvider`), never on the main thread. */
    fun token(refresh: Boolean): String {
        val (token, asked) = lock.withLock { current to generation }
        if (token != null && !refresh) return token
        if (!hasListener()) {
            return token ?: throw IllegalStateException(
                "no token: call PosSync.setToken() or listen to 'tokenRequested'",
            )
        }
        request(refresh, timeoutMs)
        lock.withLock {
            var left = TimeUnit.MILLISECONDS.toNanos(timeoutMs)
            while (generation == asked && left > 0) left = changed.awaitNanos(left)
            if (generation != asked) {
                return current ?: throw IllegalStateException("no token: the app answered setToken(null)")
            }
            return current ?: throw IllegalStateException(
                "no token: the app did not answer 'tokenRequested' within $timeoutMs ms",
            )
        }
    }

    companion object {
        const val DEFAULT_TIMEOUT_MS = 10_000L
    }
}
