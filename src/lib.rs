//! pos-sync: an offline-first sync engine for point-of-sale apps.
//!
//! Data flows one way through the modules: `model` (vocabulary) → `store` (the only SQL) →
//! `protocol` (wire types) → `transport` (HTTP) → `sync` (the engine) → `api` (the UniFFI
//! surface that Kotlin, Swift and the Capacitor plugin call).

uniffi::setup_scaffolding!("pos_sync");

pub mod api;
pub mod bridge;
pub mod documents;
pub mod error;
#[cfg(not(target_arch = "wasm32"))]
pub mod runtime;
#[cfg(target_arch = "wasm32")]
#[path = "runtime_wasm.rs"]
pub mod runtime;
pub mod store;
pub mod sync;
pub mod transport;
mod vocabulary;

/// The wire types, from the FFI-free `pos-sync-protocol` crate the servers share.
pub use pos_sync_protocol as protocol;
/// The domain vocabulary (entity types, queue states, the hybrid logical clock), from the
/// same crate.
pub use pos_sync_protocol::model;

/// Everything the engine accepts from a server, without the network: the entry points of
/// the fuzz targets (`fuzz/`) and of the property runs in `tests/reliability/`. Not part of
/// the API and not exported to Kotlin or Swift.
#[doc(hidden)]
pub mod untrusted {
    use crate::model::EntityType;
    use crate::protocol::{DownloadResponse, ResolveResponse, StatusResponse, UploadResponse};
    use crate::transport::decode_untrusted;
    use crate::Result;

    /// Decodes an answer to `path` (`/api/sync/upload`, `/download`, `/status`, `/resolve`)
    /// as the transport does: body checksum when declared, HTTP status, protocol JSON.
    pub fn decode_answer(
        path: &str,
        status: u16,
        declared_checksum: Option<&str>,
        bytes: &[u8],
    ) -> Result<()> {
        let c = declared_checksum;
        match path {
            "/api/sync/upload" => {
                decode_untrusted::<UploadResponse>(status, None, c, bytes, path).map(drop)
            }
            "/api/sync/download" => {
                let page = decode_untrusted::<DownloadResponse>(status, None, c, bytes, path)?;
                verify_download_page(&page, page.entity_type, 5000)
            }
            "/api/sync/status" => {
                decode_untrusted::<StatusResponse>(status, None, c, bytes, path).map(drop)
            }
            _ => decode_untrusted::<ResolveResponse>(status, Some(1000), c, bytes, path).map(drop),
        }
    }

    /// The engine's checks of a download page before anything of it is applied.
    pub fn verify_download_page(
        page: &DownloadResponse,
        asked: EntityType,
        limit: u32,
    ) -> Result<()> {
        crate::sync::verify_page(page, asked, limit)
    }
}

pub use api::{encrypt_database, EngineConfig, SyncEngine, TaskHandle};
pub use error::{PosSyncError, Result};
