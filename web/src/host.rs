//! The bridge's platform side in a browser. Events go to the JS host object (the worker
//! posts them to the page); the rest is decided here:
//! - files: the database lives in the OPFS pool, under a name relative to its root;
//! - secrets (the bearer token): kept in the worker's memory only. A browser has no keystore,
//!   and anything in OPFS, IndexedDB or localStorage is readable by every script of the
//!   origin; nothing runs in the background after the tab closes, so nothing needs them then.
//! - background sync: a browser has no WorkManager/BGTaskScheduler; auto sync runs while a
//!   tab is open.

use pos_sync::bridge::{BridgeHost, HostError};
use std::collections::HashMap;
use std::sync::Mutex;
use wasm_bindgen::prelude::*;

// The JS host is used from this worker's one thread only: a wasm32 build without the
// `atomics` target feature has no threads, so nothing can reach it from elsewhere.
#[cfg(target_feature = "atomics")]
compile_error!("pos-sync-web assumes a single-threaded wasm (no `atomics` target feature)");

pub struct WebHost {
    emit: js_sys::Function,
    has_listeners: js_sys::Function,
    secrets: Mutex<HashMap<String, String>>,
}

// SAFETY: see the `atomics` check above: there is one thread.
unsafe impl Send for WebHost {}
unsafe impl Sync for WebHost {}

impl WebHost {
    pub fn new(host: JsValue) -> Result<WebHost, JsError> {
        let function = |name: &str| -> Result<js_sys::Function, JsError> {
            js_sys::Reflect::get(&host, &JsValue::from_str(name))
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .ok_or_else(|| JsError::new(&format!("the worker's host has no function '{name}'")))
        };
        Ok(WebHost {
            emit: function("emit")?,
            has_listeners: function("hasListeners")?,
            secrets: Mutex::default(),
        })
    }

    fn secrets(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.secrets.lock().unwrap_or_else(|p| p.into_inner())
    }
}

const NO_BACKGROUND: &str = "a browser has no background scheduler (WorkManager, \
    BGTaskScheduler): use startAutoSync, which syncs while a tab of the app is open";

impl BridgeHost for WebHost {
    fn emit(&self, event: String, data_json: String) {
        let _ = self.emit.call2(
            &JsValue::NULL,
            &JsValue::from_str(&event),
            &JsValue::from_str(&data_json),
        );
    }

    fn has_listeners(&self, event: String) -> bool {
        self.has_listeners
            .call1(&JsValue::NULL, &JsValue::from_str(&event))
            .map(|v| v.is_truthy())
            .unwrap_or(false)
    }

    fn data_dir(&self) -> String {
        String::new()
    }

    fn load_secret(&self, name: String) -> Result<Option<String>, HostError> {
        Ok(self.secrets().get(&name).cloned())
    }

    fn save_secret(&self, name: String, value: String) -> Result<(), HostError> {
        self.secrets().insert(name, value);
        Ok(())
    }

    fn delete_secret(&self, name: String) -> Result<(), HostError> {
        self.secrets().remove(&name);
        Ok(())
    }

    fn schedule_background_sync(&self, _interval_minutes: i64) -> Result<i64, HostError> {
        Err(HostError::NotConfigured {
            reason: NO_BACKGROUND.into(),
        })
    }

    fn cancel_background_sync(&self) -> Result<(), HostError> {
        Ok(())
    }

    fn engine_opened(&self) {}

    fn engine_closed(&self) {}
}
