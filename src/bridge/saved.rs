//! What background sync must remember between launches, when the OS starts the app without
//! its web view: the last `open` configuration, and the background interval, in a JSON file
//! of the plugin's data directory; the encryption key and the bearer token in the platform's
//! secret store ([`BridgeHost::load_secret`]), never in the file.
//!
//! Plugin 0.1 kept one plain file, `pos-sync-plugin.json`, holding the key and the token in
//! clear. The first read or write here moves its secrets into the secret store, writes the
//! new file without them and deletes the old one.

use super::{methods, BridgeError, BridgeHost};
use crate::api::EngineConfig;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The state file (no secrets in it).
pub const STATE_FILE: &str = "pos-sync-state.json";
/// Plugin 0.1's state file, secrets included: migrated and deleted.
pub const LEGACY_STATE_FILE: &str = "pos-sync-plugin.json";
/// Secret names in the platform's store.
pub const TOKEN_SECRET: &str = "authToken";
pub const KEY_SECRET: &str = "encryptionKey";

pub struct SavedState {
    host: Arc<dyn BridgeHost>,
    /// Serialises this process's reads and writes of the file.
    lock: Mutex<()>,
}

impl SavedState {
    pub fn new(host: Arc<dyn BridgeHost>) -> SavedState {
        SavedState {
            host,
            lock: Mutex::new(()),
        }
    }

    fn dir(&self) -> PathBuf {
        PathBuf::from(self.host.data_dir())
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Saves the configuration `open` used (the token is not part of it: see `open`) and
    /// its encryption key in the secret store.
    pub fn save_config(&self, config: &EngineConfig) -> Result<(), BridgeError> {
        let _g = self.guard();
        self.migrate()?;
        match &config.encryption_key {
            Some(key) => self.host.save_secret(KEY_SECRET.into(), key.clone())?,
            None => self.host.delete_secret(KEY_SECRET.into())?,
        }
        let mut state = self.read();
        state.insert("config".into(), public_config(config)?);
        self.write(&state)
    }

    /// The saved configuration with its key, if the web app opened the engine before.
    pub fn config(&self) -> Result<Option<EngineConfig>, BridgeError> {
        let _g = self.guard();
        self.migrate()?;
        let Some(config) = self.read().remove("config") else {
            return Ok(None);
        };
        let mut config: EngineConfig = serde_json::from_value(config)
            .map_err(|e| BridgeError::internal(format!("the saved configuration: {e}")))?;
        config.encryption_key = self.host.load_secret(KEY_SECRET.into())?;
        Ok(Some(config))
    }

    pub fn save_token(&self, token: Option<&str>) -> Result<(), BridgeError> {
        let _g = self.guard();
        self.migrate()?;
        match token {
            Some(t) => self.host.save_secret(TOKEN_SECRET.into(), t.to_owned())?,
            None => self.host.delete_secret(TOKEN_SECRET.into())?,
        }
        Ok(())
    }

    pub fn token(&self) -> Result<Option<String>, BridgeError> {
        let _g = self.guard();
        self.migrate()?;
        Ok(self.host.load_secret(TOKEN_SECRET.into())?)
    }

    /// The interval the web app last asked for background sync (iOS reads it at launch).
    pub fn save_background_interval(&self, minutes: i64) -> Result<(), BridgeError> {
        let _g = self.guard();
        let mut state = self.read();
        state.insert("backgroundIntervalMinutes".into(), minutes.into());
        self.write(&state)
    }

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))] // asked by iOS (ffi.rs) only
    pub fn background_interval(&self) -> Option<i64> {
        let _g = self.guard();
        self.read()
            .get("backgroundIntervalMinutes")
            .and_then(Value::as_i64)
    }

    /// Forgets everything (`close`: sign-out, switching stores).
    pub fn clear(&self) -> Result<(), BridgeError> {
        let _g = self.guard();
        for file in [STATE_FILE, LEGACY_STATE_FILE] {
            remove(&self.dir().join(file))?;
        }
        self.host.delete_secret(TOKEN_SECRET.into())?;
        self.host.delete_secret(KEY_SECRET.into())?;
        Ok(())
    }

    /// Moves plugin 0.1's plain file into the secret store and the new file.
    fn migrate(&self) -> Result<(), BridgeError> {
        let legacy = self.dir().join(LEGACY_STATE_FILE);
        let Ok(text) = std::fs::read_to_string(&legacy) else {
            return Ok(());
        };
        // A damaged file is as good as none: the web app saves its state again on open.
        if let Ok(Value::Object(mut old)) = serde_json::from_str::<Value>(&text) {
            if let Some(Value::String(token)) = old.remove("token") {
                self.host.save_secret(TOKEN_SECRET.into(), token)?;
            }
            let mut state = self.read();
            if let Some(Value::Object(mut args)) = old.remove("config") {
                if let Some(Value::String(token)) = args.remove("authToken") {
                    self.host.save_secret(TOKEN_SECRET.into(), token)?;
                }
                if let Ok(config) = methods::engine_config(&self.dir(), Value::Object(args)) {
                    if let Some(key) = &config.encryption_key {
                        self.host.save_secret(KEY_SECRET.into(), key.clone())?;
                    }
                    state.insert("config".into(), public_config(&config)?);
                }
            }
            if let Some(minutes) = old.remove("backgroundIntervalMinutes") {
                state.insert("backgroundIntervalMinutes".into(), minutes);
            }
            self.write(&state)?;
        }
        remove(&legacy)
    }

    fn read(&self) -> Map<String, Value> {
        // A browser has no background worker to hand the state to, and no file system:
        // nothing is saved there (docs/web.md).
        if cfg!(target_arch = "wasm32") {
            return Map::new();
        }
        std::fs::read_to_string(self.dir().join(STATE_FILE))
            .ok()
            .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok())
            .unwrap_or_default()
    }

    /// Writes the file whole or not at all (a temporary file renamed over it).
    fn write(&self, state: &Map<String, Value>) -> Result<(), BridgeError> {
        if cfg!(target_arch = "wasm32") {
            return Ok(());
        }
        let dir = self.dir();
        let io = |e: std::io::Error| BridgeError::internal(format!("saving the plugin state: {e}"));
        std::fs::create_dir_all(&dir).map_err(io)?;
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        std::fs::write(&tmp, Value::Object(state.clone()).to_string()).map_err(io)?;
        std::fs::rename(&tmp, dir.join(STATE_FILE)).map_err(io)
    }
}

/// The configuration as saved: everything but the secrets.
fn public_config(config: &EngineConfig) -> Result<Value, BridgeError> {
    let mut value = serde_json::to_value(config).map_err(BridgeError::internal)?;
    if let Value::Object(map) = &mut value {
        map.remove("authToken");
        map.remove("encryptionKey");
    }
    Ok(value)
}

fn remove(path: &std::path::Path) -> Result<(), BridgeError> {
    if cfg!(target_arch = "wasm32") {
        return Ok(());
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(BridgeError::internal(format!(
            "deleting {}: {e}",
            path.display()
        ))),
        _ => Ok(()),
    }
}
