//! `POST /api/sync/upload`: checks the batch as a whole, then applies its changes in order,
//! in one transaction, with one result per change.

use crate::auth::Device;
use crate::body;
use crate::db::{missing_record, negate, now_ms, StoreTx};
use crate::error::ApiError;
use crate::webhooks::WrittenChange;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use pos_sync_protocol::limits::{MAX_BATCH_CHANGES, MAX_PAYLOAD_BYTES};
use pos_sync_protocol::model::{Action, EntityType};
use pos_sync_protocol::{
    batch_checksum, canonical_checksum, canonical_json, payload_checksum, Change, ChangeResult,
    ChangeStatus, ErrorCode, ServerRecord, UploadRequest, UploadResponse,
};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::sync::Arc;

/// Longest `change_id`, `batch_id` and `entity_id` accepted (characters).
pub const MAX_ID_CHARS: usize = 128;

pub async fn handler(
    State(state): State<Arc<AppState>>,
    Extension(device): Extension<Device>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadResponse>, ApiError> {
    let bytes = body::read_body(body).await?;
    body::check_content_type(&headers)?;
    let request = parse_request(&headers, &bytes)?;
    if request.changes.len() > MAX_BATCH_CHANGES {
        return Err(ApiError::too_large(format!(
            "a batch holds at most {MAX_BATCH_CHANGES} changes; this one has {}",
            request.changes.len()
        )));
    }
    let expected = batch_checksum(&request.changes);
    if !expected.eq_ignore_ascii_case(&request.checksum) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ChecksumMismatch,
            "the batch checksum does not match its changes; nothing was applied",
        ));
    }

    let dev = device.clone();
    let changes = request.changes;
    let hooks = state.webhooks.clone();
    let (results, written) = state
        .db
        .run(move |inner| {
            let mut tx = inner.store_tx(&dev.store_id)?;
            let mut results = Vec::with_capacity(changes.len());
            let mut written = Vec::new();
            for change in &changes {
                let (result, wrote) = apply_change(&mut tx, &dev.device_id, change)?;
                written.extend(wrote);
                results.push(result);
            }
            hooks.commit_with_event(tx, Some(&dev.device_id), &written)?;
            Ok((results, written.len()))
        })
        .await?;
    tracing::info!(
        "upload batch {} from {}/{}: {} changes, {} written",
        request
            .batch_id
            .chars()
            .take(MAX_ID_CHARS)
            .collect::<String>(),
        device.store_id,
        device.device_id,
        results.len(),
        written
    );
    Ok(Json(UploadResponse {
        results,
        server_time: now_ms(),
    }))
}

fn invalid(message: String) -> ApiError {
    ApiError::invalid_request(message)
}

/// The JSON shape of an upload, parsed straight into `UploadRequest` (no intermediate
/// `Value` tree: that copy was a large part of the server's cost per change). Only a body
/// that does not parse is read again as a `Value`, to say what is wrong: an unknown entity
/// type as such, any other mismatch as `invalid_request` naming the change at fault.
fn parse_request(headers: &HeaderMap, bytes: &[u8]) -> Result<UploadRequest, ApiError> {
    let request: UploadRequest = match serde_json::from_slice(bytes) {
        Ok(request) => request,
        Err(e) => return Err(explain_unparsable(body::parse_json(headers, bytes)?, e)),
    };
    check_id("batch_id", &request.batch_id)?;
    for (i, c) in request.changes.iter().enumerate() {
        check_id(&format!("changes[{i}].change_id"), &c.change_id)?;
        check_id(&format!("changes[{i}].entity_id"), &c.entity_id)?;
        if c.hlc < 0 {
            return Err(invalid(format!("changes[{i}].hlc must not be negative")));
        }
        if c.base_version.is_some_and(|v| v < 0) {
            return Err(invalid(format!(
                "changes[{i}].base_version must not be negative"
            )));
        }
    }
    Ok(request)
}

