package io.possync.capacitor

import io.possync.PosSyncException
import kotlinx.coroutines.CancellationException

/** What a failed call rejects with: `call.reject(message, code)`. */
data class JsError(val code: String, val message: String)

/**
 * Maps every failure to the stable codes of the TypeScript `PosSyncErrorCode`: the engine's
 * own (the Rust `PosSyncError::code()`, one per variant) and the plugin's `UNAVAILABLE` and
 * `INTERNAL`. The engine's message is passed on as it is (it never contains customer data).
 */
object JsErrors {
    /** The stable code of an engine error. The `when` is exhaustive: a new variant in the
     * regenerated bindings does not compile until it has a code here. */
    fun code(e: PosSyncException): String = when (e) {
        is PosSyncException.InvalidInput -> "INVALID_INPUT"
        is PosSyncException.PayloadTooLarge -> "PAYLOAD_TOO_LARGE"
        is PosSyncException.NotFound -> "NOT_FOUND"
        is PosSyncException.Database -> "DATABASE"
        is PosSyncException.StorageFull -> "STORAGE_FULL"
        is PosSyncException.SchemaTooNew -> "SCHEMA_TOO_NEW"
        is PosSyncException.Network -> "NETWORK"
        is PosSyncException.Auth -> "AUTH"
        is PosSyncException.Server -> "SERVER"
        is PosSyncException.Integrity -> "INTEGRITY"
        is PosSyncException.RateLimited -> "RATE_LIMITED"
        is PosSyncException.Cancelled -> "CANCELLED"
        is PosSyncException.NotConfigured -> "NOT_CONFIGURED"
    }

    fun of(t: Throwable): JsError = when (t) {
        is PosSyncException -> JsError(code(t), t.message ?: code(t).lowercase())
        is InvalidArgument -> JsError("INVALID_INPUT", "invalid input: ${t.message}")
        is NotOpen -> JsError("NOT_CONFIGURED", t.message ?: "not configured")
        is CancellationException -> JsError("CANCELLED", "cancelled: the plugin was unloaded before the call finished")
        else -> JsError(
            "INTERNAL",
            "the pos-sync plugin failed unexpectedly (${t.javaClass.simpleName}: ${t.message}); please report it",
        )
    }
}

/** A call before `open()` (or after `close()`). */
class NotOpen : IllegalStateException("not configured: call PosSync.open() first")
