//! pos-sync: an offline-first sync engine for point-of-sale apps.
//!
//! Data flows one way through the modules: `model` (vocabulary) → `store` (the only SQL) →
//! `protocol` (wire types) → `transport` (HTTP) → `sync` (the engine) → `api` (the UniFFI
//! surface that Kotlin, Swift and the Capacitor plugin call).

uniffi::setup_scaffolding!("pos_sync");

pub mod api;
pub mod documents;
pub mod error;
pub mod model;
pub mod protocol;
pub mod runtime;
pub mod store;
pub mod sync;
pub mod transport;

pub use api::{EngineConfig, SyncEngine, TaskHandle};
pub use error::{PosSyncError, Result};
