//! Every plugin method: its arguments (camelCase JSON, checked by serde), its defaults and
//! limits, the engine call, and its result. Adding a method is one arm in [`call`] (plus an
//! argument struct when it takes arguments) and its declaration in the plugin's
//! `src/definitions.ts`; docs/architecture.md walks through it.

use super::{BridgeError, PluginBridge};
use crate::api::{pos_sync_version, EngineConfig, SyncEngine};
use crate::error::ErrorCode;
use crate::protocol::Resolution;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use std::path::Path;

/// Background sync interval when the app gives none, and the bounds of what it may give.
pub const DEFAULT_BACKGROUND_MINUTES: i64 = 30;
const MAX_BACKGROUND_MINUTES: i64 = 7 * 24 * 60;
/// Bounds of the foreground auto-sync interval.
const MIN_AUTO_SYNC_MS: i64 = 1000;
const MAX_AUTO_SYNC_MS: i64 = 7 * 86_400_000;
/// The database file of an `open` without `databasePath`, in the host's data directory.
pub const DEFAULT_DATABASE_FILE: &str = "pos-sync.db";

/// What `open` answers.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct OpenResult {
    /// The pos-sync library version.
    pub version: String,
    /// The database file the engine uses (absolute path).
    pub database_path: String,
}

/// What `enableBackgroundSync` scheduled.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct BackgroundSyncInfo {
    pub enabled: bool,
    /// The interval the OS scheduler was given (after the platform's minimum).
    pub interval_minutes: i64,
}

