package io.possync

import org.junit.jupiter.api.condition.EnabledIfSystemProperty
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertNotNull

/**
 * The FFI cost for docs/benchmarks.md: engine calls through the Kotlin bindings (JNA) on the
 * JVM, timed per call. Skipped in `make test`; the benchmark harness (benches/e2e.rs, run by
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
        File(System.getProperty("possync.bench.out"))
            .writeText("""{"version_ns":$version,"barcode_ns":$lookup,"catalog":$n}""")
        engine.close()
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
