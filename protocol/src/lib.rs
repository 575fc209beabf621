//! pos-sync-protocol: the wire contract between a device and the sync server
//! (docs/protocol.md explains it in prose) and the domain vocabulary both sides speak
//! (`model`). Shared by the engine (`pos_sync::protocol`, `pos_sync::model`) and the reference
//! server, so both sides always agree on field names; plain Rust with no FFI, so a server
//! does not compile the client or UniFFI. Checksums are SHA-256 over canonical JSON.

pub mod model;

use crate::model::{Action, EntityType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The protocol version this crate speaks. Sent as the `X-Pos-Sync-Protocol` header.
pub const PROTOCOL_VERSION: u32 = 1;
/// Header carrying the protocol version on every request.
pub const PROTOCOL_HEADER: &str = "x-pos-sync-protocol";
/// Response header carrying `body_checksum` of the answer's body (before any
/// `Content-Encoding`). The page and payload checksums do not cover a page's `next_token`
/// or an answer's `server_time`, where one flipped digit is still valid JSON; a device
/// checks this header whenever a server sends it and refuses an answer that does not match.
pub const BODY_CHECKSUM_HEADER: &str = "x-pos-sync-body-sha256";

/// Default and maximum limits a conforming server enforces (documented in protocol.md).
pub mod limits {
    /// Largest request body accepted, after gzip decoding.
    pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
    /// Most changes in one upload batch.
    pub const MAX_BATCH_CHANGES: usize = 1000;
    /// Largest canonical JSON payload of one record.
    pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
    /// Default and maximum page size of a download.
    pub const DEFAULT_PAGE_LIMIT: usize = 500;
    pub const MAX_PAGE_LIMIT: usize = 5000;
}

// ---------------------------------------------------------------------------------------
// Upload: POST /api/sync/upload
// ---------------------------------------------------------------------------------------

/// One local change sent to the server. The server reads payloads as JSON values; a device
/// sends the canonical text it queued (`CanonicalPayload`), which is the same on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<P = Value> {
    /// Stable id of this change, generated when it was queued; the server's idempotency key.
    pub change_id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub action: Action,
    /// Hybrid logical clock timestamp of the edit (see `model::hlc`).
    pub hlc: i64,
    /// For customers: the server version this edit was based on (`None` for a create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_version: Option<i64>,
    /// The whole document. `null` for a delete.
    pub payload: P,
    /// `payload_checksum(&payload)`.
    pub checksum: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRequest<P = Value> {
    /// Random id of this request, for logs only (idempotency is per change).
    pub batch_id: String,
    pub changes: Vec<Change<P>>,
    /// `batch_checksum(&changes)`.
    pub checksum: String,
}

/// What the server did with one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Applied now.
    Applied,
    /// This change id was applied before; nothing was applied again.
    Duplicate,
    /// The record changed on the server since `base_version`; `server_record` holds it.
    Conflict,
    /// Permanently refused; `reason` says why. Retrying the same change will not help.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeResult {
    pub change_id: String,
    pub status: ChangeStatus,
    /// The record's server version after this change (applied / duplicate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Machine-readable reason code for `rejected` (see `ErrorCode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Human-readable reason for `rejected` or `conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `conflict`: the id to pass to `/api/sync/resolve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_id: Option<String>,
    /// For `conflict`: the server's current record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_record: Option<ServerRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResponse {
    /// One result per change, in request order.
    pub results: Vec<ChangeResult>,
    /// Server wall clock, milliseconds since the Unix epoch.
    pub server_time: i64,
}

// ---------------------------------------------------------------------------------------
// Download: GET /api/sync/download?entity_type=product&since=TOKEN&limit=500
// ---------------------------------------------------------------------------------------

/// A record as the server holds it. Deleted records are tombstones with no payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerRecord {
    pub entity_type: EntityType,
    pub entity_id: String,
    /// Increases by one on every server-side change of this record.
    pub version: i64,
    pub deleted: bool,
    /// Hybrid logical clock timestamp of the last edit.
    pub updated_hlc: i64,
    /// The whole document, `null` for a tombstone.
    pub payload: Value,
    /// `payload_checksum(&payload)`.
    pub checksum: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadResponse {
    pub entity_type: EntityType,
    /// Changes after `since`, oldest first, at most `limit`.
    pub records: Vec<ServerRecord>,
    /// Opaque token to pass as `since` next time. Store it with the page, atomically.
    pub next_token: String,
    /// More changes are waiting: ask again with `next_token`.
    pub has_more: bool,
    /// `batch_checksum(&records)`.
    pub checksum: String,
    pub server_time: i64,
}

