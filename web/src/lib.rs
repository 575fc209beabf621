//! pos-sync in a browser: the plugin bridge (`pos_sync::bridge`, the same code the Android
//! and iOS plugins call) compiled to WebAssembly, run by a dedicated Web Worker
//! (capacitor-plugin/src/web/worker.ts), with the database in OPFS.
//!
//! The worker installs the OPFS VFS once (`WebEngine.start`), then forwards every plugin
//! call as JSON text (`WebEngine.call`) and receives the bridge's events through the host
//! object it passed in. docs/web.md has the design; scripts/build-web.sh builds it.
#![cfg(target_arch = "wasm32")]

mod bench;
mod host;

use host::WebHost;
use pos_sync::bridge::{BridgeError, PluginBridge};
use sqlite_wasm_vfs::sahpool::{self, OpfsSAHPoolCfgBuilder};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

pub use bench::*;

/// One plugin instance in the worker.
#[wasm_bindgen]
pub struct WebEngine {
    bridge: Arc<PluginBridge>,
}

/// Makes the OPFS pool under `directory` SQLite's default VFS (once per worker). The pool
/// holds an exclusive handle on its files until the worker ends: a second worker on the
/// same directory fails here, which is why the worker takes a Web Lock first.
async fn install_opfs(directory: &str) -> Result<(), JsError> {
    let cfg = OpfsSAHPoolCfgBuilder::new().directory(directory).build();
    sahpool::install::<sqlite_wasm_rs::WasmOsCallback>(&cfg, true)
        .await
        .map_err(|e| JsError::new(&format!("cannot open the OPFS storage '{directory}': {e}")))?;
    Ok(())
}

#[wasm_bindgen]
impl WebEngine {
    /// Opens the OPFS storage and makes the bridge. `host` is `{ emit(event, dataJson),
    /// hasListeners(event) }`.
    pub async fn start(host: JsValue, directory: String) -> Result<WebEngine, JsError> {
        install_opfs(&directory).await?;
        Ok(WebEngine {
            bridge: PluginBridge::new(Arc::new(WebHost::new(host)?)),
        })
    }

    /// Runs a plugin method (`recordSale`, ...) with its options as JSON text. Resolves to
    /// the result as JSON text; rejects with `{ code, message, details }` (the bridge's
    /// error, as the native plugins reject).
    pub fn call(&self, method: String, args_json: String) -> js_sys::Promise {
        let bridge = self.bridge.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            match bridge.call(method, args_json).await {
                Ok(json) => Ok(JsValue::from_str(&json)),
                Err(e) => Err(rejection(e)),
            }
        })
    }
}

fn rejection(e: BridgeError) -> JsValue {
    let value = serde_json::json!({
        "code": e.code,
        "message": e.message,
        "details": e.details_json.and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
    });
    js_sys::JSON::parse(&value.to_string()).unwrap_or_else(|_| JsValue::from_str(&e.message))
}
