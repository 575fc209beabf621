//! What a plugin call fails with: the engine's error codes (`PosSyncError::code()`) plus the
//! bridge's own, a message for people, and the error's fields as JSON for code.

use crate::error::{ErrorCode, PosSyncError};
use serde_json::Value;

/// A failed plugin call. The TypeScript client rejects with a `CapacitorException` whose
/// `code` is [`Self::code`] and whose `data` holds the parsed [`Self::details_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeError {
    pub code: String,
    pub message: String,
    /// A JSON object of the error's fields (`retryAfterMs`, `found`, `supported`, ...).
    pub details_json: Option<String>,
}

impl BridgeError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> BridgeError {
        BridgeError {
            code: code.as_str().to_owned(),
            message: message.into(),
            details_json: None,
        }
    }

    pub(crate) fn not_open() -> BridgeError {
        BridgeError::new(
            ErrorCode::NotOpen,
            "the engine is not open: call PosSync.open() first",
        )
    }

    pub(crate) fn invalid(method: &str, message: impl std::fmt::Display) -> BridgeError {
        BridgeError::new(ErrorCode::InvalidInput, format!("{method}: {message}"))
    }

    pub(crate) fn internal(message: impl std::fmt::Display) -> BridgeError {
        BridgeError::new(
            ErrorCode::Internal,
            format!("the pos-sync plugin failed unexpectedly ({message}); please report it"),
        )
    }
}

impl std::fmt::Display for BridgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for BridgeError {}

impl From<PosSyncError> for BridgeError {
    fn from(e: PosSyncError) -> BridgeError {
        let details = e.details();
        BridgeError {
            code: e.code().to_owned(),
            message: e.to_string(),
            details_json: (!details.is_empty()).then(|| Value::Object(details).to_string()),
        }
    }
}
