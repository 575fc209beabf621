package io.possync

import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.Collections
import kotlin.test.Test
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** Bearer tokens: a refused token, a provider asked again after a 401, a provider that fails. */
class AuthTest {
    @TempDir
    lateinit var dir: Path
    private val server get() = ReferenceServer.shared

    @Test
    fun `a wrong static token ends the cycle with AUTH_ERROR, which background work does not retry`() = blocking {
        PosSync.open(testConfig(dir, server = server, token = "not-a-token")).use { pos ->
            pos.recordSale(saleJson("s1"))
            val report = pos.syncNow()
            assertEquals(SyncOutcome.AUTH_ERROR, report.outcome)
            assertContains(assertNotNull(report.error), "authentication failed")
            assertEquals(1, report.remaining)
            assertEquals(SyncPhase.ERROR, pos.status().phase)
            assertNotNull(pos.status().lastError)
            val decision = BackgroundSyncPolicy.decide(report, System.currentTimeMillis())
            assertEquals(WorkResult.FAILURE, decision.result)
            assertContains(decision.reason, "token")
            assertTrue(pos.syncLog().any { it.status == "FAILED" && it.errorMessage != null })
        }
    }

    @Test
    fun `the token provider is asked again after a 401`() = blocking {
        val device = ReferenceServer.newDevice()
        PosSync.open(testConfig(dir, device, server, token = "expired")).use { pos ->
            val asked = Collections.synchronizedList(mutableListOf<Boolean>())
            pos.setTokenProvider { refresh ->
                asked += refresh
                if (refresh) device.token else "expired"
            }
            pos.recordSale(saleJson("s1"))
            val report = pos.syncNow()
            assertEquals(SyncOutcome.COMPLETED, report.outcome, report.error)
            assertEquals(1, report.uploaded)
            assertEquals(false, asked.first())
            assertTrue(true in asked, "refresh = true after the 401: $asked")
            assertEquals(setOf("s1"), server.ids(device.storeId, "sale"))
        }
    }

    @Test
    fun `a provider that cannot supply a token fails the sync with its message`() = blocking {
        PosSync.open(testConfig(dir, server = server, token = "expired")).use { pos ->
            pos.setTokenProvider { refresh ->
                if (refresh) throw IllegalStateException("the cashier must sign in again") else "expired"
            }
            pos.recordSale(saleJson("s1"))
            val report = pos.syncNow()
            assertEquals(SyncOutcome.AUTH_ERROR, report.outcome, report.toString())
            assertContains(assertNotNull(report.error), "the cashier must sign in again")
            assertEquals(1, report.remaining)
            // Nothing was sent: the sale waits as PENDING, no attempt counted.
            assertEquals(1, pos.queueStats().pending)
        }
    }

    @Test
    fun `a raw provider throwing TokenException ends the sync as an auth error`() = blocking {
        PosSync.open(testConfig(dir, server = server, token = "expired")).use { pos ->
            pos.engine.setTokenProvider(
                object : TokenProvider {
                    override suspend fun token(refresh: Boolean): String =
                        if (refresh) throw TokenException.Unavailable("no session") else "expired"
                },
            )
            pos.recordSale(saleJson("s1"))
            val report = pos.syncNow()
            assertEquals(SyncOutcome.AUTH_ERROR, report.outcome, report.toString())
            assertContains(assertNotNull(report.error), "no session")
            assertEquals(0, pos.queueStats().syncing)
            assertEquals(1, pos.queueStats().pending)
        }
    }
}
