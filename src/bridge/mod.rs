//! The Capacitor plugin's boundary, owned once in Rust for every platform: the Android and iOS
//! plugin classes and the browser build forward `call(method, args_json)` here and settle the
//! app's promise with the JSON it answers or the [`BridgeError`] it fails with.
//!
//! The bridge owns everything between the app's JavaScript and the engine: argument parsing
//! and validation, defaults and limits (`methods`), the camelCase JSON shapes (serde on the
//! engine's records, `wire`), the token broker (`tokens`), the events the app listens to, and
//! what background sync must remember between launches, with the secrets in the platform's
//! secret store (`saved`). It has no platform or FFI types: the platform gives it what only
//! the platform has through [`BridgeHost`]. The UniFFI export glue is in `ffi`.

mod error;
// Kotlin and Swift only: the browser build (web/) calls `new` and `call` directly.
#[cfg(not(target_arch = "wasm32"))]
mod ffi;
mod host;
mod methods;
mod saved;
mod tokens;
#[cfg(test)]
mod typescript;
pub mod wire;

pub use error::BridgeError;
#[cfg(not(target_arch = "wasm32"))]
pub use ffi::PluginCallError;
pub use host::{BridgeHost, HostError};
pub use tokens::TOKEN_TIMEOUT;

use crate::api::{EngineConfig, SyncEngine, TaskHandle};
use crate::store::conflicts::Conflict;
use crate::sync::events::{SyncStatus, SyncStatusListener};
use saved::SavedState;
use std::sync::{Arc, Mutex};
use tokens::TokenBroker;

/// The events the bridge emits through [`BridgeHost::emit`], with their payloads.
pub mod events {
    /// A [`crate::sync::events::SyncStatus`]: at once after `open`, then on every change.
    pub const SYNC_STATUS: &str = "syncStatus";
    /// A [`crate::store::conflicts::Conflict`] that needs a person.
    pub const CONFLICT: &str = "conflict";
    /// `{ refresh, timeoutMs }`: the engine waits for `setToken`.
    pub const TOKEN_REQUESTED: &str = "tokenRequested";
}

/// One plugin instance: the engine it opened, its token broker and its saved state.
#[derive(uniffi::Object)]
pub struct PluginBridge {
    host: Arc<dyn BridgeHost>,
    saved: SavedState,
    tokens: Arc<TokenBroker>,
    open: Mutex<Option<OpenEngine>>,
}

/// The engine `open` gave the app, with the subscription that forwards its events.
struct OpenEngine {
    engine: Arc<SyncEngine>,
    _events: Arc<TaskHandle>,
}

impl PluginBridge {
    pub fn new(host: Arc<dyn BridgeHost>) -> Arc<PluginBridge> {
        PluginBridge::with_token_timeout(host, TOKEN_TIMEOUT)
    }

    /// `new` with another wait for `setToken` (tests).
    pub fn with_token_timeout(
        host: Arc<dyn BridgeHost>,
        token_timeout: std::time::Duration,
    ) -> Arc<PluginBridge> {
        let saved = SavedState::new(host.clone());
        let tokens = Arc::new(TokenBroker::new(host.clone(), token_timeout));
        Arc::new(PluginBridge {
            host,
            saved,
            tokens,
            open: Mutex::new(None),
        })
    }

    /// Runs the plugin method `method` (the TypeScript name, e.g. `recordSale`) with its
    /// arguments as JSON text; answers the result as JSON text (`null` for none).
    pub async fn call(&self, method: String, args_json: String) -> Result<String, BridgeError> {
        methods::call(self, &method, &args_json).await
    }

    /// [`Self::call`] answered on the calling thread, which it blocks until the answer (for
    /// `syncNow`, the whole sync). For a caller on a thread of its own (Kotlin's forwarder on
    /// `Dispatchers.IO`): one FFI crossing, where an async call costs UniFFI's future protocol
    /// (poll, completion callback, complete, free) about four. `INTERNAL` on a thread of an
    /// async runtime, which blocking would stall.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn call_blocking(&self, method: String, args_json: String) -> Result<String, BridgeError> {
        crate::runtime::block_on(self.call(method, args_json)).unwrap_or_else(|| {
            Err(BridgeError::new(
                crate::error::ErrorCode::Internal,
                "callBlocking was called on a thread of an async runtime; await `call` there",
            ))
        })
    }

    /// The configuration of the last `open` with its secrets, for a background worker that
    /// runs without the web app (`None`: never opened, or closed since). An install whose
    /// state is still a plain file with secrets (plugin 0.1) is migrated here first.
    pub fn saved_config(&self) -> Result<Option<EngineConfig>, BridgeError> {
        self.saved.config()
    }

    /// Gives `engine` the bridge's tokens (the app's latest, else the saved one): what a
    /// background worker calls on the engine it opened from [`Self::saved_config`].
    pub fn serve_tokens(&self, engine: &SyncEngine) -> Result<(), BridgeError> {
        self.tokens.load_saved(&self.saved)?;
        match engine.set_token_provider(self.tokens.clone()) {
            // An engine without a server URL works offline and needs no tokens.
            Err(crate::PosSyncError::NotConfigured { .. }) => Ok(()),
            other => Ok(other?),
        }
    }

    fn engine(&self) -> Result<Arc<SyncEngine>, BridgeError> {
        self.lock_open()
            .as_ref()
            .map(|o| o.engine.clone())
            .ok_or_else(BridgeError::not_open)
    }

    fn lock_open(&self) -> std::sync::MutexGuard<'_, Option<OpenEngine>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `engine` the plugin's engine and forwards its events to the app.
    fn adopt(&self, engine: Arc<SyncEngine>) {
        let forwarder = Arc::new(EventForwarder {
            host: self.host.clone(),
        });
        let events = engine.subscribe_status(forwarder);
        *self.lock_open() = Some(OpenEngine {
            engine,
            _events: events,
        });
    }

    /// Stops auto sync, unsubscribes and releases the engine (dropping the subscription
    /// cancels it). Unsynced changes stay in the database.
    fn release(&self) {
        if let Some(open) = self.lock_open().take() {
            open.engine.stop_auto_sync();
        }
    }
}

/// Sends the engine's status and conflicts to the app as events.
struct EventForwarder {
    host: Arc<dyn BridgeHost>,
}

impl EventForwarder {
    fn send(&self, event: &str, data: &impl serde::Serialize) {
        match serde_json::to_string(data) {
            Ok(json) => self.host.emit(event.to_owned(), json),
            Err(e) => log::error!("pos-sync bridge: cannot encode the '{event}' event: {e}"),
        }
    }
}

impl SyncStatusListener for EventForwarder {
    fn on_status(&self, status: SyncStatus) {
        self.send(events::SYNC_STATUS, &status);
    }

    fn on_conflict(&self, conflict: Conflict) {
        self.send(events::CONFLICT, &conflict);
    }
}
