//! Admin routes for demos and tests (enabled by `--admin-token`): server-side edits of
//! master data, tombstones, and read-outs of records and stock.

use crate::body;
use crate::error::ApiError;
use crate::upload::MAX_ID_CHARS;
use crate::webhooks::WrittenChange;
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use pos_sync_protocol::limits::MAX_PAYLOAD_BYTES;
use pos_sync_protocol::model::EntityType;
use pos_sync_protocol::{canonical_json, payload_checksum, ErrorCode, ServerRecord};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

fn entity_type(name: &str) -> Result<EntityType, ApiError> {
    name.parse::<EntityType>().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnknownEntityType,
            e.to_string(),
        )
    })
}

fn check_store(store_id: &str) -> Result<(), ApiError> {
    if store_id.is_empty() || store_id.chars().count() > MAX_ID_CHARS {
        return Err(ApiError::invalid_request(format!(
            "store id must be 1 to {MAX_ID_CHARS} characters"
        )));
    }
    Ok(())
}

fn writable(entity_type: EntityType) -> Result<(), ApiError> {
    if entity_type.downloads() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidAction,
            format!("{entity_type} records come from devices; the server does not edit them"),
        ))
    }
}

fn item_id(i: usize, item: &Value) -> Result<String, ApiError> {
    match item.get("id") {
        Some(Value::String(id)) if !id.is_empty() && id.chars().count() <= MAX_ID_CHARS => {
            let size = canonical_json(item).len();
            if size > MAX_PAYLOAD_BYTES {
                return Err(ApiError::too_large(format!(
                    "[{i}] is {size} bytes of canonical JSON; at most {MAX_PAYLOAD_BYTES} are accepted"
                )));
            }
            Ok(id.clone())
        }
        _ => Err(ApiError::invalid_request(format!(
            "[{i}] must be an object with a string 'id' of 1 to {MAX_ID_CHARS} characters"
        ))),
    }
}

/// `PUT /admin/stores/{store_id}/records/{entity_type}`: upserts a JSON array of payloads
/// as server edits (new version, server HLC, new sequence number). An identical payload is
/// left alone. Answers the resulting records, in request order.
pub async fn put_records(
    State(state): State<Arc<AppState>>,
    Path((store_id, type_name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Vec<ServerRecord>>, ApiError> {
    check_store(&store_id)?;
    let kind = entity_type(&type_name)?;
    writable(kind)?;
    let Value::Array(items) = body::read_json(&headers, body).await? else {
        return Err(ApiError::invalid_request(
            "the body must be a JSON array of payload objects",
        ));
    };
    let ids = items
        .iter()
        .enumerate()
        .map(|(i, item)| item_id(i, item))
        .collect::<Result<Vec<_>, _>>()?;
    let hooks = state.webhooks.clone();
    let records = state
        .db
        .run(move |inner| {
            let mut tx = inner.store_tx(&store_id)?;
            let mut records = Vec::new();
            let mut written = Vec::new();
            for (id, item) in ids.iter().zip(&items) {
                let current = tx.get_record(kind, id)?;
                let record = match current {
                    Some(r) if !r.deleted && r.checksum == payload_checksum(item) => r,
                    _ => {
                        let hlc = tx.tick();
                        let r = tx.put_record(kind, id, Some(item), hlc)?;
                        written.push(written_change(&r));
                        r
                    }
                };
                records.push(record);
            }
            hooks.commit_with_event(tx, None, &written)?;
            Ok(records)
        })
        .await?;
    Ok(Json(records))
}

fn written_change(r: &ServerRecord) -> WrittenChange {
    WrittenChange {
        entity_type: r.entity_type,
        entity_id: r.entity_id.clone(),
        change_id: None,
        version: r.version,
    }
}

/// `DELETE /admin/stores/{store_id}/records/{entity_type}/{entity_id}`: writes a tombstone.
pub async fn delete_record(
    State(state): State<Arc<AppState>>,
    Path((store_id, type_name, entity_id)): Path<(String, String, String)>,
) -> Result<Json<ServerRecord>, ApiError> {
    check_store(&store_id)?;
    let kind = entity_type(&type_name)?;
    writable(kind)?;
    let hooks = state.webhooks.clone();
    let record = state
        .db
        .run(move |inner| {
            let mut tx = inner.store_tx(&store_id)?;
            let outcome = match tx.get_record(kind, &entity_id)? {
                None => return Err(ApiError::not_found("no such record")),
                Some(r) if r.deleted => (r, None),
                Some(_) => {
                    let hlc = tx.tick();
                    let r = tx.put_record(kind, &entity_id, None, hlc)?;
                    let w = written_change(&r);
                    (r, Some(w))
                }
            };
            let (record, written) = outcome;
            hooks.commit_with_event(tx, None, written.as_slice())?;
            Ok(record)
        })
        .await?;
    Ok(Json(record))
}

/// `GET /admin/stores/{store_id}/records/{entity_type}`: all live records, by id.
pub async fn list_records(
    State(state): State<Arc<AppState>>,
    Path((store_id, type_name)): Path<(String, String)>,
) -> Result<Json<Vec<ServerRecord>>, ApiError> {
    check_store(&store_id)?;
    let kind = entity_type(&type_name)?;
    let records = state
        .db
        .run(move |inner| Ok(inner.store_tx(&store_id)?.live_records(kind)?))
        .await?;
    Ok(Json(records))
}

#[derive(Debug, Serialize)]
pub struct StockLevel {
    pub product_id: String,
    pub quantity: Value,
}

/// `GET /admin/stores/{store_id}/stock`: the server-side stock of every product that moved.
pub async fn stock(
    State(state): State<Arc<AppState>>,
    Path(store_id): Path<String>,
) -> Result<Json<Vec<StockLevel>>, ApiError> {
    check_store(&store_id)?;
    let levels = state
        .db
        .run(move |inner| Ok(inner.store_tx(&store_id)?.stock()?))
        .await?;
    Ok(Json(
        levels
            .into_iter()
            .map(|(product_id, quantity)| StockLevel {
                product_id,
                quantity,
            })
            .collect(),
    ))
}
