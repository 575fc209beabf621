package io.possync.capacitor

import com.getcapacitor.JSObject
import com.getcapacitor.MessageHandler
import com.getcapacitor.PluginCall
import com.getcapacitor.PluginResult
import io.possync.EngineHolder
import io.possync.PluginBridge
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
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

/** How a call settled, as the web view receives it (PluginResult's JSON). */
data class Settled(val data: JSONObject?, val error: JSONObject?) {
    val code: String? get() = error?.optString("code")
    val message: String? get() = error?.optString("message")
    val details: JSONObject? get() = error?.optJSONObject("data")

    /** The bridge's result (`{ result: JSON text }`), parsed; null for `null`. */
    fun ok(): JSONObject? {
        check(error == null) { "the call was rejected: $error" }
        val text = checkNotNull(data).getString("result")
        return if (text == "null") null else JSONObject(text)
    }

    fun okObject(): JSONObject = checkNotNull(ok()) { "the call answered null" }
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

/** An AES key held in memory: the JVM's stand-in for the AndroidKeyStore's. */
fun memoryKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

/**
 * The plugin as PosSyncPlugin builds it (PluginHost, the Rust bridge, CallForwarder), with
 * Capacitor's real PluginCall, the events it emits recorded, and secrets sealed under [key].
 */
class Harness(
    val dir: Path = Files.createTempDirectory("pos-sync-plugin"),
    listening: Set<String> = setOf("syncStatus", "conflict"),
    val key: SecretKey = memoryKey(),
    /** Called on the engine's thread for each event, after it is recorded. */
    private val onEvent: (Harness, String, JSONObject) -> Unit = { _, _, _ -> },
) : AutoCloseable {
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)
    val scheduler = RecordingScheduler()
    val events = CopyOnWriteArrayList<Pair<String, JSONObject>>()
    val secrets = SecretStore(dir.resolve(PluginHost.SECRETS_DIR).toFile()) { key }
    val bridge: PluginBridge = PluginHost.bridge(
        PluginHost(
            dataDir = dir.toFile(),
            secrets = secrets,
            scheduler = scheduler,
            // What notifyListeners sends the web view: { data: JSON text }.
            emit = { event, data ->
                val json = JSONObject(data)
                events += event to json
                onEvent(this, event, json)
            },
            hasListeners = { it in listening },
        ),
    )
    val forwarder = CallForwarder(scope, bridge)

    /** `PosSync.<method>(args)` as the TypeScript client sends it. */
    fun call(method: String, args: JSONObject = JSONObject()): Settled = runBlocking {
        val done = CompletableDeferred<Settled>()
        val handler = object : MessageHandler() {
            override fun sendResponseMessage(call: PluginCall, successResult: PluginResult?, errorResult: PluginResult?) {
                done.complete(Settled(successResult?.let { JSONObject(it.toString()) }, errorResult?.let { JSONObject(it.toString()) }))
            }
        }
        // The web view sends JSON: the call's data is parsed from text, as Capacitor does.
        val data = JSObject(JSONObject().put("method", method).put("args", args.toString()).toString())
        forwarder.forward(PluginCall(handler, "PosSync", "cb-1", "call", data))
        withTimeout(30_000) { done.await() }
    }

    fun open(vararg extra: Pair<String, Any?>): JSONObject =
        call("open", js("storeId" to "S1", "registerId" to "R1", "deviceId" to "d1", *extra)).okObject()

    fun eventsNamed(name: String): List<JSONObject> = events.filter { it.first == name }.map { it.second }

    fun awaitEvent(name: String, timeoutMs: Long = 10_000, predicate: (JSONObject) -> Boolean): JSONObject {
        val deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs)
        while (System.nanoTime() < deadline) {
            eventsNamed(name).firstOrNull(predicate)?.let { return it }
            Thread.sleep(10)
        }
        throw AssertionError("no '$name' event matched within $timeoutMs ms; saw ${events.map { it.first }}")
    }

    /** Every file under the data directory, as bytes decoded leniently: for secret scans. */
    fun everyFileText(): String = dir.toFile().walkTopDown().filter { it.isFile }
        .joinToString("\n") { String(it.readBytes(), Charsets.ISO_8859_1) }

    override fun close() {
        runCatching { call("close") }
        EngineHolder.reset()
        scope.cancel()
        bridge.close()
    }
}

/** A JSON object from pairs (null values become JSON null). */
fun js(vararg pairs: Pair<String, Any?>): JSONObject {
    val o = JSONObject()
    for ((k, v) in pairs) o.put(k, v ?: JSONObject.NULL)
    return o
}

fun sale(id: String, productId: String = "p1", quantity: Int = 1): JSONObject = JSONObject(
    """{"id":"$id","lines":[{"product_id":"$productId","quantity":$quantity,"unit_price":250}],"total":${250 * quantity}}""",
)

fun saleJson(id: String, productId: String = "p1", quantity: Int = 1): String = sale(id, productId, quantity).toString()

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