// ---------------------------------------------------------------------------------------
// Status: GET /api/sync/status
// ---------------------------------------------------------------------------------------

/// Per-type totals that let a device detect drift without downloading anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityStatus {
    pub entity_type: EntityType,
    /// Live (not deleted) records of this type in the caller's store.
    pub count: i64,
    /// Wrapping sum (mod 2^32) of `drift_checksum` over live records.
    pub checksum: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitStatus {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in the current window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusResponse {
    pub protocol_version: u32,
    pub server_time: i64,
    pub store_id: String,
    pub device_id: String,
    pub entities: Vec<EntityStatus>,
    /// Conflicts of this store waiting for `/api/sync/resolve`.
    pub open_conflicts: i64,
    pub rate_limit: RateLimitStatus,
}

// ---------------------------------------------------------------------------------------
// Resolve: POST /api/sync/resolve
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Resolution {
    /// The device's version replaces the server's.
    KeepLocal,
    /// The server's version stays; the device drops its edit.
    KeepServer,
    /// A person merged both; `payload` holds the result.
    Merged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveRequest {
    pub conflict_id: String,
    pub resolution: Resolution,
    /// The record to store: the local version for `keep_local`, the merged one for
    /// `merged`; absent for `keep_server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// `payload_checksum(payload)` when a payload is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Hybrid logical clock timestamp of the resolution.
    pub hlc: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveResponse {
    pub conflict_id: String,
    /// The record as the server holds it after the resolution.
    pub record: ServerRecord,
    pub server_time: i64,
}

// ---------------------------------------------------------------------------------------
// Errors: every non-2xx answer carries this body.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no bearer token, or one the server does not know.
    Unauthorized,
    /// 403: the token is valid but the resource belongs to another store.
    Forbidden,
    /// 400: the body is not valid JSON or does not match the schema.
    InvalidRequest,
    /// 400: an entity type outside the six.
    UnknownEntityType,
    /// 400 (batch) or per-change `rejected`: a checksum does not match its content.
    ChecksumMismatch,
    /// 400: unsupported `X-Pos-Sync-Protocol`.
    UnsupportedProtocolVersion,
    /// 413: body, batch or payload over the limits.
    PayloadTooLarge,
    /// 429: slow down; `Retry-After` says for how long.
    RateLimited,
    /// 404: unknown path or conflict id.
    NotFound,
    /// 409: the conflict was already resolved.
    ConflictClosed,
    /// 409 on download: `since` is ahead of the store's current position (the server was
    /// restored from a backup, or the store was reset); download the type from the beginning.
    SyncTokenAhead,
    /// Per-change `rejected`: the payload misses a required field or has a wrong type.
    InvalidPayload,
    /// Per-change `rejected`: the action is not allowed for this entity type.
    InvalidAction,
    /// 500: the server failed; retry later.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnknownEntityType => "unknown_entity_type",
            ErrorCode::ChecksumMismatch => "checksum_mismatch",
            ErrorCode::UnsupportedProtocolVersion => "unsupported_protocol_version",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ConflictClosed => "conflict_closed",
            ErrorCode::SyncTokenAhead => "sync_token_ahead",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::InvalidAction => "invalid_action",
            ErrorCode::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// Checksums
// ---------------------------------------------------------------------------------------

/// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
/// strings escaped as serde_json does (only `"`, `\` and control characters), numbers as
/// serde_json prints them. Written out explicitly so it never depends on serde_json's
/// map-ordering feature flags.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::with_capacity(512);
    write_canonical(value, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Writes straight into one buffer with serde_json's own string and number writers (the
/// same bytes as `Value::to_string`, without a temporary `String` per key and per scalar,
/// which made checksums the largest CPU cost of a sync).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // Already in order with serde_json's default map; a cheap check then.
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).expect("writing to a Vec cannot fail");
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).expect("writing to a Vec cannot fail"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of a body's bytes, as sent in `BODY_CHECKSUM_HEADER`.
pub fn body_checksum(bytes: &[u8]) -> String {
    sha256_hex(bytes)
}

/// Lower-case hex SHA-256 of the canonical JSON of one payload (`null` for a tombstone).
pub fn payload_checksum(payload: &Value) -> String {
    canonical_checksum(&canonical_json(payload))
}

/// `payload_checksum` of a payload whose canonical JSON text is already at hand (stored or
/// just written), so it is not written a second time.
pub fn canonical_checksum(canonical_text: &str) -> String {
    sha256_hex(canonical_text.as_bytes())
}

/// Lower-case hex SHA-256 of the canonical JSON of a list (changes or records).
pub fn batch_checksum<T: CanonicalJson>(items: &[T]) -> String {
    // The canonical JSON of the list, hashed item by item as it is written: one item at a
    // time instead of a copy of the whole batch.
    let mut hasher = Sha256::new();
    let mut buf = Vec::with_capacity(4096);
    buf.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        item.write_canonical_json(&mut buf);
        hasher.update(&buf);
        buf.clear();
    }
    buf.push(b']');
    hasher.update(&buf);
    hex::encode(hasher.finalize())
}

/// A wire item that writes its own canonical JSON, field by field. The generic way
/// (`serde_json::to_value`, then `canonical_json`) deep-copies the payload first, which cost
/// as much as the checksum itself on both sides of every upload and download. Must write
/// exactly `canonical_json(&serde_json::to_value(item))` (a test compares the two).
pub trait CanonicalJson {
    fn write_canonical_json(&self, out: &mut Vec<u8>);
}

impl CanonicalJson for Value {
    fn write_canonical_json(&self, out: &mut Vec<u8>) {
        write_canonical(self, out);
    }
}

impl<P: CanonicalJson> CanonicalJson for Change<P> {
    fn write_canonical_json(&self, out: &mut Vec<u8>) {
        let mut object = CanonicalObject::begin(out);
        object.scalar("action", &self.action);
        if let Some(base_version) = self.base_version {
            object.scalar("base_version", &base_version);
        }
        object
            .scalar("change_id", &self.change_id)
            .scalar("checksum", &self.checksum)
            .scalar("entity_id", &self.entity_id)
            .scalar("entity_type", &self.entity_type)
            .scalar("hlc", &self.hlc)
            .value("payload", &self.payload)
            .end();
    }
}

impl CanonicalJson for ServerRecord {
    fn write_canonical_json(&self, out: &mut Vec<u8>) {
        CanonicalObject::begin(out)
            .scalar("checksum", &self.checksum)
            .scalar("deleted", &self.deleted)
            .scalar("entity_id", &self.entity_id)
            .scalar("entity_type", &self.entity_type)
            .value("payload", &self.payload)
            .scalar("updated_hlc", &self.updated_hlc)
            .scalar("version", &self.version)
            .end();
    }
}

/// A payload carried as the canonical JSON text it was queued as. It goes onto the wire and
/// into the batch checksum verbatim: parsing every queued payload into a `Value` and
/// writing it out twice (request and checksum) was a third of a device's upload work.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct CanonicalPayload(Box<serde_json::value::RawValue>);

impl CanonicalPayload {
    /// The payload behind `checksum`, from its stored text: the text itself when it hashes
    /// to the checksum (only the canonical form does), else its canonical form when the text
    /// is JSON with that checksum. `None` when the text does not match the checksum.
    pub fn verified(text: &str, checksum: &str) -> Option<Self> {
        let canonical = if canonical_checksum(text) == checksum {
            text.to_owned()
        } else {
            let value: Value = serde_json::from_str(text).ok()?;
            let canonical = canonical_json(&value);
            if canonical_checksum(&canonical) != checksum {
                return None;
            }
            canonical
        };
        serde_json::value::RawValue::from_string(canonical)
            .ok()
            .map(CanonicalPayload)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl CanonicalJson for CanonicalPayload {
    fn write_canonical_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_str().as_bytes());
    }
}

/// Writes a JSON object whose keys its caller gives in canonical (byte) order.
struct CanonicalObject<'a> {
    out: &'a mut Vec<u8>,
    last_key: Option<&'static str>,
}

impl<'a> CanonicalObject<'a> {
    fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        CanonicalObject {
            out,
            last_key: None,
        }
    }

    fn key(&mut self, key: &'static str) {
        debug_assert!(
            self.last_key
                .is_none_or(|last| last.as_bytes() < key.as_bytes()),
            "canonical keys must be written in byte order ({key})"
        );
        if self.last_key.is_some() {
            self.out.push(b',');
        }
        self.last_key = Some(key);
        serde_json::to_writer(&mut *self.out, key).expect("writing to a Vec cannot fail");
        self.out.push(b':');
    }

    /// A string, number, bool or unit enum: serde_json's own text is canonical.
    fn scalar(&mut self, key: &'static str, value: &impl Serialize) -> &mut Self {
        self.key(key);
        serde_json::to_writer(&mut *self.out, value).expect("wire scalars always serialize");
        self
    }

    fn value(&mut self, key: &'static str, value: &impl CanonicalJson) -> &mut Self {
        self.key(key);
        value.write_canonical_json(self.out);
        self
    }

    fn end(&mut self) {
        self.out.push(b'}');
    }
}

