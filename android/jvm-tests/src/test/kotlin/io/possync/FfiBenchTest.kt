package io.possync

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.condition.EnabledIfSystemProperty
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNotNull

/**
 * The FFI cost for docs/benchmarks.md: engine calls through the Kotlin bindings (JNA) on the
 * JVM, timed per call, and the same lookup as the Capacitor plugin makes it: through the Rust
 * plugin bridge (JSON text in and out, as `CallForwarder` calls it) beside the Kotlin wrapper
 * on the same engine. Skipped in `make test`; the benchmark harness (benches/e2e.rs, run by
 * `make bench`) runs it with `-Dpossync.bench.out=FILE` and the release library, and times
 * the same calls on the same catalog in Rust.
 */
class FfiBenchTest {
    @TempDir
    lateinit var dir: Path

    @Test
    @EnabledIfSystemProperty(named = "possync.bench.out", matches = ".+")
    fun `engine calls through the bindings`() {
        val n = CATALOG
        val engine = SyncEngine.open(testConfig(dir))
        // The same catalog benches/e2e.rs builds for its Rust side of the comparison.
        val products = (0 until n).joinToString(",", "[", "]") { i ->
            """{"id":"p$i","sku":"SKU-$i","barcode":"${BARCODE_BASE + i}","name":"Product $i","price":${100 + i}}"""
        }
        assertEquals(n.toLong(), engine.importProducts(products))
        val barcodes = (0 until n).map { (BARCODE_BASE + (it * 7919L) % n).toString() }
        val version = nanosPerCall { posSyncVersion() }
        val lookup = nanosPerCall { i -> assertNotNull(engine.productByBarcode(barcodes[i % n])) }
        val plugin = bridgeAgainstDirect(products, barcodes)
        File(System.getProperty("possync.bench.out")).writeText(
            """{"version_ns":$version,"barcode_ns":$lookup,"catalog":$n,""" +
                """"plugin_direct_ns":${plugin.binding},"plugin_bridge_ns":${plugin.bridge},""" +
                """"plugin_wrapper_io_ns":${plugin.wrapperOnIo},"plugin_bridge_io_ns":${plugin.bridgeOnIo}}""",
        )
        engine.close()
    }

    /** Nanoseconds per lookup: on the calling thread, and from a coroutine through Dispatchers.IO. */
    private class PluginFigures(val binding: Double, val bridge: Double, val wrapperOnIo: Double, val bridgeOnIo: Double)

    /**
     * A lookup through the plugin's bridge (`callBlocking`, JSON text out, as `CallForwarder`
     * calls it) and through the binding, on the engine the bridge opened (reached as the
     * background worker does, through `savedConfig`), same catalog: first both on the calling
     * thread, then both as an app's coroutine makes them, through Dispatchers.IO (the forwarder
     * on its IO scope; the Kotlin wrapper `PosSync`).
     */
    private fun bridgeAgainstDirect(products: String, barcodes: List<String>): PluginFigures {
        val bridge = PluginBridge(BenchHost(dir.resolve("plugin").toFile()))
        val config = testConfig(dir)
        bridge.callBlocking(
            "open",
            """{"databasePath":"${config.databasePath}","storeId":"${config.storeId}",""" +
                """"registerId":"${config.registerId}","deviceId":"${config.deviceId}"}""",
        )
        val app = PosSync(SyncEngine.open(assertNotNull(bridge.savedConfig())))
        val n = barcodes.size
        assertEquals(n.toLong(), app.engine.importProducts(products))
        fun throughBridge(i: Int) {
            val json = bridge.callBlocking("productByBarcode", """{"barcode":"${barcodes[i % n]}"}""")
            check(json.startsWith("{")) { "no product in $json" }
        }
        val figures = PluginFigures(
            binding = nanosPerCall { i -> assertNotNull(app.engine.productByBarcode(barcodes[i % n])) },
            bridge = nanosPerCall(::throughBridge),
            wrapperOnIo = nanosPerCall { i -> runBlocking { assertNotNull(app.productByBarcode(barcodes[i % n])) } },
            bridgeOnIo = nanosPerCall { i -> runBlocking { withContext(Dispatchers.IO) { throughBridge(i) } } },
        )
        app.close()
        bridge.callBlocking("close", "{}")
        return figures
    }

    /** A plugin host with nothing to schedule and no listeners: the bench times the calls. */
    private class BenchHost(private val dataDir: File) : BridgeHost {
        private val secrets = mutableMapOf<String, String>()
        override fun emit(event: String, dataJson: String) {}
        override fun hasListeners(event: String) = false
        override fun dataDir(): String = dataDir.apply { mkdirs() }.path
        override fun loadSecret(name: String) = secrets[name]
        override fun saveSecret(name: String, value: String) { secrets[name] = value }
        override fun deleteSecret(name: String) { secrets.remove(name) }
        override fun scheduleBackgroundSync(intervalMinutes: Long): Long =
            throw HostException.NotConfigured("no background sync in the bench")
        override fun cancelBackgroundSync() {}
        override fun engineOpened() {}
        override fun engineClosed() {}
    }

    /** Median over 7 rounds of [ROUND] calls, after a JIT warm-up, in nanoseconds per call. */
    private fun nanosPerCall(call: (Int) -> Unit): Double {
        repeat(3 * ROUND) { call(it) }
        val rounds = (0 until 7).map {
            val start = System.nanoTime()
            repeat(ROUND) { i -> call(i) }
            (System.nanoTime() - start).toDouble() / ROUND
        }
        return rounds.sorted()[3]
    }

    private companion object {
        const val CATALOG = 10_000
        const val ROUND = 20_000
        const val BARCODE_BASE = 4_000_000_000_000L
    }
}
