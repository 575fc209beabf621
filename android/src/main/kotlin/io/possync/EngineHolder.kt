package io.possync

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * The process's one engine, shared by the app, the Capacitor plugin and background workers.
 *
 * The app calls [configure] early (in `Application.onCreate`, which Android runs before any
 * worker of the process); the engine opens lazily on first use, from whichever side needs it
 * first. The Rust side also refuses a second engine with a different configuration for the
 * same database file, so two configurations cannot race each other.
 */
object EngineHolder {
    private var configFactory: (() -> EngineConfig)? = null
    private var onOpen: (PosSync) -> Unit = {}
    private var io: CoroutineDispatcher = Dispatchers.IO

    @Volatile
    private var instance: PosSync? = null

    /**
     * Says how to open the engine: [config] runs once, on first use, off the main thread when
     * reached through [engine]. [onOpen] runs right after opening (set a token provider,
     * start auto sync). Calling it again before the engine opened replaces the settings;
     * after that it is ignored (the engine is already shared).
     */
    @Synchronized
    fun configure(
        config: () -> EngineConfig,
        io: CoroutineDispatcher = Dispatchers.IO,
        onOpen: (PosSync) -> Unit = {},
    ) {
        if (instance != null) return
        this.configFactory = config
        this.io = io
        this.onOpen = onOpen
    }

    /** Whether [configure] was called in this process. */
    val isConfigured: Boolean @Synchronized get() = configFactory != null

    /** The engine, opened on [Dispatchers.IO] if it is not open yet. */
    suspend fun engine(): PosSync = instance ?: withContext(io) { openBlocking() }

    /**
     * The engine, opening it on the calling thread if needed (it opens the database: not on
     * the main thread). Throws [IllegalStateException] before [configure], and the engine's
     * [PosSyncException] if it cannot open.
     */
    fun openBlocking(): PosSync = instance ?: synchronized(this) {
        instance ?: run {
            val factory = checkNotNull(configFactory) {
                "pos-sync is not configured: call EngineHolder.configure { EngineConfig(...) } in Application.onCreate"
            }
            val opened = PosSync(SyncEngine.open(factory()), io)
            try {
                onOpen(opened)
            } catch (e: Throwable) {
                opened.close()
                throw e
            }
            instance = opened
            opened
        }
    }

    /** The engine if it is open, without opening it. */
    fun openedOrNull(): PosSync? = instance

    /**
     * Stops auto sync, releases the engine and forgets the configuration (sign-out, tests).
     * Workers that still hold the old engine finish with it.
     */
    @Synchronized
    fun reset() {
        instance?.let {
            it.stopAutoSync()
            it.close()
        }
        instance = null
        configFactory = null
        onOpen = {}
        io = Dispatchers.IO
    }
}
