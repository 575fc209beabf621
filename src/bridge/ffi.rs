//! The UniFFI export glue of the bridge (Kotlin, Swift): the plain Rust API of `mod.rs`
//! under the same names. The browser build calls `PluginBridge::new` and `call` directly.

use super::{BridgeError, BridgeHost, PluginBridge};
use crate::api::{EngineConfig, SyncEngine};
use std::sync::Arc;

/// A rejected plugin call as Kotlin (`PluginCallException.Rejected`) and Swift
/// (`PluginCallError.rejected`) see it: [`BridgeError`]'s fields (`reason` is its message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PluginCallError {
    #[error("{code}: {reason}")]
    Rejected {
        code: String,
        reason: String,
        details_json: Option<String>,
    },
}

impl From<BridgeError> for PluginCallError {
    fn from(e: BridgeError) -> Self {
        PluginCallError::Rejected {
            code: e.code,
            reason: e.message,
            details_json: e.details_json,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl PluginBridge {
    #[uniffi::constructor(name = "new")]
    fn ffi_new(host: Arc<dyn BridgeHost>) -> Arc<PluginBridge> {
        PluginBridge::new(host)
    }

    /// Runs a plugin method: JSON arguments in, JSON result out (see `PluginBridge::call`).
    #[uniffi::method(name = "call")]
    async fn ffi_call(&self, method: String, args_json: String) -> Result<String, PluginCallError> {
        Ok(self.call(method, args_json).await?)
    }

    /// [`PluginBridge::call_blocking`]: Kotlin's forwarder calls it from `Dispatchers.IO`.
    #[uniffi::method(name = "call_blocking")]
    fn ffi_call_blocking(
        &self,
        method: String,
        args_json: String,
    ) -> Result<String, PluginCallError> {
        Ok(self.call_blocking(method, args_json)?)
    }

    /// The last `open` configuration with its secrets, for the background worker.
    #[uniffi::method(name = "saved_config")]
    fn ffi_saved_config(&self) -> Result<Option<EngineConfig>, PluginCallError> {
        Ok(self.saved_config()?)
    }

    /// Gives the background worker's engine the saved token (and later `setToken`s).
    #[uniffi::method(name = "serve_tokens")]
    fn ffi_serve_tokens(&self, engine: Arc<SyncEngine>) -> Result<(), PluginCallError> {
        Ok(self.serve_tokens(&engine)?)
    }

    /// The background interval the web app last asked for (iOS registers with it at launch).
    #[uniffi::method(name = "saved_background_interval_minutes")]
    fn ffi_saved_background_interval(&self) -> Option<i64> {
        self.saved.background_interval()
    }
}
