package io.possync.capacitor

import java.io.File
import java.security.GeneralSecurityException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Secrets by name (the bridge's `authToken` and `encryptionKey`), each in its own file,
 * sealed with AES-GCM under a key the platform keeps: on Android a key in the AndroidKeyStore
 * ([AndroidKeystoreKey]), which never leaves the keystore, so the files alone are useless.
 * Everything but fetching the key is plain JVM code, tested on the JVM with an in-memory key.
 */
class SecretStore(private val dir: File, private val key: () -> SecretKey) {
    @Synchronized
    fun load(name: String): String? {
        val file = file(name)
        if (!file.exists()) return null
        return String(open(file.readBytes()), Charsets.UTF_8)
    }

    @Synchronized
    fun save(name: String, value: String) {
        dir.mkdirs()
        val tmp = File(dir, "$name.tmp")
        tmp.writeBytes(seal(value.toByteArray(Charsets.UTF_8)))
        if (!tmp.renameTo(file(name))) {
            tmp.delete()
            throw GeneralSecurityException("cannot store the secret '$name'")
        }
    }

    @Synchronized
    fun delete(name: String) {
        file(name).delete()
    }

    private fun file(name: String): File {
        require(NAME.matches(name)) { "not a secret name: '$name'" }
        return File(dir, "$name.sealed")
    }

    /** `iv length (1 byte) | iv | ciphertext with its GCM tag`; the cipher picks the IV. */
    private fun seal(plain: ByteArray): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key())
        val iv = cipher.iv
        return byteArrayOf(iv.size.toByte()) + iv + cipher.doFinal(plain)
    }

    private fun open(sealed: ByteArray): ByteArray {
        val ivLength = sealed.firstOrNull()?.toInt() ?: throw GeneralSecurityException("an empty secret file")
        if (sealed.size < 1 + ivLength) throw GeneralSecurityException("a truncated secret file")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key(), GCMParameterSpec(TAG_BITS, sealed, 1, ivLength))
        return cipher.doFinal(sealed, 1 + ivLength, sealed.size - 1 - ivLength)
    }

    companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        private const val TAG_BITS = 128
        private val NAME = Regex("[A-Za-z0-9_-]{1,64}")
    }
}
