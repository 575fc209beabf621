package io.possync

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertFailsWith
import kotlin.test.assertIs
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Bad input becomes a typed Kotlin exception with the engine's sentence, and changes nothing. */
class ErrorsTest {
    @TempDir
    lateinit var dir: Path
    private lateinit var pos: PosSync

    @BeforeEach
    fun open() = blocking { pos = PosSync.open(testConfig(dir)) }

    @AfterEach
    fun close() = pos.close()

    @Test
    fun `a sale without lines is InvalidInput and nothing is queued`() = blocking {
        val e = assertFailsWith<PosSyncException.InvalidInput> { pos.recordSale("""{"id":"s1","lines":[]}""") }
        // What a Kotlin user reads: the sentence, the code and the offending field, typed.
        assertEquals("invalid input: the sale has no lines", e.reason)
        assertEquals(e.reason, e.reason())
        assertEquals(e.reason, e.toString())
        assertEquals("INVALID_INPUT", e.code())
        assertEquals("lines", e.field)
        assertFalse(e.isTransient())
        assertIs<PosSyncException>(e)
        assertIs<Exception>(e)
        assertNull(pos.getSale("s1"))
        assertEquals(0, pos.queueStats().pending)
    }

    @Test
    fun `malformed and incomplete documents name the problem`() = blocking {
        val cases = mapOf(
            "{not json" to "sale",
            """{"lines":[{"product_id":"p","quantity":1}]}""" to "'id'",
            """{"id":"s","lines":[{"quantity":1}]}""" to "product_id",
            """{"id":"s","lines":[{"product_id":"p","quantity":"2"}]}""" to "quantity",
            """[1,2]""" to "object",
        )
        for ((json, mentions) in cases) {
            val e = assertFailsWith<PosSyncException.InvalidInput>(json) { pos.recordSale(json) }
            assertContains(e.message!!, mentions, ignoreCase = true, message = "for $json: ${e.message}")
        }
        assertFailsWith<PosSyncException.InvalidInput> { pos.recordStockAdjustment("""{"id":"a1","product_id":"p1"}""") }
        assertFailsWith<PosSyncException.InvalidInput> { pos.createCustomer("""{"name":"No Id"}""") }
        assertFailsWith<PosSyncException.InvalidInput> { pos.importProducts("""{"id":"p1"}""") }
        assertFailsWith<PosSyncException.InvalidInput> { pos.putReport("daily", "not json") }
        assertEquals(0, pos.queueStats().pending)
    }

    @Test
    fun `a recorded sale cannot change under the same id`() = blocking {
        pos.recordSale(saleJson("s1"))
        val e = assertFailsWith<PosSyncException.InvalidInput> { pos.recordSale(saleJson("s1", quantity = 5)) }
        assertContains(e.message!!, "s1")
        assertEquals(1, pos.queueStats().pending)
    }

    @Test
    fun `an oversized payload is PayloadTooLarge`() = blocking {
        val note = "x".repeat(2 * 1024 * 1024)
        val e = assertFailsWith<PosSyncException.PayloadTooLarge> {
            pos.recordSale("""{"id":"big","lines":[{"product_id":"p1","quantity":1}],"note":"$note"}""")
        }
        assertTrue(e.reason().startsWith("payload too large: "), e.reason())
        assertNull(pos.getSale("big"))
    }

    @Test
    fun `unknown things are NotFound`() = blocking {
        assertFailsWith<PosSyncException.NotFound> { pos.rollback("no-such-run") }
            .also { assertContains(it.message!!, "no-such-run") }
        assertFailsWith<PosSyncException.NotFound> { pos.updateCustomer("""{"id":"ghost","name":"G"}""") }
    }

    @Test
    fun `a bad configuration is refused with the field's name`() = blocking {
        val bad = assertFailsWith<PosSyncException.InvalidInput> {
            SyncEngine.open(testConfig(dir).copy(uploadBatchSize = 0))
        }
        assertContains(bad.reason, "upload_batch_size")
        assertEquals("upload_batch_size", bad.field)
        assertFailsWith<PosSyncException.InvalidInput> { SyncEngine.open(testConfig(dir).copy(storeId = "")) }
        val http = assertFailsWith<PosSyncException> {
            SyncEngine.open(testConfig(dir).copy(serverUrl = "http://pos.example.com", authToken = "t"))
        }
        assertContains(http.message!!, "https")
    }

    @Test
    fun `limits are signed and a negative one is InvalidInput naming it`() = blocking {
        val e = assertFailsWith<PosSyncException.InvalidInput> { pos.searchProducts("x", limit = -1) }
        assertEquals("limit", e.field)
        assertEquals(20L, defaultListLimit())
        assertTrue(pos.searchProducts("x", limit = 0).isEmpty())
    }
}
