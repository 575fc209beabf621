//! How the engine's records cross into JavaScript, as serde field adapters that the records
//! name in their attributes (`#[serde(serialize_with = "crate::bridge::wire::...")]`):
//!
//! - a document the engine holds as JSON text (`json`, `local_json`, ...) is written as the
//!   JSON value itself, byte for byte (numbers and key order as stored), not as a string;
//! - a 64-bit value that can exceed `Number.MAX_SAFE_INTEGER` (hybrid-logical-clock
//!   timestamps, checksums) is written as a decimal string, so JavaScript never rounds it.
//!
//! The TypeScript types generated from the records (ts-rs) say the same through
//! `#[ts(type = ...)]` next to each adapter.

use serde::ser::Error as _;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// Writes stored JSON text as the JSON value it holds.
pub fn json_text<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    let raw: &RawValue = serde_json::from_str(text)
        .map_err(|e| S::Error::custom(format!("a stored document is not valid JSON: {e}")))?;
    raw.serialize(s)
}

/// Writes a 64-bit integer as a decimal string.
pub fn int64_text<S: Serializer>(value: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}
