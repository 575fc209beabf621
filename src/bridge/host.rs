//! What only the platform has, given to the bridge by the plugin class (Kotlin, Swift) or,
//! in the browser, by the web implementation.

use super::error::BridgeError;

/// The platform's side of the bridge. Called from engine threads: never block on the UI.
#[uniffi::export(with_foreign)]
pub trait BridgeHost: Send + Sync {
    /// Sends an event to the web app (`notifyListeners(event, { data: data_json })`).
    fn emit(&self, event: String, data_json: String);

    /// Whether the web app listens to `event` (no listener for `tokenRequested`: no wait).
    fn has_listeners(&self, event: String) -> bool;

    /// The plugin's private, not-backed-up directory: relative database paths and the saved
    /// background state live there (Android `noBackupFilesDir`, iOS Application
    /// Support/PosSync). A till's database restored onto another device would issue the same
    /// receipt numbers.
    fn data_dir(&self) -> String;

    /// The secret stored under `name`, if any (Android: AES-GCM wrapped by a key in the
    /// AndroidKeyStore; iOS: the Keychain, readable after first unlock).
    fn load_secret(&self, name: String) -> Result<Option<String>, HostError>;

    fn save_secret(&self, name: String, value: String) -> Result<(), HostError>;

    /// Deletes the secret; deleting a missing one is not an error.
    fn delete_secret(&self, name: String) -> Result<(), HostError>;

    /// Schedules (or reschedules) the OS's periodic background sync; returns the interval in
    /// minutes the OS was given (after the platform's minimum).
    fn schedule_background_sync(&self, interval_minutes: i64) -> Result<i64, HostError>;

    fn cancel_background_sync(&self) -> Result<(), HostError>;

    /// `open` succeeded: the platform starts what follows the engine (Android: the
    /// connectivity monitor and the background worker's engine, from `saved_config`).
    fn engine_opened(&self);

    /// `close` released the engine: the platform releases what `engine_opened` started.
    fn engine_closed(&self);
}

/// What a host method fails with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum HostError {
    /// The app has not set up what the call needs (e.g. iOS background tasks registered at
    /// launch).
    #[error("not configured: {reason}")]
    NotConfigured { reason: String },
    /// The platform call failed (the Keystore refused a key, ...).
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HostError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HostError::Failed { reason: err.reason }
    }
}

impl From<HostError> for BridgeError {
    fn from(e: HostError) -> BridgeError {
        match e {
            HostError::NotConfigured { .. } => {
                BridgeError::new(crate::error::ErrorCode::NotConfigured, e.to_string())
            }
            HostError::Failed { reason } => {
                BridgeError::internal(format!("the platform: {reason}"))
            }
        }
    }
}
