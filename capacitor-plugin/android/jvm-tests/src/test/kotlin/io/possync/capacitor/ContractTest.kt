package io.possync.capacitor

import com.getcapacitor.JSObject
import io.possync.ChangeRef
import io.possync.Conflict
import io.possync.ConsistencyReport
import io.possync.Customer
import io.possync.EngineConfig
import io.possync.EntityConsistency
import io.possync.EntityQueueCounts
import io.possync.HealthThresholds
import io.possync.IntegrityReport
import io.possync.Price
import io.possync.Product
import io.possync.QueueStats
import io.possync.Sale
import io.possync.SaleReceipt
import io.possync.SyncReport
import io.possync.SyncStatus
import org.json.JSONArray
import org.json.JSONObject
import java.io.File
import kotlin.reflect.KClass
import kotlin.reflect.KType
import kotlin.reflect.full.memberProperties
import kotlin.reflect.full.primaryConstructor
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertSame
import kotlin.test.assertTrue
import kotlin.test.fail

/**
 * The Android converter against the same contract as definitions.ts: for every record the
 * plugin returns, a sample built from the record's own constructor (so a field added to the
 * Rust record is in the sample) is converted, sent through JSON text as the bridge does, and
 * checked field by field under bridge-rules.json. Together with test/types.test.ts (the
 * TypeScript side against the same records) this keeps the three in step.
 */
class ContractTest {
    private val jsonField = Regex(PluginFiles.rules.getString("jsonTextFields"))
    private val int64Field = Regex(PluginFiles.rules.getString("int64AsStringFields"))

    /** Every record the plugin returns, with its converter. */
    private val outputs: Map<KClass<*>, (Any) -> JSObject> = mapOf(
        SaleReceipt::class to { r -> JsConvert.saleReceipt(r as SaleReceipt) },
        ChangeRef::class to { r -> JsConvert.changeRef(r as ChangeRef) },
        Sale::class to { r -> JsConvert.sale(r as Sale) },
        Product::class to { r -> JsConvert.product(r as Product) },
        Price::class to { r -> JsConvert.price(r as Price) },
        Customer::class to { r -> JsConvert.customer(r as Customer) },
        EntityQueueCounts::class to { r -> JsConvert.entityQueueCounts(r as EntityQueueCounts) },
        QueueStats::class to { r -> JsConvert.queueStats(r as QueueStats) },
        SyncStatus::class to { r -> JsConvert.syncStatus(r as SyncStatus) },
        SyncReport::class to { r -> JsConvert.syncReport(r as SyncReport) },
        Conflict::class to { r -> JsConvert.conflict(r as Conflict) },
        EntityConsistency::class to { r -> JsConvert.entityConsistency(r as EntityConsistency) },
        ConsistencyReport::class to { r -> JsConvert.consistencyReport(r as ConsistencyReport) },
        IntegrityReport::class to { r -> JsConvert.integrityReport(r as IntegrityReport) },
    )

    /** Records the app sends (checked in `open's configuration...` below). */
    private val inputs = setOf(EngineConfig::class, HealthThresholds::class)

    @Test
    fun `every exposed record of the engine has a converter`() {
        val notExposed = PluginFiles.rules.getJSONObject("notExposed").getJSONArray("records").let { a ->
            (0 until a.length()).map { a.getString(it) }.toSet()
        }
        val exposed = PluginFiles.schema.getJSONObject("records").keys().asSequence().map { it as String }.toSet() - notExposed
        val covered = (outputs.keys + inputs).map { it.simpleName!! }.toSet()
        assertEquals(exposed.sorted(), covered.sorted())
    }

    @Test
    fun `each record crosses with its fields under the bridge rules`() {
        for ((cls, convert) in outputs) {
            for (nulls in listOf(false, true)) {
                val value = build(cls, nulls)
                val text = convert(value).toString()
                check(value, JSONObject(text), cls.simpleName!!)
            }
        }
    }

    @Test
    fun `64-bit clock values survive as exact decimal strings`() {
        val receipt = SaleReceipt("s", "S1-R1-000001", "c", Long.MAX_VALUE - 1)
        assertEquals((Long.MAX_VALUE - 1).toString(), JSONObject(JsConvert.saleReceipt(receipt).toString()).getString("hlc"))
    }

    @Test
    fun `open's configuration carries every EngineConfig field`() {
        val dir = File("/tmp/pos-sync-contract")
        val base = EngineConfig(databasePath = "", storeId = "", registerId = "", deviceId = "")
        val args = JSObject()
        val expected = mutableMapOf<String, Any?>()
        for (p in EngineConfig::class.primaryConstructor!!.parameters) {
            val name = p.name!!
            val default = EngineConfig::class.memberProperties.first { it.name == name }.get(base)
            val (jsValue, want) = inputValue(name, p.type, default)
            args.put(name, jsValue)
            expected[name] = want
        }
        val config = JsConvert.engineConfig(JSObject(args.toString()), dir)
        for (prop in EngineConfig::class.memberProperties) {
            assertEquals(expected[prop.name], prop.get(config), "EngineConfig.${prop.name}")
        }
        // A relative database path lives in the app's data directory; absent, the default name.
        val relative = JsConvert.engineConfig(js("storeId" to "S", "registerId" to "R", "deviceId" to "D", "databasePath" to "a/b.db"), dir)
        assertEquals(File(dir, "a/b.db").path, relative.databasePath)
        val plain = JsConvert.engineConfig(js("storeId" to "S", "registerId" to "R", "deviceId" to "D"), dir)
        assertEquals(File(dir, JsConvert.DEFAULT_DATABASE).path, plain.databasePath)
        assertEquals(base.copy(databasePath = plain.databasePath, storeId = "S", registerId = "R", deviceId = "D"), plain)
    }

