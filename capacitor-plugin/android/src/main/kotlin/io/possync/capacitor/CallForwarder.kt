package io.possync.capacitor

import com.getcapacitor.JSObject
import com.getcapacitor.PluginCall
import io.possync.PluginBridge
import io.possync.PluginCallException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch

/**
 * Hands a plugin call (`{ method, args }`, the arguments as JSON text) to the Rust bridge off
 * the caller's thread (Capacitor calls plugins on its own thread: blocking it would stall every
 * plugin) and settles it: `resolve({ result })` with the bridge's JSON text, or
 * `reject(message, code, details)` with the bridge's error.
 *
 * [scope] must run on `Dispatchers.IO`: the call blocks its thread until the bridge answers
 * (`callBlocking`, one JNA crossing; the async `call` costs about four, see
 * docs/architecture.md). With no suspension point between the bridge's answer and the
 * settling, a call that did its work is never reported as cancelled.
 */
class CallForwarder(private val scope: CoroutineScope, private val bridge: PluginBridge) {
    fun forward(call: PluginCall): Job = scope.launch {
        try {
            val method = call.getString("method") ?: throw IllegalArgumentException("a call without a method")
            val result = bridge.callBlocking(method, call.getString("args") ?: "{}")
            call.resolve(JSObject().put("result", result))
        } catch (e: PluginCallException.Rejected) {
            call.reject(e.reason, e.code, e.detailsJson?.let { JSObject(it) })
        } catch (t: Throwable) {
            call.reject(
                "the pos-sync plugin failed unexpectedly (${t.javaClass.simpleName}: ${t.message}); please report it",
                "INTERNAL",
            )
        }
    }
}
