package io.possync

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertSame
import kotlin.test.assertTrue

/** One engine per process, shared by the app and the background worker. */
class EngineHolderTest {
    @TempDir
    lateinit var dir: Path

    @AfterEach
    fun reset() = EngineHolder.reset()

    @Test
    fun `the engine opens once, lazily, and is shared`() = blocking {
        EngineHolder.reset()
        assertFalse(EngineHolder.isConfigured)
        val e = assertFailsWith<IllegalStateException> { EngineHolder.engine() }
        assertContains(e.message!!, "EngineHolder.configure")

        val configs = AtomicInteger()
        val opened = AtomicInteger()
        EngineHolder.configure(config = { configs.incrementAndGet(); testConfig(dir) }, onOpen = { opened.incrementAndGet() })
        assertTrue(EngineHolder.isConfigured)
        assertNull(EngineHolder.openedOrNull())
        val app = EngineHolder.engine()
        val worker = EngineHolder.openBlocking()
        assertSame(app, worker)
        assertSame(app, EngineHolder.openedOrNull())
        assertEquals(1, configs.get())
        assertEquals(1, opened.get())

        // Configuring again once open changes nothing.
        EngineHolder.configure(config = { error("not used") })
        assertSame(app, EngineHolder.engine())

        app.recordSale(saleJson("s1"))
        assertNotNull(worker.getSale("s1"))
    }

    @Test
    fun `a failing setup does not leave a half-open engine`() = blocking {
        EngineHolder.configure(config = { testConfig(dir) }, onOpen = { error("token store locked") })
        assertFailsWith<IllegalStateException> { EngineHolder.engine() }
        assertNull(EngineHolder.openedOrNull())
        EngineHolder.reset()
        EngineHolder.configure(config = { testConfig(dir).copy(uploadBatchSize = 0) })
        assertFailsWith<PosSyncException.InvalidInput> { EngineHolder.engine() }
    }
}
