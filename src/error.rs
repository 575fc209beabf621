//! Errors, in two types converted at exactly one place (`From<Error> for PosSyncError`):
//!
//! - [`Error`] is the engine's own: every module returns it, `?` converts rusqlite errors
//!   into it (a full disk becomes `StorageFull`), and the sync code decides on its variants (retry, back off,
//!   stop). It is never exported to Kotlin or Swift.
//! - [`PosSyncError`] is the one the app sees (Kotlin `PosSyncException.<Variant>`, Swift
//!   `PosSyncError.<variant>`, the Capacitor plugin's `{code, message, details}`). Each variant
//!   carries `reason`, the message in words, and the values an app acts on as typed fields
//!   (`retry_after_ms`, `found`/`supported`, `field`, `http_status`).
//!
//! The codes below are the stable names of the variants (`PosSyncError::code()`); this page
//! is where they are documented, once: the bindings' doc comments, the plugin's README and
//! the CLI's JSON output all come from it. Messages never contain customer data, payloads or
//! tokens.

use serde_json::{Map, Value};

/// The engine's internal error. Its Display text is the message the app finally reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {message}")]
    InvalidInput {
        message: String,
        /// The offending field of the document, when one field is to blame.
        field: Option<String>,
    },
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("storage full: {0}")]
    StorageFull(String),
    #[error(
        "the database uses schema version {found}, newer than this pos-sync supports ({supported}); update the app, the database was not changed"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("network error: {0}")]
    Network(String),
    #[error("authentication failed: {message}")]
    Auth {
        message: String,
        http_status: Option<u16>,
    },
    #[error("server error: {message}")]
    Server {
        message: String,
        /// The HTTP status of the answer, when the server answered with an error status.
        http_status: Option<u16>,
    },
    #[error("integrity error: {0}")]
    Integrity(String),
    #[error("rate limited by the server: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("not configured: {0}")]
    NotConfigured(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Worth retrying later without any change by the app or a person.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Network(_)
                | Error::Server { .. }
                | Error::Integrity(_)
                | Error::RateLimited { .. }
        )
    }

    /// `InvalidInput` without a single field to blame.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: msg.into(),
            field: None,
        }
    }

    /// `InvalidInput` naming the offending field (`lines`, `store_id`, `lines[2].quantity`).
    pub fn invalid_field(field: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: msg.into(),
            field: Some(field.into()),
        }
    }

    /// The same error about a nested document: `quantity` becomes `lines[2].quantity`.
    pub fn within(self, parent: &str) -> Self {
        match self {
            Error::InvalidInput {
                message,
                field: Some(field),
            } => Error::InvalidInput {
                message,
                field: Some(format!("{parent}.{field}")),
            },
            other => other,
        }
    }

    /// The server answered or behaved in a way the engine does not accept.
    pub fn server(msg: impl Into<String>) -> Self {
        Error::Server {
            message: msg.into(),
            http_status: None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as Code;
        match err.sqlite_error_code() {
            Some(Code::DiskFull) => Error::StorageFull(
                "the device has no space left for the database; free some storage and try again"
                    .into(),
            ),
            Some(Code::DatabaseCorrupt) => Error::Database(
                "the database file is damaged; run `pos-sync --db PATH export-unsynced` to save unsynced sales, then restore it"
                    .into(),
            ),
            Some(Code::NotADatabase) => Error::Database(
                "the database file cannot be read: it is damaged, or encrypted and opened without its key (EngineConfig.encryption_key); if damaged, run `pos-sync --db PATH export-unsynced` to save unsynced sales, then restore it"
                    .into(),
            ),
            Some(Code::DatabaseBusy) | Some(Code::DatabaseLocked) => Error::Database(
                "the database stayed locked by another connection for too long; try again".into(),
            ),
            // rusqlite's message names the failing statement or column, never row values.
            _ => Error::Database(err.to_string()),
        }
    }
}

