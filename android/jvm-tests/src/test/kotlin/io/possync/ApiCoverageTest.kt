package io.possync

import java.io.File
import kotlin.test.Test
import kotlin.test.assertTrue

/**
 * Keeps the promise that the JVM tests call every exported function: each method of the
 * generated interfaces and each top-level binding function must be called somewhere in the
 * tests (directly or through the same-named PosSync facade method). A function added to
 * src/api.rs without a Kotlin test fails here.
 */
class ApiCoverageTest {
    private val testSources: String = File("src/test/kotlin").walk()
        .filter { it.isFile && it.extension == "kt" && it.name != "ApiCoverageTest.kt" }
        .joinToString("\n") { it.readText() }

    private fun exported(type: Class<*>): Set<String> =
        type.declaredMethods.map { it.name.substringBefore('-') }.filterNot { it.startsWith("access$") }.toSet()

    @Test
    fun `every exported function is called by a test`() {
        val functions = exported(SyncEngineInterface::class.java) +
            exported(TaskHandleInterface::class.java) +
            exported(SyncStatusListener::class.java) +
            exported(TokenProvider::class.java) +
            setOf("open", "entityTypeFromName", "posSyncVersion", "close")
        assertTrue(functions.size > 40, "found only ${functions.size}: $functions")
        val missing = functions.filterNot { name ->
            Regex("""\b${Regex.escape(name)}\s*[({]""").containsMatchIn(testSources) ||
                // Listener and provider methods are implemented by the tests, not called.
                Regex("""override fun ${Regex.escape(name)}\(""").containsMatchIn(testSources) ||
                Regex("""\b${Regex.escape(name)}\s*=""").containsMatchIn(testSources)
        }
        assertTrue(missing.isEmpty(), "exported but never exercised by a JVM test: $missing")
    }
}