/// Why a JSON body is not an `UploadRequest`, as precisely as the body allows.
fn explain_unparsable(value: Value, error: serde_json::Error) -> ApiError {
    let Some(object) = value.as_object() else {
        return invalid(
            "the body must be a JSON object with batch_id, changes and checksum".into(),
        );
    };
    if let Some(Value::Array(changes)) = object.get("changes") {
        for (i, change) in changes.iter().enumerate() {
            if let Some(Value::String(ty)) = change.get("entity_type") {
                if let Err(e) = ty.parse::<EntityType>() {
                    return ApiError::new(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::UnknownEntityType,
                        format!("changes[{i}]: {e}"),
                    );
                }
            }
        }
        // Name the first change that does not parse, if the problem is inside one.
        for (i, change) in changes.iter().enumerate() {
            if let Err(ce) = Change::<Value>::deserialize(change) {
                return invalid(format!("changes[{i}]: {ce}"));
            }
        }
    }
    invalid(format!("the body does not match UploadRequest: {error}"))
}

fn check_id(name: &str, id: &str) -> Result<(), ApiError> {
    let n = id.chars().count();
    if n == 0 || n > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{name} must be 1 to {MAX_ID_CHARS} characters without control characters (got {n})"
        )));
    }
    Ok(())
}

fn result(change: &Change, status: ChangeStatus) -> ChangeResult {
    ChangeResult {
        change_id: change.change_id.clone(),
        status,
        version: None,
        code: None,
        reason: None,
        conflict_id: None,
        server_record: None,
    }
}

fn rejected(change: &Change, code: ErrorCode, reason: impl Into<String>) -> ChangeResult {
    ChangeResult {
        code: Some(code.as_str().to_string()),
        reason: Some(reason.into()),
        ..result(change, ChangeStatus::Rejected)
    }
}

fn with_version(change: &Change, status: ChangeStatus, version: i64) -> ChangeResult {
    ChangeResult {
        version: Some(version),
        ..result(change, status)
    }
}

type Outcome = (ChangeResult, Option<WrittenChange>);

/// Applies one change inside the batch transaction.
pub fn apply_change(
    tx: &mut StoreTx<'_>,
    device_id: &str,
    change: &Change,
) -> rusqlite::Result<Outcome> {
    // Idempotency: a change id is applied at most once, ever.
    if let Some((store, stored)) = tx.applied_result(&change.change_id)? {
        if store == tx.store_id() {
            return Ok((
                ChangeResult {
                    status: ChangeStatus::Duplicate,
                    ..stored
                },
                None,
            ));
        }
        return Ok((
            rejected(change, ErrorCode::InvalidRequest, "change id already used"),
            None,
        ));
    }
    let canonical = canonical_json(&change.payload);
    let checksum = canonical_checksum(&canonical);
    if !checksum.eq_ignore_ascii_case(&change.checksum) {
        return Ok((
            rejected(
                change,
                ErrorCode::ChecksumMismatch,
                "the payload checksum does not match its content; send it again",
            ),
            None,
        ));
    }
    let size = canonical.len();
    if size > MAX_PAYLOAD_BYTES {
        return Ok((
            rejected(
                change,
                ErrorCode::PayloadTooLarge,
                format!("the payload is {size} bytes of canonical JSON; at most {MAX_PAYLOAD_BYTES} are accepted"),
            ),
            None,
        ));
    }
    match change.entity_type {
        EntityType::Sale | EntityType::StockAdjustment => {
            apply_append_only(tx, device_id, change, &canonical, &checksum)
        }
        EntityType::Customer => apply_customer(tx, device_id, change),
        other => Ok((
            rejected(
                change,
                ErrorCode::InvalidAction,
                format!("{other} records come from the server; devices cannot upload them"),
            ),
            None,
        )),
    }
}

fn object_with_id<'a>(
    entity_id: &str,
    payload: &'a Value,
) -> Result<&'a Map<String, Value>, String> {
    let Some(object) = payload.as_object() else {
        return Err("the payload must be a JSON object".into());
    };
    match object.get("id") {
        Some(Value::String(id)) if id == entity_id => Ok(object),
        Some(Value::String(id)) => Err(format!(
            "the payload id '{}' differs from entity_id '{entity_id}'",
            id.chars().take(MAX_ID_CHARS).collect::<String>()
        )),
        _ => Err("the payload needs a string field 'id' equal to entity_id".into()),
    }
}