/// The public error: what Kotlin, Swift and the Capacitor plugin see. Every variant carries
/// `reason`, the message in words (Kotlin `e.reason`, Swift `error.localizedDescription`,
/// `toString()` / `description` in both); the fields after it are the values to act on.
/// The stable code of each variant is in its first line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum PosSyncError {
    /// `INVALID_INPUT`: the app passed something the engine cannot accept (malformed JSON, a
    /// missing or wrong field, an unknown entity type). Nothing was changed. `field` names
    /// the offending field when one is to blame.
    #[error("{reason}")]
    InvalidInput {
        reason: String,
        field: Option<String>,
    },

    /// `PAYLOAD_TOO_LARGE`: a payload is over the size limit. Nothing was changed.
    #[error("{reason}")]
    PayloadTooLarge { reason: String },

    /// `NOT_FOUND`: the thing asked for does not exist.
    #[error("{reason}")]
    NotFound { reason: String },

    /// `DATABASE`: the local database failed (I/O, corruption, locked too long).
    #[error("{reason}")]
    Database { reason: String },

    /// `STORAGE_FULL`: the device ran out of storage. Nothing was changed.
    #[error("{reason}")]
    StorageFull { reason: String },

    /// `SCHEMA_TOO_NEW`: the database file was written by a newer pos-sync (schema version
    /// `found`; this one supports up to `supported`). Nothing was changed; update the app.
    #[error("{reason}")]
    SchemaTooNew {
        reason: String,
        found: i64,
        supported: i64,
    },

    /// `NETWORK`: the server could not be reached, or the connection broke. Retried
    /// automatically.
    #[error("{reason}")]
    Network { reason: String },

    /// `AUTH`: the server refused the device's credentials even after a token refresh
    /// (`http_status` 401 or 403), or no token could be had.
    #[error("{reason}")]
    Auth {
        reason: String,
        http_status: Option<i32>,
    },

    /// `SERVER`: the server answered with an error (`http_status` when it sent one) or with
    /// something the engine does not trust. Retried automatically.
    #[error("{reason}")]
    Server {
        reason: String,
        http_status: Option<i32>,
    },

    /// `INTEGRITY`: a checksum did not match: the data was corrupted in transit and was not
    /// applied. Retried automatically.
    #[error("{reason}")]
    Integrity { reason: String },

    /// `RATE_LIMITED`: the server asked the device to slow down; sync resumes by itself after
    /// `retry_after_ms`.
    #[error("{reason}")]
    RateLimited { reason: String, retry_after_ms: i64 },

    /// `CANCELLED`: the operation was cancelled (by `cancel()` or an OS background deadline).
    #[error("{reason}")]
    Cancelled { reason: String },

    /// `NOT_CONFIGURED`: the engine is not set up for this call (for example, no server URL
    /// configured, or a build without encryption opened with a key).
    #[error("{reason}")]
    NotConfigured { reason: String },
}

/// The one conversion point from the engine's error to the app's.
impl From<Error> for PosSyncError {
    fn from(err: Error) -> Self {
        let reason = err.to_string();
        let status = |s: Option<u16>| s.map(i32::from);
        match err {
            Error::InvalidInput { field, .. } => PosSyncError::InvalidInput { reason, field },
            Error::PayloadTooLarge(_) => PosSyncError::PayloadTooLarge { reason },
            Error::NotFound(_) => PosSyncError::NotFound { reason },
            Error::Database(_) => PosSyncError::Database { reason },
            Error::StorageFull(_) => PosSyncError::StorageFull { reason },
            Error::SchemaTooNew { found, supported } => PosSyncError::SchemaTooNew {
                reason,
                found,
                supported,
            },
            Error::Network(_) => PosSyncError::Network { reason },
            Error::Auth { http_status, .. } => PosSyncError::Auth {
                reason,
                http_status: status(http_status),
            },
            Error::Server { http_status, .. } => PosSyncError::Server {
                reason,
                http_status: status(http_status),
            },
            Error::Integrity(_) => PosSyncError::Integrity { reason },
            Error::RateLimited { retry_after_ms } => PosSyncError::RateLimited {
                reason,
                retry_after_ms: i64::try_from(retry_after_ms).unwrap_or(i64::MAX),
            },
            Error::Cancelled(_) => PosSyncError::Cancelled { reason },
            Error::NotConfigured(_) => PosSyncError::NotConfigured { reason },
        }
    }
}

