package io.possync.capacitor

import com.getcapacitor.JSObject
import com.getcapacitor.PluginCall
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch

/**
 * Runs a plugin method off the caller's thread (Capacitor calls plugin methods on its own
 * thread: blocking it would stall every plugin) and settles the call: `resolve(result)`, plain
 * `resolve()` for no result, or `reject(message, code)` with the stable codes of [JsErrors].
 */
class CallRunner(private val scope: CoroutineScope) {
    fun run(call: PluginCall, block: suspend (JSObject) -> JSObject?): Job = scope.launch {
        try {
            val result = block(call.data ?: JSObject())
            if (result == null) call.resolve() else call.resolve(result)
        } catch (t: Throwable) {
            val error = JsErrors.of(t)
            call.reject(error.message, error.code)
            if (t is CancellationException) throw t
        }
    }
}