    @Test
    fun `bad configuration values name the field`() {
        val base = arrayOf<Pair<String, Any?>>("storeId" to "S", "registerId" to "R", "deviceId" to "D")
        val cases = listOf(
            js(*base, "uploadBatchSize" to 2.5) to "'uploadBatchSize' must be a whole number",
            js(*base, "compression" to "zip") to "'compression' must be one of none, fast, best, not 'zip'",
            js("storeId" to "S", "registerId" to "R") to "'deviceId' is required",
            js(*base, "serverUrl" to 42) to "'serverUrl' must be a string",
            js(*base, "health" to "high") to "'health' must be an object",
        )
        for ((args, message) in cases) {
            val e = runCatching { JsConvert.engineConfig(args, File("/tmp")) }.exceptionOrNull()
            assertTrue(e is InvalidArgument && e.message == message, "expected '$message', got $e")
        }
    }

    // ------------------------------------------------------------------ samples and checks

    private fun inputValue(name: String, type: KType, default: Any?): Pair<Any, Any?> {
        val cls = type.classifier as KClass<*>
        return when {
            name == "databasePath" -> "/data/till/pos.db" to "/data/till/pos.db"
            cls == String::class -> "v-$name" to "v-$name"
            cls == Long::class -> ((default as Long) + 1).let { it to it }
            cls.java.isEnum -> cls.java.enumConstants.last().let { (it as Enum<*>).name.lowercase() to it }
            cls == HealthThresholds::class -> {
                val base = HealthThresholds()
                val o = JSObject()
                val values = HealthThresholds::class.primaryConstructor!!.parameters.associate { p ->
                    val v = (HealthThresholds::class.memberProperties.first { it.name == p.name }.get(base) as Long) + 1
                    o.put(p.name!!, v)
                    p to v
                }
                o to HealthThresholds::class.primaryConstructor!!.callBy(values)
            }
            else -> fail("no input value for EngineConfig.$name of type $type")
        }
    }

    private fun build(cls: KClass<*>, nulls: Boolean): Any {
        val ctor = cls.primaryConstructor ?: fail("${cls.simpleName} has no primary constructor")
        return ctor.callBy(ctor.parameters.associateWith { sample(it.type, it.name!!, nulls) })
    }

    private fun sample(type: KType, name: String, nulls: Boolean): Any? {
        if (type.isMarkedNullable && nulls) return null
        val cls = type.classifier as KClass<*>
        return when {
            cls == String::class -> if (jsonField.matches(name)) """{"field":"$name","n":1.5,"list":[1,2]}""" else "s-$name"
            // Past 2^53: a JavaScript number could not hold it exactly.
            cls == Long::class -> (1L shl 60) + name.length
            cls == Boolean::class -> true
            cls == List::class -> listOf(sample(type.arguments.single().type!!, name, nulls), sample(type.arguments.single().type!!, name, nulls))
            cls.java.isEnum -> cls.java.enumConstants.last()
            cls.isData -> build(cls, nulls)
            else -> fail("no sample for $name: $type")
        }
    }

    private fun check(value: Any?, js: Any?, path: String, name: String = path.substringAfterLast('.')) {
        if (value == null) {
            assertSame(JSONObject.NULL, js, "$path: null crosses as JSON null")
            return
        }
        when (value) {
            is String -> assertEquals(value, js, "$path (a JSON document crosses as its text)")
            is Long -> if (int64Field.matches(name)) {
                assertEquals(value.toString(), js, "$path: a 64-bit value crosses as a decimal string")
            } else {
                assertTrue(js is Number, "$path: a number, not $js")
                assertEquals(value, (js as Number).toLong(), path)
            }
            is Boolean -> assertEquals(value, js, path)
            is Enum<*> -> assertEquals(value.name.lowercase(), js, "$path: enums cross as lower-case names")
            is List<*> -> {
                assertTrue(js is JSONArray, "$path: an array, not $js")
                assertEquals(value.size, js.length(), path)
                value.forEachIndexed { i, v -> check(v, js.get(i), "$path[$i]", name) }
            }
            else -> {
                val cls = value::class
                assertTrue(cls.isData, "$path: unexpected ${cls.simpleName}")
                assertTrue(js is JSONObject, "$path: an object, not $js")
                val fields = cls.primaryConstructor!!.parameters.map { it.name!! }
                assertEquals(fields.sorted(), js.keys().asSequence().map { it as String }.toList().sorted(), "$path: the keys are the record's fields")
                for (f in fields) {
                    check(cls.memberProperties.first { it.name == f }.getter.call(value), js.get(f), "$path.$f")
                }
            }
        }
    }
}