fn string_field<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    at: &str,
) -> Result<&'a str, String> {
    match object.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(format!("{at}needs a non-empty string field '{field}'")),
    }
}

fn number_field<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    at: &str,
) -> Result<&'a Number, String> {
    match object.get(field) {
        Some(Value::Number(n)) => Ok(n),
        _ => Err(format!("{at}needs a number field '{field}'")),
    }
}

/// The stock movements a sale or stock adjustment makes: (product id, delta).
pub fn stock_effects(
    entity_type: EntityType,
    entity_id: &str,
    payload: &Value,
) -> Result<Vec<(String, Number)>, String> {
    let object = object_with_id(entity_id, payload)?;
    match entity_type {
        EntityType::Sale => {
            let lines = match object.get("lines") {
                Some(Value::Array(lines)) if !lines.is_empty() => lines,
                Some(Value::Array(_)) => return Err("a sale needs at least one line".into()),
                _ => return Err("a sale needs an array field 'lines'".into()),
            };
            lines
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    let at = format!("lines[{i}] ");
                    let line = line
                        .as_object()
                        .ok_or_else(|| format!("lines[{i}] must be an object"))?;
                    let product = string_field(line, "product_id", &at)?;
                    let quantity = number_field(line, "quantity", &at)?;
                    Ok((product.to_string(), negate(quantity)))
                })
                .collect()
        }
        EntityType::StockAdjustment => {
            let product = string_field(object, "product_id", "a stock adjustment ")?;
            let delta = number_field(object, "quantity_delta", "a stock adjustment ")?;
            Ok(vec![(product.to_string(), delta.clone())])
        }
        _ => Err("only sales and stock adjustments move stock".into()),
    }
}

/// Sales and stock adjustments: created once, never edited; the device is the truth.
/// `canonical` and `checksum` are the payload's, already verified by `apply_change`.
fn apply_append_only(
    tx: &mut StoreTx<'_>,
    device_id: &str,
    change: &Change,
    canonical: &str,
    checksum: &str,
) -> rusqlite::Result<Outcome> {
    let kind = change.entity_type;
    if change.action != Action::Create {
        return Ok((
            rejected(
                change,
                ErrorCode::InvalidAction,
                format!("a {kind} can only be created, never updated or deleted"),
            ),
            None,
        ));
    }
    let effects = match stock_effects(kind, &change.entity_id, &change.payload) {
        Ok(effects) => effects,
        Err(reason) => return Ok((rejected(change, ErrorCode::InvalidPayload, reason), None)),
    };
    if let Some((version, ..)) = tx.record_meta(kind, &change.entity_id)? {
        // Recorded before under another change id: never record it twice.
        let outcome = with_version(change, ChangeStatus::Duplicate, version);
        tx.record_applied(device_id, &outcome)?;
        return Ok((outcome, None));
    }
    let stamp = tx.stamp(change.hlc);
    let version = tx.insert_new_record(kind, &change.entity_id, canonical, checksum, stamp)?;
    for (product, delta) in &effects {
        tx.add_stock(product, delta)?;
    }
    applied(tx, device_id, change, version)
}

/// The change was written as `version` of its record.
fn applied(
    tx: &mut StoreTx<'_>,
    device_id: &str,
    change: &Change,
    version: i64,
) -> rusqlite::Result<Outcome> {
    let outcome = with_version(change, ChangeStatus::Applied, version);
    tx.record_applied(device_id, &outcome)?;
    Ok((
        outcome,
        Some(WrittenChange {
            entity_type: change.entity_type,
            entity_id: change.entity_id.clone(),
            change_id: Some(change.change_id.clone()),
            version,
        }),
    ))
}

/// Applied without writing anything: the server already holds what the change asks for.
fn applied_noop(
    tx: &mut StoreTx<'_>,
    device_id: &str,
    change: &Change,
    version: i64,
) -> rusqlite::Result<Outcome> {
    let outcome = with_version(change, ChangeStatus::Applied, version);
    tx.record_applied(device_id, &outcome)?;
    Ok((outcome, None))
}

