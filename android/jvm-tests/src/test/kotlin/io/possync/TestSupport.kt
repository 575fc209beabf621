package io.possync

import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration as JavaDuration
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/** A device the reference server knows: its bearer token, device id and store. */
data class Device(val token: String, val deviceId: String, val storeId: String)

/**
 * The reference server (`target/debug/pos-sync-server`) as a child process on 127.0.0.1:0,
 * with an in-memory database, a tokens file and the admin routes enabled.
 */
class ReferenceServer private constructor(
    private val process: Process,
    val url: String,
    private val log: File,
) : AutoCloseable {

    private val http = HttpClient.newBuilder().connectTimeout(JavaDuration.ofSeconds(5)).build()

    /** Server-side upsert of master data (`product`, `price`, `customer`, `report`). */
    fun put(store: String, entityType: String, jsonArray: String): JsonArray =
        Json.parseToJsonElement(admin("PUT", "/admin/stores/$store/records/$entityType", jsonArray)).jsonArray

    /** Live records of a type in a store, as the server holds them. */
    fun records(store: String, entityType: String): List<JsonObject> =
        Json.parseToJsonElement(admin("GET", "/admin/stores/$store/records/$entityType", null))
            .jsonArray.map { it.jsonObject }

    /** The ids of the live records of a type. */
    fun ids(store: String, entityType: String): Set<String> =
        records(store, entityType).map { it["entity_id"]!!.jsonPrimitive.content }.toSet()

    /** Writes a server-side tombstone. */
    fun delete(store: String, entityType: String, id: String) {
        admin("DELETE", "/admin/stores/$store/records/$entityType/$id", null)
    }

    private fun admin(method: String, path: String, body: String?): String {
        val request = HttpRequest.newBuilder(URI.create(url + path))
            .timeout(JavaDuration.ofSeconds(10))
            .header("Authorization", "Bearer $ADMIN_TOKEN")
            .header("Content-Type", "application/json")
            .method(
                method,
                body?.let { HttpRequest.BodyPublishers.ofString(it) } ?: HttpRequest.BodyPublishers.noBody(),
            )
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() in 200..299) {
            "$method $path answered ${response.statusCode()}: ${response.body()}"
        }
        return response.body()
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
    }

    /** What the server wrote to stderr, for failure messages. */
    fun log(): String = if (log.exists()) log.readText() else ""

    companion object {
        const val ADMIN_TOKEN = "admin-secret"
        private val counter = AtomicInteger()

        /** A fresh device in a fresh store, so tests sharing a server never see each other. */
        fun newDevice(): Device {
            val n = counter.incrementAndGet()
            check(n <= KNOWN_DEVICES) { "the shared server knows only $KNOWN_DEVICES devices" }
            return Device("token-$n", "dev-$n", "S$n")
        }

        /** How many devices the shared server knows: more than the tests ever create. */
        private const val KNOWN_DEVICES = 1000

        /**
         * One server for the whole test run (it starts in milliseconds, but tests stay
         * independent by using a fresh store per device anyway); stopped when the JVM exits.
         */
        val shared: ReferenceServer by lazy {
            val dir = Files.createTempDirectory("pos-sync-server")
            start(dir, (1..KNOWN_DEVICES).map { Device("token-$it", "dev-$it", "S$it") }).also { server ->
                Runtime.getRuntime().addShutdownHook(Thread { server.close() })
            }
        }

        /** Starts a server that knows [devices]. */
        fun start(dir: Path, devices: List<Device>): ReferenceServer {
            val bin = File(
                System.getProperty("possync.server.bin")
                    ?: error("system property possync.server.bin is not set (run through scripts/test-kotlin.sh)"),
            )
            check(bin.canExecute()) {
                "the reference server is missing at $bin: build it with `cargo build -p pos-sync-server`"
            }
            val tokens = dir.resolve("tokens.txt")
            Files.writeString(tokens, devices.joinToString("\n", postfix = "\n") { "${it.token} ${it.deviceId} ${it.storeId}" })
            val log = dir.resolve("server.log").toFile()
            val process = ProcessBuilder(
                bin.path, "--listen", "127.0.0.1:0", "--db", ":memory:",
                "--tokens", tokens.toString(), "--admin-token", ADMIN_TOKEN,
            ).redirectError(log).start()
            val url = process.inputReader().readLine()
            if (url == null || !url.startsWith("http://127.0.0.1:")) {
                process.destroyForcibly()
                error("the reference server did not print its URL (got '$url'): ${log.readText()}")
            }
            return ReferenceServer(process, url.trim(), log)
        }
    }
}