// ------------------------------------------------------------------------ arguments

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetToken {
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaleArgs {
    sale: Box<RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustmentArgs {
    adjustment: Box<RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerArgs {
    customer: Box<RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SaleId {
    sale_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Barcode {
    barcode: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sku {
    sku: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProductId {
    product_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CustomerId {
    customer_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    query: String,
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Resolve {
    conflict_id: String,
    resolution: Resolution,
    merged: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Network {
    available: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AutoSync {
    interval_ms: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Background {
    interval_minutes: Option<i64>,
}

// ------------------------------------------------------------------------ dispatch

pub(super) async fn call(
    bridge: &PluginBridge,
    method: &str,
    args: &str,
) -> Result<String, BridgeError> {
    let m = method;
    match m {
        "open" => reply(&open(bridge, parse(m, args)?)?),
        "close" => {
            close(bridge)?;
            nothing()
        }
        "setToken" => {
            let a: SetToken = parse(m, args)?;
            bridge.tokens.set(a.token.clone());
            bridge.saved.save_token(a.token.as_deref())?;
            nothing()
        }

        "recordSale" => {
            let a: SaleArgs = parse(m, args)?;
            reply(&engine(bridge)?.record_sale(document(m, "sale", &a.sale)?)?)
        }
        "recordStockAdjustment" => {
            let a: AdjustmentArgs = parse(m, args)?;
            let json = document(m, "adjustment", &a.adjustment)?;
            reply(&engine(bridge)?.record_stock_adjustment(json)?)
        }
        "getSale" => {
            let a: SaleId = parse(m, args)?;
            named("sale", engine(bridge)?.get_sale(a.sale_id)?)
        }
        "productByBarcode" => {
            let a: Barcode = parse(m, args)?;
            named("product", engine(bridge)?.product_by_barcode(a.barcode)?)
        }
        "productBySku" => {
            let a: Sku = parse(m, args)?;
            named("product", engine(bridge)?.product_by_sku(a.sku)?)
        }
        "productById" => {
            let a: ProductId = parse(m, args)?;
            named("product", engine(bridge)?.product_by_id(a.product_id)?)
        }
        "searchProducts" => {
            let a: Search = parse(m, args)?;
            let limit = limit(m, a.limit)?;
            named("products", engine(bridge)?.search_products(a.query, limit)?)
        }
        "currentPrice" => {
            let a: ProductId = parse(m, args)?;
            named("price", engine(bridge)?.current_price(a.product_id)?)
        }
        "createCustomer" => {
            let a: CustomerArgs = parse(m, args)?;
            reply(&engine(bridge)?.create_customer(document(m, "customer", &a.customer)?)?)
        }
        "updateCustomer" => {
            let a: CustomerArgs = parse(m, args)?;
            reply(&engine(bridge)?.update_customer(document(m, "customer", &a.customer)?)?)
        }
        "getCustomer" => {
            let a: CustomerId = parse(m, args)?;
            named("customer", engine(bridge)?.get_customer(a.customer_id)?)
        }
        "searchCustomers" => {
            let a: Search = parse(m, args)?;
            let limit = limit(m, a.limit)?;
            named(
                "customers",
                engine(bridge)?.search_customers(a.query, limit)?,
            )
        }

        "syncNow" => reply(&engine(bridge)?.sync_now().await),
        "getStatus" => reply(&engine(bridge)?.status()?),
        "getQueueStats" => reply(&engine(bridge)?.queue_stats()?),
        "retryFailedNow" => named("count", engine(bridge)?.retry_failed_now()?),
        "listConflicts" => named("conflicts", engine(bridge)?.conflicts()?),
        "resolveConflict" => {
            let a: Resolve = parse(m, args)?;
            let merged = match (a.resolution, a.merged) {
                (Resolution::Merged, None) => Err(BridgeError::invalid(
                    m,
                    "a 'merged' resolution needs the merged customer in 'merged'",
                ))?,
                (Resolution::Merged, Some(doc)) => Some(document(m, "merged", &doc)?),
                (_, Some(_)) => Err(BridgeError::invalid(
                    m,
                    "'merged' is only for a 'merged' resolution",
                ))?,
                (_, None) => None,
            };
            let engine = engine(bridge)?;
            let customer = engine
                .resolve_conflict(a.conflict_id, a.resolution, merged)
                .await?;
            named("customer", customer)
        }
        "checkConsistency" => reply(&engine(bridge)?.check_consistency().await?),
        "integrityCheck" => reply(&engine(bridge)?.integrity_check()?),

        "setNetworkAvailable" => {
            let a: Network = parse(m, args)?;
            engine(bridge)?.set_network_available(a.available);
            nothing()
        }
        "startAutoSync" => {
            let a: AutoSync = parse(m, args)?;
            let interval = within(
                m,
                "intervalMs",
                a.interval_ms,
                MIN_AUTO_SYNC_MS,
                MAX_AUTO_SYNC_MS,
            )?;
            engine(bridge)?.start_auto_sync(interval)?;
            nothing()
        }
        "stopAutoSync" => {
            engine(bridge)?.stop_auto_sync();
            nothing()
        }
        "cancelSync" => {
            engine(bridge)?.cancel();
            nothing()
        }
        "enableBackgroundSync" => {
            let a: Background = parse(m, args)?;
            let minutes = a.interval_minutes.unwrap_or(DEFAULT_BACKGROUND_MINUTES);
            let minutes = within(m, "intervalMinutes", minutes, 1, MAX_BACKGROUND_MINUTES)?;
            // Background sync of an engine that was never opened would have nothing to run.
            engine(bridge)?;
            let used = bridge.host.schedule_background_sync(minutes)?;
            bridge.saved.save_background_interval(minutes)?;
            reply(&BackgroundSyncInfo {
                enabled: true,
                interval_minutes: used,
            })
        }
        "disableBackgroundSync" => {
            bridge.host.cancel_background_sync()?;
            nothing()
        }
        _ => Err(BridgeError::new(
            ErrorCode::Unimplemented,
            format!("PosSync has no method '{method}'"),
        )),
    }
}

// ------------------------------------------------------------------------ open and close

fn open(bridge: &PluginBridge, args: Value) -> Result<OpenResult, BridgeError> {
    let dir = bridge.host.data_dir();
    let mut config = engine_config(Path::new(&dir), args)?;
    // The token goes to the broker (and the secret store), never into the configuration:
    // the engine asks the broker, and the saved configuration equals the opened one, so a
    // background worker that opens it gets this very engine from the engine registry.
    let token = config.auth_token.take();
    if let Some(parent) = Path::new(&config.database_path).parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            BridgeError::from(crate::PosSyncError::Database {
                reason: format!("cannot create the database directory: {e}"),
            })
        })?;
    }
    // The registry returns the engine already open for this file (the background worker's,
    // or a previous open) for the same configuration, and refuses a different one.
    let engine = SyncEngine::open(config.clone())?;
    bridge.saved.save_config(&config)?;
    match token {
        Some(token) => {
            bridge.saved.save_token(Some(&token))?;
            bridge.tokens.set(Some(token));
        }
        None => bridge.tokens.load_saved(&bridge.saved)?,
    }
    if config.server_url.is_some() {
        engine.set_token_provider(bridge.tokens.clone())?;
    }
    bridge.adopt(engine);
    bridge.host.engine_opened();
    Ok(OpenResult {
        version: pos_sync_version(),
        database_path: config.database_path,
    })
}

fn close(bridge: &PluginBridge) -> Result<(), BridgeError> {
    bridge.release();
    bridge.host.engine_closed();
    bridge.tokens.set(None);
    bridge.saved.clear()
}

/// The engine configuration from `open`'s arguments: the app's fields over the defaults of
/// [`EngineConfig::new`], the database path resolved against the plugin's data directory.
pub(super) fn engine_config(data_dir: &Path, args: Value) -> Result<EngineConfig, BridgeError> {
    let m = "open";
    let Value::Object(mut args) = args else {
        return Err(BridgeError::invalid(
            m,
            "expects the engine configuration object",
        ));
    };
    let required = |name: &str| match args.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(BridgeError::invalid(
            m,
            format!(
                "'{name}' must be a string, not {}",
                crate::documents::type_name(other)
            ),
        )),
        None => Err(BridgeError::invalid(m, format!("'{name}' is required"))),
    };
    let (store, register, device) = (
        required("storeId")?,
        required("registerId")?,
        required("deviceId")?,
    );
    let path = match args.remove("databasePath") {
        None | Some(Value::Null) => data_dir.join(DEFAULT_DATABASE_FILE),
        Some(Value::String(p)) if p == ":memory:" => p.into(),
        Some(Value::String(p)) => data_dir.join(p),
        Some(other) => {
            return Err(BridgeError::invalid(
                m,
                format!(
                    "'databasePath' must be a string, not {}",
                    crate::documents::type_name(&other)
                ),
            ))
        }
    };
    let defaults = EngineConfig::new(&path.to_string_lossy(), &store, &register, &device);
    let Value::Object(mut merged) =
        serde_json::to_value(&defaults).map_err(BridgeError::internal)?
    else {
        return Err(BridgeError::internal(
            "the default configuration is not an object",
        ));
    };
    merged.extend(args);
    merged.insert(
        "databasePath".into(),
        path.to_string_lossy().into_owned().into(),
    );
    from_json(m, Value::Object(merged))
}

// ------------------------------------------------------------------------ helpers

fn engine(bridge: &PluginBridge) -> Result<std::sync::Arc<SyncEngine>, BridgeError> {
    bridge.engine()
}

/// The method's arguments; no arguments (`""`) read as `{}`.
fn parse<T: DeserializeOwned>(method: &str, args: &str) -> Result<T, BridgeError> {
    let args = if args.trim().is_empty() { "{}" } else { args };
    let de = &mut serde_json::Deserializer::from_str(args);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let inner = strip_position(&inner.to_string());
        if path == "." {
            BridgeError::invalid(method, inner)
        } else {
            BridgeError::invalid(method, format!("'{path}': {inner}"))
        }
    })
}

/// The same from a JSON value (the merged configuration).
fn from_json<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, BridgeError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        BridgeError::invalid(method, format!("'{path}': {}", e.into_inner()))
    })
}

/// serde_json's "at line 1 column 17" says nothing useful about the app's object.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A document argument as the JSON text the engine takes, exactly as the app wrote it.
fn document(method: &str, name: &str, doc: &RawValue) -> Result<String, BridgeError> {
    if !doc.get().trim_start().starts_with('{') {
        return Err(BridgeError::invalid(
            method,
            format!("'{name}' must be an object"),
        ));
    }
    Ok(doc.get().to_owned())
}

/// `limit` of the search methods: the engine's default when the app gives none.
fn limit(method: &str, limit: Option<i64>) -> Result<i64, BridgeError> {
    let limit = limit.unwrap_or(crate::api::DEFAULT_LIST_LIMIT);
    within(method, "limit", limit, 1, crate::store::MAX_LIST_LIMIT)
}

fn within(method: &str, name: &str, value: i64, min: i64, max: i64) -> Result<i64, BridgeError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(BridgeError::invalid(
            method,
            format!("'{name}' must be a whole number from {min} to {max}, not {value}"),
        ))
    }
}

fn reply(value: &impl Serialize) -> Result<String, BridgeError> {
    serde_json::to_string(value).map_err(BridgeError::internal)
}

/// `{ "<key>": value }`, written straight to text: going through `serde_json::Value` would
/// re-encode the documents inside.
fn named(key: &'static str, value: impl Serialize) -> Result<String, BridgeError> {
    reply(&std::collections::BTreeMap::from([(key, value)]))
}

fn nothing() -> Result<String, BridgeError> {
    Ok("null".to_owned())
}
