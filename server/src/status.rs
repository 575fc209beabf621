//! `GET /api/sync/status`: per-type counts and drift checksums of the caller's store, open
//! conflicts, the caller's rate-limit state, and the server's clock and protocol version.

use crate::auth::Device;
use crate::db::now_ms;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use pos_sync_protocol::{RateLimitStatus, StatusResponse, PROTOCOL_VERSION};
use std::sync::Arc;

pub async fn handler(
    State(state): State<Arc<AppState>>,
    Extension(device): Extension<Device>,
    Extension(rate_limit): Extension<RateLimitStatus>,
) -> Result<Json<StatusResponse>, ApiError> {
    let store = device.store_id.clone();
    let (entities, open_conflicts) = state
        .db
        .run(move |inner| {
            let mut tx = inner.store_tx(&store)?;
            Ok((tx.entity_stats()?, tx.open_conflicts()?))
        })
        .await?;
    Ok(Json(StatusResponse {
        protocol_version: PROTOCOL_VERSION,
        server_time: now_ms(),
        store_id: device.store_id,
        device_id: device.device_id,
        entities,
        open_conflicts,
        rate_limit,
    }))
}