/// The 32-bit contribution of one live record to its type's drift checksum: the first four
/// bytes (eight hex digits) of its payload checksum, read big-endian.
pub fn drift_checksum(record_checksum_hex: &str) -> u32 {
    record_checksum_hex
        .get(..8)
        .and_then(|prefix| u32::from_str_radix(prefix, 16).ok())
        .unwrap_or(0)
}

/// Opaque download tokens are `v1.<sequence>`; clients must never parse them. These helpers
/// exist for the reference server.
pub mod token {
    pub fn encode(sequence: i64) -> String {
        format!("v1.{sequence}")
    }

    pub fn decode(token: &str) -> Option<i64> {
        token
            .strip_prefix("v1.")?
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_recursively_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": 1, "a": {"z": [3, {"y": true, "x": null}], "c": "é/\""} }"#,
        )
        .unwrap();
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":"é/\"","z":[3,{"x":null,"y":true}]},"b":1}"#
        );
    }

    /// The straightforward definition, kept as the reference the fast writer must match.
    fn reference_canonical(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let fields: Vec<String> = keys
                    .into_iter()
                    .map(|k| {
                        format!(
                            "{}:{}",
                            Value::String(k.clone()),
                            reference_canonical(&map[k])
                        )
                    })
                    .collect();
                format!("{{{}}}", fields.join(","))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(reference_canonical).collect();
                format!("[{}]", items.join(","))
            }
            scalar => scalar.to_string(),
        }
    }

    #[test]
    fn fast_canonical_writer_matches_the_reference() {
        let values: Vec<Value> = vec![
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"z": 1, "a": -2.5, "é": "\u{1}\"\\/\n", "A": [1e300, 0.1, -0, 18446744073709551615u64, i64::MIN], "m": {"b": true, "a": false, "": null}}),
            serde_json::from_str(r#"{"ü":"😀","u":"\ud83d\ude00","k":[{"y":1,"x":[{}]}],"n":1.0,"big":123456789012345678901234567890}"#).unwrap(),
        ];
        for v in &values {
            assert_eq!(canonical_json(v), reference_canonical(v), "{v}");
        }
        let whole = Value::Array(values.clone());
        assert_eq!(
            batch_checksum(&values),
            sha256_hex(reference_canonical(&whole).as_bytes())
        );
        assert_eq!(batch_checksum::<Value>(&[]), sha256_hex(b"[]"));
    }

    #[test]
    fn wire_items_write_the_canonical_json_of_their_serialized_form() {
        let payloads = [
            json!(null),
            json!({"z": [1, {"b": 2, "a": "é\u{1}"}], "a": 1.5, "id": "s1"}),
        ];
        let mut changes = Vec::new();
        let mut records = Vec::new();
        for (i, payload) in payloads.iter().enumerate() {
            for base_version in [None, Some(7)] {
                changes.push(Change {
                    change_id: format!("c\"{i}"),
                    entity_type: EntityType::StockAdjustment,
                    entity_id: "é-1".into(),
                    action: Action::Update,
                    hlc: i64::MAX - i as i64,
                    base_version,
                    payload: payload.clone(),
                    checksum: payload_checksum(payload),
                });
            }
            records.push(ServerRecord {
                entity_type: EntityType::Product,
                entity_id: format!("p{i}"),
                version: -1,
                deleted: payload.is_null(),
                updated_hlc: 0,
                payload: payload.clone(),
                checksum: payload_checksum(payload),
            });
        }
        fn reference_batch<T: Serialize>(items: &[T]) -> String {
            sha256_hex(reference_canonical(&serde_json::to_value(items).unwrap()).as_bytes())
        }
        for change in &changes {
            let mut out = Vec::new();
            change.write_canonical_json(&mut out);
            let expected = reference_canonical(&serde_json::to_value(change).unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
        for record in &records {
            let mut out = Vec::new();
            record.write_canonical_json(&mut out);
            let expected = reference_canonical(&serde_json::to_value(record).unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
        assert_eq!(batch_checksum(&changes), reference_batch(&changes));
        assert_eq!(batch_checksum(&records), reference_batch(&records));
    }

    #[test]
    fn changes_carrying_stored_text_go_out_exactly_as_parsed_ones() {
        let payload = json!({"z": [1, {"b": 2, "a": "é\u{1}"}], "a": 1.5, "id": "s1"});
        let checksum = payload_checksum(&payload);
        let canonical = canonical_json(&payload);
        fn change<P>(payload: P, checksum: &str) -> Change<P> {
            Change {
                change_id: "c1".into(),
                entity_type: EntityType::Sale,
                entity_id: "s1".into(),
                action: Action::Create,
                hlc: 3,
                base_version: None,
                payload,
                checksum: checksum.into(),
            }
        }
        let parsed = [change(payload.clone(), &checksum)];
        // Stored canonical text, and the same document stored with other key order and
        // spacing: both go out as the canonical form.
        for stored in [canonical.clone(), payload.to_string().replace(',', ", ")] {
            let text = CanonicalPayload::verified(&stored, &checksum).expect("matches");
            assert_eq!(text.as_str(), canonical);
            let carried = [change(text, &checksum)];
            assert_eq!(batch_checksum(&carried), batch_checksum(&parsed));
            assert_eq!(
                serde_json::to_value(&carried).unwrap(),
                serde_json::to_value(&parsed).unwrap()
            );
        }
        assert!(CanonicalPayload::verified(&canonical.replace("1.5", "2.5"), &checksum).is_none());
        assert!(CanonicalPayload::verified("{not json", &checksum).is_none());
        assert_eq!(
            CanonicalPayload::verified("null", &payload_checksum(&Value::Null))
                .unwrap()
                .as_str(),
            "null"
        );
    }

    #[test]
    fn checksum_vectors_are_stable() {
        // Test vectors for other implementations (docs/protocol.md quotes them).
        assert_eq!(
            payload_checksum(&json!({"id": "p1", "name": "Cola", "price": 150})),
            sha256_hex(br#"{"id":"p1","name":"Cola","price":150}"#)
        );
        assert_eq!(
            payload_checksum(&Value::Null),
            "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"
        );
    }

    #[test]
    fn drift_checksum_reads_first_four_bytes() {
        assert_eq!(drift_checksum("00000001ffff"), 1);
        assert_eq!(drift_checksum("ffffffff"), u32::MAX);
        assert_eq!(drift_checksum("xyz"), 0);
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(token::decode(&token::encode(42)), Some(42));
        assert_eq!(token::decode("v2.3"), None);
        assert_eq!(token::decode("v1.-3"), None);
        assert_eq!(token::decode("v1.abc"), None);
    }

    #[test]
    fn wire_enums_use_snake_case() {
        assert_eq!(
            serde_json::to_string(&ChangeStatus::Duplicate).unwrap(),
            "\"duplicate\""
        );
        assert_eq!(
            serde_json::to_string(&Resolution::KeepLocal).unwrap(),
            "\"keep_local\""
        );
        assert_eq!(
            serde_json::to_string(&ErrorCode::PayloadTooLarge).unwrap(),
            format!("\"{}\"", ErrorCode::PayloadTooLarge.as_str())
        );
    }
}
