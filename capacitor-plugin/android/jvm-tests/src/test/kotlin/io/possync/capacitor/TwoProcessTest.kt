package io.possync.capacitor

import io.possync.EngineConfig
import io.possync.SyncEngine
import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * A second opener of the same database file cannot corrupt it. Inside one process the engine
 * registry hands out the same engine (tests/plugin_bridge.rs); across processes (the app and, say, a
 * WorkManager worker in a `:background` process) SQLite's WAL locking and the engine's busy
 * timeout serialise the writers. Here two JVMs record sales into one file at the same time.
 */
class TwoProcessTest {
    @Test
    fun `two processes selling into one database file`() {
        val db = Files.createTempDirectory("pos-sync-2p").resolve("till.db").toString()
        val java = File(System.getProperty("java.home"), "bin/java").path
        val child = ProcessBuilder(
            java,
            "-cp", System.getProperty("java.class.path"),
            "-Duniffi.component.pos_sync.libraryOverride=" + System.getProperty("uniffi.component.pos_sync.libraryOverride"),
            SecondTill::class.java.name, db, "child", "$SALES",
        ).redirectErrorStream(true).start()
        val mine = SecondTill.sell(db, "parent", SALES)
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the second process did not finish")
        val output = child.inputReader().readText()
        assertEquals(0, child.exitValue(), output)
        val theirs = output.lines().filter { it.startsWith("receipt ") }.map { it.removePrefix("receipt ") }

        val engine = SyncEngine.open(SecondTill.config(db))
        assertEquals(2L * SALES, engine.queueStats().pending)
        val receipts = mine + theirs
        assertEquals(2 * SALES, receipts.toSet().size, "no receipt number issued twice")
        assertEquals((1..2 * SALES).map { "S1-R1-%06d".format(it) }, receipts.sorted(), "gapless")
        val check = engine.integrityCheck()
        assertTrue(check.ok, check.problems.toString())
        engine.close()
    }

    companion object {
        const val SALES = 150
    }
}

/** The second process: records [args] sales into the file and prints their receipts. */
object SecondTill {
    fun config(db: String) = EngineConfig(databasePath = db, storeId = "S1", registerId = "R1", deviceId = "d1")

    fun sell(db: String, who: String, count: Int): List<String> {
        val engine = SyncEngine.open(config(db))
        val receipts = (1..count).map { i -> engine.recordSale(saleJson("$who-$i")).receiptNumber }
        engine.close()
        return receipts
    }

    @JvmStatic
    fun main(args: Array<String>) {
        for (r in sell(args[0], args[1], args[2].toInt())) println("receipt $r")
    }
}
