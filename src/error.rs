//! The one public error type. Every failure the app can see is one of these variants, with a
//! message that says what happened and what to do. Messages never contain customer data,
//! payloads or tokens. Kotlin sees `PosSyncException.<Variant>`, Swift `PosSyncError.<variant>`,
//! each carrying the Display text below as its message (a "flat" error).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum PosSyncError {
    /// The app passed something the engine cannot accept (malformed JSON, a missing field,
    /// an unknown entity type). Nothing was changed.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A payload is over the size limit. Nothing was changed.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),

    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The local database failed (I/O, corruption, locked too long).
    #[error("database error: {0}")]
    Database(String),

    /// The device ran out of storage. Nothing was changed.
    #[error("storage full: {0}")]
    StorageFull(String),

    /// The database file was written by a newer version of pos-sync.
    #[error(
        "the database uses schema version {found}, newer than this pos-sync supports ({supported}); update the app, the database was not changed"
    )]
    SchemaTooNew { found: i64, supported: i64 },

    /// The server could not be reached, or the connection broke. Retried automatically.
    #[error("network error: {0}")]
    Network(String),

    /// The server refused the device's credentials even after a token refresh.
    #[error("authentication failed: {0}")]
    Auth(String),

    /// The server answered with an error or with something the engine does not trust.
    #[error("server error: {0}")]
    Server(String),

    /// A checksum did not match: the data was corrupted in transit and was not applied.
    #[error("integrity error: {0}")]
    Integrity(String),

    /// The server asked the device to slow down; sync resumes after the given delay.
    #[error("rate limited by the server: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },

    /// The operation was cancelled (by `cancel()` or an OS background deadline).
    #[error("cancelled: {0}")]
    Cancelled(String),

    /// The engine is not set up for this call (for example, no server URL configured).
    #[error("not configured: {0}")]
    NotConfigured(String),
}

pub type Result<T, E = PosSyncError> = std::result::Result<T, E>;

impl PosSyncError {
    /// Worth retrying later without any change by the app or a person.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PosSyncError::Network(_)
                | PosSyncError::Server(_)
                | PosSyncError::Integrity(_)
                | PosSyncError::RateLimited { .. }
        )
    }

    /// A short stable code for the Capacitor plugin and the CLI's JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            PosSyncError::InvalidInput(_) => "INVALID_INPUT",
            PosSyncError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            PosSyncError::NotFound(_) => "NOT_FOUND",
            PosSyncError::Database(_) => "DATABASE",
            PosSyncError::StorageFull(_) => "STORAGE_FULL",
            PosSyncError::SchemaTooNew { .. } => "SCHEMA_TOO_NEW",
            PosSyncError::Network(_) => "NETWORK",
            PosSyncError::Auth(_) => "AUTH",
            PosSyncError::Server(_) => "SERVER",
            PosSyncError::Integrity(_) => "INTEGRITY",
            PosSyncError::RateLimited { .. } => "RATE_LIMITED",
            PosSyncError::Cancelled(_) => "CANCELLED",
            PosSyncError::NotConfigured(_) => "NOT_CONFIGURED",
        }
    }

    /// Shorthand for `InvalidInput`.
    pub fn invalid(msg: impl Into<String>) -> Self {
        PosSyncError::InvalidInput(msg.into())
    }
}

impl From<rusqlite::Error> for PosSyncError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as Code;
        match err.sqlite_error_code() {
            Some(Code::DiskFull) => PosSyncError::StorageFull(
                "the device has no space left for the database; free some storage and try again"
                    .into(),
            ),
            Some(Code::DatabaseCorrupt) => PosSyncError::Database(
                "the database file is damaged; run `pos-sync --db PATH export-unsynced` to save unsynced sales, then restore it"
                    .into(),
            ),
            Some(Code::NotADatabase) => PosSyncError::Database(
                "the database file cannot be read: it is damaged, or encrypted and opened without its key (EngineConfig.encryption_key); if damaged, run `pos-sync --db PATH export-unsynced` to save unsynced sales, then restore it"
                    .into(),
            ),
            Some(Code::DatabaseBusy) | Some(Code::DatabaseLocked) => PosSyncError::Database(
                "the database stayed locked by another connection for too long; try again".into(),
            ),
            // rusqlite's message names the failing statement or column, never row values.
            _ => PosSyncError::Database(err.to_string()),
        }
    }
}
