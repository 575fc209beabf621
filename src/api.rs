//! The UniFFI surface: the `SyncEngine` object that Kotlin, Swift and the Capacitor plugin
//! call. Thin on purpose: it converts and delegates to `store` and `sync`. Local operations
//! (record a sale, look a product up) are blocking and fast; network work is `async`
//! (Kotlin `suspend`, Swift `async`).

use crate::error::{Error, PosSyncError, Result};
use crate::model::{Clock, EntityType, SyncState, SystemClock};
use crate::protocol::Resolution;
use crate::runtime::run_on_engine;
use crate::store::catalog::{self, Price, Product, Report};
use crate::store::check::{self, IntegrityReport};
use crate::store::conflicts::{self, Conflict};
use crate::store::customers::{self, Customer};
use crate::store::history::{self, AuditEntry, SyncLogEntry};
use crate::store::pos::{self, ChangeRef, Sale, SaleReceipt};
use crate::store::queue::{
    self, BatchLimits, HealthThresholds, QueueItem, QueueStats, RetryPolicy,
};
use crate::store::state::{self, Identity};
use crate::store::{Durability, Store};
use crate::sync::events::{SyncStatus, SyncStatusListener};
use crate::sync::scheduler::Scheduler;
use crate::sync::{ConsistencyReport, SyncReason, SyncReport, SyncSettings, Syncer};
use crate::transport::{Compression, StaticToken, TokenProvider, Transport, TransportSettings};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

/// What exported calls return: the app's error, converted from the engine's by `?`.
type ApiResult<T> = std::result::Result<T, PosSyncError>;

