package io.possync.capacitor

import io.possync.PosSyncException
import kotlinx.coroutines.CancellationException
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.reflect.full.primaryConstructor
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

class JsErrorsTest {
    @Test
    fun `every engine error variant has the stable code of the Rust PosSyncError code()`() {
        val variants = PosSyncException::class.sealedSubclasses
        assertEquals(13, variants.size, "the bindings' error variants: ${variants.map { it.simpleName }}")
        for (variant in variants) {
            val e = variant.primaryConstructor!!.call("the engine's message") as PosSyncException
            val expected = variant.simpleName!!.replace(Regex("([a-z0-9])([A-Z])"), "$1_$2").uppercase()
            assertEquals(JsError(expected, "the engine's message"), JsErrors.of(e))
        }
    }

    @Test
    fun `plugin failures have codes too`() {
        assertEquals(JsError("INVALID_INPUT", "invalid input: 'saleJson' is required"), JsErrors.of(InvalidArgument("'saleJson' is required")))
        assertEquals("NOT_CONFIGURED", JsErrors.of(NotOpen()).code)
        assertEquals("CANCELLED", JsErrors.of(CancellationException("gone")).code)
        val internal = JsErrors.of(IllegalStateException("boom"))
        assertEquals("INTERNAL", internal.code)
        assertTrue(internal.message.contains("IllegalStateException: boom"), internal.message)
    }
}

class TokenBrokerTest {
    private val requests = CopyOnWriteArrayList<Boolean>()

    private fun broker(listening: Boolean = true, timeoutMs: Long = 2_000) =
        TokenBroker(timeoutMs, hasListener = { listening }, request = { refresh, _ -> requests += refresh })

    @Test
    fun `a current token is answered at once, without asking the app`() {
        val b = broker()
        b.set("t1")
        assertEquals("t1", b.token(refresh = false))
        assertEquals(emptyList(), requests)
    }

    @Test
    fun `a refused token is refreshed through the app`() {
        val b = broker()
        b.set("old")
        val pool = Executors.newSingleThreadExecutor()
        val answer = pool.submit<String> { b.token(refresh = true) }
        while (requests.isEmpty()) Thread.sleep(5)
        b.set("new")
        assertEquals("new", answer.get(5, TimeUnit.SECONDS))
        assertEquals(listOf(true), requests)
        pool.shutdown()
    }

    @Test
    fun `no token yet, the app is asked, and its first setToken answers`() {
        val b = broker()
        val pool = Executors.newSingleThreadExecutor()
        val answer = pool.submit<String> { b.token(refresh = false) }
        while (requests.isEmpty()) Thread.sleep(5)
        b.set("first")
        assertEquals("first", answer.get(5, TimeUnit.SECONDS))
        assertEquals(listOf(false), requests)
        pool.shutdown()
    }

    @Test
    fun `without an answer the stale token is used, or the request fails with a reason`() {
        val b = broker(timeoutMs = 100)
        assertFailsWith<IllegalStateException> { b.token(refresh = false) }.also {
            assertEquals("no token: the app did not answer 'tokenRequested' within 100 ms", it.message)
        }
        b.set("stale")
        assertEquals("stale", b.token(refresh = true))
    }

    @Test
    fun `setToken(null) answers a request with no token`() {
        val b = broker()
        val pool = Executors.newSingleThreadExecutor()
        val answer = pool.submit<Result<String>> { runCatching { b.token(refresh = true) } }
        while (requests.isEmpty()) Thread.sleep(5)
        b.set(null)
        assertEquals("no token: the app answered setToken(null)", answer.get(5, TimeUnit.SECONDS).exceptionOrNull()?.message)
        pool.shutdown()
    }

    @Test
    fun `nobody listening, no wait`() {
        val b = broker(listening = false, timeoutMs = 60_000)
        val started = System.nanoTime()
        assertFailsWith<IllegalStateException> { b.token(refresh = false) }
        b.set("t")
        assertEquals("t", b.token(refresh = true))
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5))
        assertEquals(emptyList(), requests)
    }
}
