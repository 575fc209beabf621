package io.possync.capacitor

import org.json.JSONObject
import java.io.File
import java.security.GeneralSecurityException
import kotlin.test.AfterTest
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * Secrets never in a plain file: the saved background state holds neither the bearer token nor
 * the database key, which live sealed in the [SecretStore] (AES-GCM under a key the
 * AndroidKeyStore keeps on a device, an in-memory key here). A state file of plugin 0.1, which
 * held both in clear, is migrated on first use and deleted.
 */
class SecretStorageTest {
    private val harnesses = mutableListOf<Harness>()

    @AfterTest
    fun close() = harnesses.forEach { it.close() }

    private fun harness(dir: java.nio.file.Path? = null) =
        (if (dir == null) Harness() else Harness(dir = dir)).also { harnesses += it }

    @Test
    fun `the saved state contains neither the token nor the key`() {
        val h = harness()
        h.open("serverUrl" to "http://127.0.0.1:9", "authToken" to "token-from-open-SECRET")
        h.call("setToken", js("token" to "token-rotated-SECRET")).ok()
        val files = h.everyFileText()
        assertTrue(files.contains("\"storeId\":\"S1\""), "the state file is written")
        assertFalse(files.contains("SECRET"), "a token reached a plain file")
        assertEquals("token-rotated-SECRET", h.secrets.load("authToken"), "it is in the sealed store")
        // The background worker's configuration comes back with the token kept out of it.
        val saved = h.bridge.savedConfig()!!
        assertNull(saved.authToken)
        assertEquals("http://127.0.0.1:9", saved.serverUrl)
    }

    @Test
    fun `a plain state file of plugin 0_1 is moved into the sealed store and deleted`() {
        val dir = java.nio.file.Files.createTempDirectory("pos-sync-0.1")
        val legacy = File(dir.toFile(), "pos-sync-plugin.json")
        legacy.writeText(
            JSONObject()
                .put("config", js("storeId" to "S1", "registerId" to "R1", "deviceId" to "d1", "encryptionKey" to "key-SECRET"))
                .put("token", "token-SECRET")
                .toString(),
        )
        val h = harness(dir)
        val config = h.bridge.savedConfig()!!
        assertEquals("key-SECRET", config.encryptionKey, "the key comes back from the sealed store")
        assertFalse(legacy.exists(), "the plain file is deleted")
        assertFalse(h.everyFileText().contains("SECRET"), "no secret is left in a plain file")
        assertEquals("token-SECRET", h.secrets.load("authToken"))
    }

    @Test
    fun `a sealed secret opens only with its key and untouched`() {
        val h = harness()
        h.secrets.save("authToken", "t-1")
        assertEquals("t-1", h.secrets.load("authToken"))
        val file = File(h.dir.toFile(), "${PluginHost.SECRETS_DIR}/authToken.sealed")
        assertFalse(String(file.readBytes(), Charsets.ISO_8859_1).contains("t-1"))
        val otherKey = SecretStore(file.parentFile) { memoryKey() }
        assertFailsWith<GeneralSecurityException> { otherKey.load("authToken") }
        val bytes = file.readBytes()
        bytes[bytes.size - 1] = (bytes[bytes.size - 1].toInt() xor 1).toByte()
        file.writeBytes(bytes)
        assertFailsWith<GeneralSecurityException> { h.secrets.load("authToken") }
        h.secrets.delete("authToken")
        assertNull(h.secrets.load("authToken"))
        assertFailsWith<IllegalArgumentException> { h.secrets.save("../escape", "x") }
    }

    @Test
    fun `close forgets the state and the secrets`() {
        val h = harness()
        h.open("authToken" to "t-1")
        h.call("close").ok()
        assertNull(h.bridge.savedConfig())
        assertNull(h.secrets.load("authToken"))
        assertEquals("NOT_OPEN", h.call("getStatus").code)
    }
}
