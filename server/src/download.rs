//! `GET /api/sync/download?entity_type=T&since=TOKEN&limit=N`: the records of one type that
//! changed after the token, oldest first, one page at a time.

use crate::auth::Device;
use crate::db::now_ms;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use pos_sync_protocol::limits::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use pos_sync_protocol::model::EntityType;
use pos_sync_protocol::{batch_checksum, token, DownloadResponse, ErrorCode, ServerRecord};
use std::sync::Arc;

/// A parsed download query.
#[derive(Debug, PartialEq, Eq)]
pub struct Query {
    pub entity_type: EntityType,
    pub since: i64,
    pub limit: usize,
}

pub fn parse_query(raw: Option<&str>) -> Result<Query, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::invalid_request(format!("the query string is malformed: {e}")))?;
    let get = |name: &str| -> Result<Option<&str>, ApiError> {
        let mut values = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::invalid_request(format!(
                "'{name}' is given more than once"
            )));
        }
        Ok(first)
    };
    let entity_type = match get("entity_type")? {
        None | Some("") => {
            return Err(ApiError::invalid_request(
                "the query parameter 'entity_type' is required",
            ))
        }
        Some(t) => t.parse::<EntityType>().map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::UnknownEntityType,
                e.to_string(),
            )
        })?,
    };
    let since = match get("since")? {
        None | Some("") => 0,
        Some(t) => token::decode(t).ok_or_else(|| {
            ApiError::invalid_request(
                "'since' is not a sync token this server issued; pass next_token from a previous download, or omit it to start over",
            )
        })?,
    };
    let limit = match get("limit")? {
        None => DEFAULT_PAGE_LIMIT,
        Some(l) => match l.parse::<u64>() {
            Ok(n) if n > 0 => (n.min(MAX_PAGE_LIMIT as u64)) as usize,
            _ => {
                return Err(ApiError::invalid_request(format!(
                    "'limit' must be a whole number from 1 to {MAX_PAGE_LIMIT}"
                )))
            }
        },
    };
    Ok(Query {
        entity_type,
        since,
        limit,
    })
}

/// The answer to a `since` ahead of the store's current position.
fn token_ahead(entity_type: EntityType) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::SyncTokenAhead,
        format!(
            "'since' is ahead of this store's current position (the server was restored from a backup, or the store was reset); download {entity_type} again from the beginning, without 'since'"
        ),
    )
}

pub async fn handler(
    State(state): State<Arc<AppState>>,
    Extension(device): Extension<Device>,
    RawQuery(raw): RawQuery,
) -> Result<Json<DownloadResponse>, ApiError> {
    let query = parse_query(raw.as_deref())?;
    let store = device.store_id.clone();
    let Query {
        entity_type,
        since,
        limit,
    } = query;
    let mut rows = state
        .db
        .run(move |inner| {
            let tx = inner.store_tx(&store)?;
            // A position this store never reached: the server was restored from a backup or
            // the store was reset. An empty page would keep the device waiting forever for
            // records it will never be sent, so it is told to start over (docs/protocol.md §8).
            if since > tx.last_seq()? {
                return Err(token_ahead(entity_type));
            }
            Ok(tx.page(entity_type, since, limit + 1)?)
        })
        .await?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let last = rows.last().map_or(since, |(seq, _)| *seq);
    let records: Vec<ServerRecord> = rows.into_iter().map(|(_, r)| r).collect();
    Ok(Json(DownloadResponse {
        entity_type,
        checksum: batch_checksum(&records),
        records,
        next_token: token::encode(last),
        has_more,
        server_time: now_ms(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_and_errors() {
        let q = parse_query(Some("entity_type=product")).unwrap();
        assert_eq!(
            (q.entity_type, q.since, q.limit),
            (EntityType::Product, 0, DEFAULT_PAGE_LIMIT)
        );
        let q = parse_query(Some("entity_type=customer&since=v1.42&limit=999999")).unwrap();
        assert_eq!((q.since, q.limit), (42, MAX_PAGE_LIMIT));
        assert_eq!(
            parse_query(None).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            parse_query(Some("entity_type=invoice")).unwrap_err().code,
            ErrorCode::UnknownEntityType
        );
        for bad in [
            "since=v2.1",
            "since=abc",
            "limit=0",
            "limit=-1",
            "limit=ten",
            "limit=1.5",
        ] {
            let err = parse_query(Some(&format!("entity_type=price&{bad}"))).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{bad}");
        }
        assert!(parse_query(Some("entity_type=price&entity_type=product")).is_err());
    }
}
