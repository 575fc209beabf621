package io.possync.capacitor

import com.getcapacitor.JSObject
import com.getcapacitor.MessageHandler
import com.getcapacitor.PluginCall
import com.getcapacitor.PluginResult
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.json.JSONObject
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/** capacitor-plugin/, and the files the tests share with the TypeScript side. */
object PluginFiles {
    val dir = File(System.getProperty("possync.plugin.dir") ?: error("possync.plugin.dir is not set (run scripts/test-plugin.sh)"))
    val rules: JSONObject by lazy { JSONObject(File(dir, "bridge-rules.json").readText()) }

    /** The engine's records as scripts/uniffi-schema.mjs read them from the bindings. */
    val schema: JSONObject by lazy {
        val file = File(dir, "build/uniffi-schema.json")
        check(file.exists()) { "$file is missing: run `npm run schema` in capacitor-plugin (scripts/test-plugin.sh does)" }
        JSONObject(file.readText())
    }
}

/** How a call settled, as the web view receives it (PluginResult's JSON). */
data class Settled(val data: JSONObject?, val error: JSONObject?) {
    val code: String? get() = error?.optString("code")
    val message: String? get() = error?.optString("message")

    fun ok(): JSONObject {
        check(error == null) { "the call was rejected: $error" }
        return data ?: JSONObject()
    }
}

/** Runs [block] the way PosSyncPlugin does (a real PluginCall through CallRunner) and waits. */
fun CallRunner.settle(args: JSObject = JSObject(), block: suspend (JSObject) -> JSObject?): Settled = runBlocking {
    val done = CompletableDeferred<Settled>()
    val handler = object : MessageHandler() {
        override fun sendResponseMessage(call: PluginCall, successResult: PluginResult?, errorResult: PluginResult?) {
            done.complete(
                Settled(successResult?.let { JSONObject(it.toString()) }, errorResult?.let { JSONObject(it.toString()) }),
            )
        }
    }
    // The web view sends JSON: the call's data is parsed from text, as Capacitor does.
    val call = PluginCall(handler, "PosSync", "cb-1", "test", JSObject(args.toString()))
    run(call, block)
    withTimeout(30_000) { done.await() }
}

/** Records what the plugin asked the OS scheduler. */
class RecordingScheduler : BackgroundScheduler {
    val calls = CopyOnWriteArrayList<String>()
    override fun engineOpened() {
        calls += "engine opened"
    }
    override fun enable(intervalMinutes: Long): Long {
        calls += "enable $intervalMinutes"
        return maxOf(intervalMinutes, 15)
    }
    override fun disable() {
        calls += "disable"
    }
}

/** A PluginCore as PosSyncPlugin builds it, with the events it emits recorded. */
class Harness(
    val dir: Path = Files.createTempDirectory("pos-sync-plugin"),
    listening: Set<String> = setOf(PluginCore.SYNC_STATUS, PluginCore.CONFLICT),
    tokenTimeoutMs: Long = 5_000,
    /** Called on the engine's thread for each event, after it is recorded. */
    private val onEvent: (Harness, String, JSONObject) -> Unit = { _, _, _ -> },
) : AutoCloseable {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    val runner = CallRunner(scope)
    val scheduler = RecordingScheduler()
    val events = CopyOnWriteArrayList<Pair<String, JSONObject>>()
    val core = PluginCore(
        dataDir = dir.toFile(),
        scheduler = scheduler,
        emit = { event, data ->
            val json = JSONObject(data.toString())
            events += event to json
            onEvent(this, event, json)
        },
        hasListeners = { it in listening },
        scope = scope,
        tokenTimeoutMs = tokenTimeoutMs,
    )

    fun call(args: JSObject = JSObject(), block: suspend PluginCore.(JSObject) -> JSObject?): Settled =
        runner.settle(args) { core.block(it) }

    fun open(vararg extra: Pair<String, Any?>): JSONObject = call(
        js("storeId" to "S1", "registerId" to "R1", "deviceId" to "d1", *extra),
    ) { open(it) }.ok()

    fun eventsNamed(name: String): List<JSONObject> = events.filter { it.first == name }.map { it.second }

    fun awaitEvent(name: String, timeoutMs: Long = 10_000, predicate: (JSONObject) -> Boolean): JSONObject {
        val deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs)
        while (System.nanoTime() < deadline) {
            eventsNamed(name).firstOrNull(predicate)?.let { return it }
            Thread.sleep(10)
        }
        throw AssertionError("no '$name' event matched within $timeoutMs ms; saw ${events.map { it.first }}")
    }

    override fun close() {
        runCatching { core.close() }
        scope.cancel()
    }
}

/** A JSObject from pairs (null values become JSON null). */
fun js(vararg pairs: Pair<String, Any?>): JSObject {
    val o = JSObject()
    for ((k, v) in pairs) o.put(k, v ?: JSONObject.NULL)
    return o
}

fun saleJson(id: String, productId: String = "p1", quantity: Int = 1): String =
    """{"id":"$id","lines":[{"product_id":"$productId","quantity":$quantity,"unit_price":250}],"total":${250 * quantity}}"""

/** The reference server as a child process on 127.0.0.1:0 (in-memory database). */
class ReferenceServer(tokens: Map<String, Pair<String, String>>) : AutoCloseable {
    private val dir = Files.createTempDirectory("pos-sync-server")
    private val log = dir.resolve("server.log").toFile()
    private val process: Process
    val url: String

    init {
        val bin = File(System.getProperty("possync.server.bin") ?: error("possync.server.bin is not set"))
        check(bin.canExecute()) { "$bin is missing: cargo build -p pos-sync-server" }
        val file = dir.resolve("tokens.txt")
        Files.writeString(file, tokens.entries.joinToString("") { (t, d) -> "$t ${d.first} ${d.second}\n" })
        process = ProcessBuilder(bin.path, "--listen", "127.0.0.1:0", "--db", ":memory:", "--tokens", file.toString())
            .redirectError(log)
            .start()
        val first = process.inputReader().readLine()
        if (first == null || !first.startsWith("http://127.0.0.1:")) {
            process.destroyForcibly()
            error("the reference server did not start: ${log.readText()}")
        }
        url = first.trim()
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
    }
}