/// Declares `EngineConfig` and `EngineConfig::new` from one list, so each tunable's default
/// is written once: the same literal becomes the UniFFI default that Kotlin and Swift show
/// (`EngineConfig(databasePath = …, uploadBatchSize = 500, …)`) and the value `new` sets.
macro_rules! engine_config {
    (
        $(#[$doc:meta])*
        pub struct EngineConfig {
            required { $( $(#[$rm:meta])* $required:ident, )* }
            connection { $( $(#[$cm:meta])* $connection:ident: $cty:ty, )* }
            tunables { $( $(#[$tm:meta])* $tunable:ident: $tty:ty = $default:literal, )* }
            options { $( $(#[$om:meta])* $option:ident: $oty:ty, )* }
        }
    ) => {
        $(#[$doc])*
        // The bridge reads it from the app's camelCase JSON; TypeScript sees the fields with a
        // default as optional.
        #[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize, uniffi::Record)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[cfg_attr(test, derive(ts_rs::TS))]
        pub struct EngineConfig {
            $( $(#[$rm])* pub $required: String, )*
            $(
                $(#[$cm])*
                #[uniffi(default)]
                #[cfg_attr(test, ts(optional = nullable))]
                pub $connection: $cty,
            )*
            $(
                $(#[$tm])*
                #[uniffi(default = $default)]
                #[cfg_attr(test, ts(as = "Option<_>", optional))]
                pub $tunable: $tty,
            )*
            $(
                $(#[$om])*
                #[uniffi(default)]
                #[cfg_attr(test, ts(optional = nullable))]
                pub $option: $oty,
            )*
        }

        impl EngineConfig {
            /// A configuration with every optional field at its default.
            pub fn new($($required: &str),*) -> EngineConfig {
                EngineConfig {
                    $( $required: $required.into(), )*
                    $( $connection: None, )*
                    $( $tunable: $default, )*
                    $( $option: None, )*
                }
            }
        }
    };
}

engine_config! {
    /// How to open an engine. Only the first four fields are required.
    pub struct EngineConfig {
        required {
            /// The device database file (created if missing), or `:memory:` for a throwaway one.
            /// Optional through the plugin, which resolves it in the app's data directory.
            #[cfg_attr(test, ts(as = "Option<_>", optional))]
            database_path,
            /// Receipt numbers are `STORE-REGISTER-000001`; both must be unique per till.
            store_id,
            register_id,
            device_id,
        }
        connection {
            /// `https://…` (plain http only to localhost). Without it the engine works offline only.
            server_url: Option<String>,
            /// A fixed bearer token; or call `set_token_provider` for tokens that expire.
            auth_token: Option<String>,
        }
        tunables {
            /// Most changes per upload request.
            upload_batch_size: i64 = 500,
            /// Most payload bytes per upload request.
            upload_batch_bytes: i64 = 2097152,
            /// Upload batches per entity type per cycle before downloads get their turn.
            max_upload_batches_per_cycle: i64 = 20,
            download_page_size: i64 = 1000,
            connect_timeout_ms: i64 = 10000,
            request_timeout_ms: i64 = 30000,
            /// Customer edits on both sides closer than this go to manual review.
            conflict_tie_window_ms: i64 = 2000,
            /// Synced queue rows, sync logs and the audit trail are kept this long.
            retention_days: i64 = 30,
            /// First retry delay of a failed change; doubles per attempt (with jitter).
            retry_base_ms: i64 = 2000,
            retry_max_ms: i64 = 600000,
            /// Wait after the network comes back before syncing (connectivity flaps).
            network_debounce_ms: i64 = 2000,
        }
        options {
            /// Upload compression (default: fast gzip).
            compression: Option<Compression>,
            /// Commit durability (default: `Full`, a recorded sale survives power loss).
            durability: Option<Durability>,
            /// Queue health thresholds (defaults: see `HealthThresholds`).
            health: Option<HealthThresholds>,
            /// Encrypts the database at rest (SQLCipher) under this key; the app keeps the key in
            /// the Android Keystore / iOS Keychain. Needs a build with the cargo feature
            /// `encryption` (otherwise opening fails with `NotConfigured`). An existing plain file
            /// cannot be opened with a key: encrypt it first with `encrypt_database`; change the
            /// key with `rotate_encryption_key`.
            encryption_key: Option<String>,
        }
    }
}

/// Like a derived Debug, but the token and the encryption key never reach a log line.
impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("EngineConfig")
            .field("database_path", &self.database_path)
            .field("store_id", &self.store_id)
            .field("register_id", &self.register_id)
            .field("device_id", &self.device_id)
            .field("server_url", &self.server_url)
            .field("auth_token", &secret(&self.auth_token))
            .field("encryption_key", &secret(&self.encryption_key))
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    fn validate(&self) -> Result<Identity> {
        let key = |field: &str, value: &str| -> Result<String> {
            crate::documents::check_key("engine config", field, value).map(str::to_owned)
        };
        for (name, value, min) in [
            ("upload_batch_size", self.upload_batch_size, 1),
            ("upload_batch_bytes", self.upload_batch_bytes, 1024),
            (
                "max_upload_batches_per_cycle",
                self.max_upload_batches_per_cycle,
                1,
            ),
            ("download_page_size", self.download_page_size, 1),
            ("connect_timeout_ms", self.connect_timeout_ms, 1),
            ("request_timeout_ms", self.request_timeout_ms, 1),
            ("conflict_tie_window_ms", self.conflict_tie_window_ms, 0),
            ("retention_days", self.retention_days, 1),
            ("retry_base_ms", self.retry_base_ms, 1),
            ("retry_max_ms", self.retry_max_ms, 1),
            ("network_debounce_ms", self.network_debounce_ms, 0),
        ] {
            if value < min {
                return Err(Error::invalid_field(
                    name,
                    format!("engine config '{name}' is {value}; it must be at least {min}"),
                ));
            }
        }
        if self.upload_batch_size > crate::protocol::limits::MAX_BATCH_CHANGES as i64 {
            return Err(Error::invalid_field(
                "upload_batch_size",
                format!(
                    "engine config 'upload_batch_size' is {}; the protocol allows at most {}",
                    self.upload_batch_size,
                    crate::protocol::limits::MAX_BATCH_CHANGES
                ),
            ));
        }
        Ok(Identity {
            store_id: key("store_id", &self.store_id)?,
            register_id: key("register_id", &self.register_id)?,
            device_id: key("device_id", &self.device_id)?,
        })
    }

    fn sync_settings(&self) -> SyncSettings {
        SyncSettings {
            upload_batch: BatchLimits {
                max_items: self.upload_batch_size as usize,
                max_bytes: self.upload_batch_bytes as usize,
            },
            max_upload_batches_per_type: self.max_upload_batches_per_cycle as usize,
            download_page_size: self.download_page_size.min(u32::MAX as i64) as u32,
            tie_window_ms: self.conflict_tie_window_ms,
            retry: RetryPolicy {
                base_ms: self.retry_base_ms,
                max_ms: self.retry_max_ms.max(self.retry_base_ms),
                ..RetryPolicy::default()
            },
            retention_ms: self.retention_days * 86_400_000,
            health: self.health.unwrap_or_default(),
        }
    }
}

/// Cancels a subscription when `cancel()` is called or when it is dropped.
#[derive(uniffi::Object)]
pub struct TaskHandle {
    on_cancel: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

#[uniffi::export]
impl TaskHandle {
    pub fn cancel(&self) {
        if let Some(f) = self
            .on_cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            f();
        }
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The engine: one per database file per process (opening the same file again returns the
/// same engine, so the app and a background worker share it).
#[derive(uniffi::Object)]
pub struct SyncEngine {
    config: EngineConfig,
    identity: Identity,
    store: Arc<Store>,
    syncer: Arc<Syncer>,
    scheduler: Scheduler,
    clock: Arc<dyn Clock>,
}

fn open_engines() -> &'static Mutex<HashMap<PathBuf, Weak<SyncEngine>>> {
    static ENGINES: OnceLock<Mutex<HashMap<PathBuf, Weak<SyncEngine>>>> = OnceLock::new();
    ENGINES.get_or_init(Default::default)
}

fn init_logging() {
    #[cfg(target_os = "android")]
    android_logger::init_once(
        android_logger::Config::default()
            .with_max_level(log::LevelFilter::Info)
            .with_tag("pos-sync"),
    );
    // In a browser, log lines go to the worker's console (DevTools).
    #[cfg(target_arch = "wasm32")]
    let _ = console_log::init_with_level(log::Level::Info);
}

#[uniffi::export]
impl SyncEngine {
    /// Opens (or creates) the device database and the engine. Fails with `SchemaTooNew` for a
    /// database written by a newer pos-sync, `InvalidInput` for a bad configuration.
    #[uniffi::constructor]
    pub fn open(config: EngineConfig) -> ApiResult<Arc<SyncEngine>> {
        Ok(SyncEngine::open_with_clock(config, Arc::new(SystemClock))?)
    }

    // ------------------------------------------------------------------ till operations

    /// Records a sale (the app's JSON: `id`, `lines` with `product_id` and `quantity`,
    /// payments, totals, `customer_id`) and queues it, in one transaction. Returns the
    /// receipt number. Recording the same sale again returns the same receipt.
    pub fn record_sale(&self, sale_json: String) -> ApiResult<SaleReceipt> {
        let receipt = self
            .store
            .write(|tx| pos::record_sale(tx, &self.identity, &sale_json, self.clock.now_ms()))?;
        self.syncer.events.notify();
        Ok(receipt)
    }

    /// Records a stock adjustment (`id`, `product_id`, `quantity_delta`) and queues it.
    pub fn record_stock_adjustment(&self, adjustment_json: String) -> ApiResult<ChangeRef> {
        let change = self
            .store
            .write(|tx| pos::record_stock_adjustment(tx, &adjustment_json, self.clock.now_ms()))?;
        self.syncer.events.notify();
        Ok(change)
    }

    pub fn get_sale(&self, sale_id: String) -> ApiResult<Option<Sale>> {
        Ok(self.store.read(|c| pos::get_sale(c, &sale_id))?)
    }

    pub fn product_by_barcode(&self, barcode: String) -> ApiResult<Option<Product>> {
        Ok(self
            .store
            .read(|c| catalog::product_by_barcode(c, &barcode))?)
    }

    pub fn product_by_sku(&self, sku: String) -> ApiResult<Option<Product>> {
        Ok(self.store.read(|c| catalog::product_by_sku(c, &sku))?)
    }

    pub fn product_by_id(&self, product_id: String) -> ApiResult<Option<Product>> {
        Ok(self
            .store
            .read(|c| catalog::product_by_id(c, &product_id))?)
    }

    /// Products whose name has words starting with each word of `query` (typeahead).
    pub fn search_products(&self, query: String, limit: i64) -> ApiResult<Vec<Product>> {
        Ok(self
            .store
            .read(|c| catalog::search_products(c, &query, row_limit(limit)?))?)
    }

    /// The price of a product now: the latest valid price list entry, else the catalog's.
    pub fn current_price(&self, product_id: String) -> ApiResult<Option<Price>> {
        let now = self.clock.now_ms();
        Ok(self
            .store
            .read(|c| catalog::current_price(c, &product_id, now))?)
    }

    /// Creates a customer (`id`, `name`, optional `phone`, `email`) and queues it for upload.
    pub fn create_customer(&self, customer_json: String) -> ApiResult<Customer> {
        let customer = self
            .store
            .write(|tx| customers::create(tx, &customer_json, self.clock.now_ms()))?;
        self.syncer.events.notify();
        Ok(customer)
    }

    /// Replaces a customer's document and queues the edit.
    pub fn update_customer(&self, customer_json: String) -> ApiResult<Customer> {
        let customer = self
            .store
            .write(|tx| customers::update(tx, &customer_json, self.clock.now_ms()))?;
        self.syncer.events.notify();
        Ok(customer)
    }

    pub fn get_customer(&self, customer_id: String) -> ApiResult<Option<Customer>> {
        Ok(self.store.read(|c| customers::get(c, &customer_id))?)
    }

    /// Customers by name, phone or e-mail prefix.
    pub fn search_customers(&self, query: String, limit: i64) -> ApiResult<Vec<Customer>> {
        Ok(self
            .store
            .read(|c| customers::search(c, &query, row_limit(limit)?))?)
    }

    /// Caches a report document the app computed (a downloaded copy replaces it).
    pub fn put_report(&self, key: String, report_json: String) -> ApiResult<()> {
        Ok(self
            .store
            .write(|tx| catalog::put_report(tx, &key, &report_json))?)
    }

    pub fn get_report(&self, key: String) -> ApiResult<Option<Report>> {
        Ok(self.store.read(|c| catalog::get_report(c, &key))?)
    }

    /// Seeds the catalog from a JSON array of products (demos, support). All or nothing.
    pub fn import_products(&self, products_json: String) -> ApiResult<i64> {
        Ok(self
            .store
            .write(|tx| catalog::import_products(tx, &products_json))? as i64)
    }

    // ------------------------------------------------------------------ queue and history

    pub fn queue_stats(&self) -> ApiResult<QueueStats> {
        let health = self.config.health.unwrap_or_default();
        let now = self.clock.now_ms();
        Ok(self.store.read(|c| queue::stats(c, &health, now))?)
    }

    /// Queue rows, optionally filtered by state and entity type, in sync order.
    pub fn queue_items(
        &self,
        state: Option<SyncState>,
        entity_type: Option<EntityType>,
        limit: i64,
    ) -> ApiResult<Vec<QueueItem>> {
        Ok(self
            .store
            .read(|c| queue::items(c, state, entity_type, row_limit(limit)?))?)
    }

    /// Makes failed changes due now (rejected ones included: the app fixed something).
    pub fn retry_failed_now(&self) -> ApiResult<i64> {
        let now = self.clock.now_ms();
        let count = self.store.write(|tx| {
            Ok(tx.execute(
                "UPDATE sync_queue SET next_attempt_at = ?1 WHERE status = 'FAILED'",
                [now],
            )?)
        })?;
        Ok(count as i64)
    }

    /// The most recent sync log rows (one per step, plus one `cycle` row per run).
    pub fn sync_log(&self, limit: i64) -> ApiResult<Vec<SyncLogEntry>> {
        Ok(self
            .store
            .read(|c| history::recent_log(c, row_limit(limit)?))?)
    }

    /// The most recent audit trail entries, newest first.
    pub fn audit_trail(&self, limit: i64) -> ApiResult<Vec<AuditEntry>> {
        Ok(self
            .store
            .read(|c| history::recent_audit(c, row_limit(limit)?))?)
    }

    /// Conflicts waiting for a person, oldest first.
    pub fn conflicts(&self) -> ApiResult<Vec<Conflict>> {
        Ok(self.store.read(conflicts::open)?)
    }

    /// Restores everything a sync run downloaded to how it was before, and rewinds that
    /// run's sync tokens. Returns how many records were restored.
    pub fn rollback(&self, run_id: String) -> ApiResult<i64> {
        let now = self.clock.now_ms();
        Ok(self
            .store
            .write(|tx| history::rollback_run(tx, &run_id, now))? as i64)
    }

    /// SQLite's integrity check plus the queue's invariants, in words.
    pub fn integrity_check(&self) -> ApiResult<IntegrityReport> {
        Ok(self.store.read(check::integrity_check)?)
    }

    // ------------------------------------------------------------------ encryption at rest

    /// Re-encrypts the database under `new_key` (SQLCipher `PRAGMA rekey`: every page is
    /// rewritten, in one transaction). The engine keeps working; reads and writes wait while
    /// it runs. Store the new key before calling and keep the old one until this returns: a
    /// crash leaves the file wholly under one of the two. `NotConfigured` for a plain
    /// database, `InvalidInput` for an empty key; nothing changes on an error.
    pub fn rotate_encryption_key(&self, new_key: String) -> ApiResult<()> {
        Ok(self.store.rotate_key(&new_key)?)
    }

    /// Writes a consistent snapshot of the database to `destination_path` (a new file) for
    /// support: plain when `key` is `None`, else encrypted under `key`. It holds everything
    /// the till holds — sales, customers (names, phones, e-mails), the catalog, the queue and
    /// the audit trail — but no bearer token (the engine never stores one). `pos-sync --db
    /// COPY` inspects it.
    pub fn export_support_copy(
        &self,
        destination_path: String,
        key: Option<String>,
    ) -> ApiResult<()> {
        Ok(self
            .store
            .export_copy(std::path::Path::new(&destination_path), key.as_deref())?)
    }

    // ------------------------------------------------------------------ sync control

    /// The current sync status (what listeners receive).
    pub fn status(&self) -> ApiResult<SyncStatus> {
        Ok(self.syncer.events.snapshot()?)
    }

    /// Subscribes to status changes and new conflicts. The listener gets the current status
    /// at once. Keep the handle: dropping or cancelling it unsubscribes.
    pub fn subscribe_status(&self, listener: Arc<dyn SyncStatusListener>) -> Arc<TaskHandle> {
        let id = self.syncer.events.subscribe(listener);
        let syncer = Arc::downgrade(&self.syncer);
        Arc::new(TaskHandle {
            on_cancel: Mutex::new(Some(Box::new(move || {
                if let Some(syncer) = syncer.upgrade() {
                    syncer.events.unsubscribe(id);
                }
            }))),
        })
    }

    /// Replaces the source of bearer tokens (asked again once when the server answers 401).
    pub fn set_token_provider(&self, provider: Arc<dyn TokenProvider>) -> ApiResult<()> {
        self.syncer.transport()?.set_token_provider(provider);
        Ok(())
    }

    /// The app's connectivity signal (Android network callback, iOS NWPathMonitor). Coming
    /// back online triggers a debounced sync when auto sync is running.
    pub fn set_network_available(&self, available: bool) {
        self.scheduler.set_network_available(available);
    }

    /// Syncs every `interval_ms` while the app is open, on reconnect, and when failed
    /// changes become due. Calling it again changes the interval.
    pub fn start_auto_sync(&self, interval_ms: i64) -> ApiResult<()> {
        self.syncer.transport()?;
        self.scheduler.start(interval_ms);
        Ok(())
    }

    pub fn stop_auto_sync(&self) {
        self.scheduler.stop();
    }

    pub fn is_auto_sync_running(&self) -> bool {
        self.scheduler.is_running()
    }

    /// Stops a running sync at its next batch boundary (never inside a batch): nothing new
    /// is sent, and a batch already sent is waited for, so its answer is recorded. Call it
    /// from an OS background-task expiration handler.
    pub fn cancel(&self) {
        self.syncer.cancel();
    }
}

// The browser build has no tokio runtime: its futures run on the worker's event loop.
#[cfg_attr(not(target_arch = "wasm32"), uniffi::export(async_runtime = "tokio"))]
#[cfg_attr(target_arch = "wasm32", uniffi::export)]
impl SyncEngine {
    /// Syncs now: one full priority-ordered cycle. Joins a cycle already running.
    pub async fn sync_now(&self) -> SyncReport {
        self.cycle(SyncReason::Manual, None).await
    }

    /// The entry point for WorkManager and BGTaskScheduler: one cycle that stops between
    /// batches once `budget_ms` has passed; `more_work_pending` says whether to run again.
    pub async fn run_batch_sync(&self, budget_ms: i64) -> SyncReport {
        self.cycle(SyncReason::Background, Some(budget_ms)).await
    }

    /// Resolves a conflict from the review queue: keep the device's version, keep the
    /// server's, or send `merged_json` (required for `Merged`). Needs the network: sent again
    /// after transient failures (up to 4 times, honouring Retry-After), and `cancel()` stops
    /// it. Returns the customer as the server now holds it (`None` if the server's version is
    /// a delete).
    pub async fn resolve_conflict(
        &self,
        conflict_id: String,
        resolution: Resolution,
        merged_json: Option<String>,
    ) -> ApiResult<Option<Customer>> {
        let syncer = self.syncer.clone();
        let store = self.store.clone();
        let canceller = self.syncer.clone();
        Ok(run_on_engine(
            async move {
                resolve_manually(&syncer, &store, &conflict_id, resolution, merged_json).await
            },
            move || canceller.cancel(),
        )
        .await??)
    }

    /// Compares local per-type counts and checksums with the server's and schedules a
    /// full resync of every type that drifted.
    pub async fn check_consistency(&self) -> ApiResult<ConsistencyReport> {
        let syncer = self.syncer.clone();
        let canceller = self.syncer.clone();
        Ok(
            run_on_engine(async move { syncer.check_consistency().await }, move || {
                canceller.cancel()
            })
            .await??,
        )
    }
}

/// How many rows the list and search calls return when the app has no preference (the
/// Kotlin wrapper's and the plugin's default `limit`).
pub const DEFAULT_LIST_LIMIT: i64 = 20;

/// `DEFAULT_LIST_LIMIT`, for the bindings (Kotlin `defaultListLimit()`, Swift
/// `defaultListLimit()`), so no platform restates the number.
#[uniffi::export]
pub fn default_list_limit() -> i64 {
    DEFAULT_LIST_LIMIT
}

/// A `limit` argument: signed in the API (Kotlin has no friendly unsigned types), never
/// negative.
fn row_limit(limit: i64) -> Result<u32> {
    if limit < 0 {
        return Err(Error::invalid_field(
            "limit",
            format!("'limit' is {limit}; it must not be negative"),
        ));
    }
    Ok(u32::try_from(limit).unwrap_or(u32::MAX))
}

/// Parses an entity type name (`sale`, `stock_adjustment`, `product`, `price`, `customer`,
/// `report`), for apps that carry it as a string.
#[uniffi::export]
pub fn entity_type_from_name(name: String) -> ApiResult<EntityType> {
    Ok(name
        .parse()
        .map_err(|e: crate::model::UnknownEntityType| Error::invalid(e.to_string()))?)
}

/// Encrypts an existing plain database (one created without `EngineConfig.encryption_key`,
/// e.g. by an app version before encryption) under `key`, in place; then open it with that
/// key. Crash-safe: the encrypted copy is written beside the file, flushed and renamed over
/// it, so a crash leaves the plain file or the encrypted one, each complete. Needs about the
/// database's size in free space meanwhile. Refused while any engine (in any process) has
/// the file open, for an encrypted or missing file, and for an empty key.
#[uniffi::export]
pub fn encrypt_database(database_path: String, key: String) -> ApiResult<()> {
    if let Some(path) = engine_key(&database_path) {
        let engines = open_engines().lock().unwrap_or_else(|p| p.into_inner());
        if engines.get(&path).and_then(Weak::upgrade).is_some() {
            return Err(Error::Database(format!(
                "'{database_path}' is open in an engine of this process; close it first (nothing was changed)"
            ))
            .into());
        }
    }
    Ok(crate::store::encryption::encrypt_in_place(
        std::path::Path::new(&database_path),
        &key,
    )?)
}

/// The library version, for support screens.
#[uniffi::export]
pub fn pos_sync_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

impl SyncEngine {
    /// `open` with an injected clock: tests run devices whose clocks are wrong.
    pub fn open_with_clock(config: EngineConfig, clock: Arc<dyn Clock>) -> Result<Arc<SyncEngine>> {
        init_logging();
        let identity = config.validate()?;
        let key = engine_key(&config.database_path);
        let mut engines = open_engines().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = key
            .as_ref()
            .and_then(|k| engines.get(k))
            .and_then(Weak::upgrade)
        {
            if existing.current_config() != config {
                return Err(Error::invalid(format!(
                    "an engine for '{}' is already open in this process with a different configuration; reuse it or close it first",
                    config.database_path
                )));
            }
            return Ok(existing);
        }
        let store = Arc::new(Store::open_with_key(
            &config.database_path,
            config.durability.unwrap_or(Durability::Full),
            config.encryption_key.as_deref(),
        )?);
        let now = clock.now_ms();
        store.write(|tx| {
            state::ensure_identity(tx, &identity)?;
            history::close_interrupted_steps(tx, now)?;
            Ok(())
        })?;
        let transport = match &config.server_url {
            None => None,
            Some(url) => {
                let token: Arc<dyn TokenProvider> =
                    Arc::new(StaticToken(config.auth_token.clone().unwrap_or_default()));
                Some(Transport::new(
                    url,
                    token,
                    TransportSettings {
                        connect_timeout: Duration::from_millis(config.connect_timeout_ms as u64),
                        request_timeout: Duration::from_millis(config.request_timeout_ms as u64),
                        compression: config.compression.unwrap_or(Compression::Fast),
                        ..TransportSettings::default()
                    },
                )?)
            }
        };
        let syncer = Arc::new(Syncer::new(
            store.clone(),
            transport,
            clock.clone(),
            config.sync_settings(),
        ));
        let scheduler = Scheduler::new(syncer.clone(), config.network_debounce_ms);
        let engine = Arc::new(SyncEngine {
            identity,
            store,
            syncer,
            scheduler,
            clock,
            config,
        });
        if let Some(key) = key {
            engines.retain(|_, weak| weak.strong_count() > 0);
            engines.insert(key, Arc::downgrade(&engine));
        }
        Ok(engine)
    }

    async fn cycle(&self, reason: SyncReason, budget_ms: Option<i64>) -> SyncReport {
        let syncer = self.syncer.clone();
        let canceller = self.syncer.clone();
        let run_id = uuid::Uuid::new_v4().to_string();
        let ticket = self.syncer.cancel_ticket();
        match run_on_engine(
            async move { syncer.cycle(reason, budget_ms, ticket).await },
            move || canceller.cancel(),
        )
        .await
        {
            Ok(report) => report,
            // The sync task itself died (a panic): nothing ran to completion.
            Err(e) => SyncReport {
                more_work_pending: true,
                remaining: self
                    .queue_stats()
                    .map(|s| s.pending + s.syncing + s.failed + s.conflict)
                    .unwrap_or(0),
                error: Some(e.to_string()),
                ..SyncReport::empty(run_id, crate::sync::SyncOutcome::Cancelled)
            },
        }
    }

    /// The configuration the engine runs with now: its key after any rotation.
    fn current_config(&self) -> EngineConfig {
        EngineConfig {
            encryption_key: self.store.current_key(),
            ..self.config.clone()
        }
    }

    /// The database this engine owns.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The registry key of a database file: its canonical path (in-memory databases are never
/// shared).
fn engine_key(path: &str) -> Option<PathBuf> {
    if path == ":memory:" {
        return None;
    }
    // OPFS paths are names in the worker's own pool: there is nothing to canonicalize.
    if cfg!(target_arch = "wasm32") {
        return Some(PathBuf::from(path));
    }
    let p = PathBuf::from(path);
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = p.file_name()?;
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

async fn resolve_manually(
    syncer: &Syncer,
    store: &Store,
    conflict_id: &str,
    resolution: Resolution,
    merged_json: Option<String>,
) -> Result<Option<Customer>> {
    let conflict = store
        .read(|c| conflicts::get_open(c, conflict_id))?
        .ok_or_else(|| Error::NotFound(format!("no open conflict with id '{conflict_id}'")))?;
    let item = store
        .read(|c| queue::get(c, &conflict.change_id))?
        .ok_or_else(|| {
            Error::Database(format!(
                "the change behind conflict '{conflict_id}' is missing; run `pos-sync check`"
            ))
        })?;
    let payload = match (resolution, merged_json) {
        (Resolution::KeepServer, _) => None,
        (Resolution::KeepLocal, _) => Some(crate::store::parse_stored(&conflict.local_json)?),
        (Resolution::Merged, None) => {
            return Err(Error::invalid(
                "a merged resolution needs the merged customer JSON",
            ))
        }
        (Resolution::Merged, Some(json)) => {
            let doc = crate::documents::parse_object("merged customer", &json)?;
            let fields = crate::documents::customer_fields(&doc)?;
            if fields.id != conflict.entity_id {
                return Err(Error::invalid(format!(
                    "the merged customer has id '{}', the conflict is about '{}'",
                    fields.id, conflict.entity_id
                )));
            }
            Some(doc.value)
        }
    };
    let event = match resolution {
        Resolution::KeepLocal => "resolved_local",
        Resolution::KeepServer => "resolved_server",
        Resolution::Merged => "resolved_merged",
    };
    let run = syncer.manual_run("resolve", conflict.entity_type)?;
    let result = syncer
        .resolve_with_server(&run, conflict_id, &item, resolution, payload, event, true)
        .await;
    syncer.finish_manual_run(run, result.as_ref().err())?;
    result?;
    syncer.events.notify();
    store.read(|c| customers::get(c, &conflict.entity_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_type_names_parse_and_unknown_ones_are_typed_errors() {
        assert_eq!(
            entity_type_from_name("stock_adjustment".into()).unwrap(),
            EntityType::StockAdjustment
        );
        match entity_type_from_name("invoice".into()) {
            Err(PosSyncError::InvalidInput {
                reason,
                field: None,
            }) => {
                assert!(reason.contains("unknown entity type 'invoice'"), "{reason}")
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        assert_eq!(pos_sync_version(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let mut config = EngineConfig::new(":memory:", "S", "R", "D");
        config.auth_token = Some("tok-very-secret".into());
        config.encryption_key = Some("key-very-secret".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("store_id"));
    }

    #[test]
    fn config_limits_are_checked_with_the_field_named() {
        let mut config = EngineConfig::new(":memory:", "S", "R", "D");
        config.upload_batch_size = 5000;
        let err = SyncEngine::open(config).err().unwrap();
        assert!(err.to_string().contains("at most 1000"), "{err}");
        let blank = EngineConfig::new(":memory:", " ", "R", "D");
        assert!(SyncEngine::open(blank)
            .err()
            .unwrap()
            .to_string()
            .contains("'store_id' is empty"));
    }
}
