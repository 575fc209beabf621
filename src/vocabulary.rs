//! The UniFFI shape of the vocabulary enums the bindings use. The enums themselves live in the
//! FFI-free `pos-sync-protocol` crate (shared with the servers); `#[uniffi::remote(Enum)]`
//! exports them from this crate, so Kotlin sees them in `io.possync` and Swift in `PosSync`
//! next to everything else (a UniFFI derive in the protocol crate would give them a namespace
//! of their own). The compiler checks each copy below against the real enum: a variant added
//! there and missing here does not build. `Direction` and `ConflictPolicy` are not exported:
//! no exported call takes or returns them.

use crate::model::{Action, EntityType, SyncState};
use crate::protocol::Resolution;

/// The kinds of data the engine syncs, in sync priority order.
#[uniffi::remote(Enum)]
pub enum EntityType {
    Sale,
    StockAdjustment,
    Product,
    Price,
    Customer,
    Report,
}

/// The state of one change in the device's sync queue.
#[uniffi::remote(Enum)]
pub enum SyncState {
    /// Queued, waiting to be sent.
    Pending,
    /// Claimed by a running upload.
    Syncing,
    /// The server confirmed it (applied or duplicate).
    Synced,
    /// The last attempt failed; it is retried after `next_attempt_at`.
    Failed,
    /// Needs a person: listed by `conflicts()` until resolved.
    Conflict,
}

/// What a change does to its entity.
#[uniffi::remote(Enum)]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// How a person resolved a conflict from the review queue.
#[uniffi::remote(Enum)]
pub enum Resolution {
    /// The device's version replaces the server's.
    KeepLocal,
    /// The server's version stays; the device drops its edit.
    KeepServer,
    /// A person merged both; `merged_json` holds the result.
    Merged,
}