fn conflict(
    tx: &mut StoreTx<'_>,
    change: &Change,
    current: Option<ServerRecord>,
    reason: String,
) -> rusqlite::Result<Outcome> {
    let server_record =
        current.unwrap_or_else(|| missing_record(change.entity_type, &change.entity_id));
    let conflict_id = tx.open_conflict(
        change.entity_type,
        &change.entity_id,
        &change.change_id,
        &change.payload,
        change.hlc,
        server_record.version,
    )?;
    Ok((
        ChangeResult {
            reason: Some(reason),
            conflict_id: Some(conflict_id),
            server_record: Some(server_record),
            ..result(change, ChangeStatus::Conflict)
        },
        None,
    ))
}

/// Customers: edited on both sides, versioned, optimistic concurrency on `base_version`.
fn apply_customer(
    tx: &mut StoreTx<'_>,
    device_id: &str,
    change: &Change,
) -> rusqlite::Result<Outcome> {
    let kind = change.entity_type;
    let shape = match change.action {
        Action::Create | Action::Update => {
            object_with_id(&change.entity_id, &change.payload).map(|_| ())
        }
        Action::Delete if change.payload.is_null() => Ok(()),
        Action::Delete => Err("a delete carries a null payload".to_string()),
    };
    if let Err(reason) = shape {
        return Ok((rejected(change, ErrorCode::InvalidPayload, reason), None));
    }
    let base = change.base_version;
    if change.action != Action::Create && base.is_none() {
        return Ok((
            rejected(
                change,
                ErrorCode::InvalidPayload,
                format!(
                    "a customer {} needs base_version, the server version it was based on",
                    change.action.as_str()
                ),
            ),
            None,
        ));
    }
    let current = tx.get_record(kind, &change.entity_id)?;
    // The same change sent again after a conflict: report the same conflict, open no other.
    if let Some(existing) = tx.conflict_for_change(&change.change_id)? {
        let server_record = current.unwrap_or_else(|| missing_record(kind, &change.entity_id));
        return Ok((
            ChangeResult {
                reason: Some(format!(
                    "this change already raised conflict {} ({})",
                    existing.conflict_id,
                    if existing.open { "open" } else { "resolved" }
                )),
                conflict_id: Some(existing.conflict_id),
                server_record: Some(server_record),
                ..result(change, ChangeStatus::Conflict)
            },
            None,
        ));
    }
    let same_payload =
        |r: &ServerRecord| !r.deleted && r.checksum == payload_checksum(&change.payload);
    match (change.action, current) {
        (Action::Create, None) => {
            let stamp = tx.stamp(change.hlc);
            let record = tx.put_record(kind, &change.entity_id, Some(&change.payload), stamp)?;
            applied(tx, device_id, change, record.version)
        }
        (Action::Create | Action::Update, Some(r)) if same_payload(&r) => {
            applied_noop(tx, device_id, change, r.version)
        }
        (Action::Create, Some(r)) => {
            let reason = if r.deleted {
                format!(
                    "this customer was deleted on the server (version {})",
                    r.version
                )
            } else {
                format!(
                    "a different customer with this id exists on the server (version {})",
                    r.version
                )
            };
            conflict(tx, change, Some(r), reason)
        }
        (Action::Update, None) => conflict(
            tx,
            change,
            None,
            "this customer does not exist on the server".into(),
        ),
        (Action::Update, Some(r)) if r.deleted => {
            let reason = format!(
                "this customer was deleted on the server (version {})",
                r.version
            );
            conflict(tx, change, Some(r), reason)
        }
        (Action::Update | Action::Delete, Some(r)) if base == Some(r.version) && !r.deleted => {
            let stamp = tx.stamp(change.hlc);
            let payload = (change.action == Action::Update).then_some(&change.payload);
            let record = tx.put_record(kind, &change.entity_id, payload, stamp)?;
            applied(tx, device_id, change, record.version)
        }
        (Action::Delete, None) => applied_noop(tx, device_id, change, 0),
        (Action::Delete, Some(r)) if r.deleted => applied_noop(tx, device_id, change, r.version),
        (Action::Update | Action::Delete, Some(r)) => {
            let reason = format!(
                "this customer changed on the server since base_version {}: the server has version {}",
                base.unwrap_or_default(),
                r.version
            );
            conflict(tx, change, Some(r), reason)
        }
    }
}