impl From<rusqlite::Error> for PosSyncError {
    fn from(err: rusqlite::Error) -> Self {
        Error::from(err).into()
    }
}

/// The `code` of every error a call can fail with: in the bindings (`PosSyncError::code()`),
/// the CLI's JSON and the Capacitor plugin (TypeScript's `PosSyncErrorCode` is generated from
/// this list). The engine's errors have the first thirteen (documented on `PosSyncError`'s
/// variants); the plugin adds its own four. Bad arguments are `INVALID_INPUT`, naming the
/// offending option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(
    test,
    derive(ts_rs::TS, strum::EnumIter),
    ts(rename = "PosSyncErrorCode")
)]
pub enum ErrorCode {
    InvalidInput,
    PayloadTooLarge,
    NotFound,
    Database,
    StorageFull,
    SchemaTooNew,
    Network,
    Auth,
    Server,
    Integrity,
    RateLimited,
    Cancelled,
    NotConfigured,
    /// Plugin: a call other than `open` before `open` (or after `close`).
    NotOpen,
    /// Plugin: a method this version of the native plugin does not have.
    Unimplemented,
    /// Plugin: no engine on this platform.
    Unavailable,
    /// Plugin: an unexpected failure of the plugin itself (a bug: please report it).
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl PosSyncError {
    /// The variant's code (documented on each variant above).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            PosSyncError::InvalidInput { .. } => ErrorCode::InvalidInput,
            PosSyncError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            PosSyncError::NotFound { .. } => ErrorCode::NotFound,
            PosSyncError::Database { .. } => ErrorCode::Database,
            PosSyncError::StorageFull { .. } => ErrorCode::StorageFull,
            PosSyncError::SchemaTooNew { .. } => ErrorCode::SchemaTooNew,
            PosSyncError::Network { .. } => ErrorCode::Network,
            PosSyncError::Auth { .. } => ErrorCode::Auth,
            PosSyncError::Server { .. } => ErrorCode::Server,
            PosSyncError::Integrity { .. } => ErrorCode::Integrity,
            PosSyncError::RateLimited { .. } => ErrorCode::RateLimited,
            PosSyncError::Cancelled { .. } => ErrorCode::Cancelled,
            PosSyncError::NotConfigured { .. } => ErrorCode::NotConfigured,
        }
    }

    /// The stable SCREAMING_CASE code, for the Capacitor plugin, the CLI's JSON output and
    /// the apps' logs.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The message in words (the same text as Display).
    pub fn reason(&self) -> &str {
        match self {
            PosSyncError::InvalidInput { reason, .. }
            | PosSyncError::PayloadTooLarge { reason }
            | PosSyncError::NotFound { reason }
            | PosSyncError::Database { reason }
            | PosSyncError::StorageFull { reason }
            | PosSyncError::SchemaTooNew { reason, .. }
            | PosSyncError::Network { reason }
            | PosSyncError::Auth { reason, .. }
            | PosSyncError::Server { reason, .. }
            | PosSyncError::Integrity { reason }
            | PosSyncError::RateLimited { reason, .. }
            | PosSyncError::Cancelled { reason }
            | PosSyncError::NotConfigured { reason } => reason,
        }
    }

    /// The variant's typed fields under camelCase keys (`field`, `found`, `supported`,
    /// `httpStatus`, `retryAfterMs`), only those it has and that are set: the `details` of
    /// the Capacitor plugin's `{code, message, details}`.
    pub fn details(&self) -> Map<String, Value> {
        let mut details = Map::new();
        let mut put = |key: &str, value: Value| {
            details.insert(key.to_owned(), value);
        };
        match self {
            PosSyncError::InvalidInput {
                field: Some(field), ..
            } => put("field", field.as_str().into()),
            PosSyncError::SchemaTooNew {
                found, supported, ..
            } => {
                put("found", (*found).into());
                put("supported", (*supported).into());
            }
            PosSyncError::Auth {
                http_status: Some(status),
                ..
            }
            | PosSyncError::Server {
                http_status: Some(status),
                ..
            } => put("httpStatus", (*status).into()),
            PosSyncError::RateLimited { retry_after_ms, .. } => {
                put("retryAfterMs", (*retry_after_ms).into())
            }
            _ => {}
        }
        details
    }

    /// Worth retrying later without any change by the app or a person.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PosSyncError::Network { .. }
                | PosSyncError::Server { .. }
                | PosSyncError::Integrity { .. }
                | PosSyncError::RateLimited { .. }
        )
    }
}

