//! `POST /api/sync/resolve`: closes an open conflict of the caller's store, writing the
//! device's or the merged record as a new version, or keeping the server's.

use crate::auth::Device;
use crate::body;
use crate::db::{missing_record, now_ms};
use crate::error::ApiError;
use crate::upload::MAX_ID_CHARS;
use crate::webhooks::WrittenChange;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use pos_sync_protocol::limits::MAX_PAYLOAD_BYTES;
use pos_sync_protocol::{
    canonical_json, payload_checksum, ErrorCode, Resolution, ResolveRequest, ResolveResponse,
};
use serde_json::Value;
use std::sync::Arc;

fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::KeepLocal => "keep_local",
        Resolution::KeepServer => "keep_server",
        Resolution::Merged => "merged",
    }
}

/// The payload a resolution stores, checked: `None` for `keep_server`.
fn checked_payload(request: &ResolveRequest) -> Result<Option<Value>, ApiError> {
    if request.resolution == Resolution::KeepServer {
        return Ok(None);
    }
    let name = resolution_name(request.resolution);
    let payload = match &request.payload {
        Some(p) if p.is_object() => p.clone(),
        Some(p) if !p.is_null() => {
            return Err(ApiError::invalid_request(format!("{name}: the payload must be a JSON object")))
        }
        _ => {
            return Err(ApiError::invalid_request(format!(
                "{name} needs the payload to store (a JSON object); to delete, upload a delete change instead"
            )))
        }
    };
    let Some(checksum) = request.checksum.as_deref() else {
        return Err(ApiError::invalid_request(format!(
            "{name} needs the checksum of its payload"
        )));
    };
    if !payload_checksum(&payload).eq_ignore_ascii_case(checksum) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ChecksumMismatch,
            "the payload checksum does not match its content; nothing was changed",
        ));
    }
    let size = canonical_json(&payload).len();
    if size > MAX_PAYLOAD_BYTES {
        return Err(ApiError::too_large(format!(
            "the payload is {size} bytes of canonical JSON; at most {MAX_PAYLOAD_BYTES} are accepted"
        )));
    }
    Ok(Some(payload))
}

pub async fn handler(
    State(state): State<Arc<AppState>>,
    Extension(device): Extension<Device>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ResolveResponse>, ApiError> {
    let value = body::read_json(&headers, body).await?;
    let request: ResolveRequest = serde_json::from_value(value).map_err(|e| {
        ApiError::invalid_request(format!("the body does not match ResolveRequest: {e}"))
    })?;
    if request.conflict_id.is_empty() || request.conflict_id.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::invalid_request(format!(
            "conflict_id must be 1 to {MAX_ID_CHARS} characters"
        )));
    }
    if request.hlc < 0 {
        return Err(ApiError::invalid_request("hlc must not be negative"));
    }
    let payload = checked_payload(&request)?;
    let store = device.store_id.clone();
    let conflict_id = request.conflict_id.clone();
    let hooks = state.webhooks.clone();
    let device_id = device.device_id.clone();
    let record = state
        .db
        .run(move |inner| {
            let mut tx = inner.store_tx(&store)?;
            // Another store's conflict is indistinguishable from a missing one.
            let Some(conflict) = tx.conflict(&conflict_id)? else {
                return Err(ApiError::not_found("no such conflict"));
            };
            if !conflict.open {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::ConflictClosed,
                    "this conflict was already resolved",
                ));
            }
            let (record, written) = match payload {
                Some(payload) => {
                    match payload.get("id") {
                        Some(Value::String(id)) if *id == conflict.entity_id => {}
                        _ => {
                            return Err(ApiError::invalid_request(format!(
                                "the payload needs a string field 'id' equal to the conflict's entity_id '{}'",
                                conflict.entity_id
                            )))
                        }
                    }
                    let stamp = tx.stamp(request.hlc);
                    let record = tx.put_record(
                        conflict.entity_type,
                        &conflict.entity_id,
                        Some(&payload),
                        stamp,
                    )?;
                    let written = WrittenChange {
                        entity_type: record.entity_type,
                        entity_id: record.entity_id.clone(),
                        change_id: Some(conflict.change_id.clone()),
                        version: record.version,
                    };
                    (record, Some(written))
                }
                None => (
                    tx.get_record(conflict.entity_type, &conflict.entity_id)?
                        .unwrap_or_else(|| missing_record(conflict.entity_type, &conflict.entity_id)),
                    None,
                ),
            };
            tx.close_conflict(&conflict.conflict_id, resolution_name(request.resolution))?;
            hooks.commit_with_event(tx, Some(&device_id), written.as_slice())?;
            Ok(record)
        })
        .await?;
    Ok(Json(ResolveResponse {
        conflict_id: request.conflict_id,
        record,
        server_time: now_ms(),
    }))
}