/** Numbers the test databases so every engine gets its own file. */
private val databases = AtomicInteger()

/** An engine configuration for a device of [server] (or offline when [server] is null). */
fun testConfig(
    dir: Path,
    device: Device = ReferenceServer.newDevice(),
    server: ReferenceServer? = null,
    token: String? = device.token,
): EngineConfig = EngineConfig(
    databasePath = dir.resolve("device-${databases.incrementAndGet()}.db").toString(),
    storeId = device.storeId,
    registerId = "R1",
    deviceId = device.deviceId,
    serverUrl = server?.url,
    authToken = if (server != null) token else null,
    // Fast retries and no reconnect debounce keep the tests quick.
    retryBaseMs = 50,
    retryMaxMs = 1_000,
    networkDebounceMs = 0,
    connectTimeoutMs = 2_000,
    requestTimeoutMs = 10_000,
)

/** A sale of [quantity] × product [productId] at [unitPrice] cents, paid in cash. */
fun saleJson(id: String, productId: String = "p1", quantity: Int = 1, unitPrice: Long = 150): String {
    val total = quantity * unitPrice
    return """{"id":"$id","lines":[{"product_id":"$productId","quantity":$quantity,"unit_price":$unitPrice}],""" +
        """"payments":[{"method":"cash","amount":$total}],"total":$total}"""
}

/** Polls [condition] (a suspend check) until it holds or [timeout] passes. */
suspend fun eventually(timeout: Duration = 10.seconds, what: String = "condition", condition: suspend () -> Boolean) {
    try {
        withTimeout(timeout) {
            while (!condition()) kotlinx.coroutines.delay(20)
        }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("$what did not hold within $timeout", e)
    }
}

/** Runs a test body in a coroutine; always returns Unit (JUnit skips tests that return a value). */
fun blocking(body: suspend kotlinx.coroutines.CoroutineScope.() -> Unit) {
    kotlinx.coroutines.runBlocking(block = body)
}

/**
 * Collects [flow] into an unlimited channel on [scope] (a test's coroutine scope); cancel the
 * returned job when done.
 */
fun <T> kotlinx.coroutines.CoroutineScope.collectInto(
    flow: kotlinx.coroutines.flow.Flow<T>,
): Pair<kotlinx.coroutines.Job, kotlinx.coroutines.channels.Channel<T>> {
    val channel = kotlinx.coroutines.channels.Channel<T>(kotlinx.coroutines.channels.Channel.UNLIMITED)
    val job = launch(kotlinx.coroutines.Dispatchers.Default) { flow.collect { channel.send(it) } }
    return job to channel
}

/** Receives from [channel] until [predicate] matches, within [timeout]; returns the match. */
suspend fun <T> receiveUntil(
    channel: kotlinx.coroutines.channels.ReceiveChannel<T>,
    timeout: Duration = 10.seconds,
    what: String = "event",
    predicate: (T) -> Boolean,
): T {
    val seen = mutableListOf<T>()
    return try {
        withTimeout(timeout) {
            while (true) {
                val value = channel.receive()
                seen += value
                if (predicate(value)) return@withTimeout value
            }
            @Suppress("UNREACHABLE_CODE")
            error("unreachable")
        }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("no $what within $timeout; saw ${seen.size}: ${seen.takeLast(5)}", e)
    }
}