/// What Kotlin and Swift call on any `PosSyncError`: `e.code()`, `e.reason()`,
/// `e.isTransient()` (the Rust methods above borrow, which the bindings cannot).
#[uniffi::export]
impl PosSyncError {
    #[uniffi::method(name = "code")]
    pub fn code_for_bindings(&self) -> String {
        self.code().to_owned()
    }

    #[uniffi::method(name = "reason")]
    pub fn reason_for_bindings(&self) -> String {
        self.reason().to_owned()
    }

    #[uniffi::method(name = "is_transient")]
    pub fn is_transient_for_bindings(&self) -> bool {
        self.is_transient()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_code_is_the_same_string_for_serde_and_for_code() {
        use strum::IntoEnumIterator;
        for code in ErrorCode::iter() {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        }
    }

    #[test]
    fn the_public_error_keeps_the_message_and_carries_the_fields() {
        let cases = [
            (
                Error::invalid_field("lines", "the sale has no 'lines'"),
                "INVALID_INPUT",
                "invalid input: the sale has no 'lines'",
                json!({"field": "lines"}),
            ),
            (
                Error::invalid("the sale is not valid JSON"),
                "INVALID_INPUT",
                "invalid input: the sale is not valid JSON",
                json!({}),
            ),
            (
                Error::SchemaTooNew {
                    found: 9,
                    supported: 5,
                },
                "SCHEMA_TOO_NEW",
                "the database uses schema version 9, newer than this pos-sync supports (5); update the app, the database was not changed",
                json!({"found": 9, "supported": 5}),
            ),
            (
                Error::RateLimited {
                    retry_after_ms: 1500,
                },
                "RATE_LIMITED",
                "rate limited by the server: retry in 1500 ms",
                json!({"retryAfterMs": 1500}),
            ),
            (
                Error::Server {
                    message: "/api/sync/upload failed on the server (HTTP 503); will retry".into(),
                    http_status: Some(503),
                },
                "SERVER",
                "server error: /api/sync/upload failed on the server (HTTP 503); will retry",
                json!({"httpStatus": 503}),
            ),
            (
                Error::Auth {
                    message: "the server rejected the token".into(),
                    http_status: Some(401),
                },
                "AUTH",
                "authentication failed: the server rejected the token",
                json!({"httpStatus": 401}),
            ),
            (
                Error::server("the page has a bad checksum"),
                "SERVER",
                "server error: the page has a bad checksum",
                json!({}),
            ),
        ];
        for (internal, code, message, details) in cases {
            let public = PosSyncError::from(internal);
            assert_eq!(public.code(), code);
            assert_eq!(public.code_for_bindings(), code);
            assert_eq!(public.to_string(), message);
            assert_eq!(public.reason(), message);
            assert_eq!(Value::Object(public.details()), details, "{code}");
        }
    }

    #[test]
    fn a_full_disk_is_storage_full_not_a_database_error() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let public = PosSyncError::from(full);
        assert_eq!(public.code(), "STORAGE_FULL");
        assert!(public.reason().contains("no space left"), "{public}");
    }
}
