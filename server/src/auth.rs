//! Bearer-token authentication, store scoping, the protocol-version header and the rate
//! limit: the checks every `/api/sync` request passes, in this order, before its handler.

use crate::config::DeviceToken;
use crate::error::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pos_sync_protocol::{ErrorCode, RateLimitStatus, PROTOCOL_HEADER, PROTOCOL_VERSION};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The authenticated caller. Every read and write is scoped to `store_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub store_id: String,
}

/// Tokens are looked up by their SHA-256, so lookup time says nothing about a token's bytes.
pub struct Auth {
    by_hash: HashMap<[u8; 32], Device>,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    pub fn new(devices: &[DeviceToken]) -> Self {
        Auth {
            by_hash: devices
                .iter()
                .map(|d| {
                    (
                        hash(&d.token),
                        Device {
                            device_id: d.device_id.clone(),
                            store_id: d.store_id.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    pub fn device(&self, token: &str) -> Option<&Device> {
        self.by_hash.get(&hash(token))
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Compares secrets without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_protocol(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(PROTOCOL_HEADER) else {
        return Ok(()); // absent means version 1
    };
    match value.to_str().ok().map(str::trim) {
        Some(v) if v.parse::<u32>() == Ok(PROTOCOL_VERSION) => Ok(()),
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedProtocolVersion,
            format!(
                "this server speaks protocol version {PROTOCOL_VERSION}; the request asked for '{}'",
                other.unwrap_or("(not text)").chars().take(32).collect::<String>()
            ),
        )),
    }
}

/// Middleware for `/api/sync/*`: auth → rate limit → protocol version. On success the
/// handler finds the `Device` and its `RateLimitStatus` in the request extensions.
pub async fn require_device(
    State(state): State<Arc<AppState>>,
    mut request: Request<Body>,
    next: Next,
) -> Response {
    let device = match bearer(request.headers()).and_then(|t| state.auth.device(t)) {
        Some(device) => device.clone(),
        None => {
            let mut response =
                ApiError::unauthorized("missing or unknown bearer token").into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"pos-sync\""),
            );
            return response;
        }
    };
    let limit = match state.limiter.check(&device.device_id) {
        Ok(status) => status,
        Err(retry_after) => return ApiError::rate_limited(retry_after).into_response(),
    };
    if let Err(e) = check_protocol(request.headers()) {
        return e.into_response();
    }
    request.extensions_mut().insert(device);
    request.extensions_mut().insert::<RateLimitStatus>(limit);
    next.run(request).await
}

/// Middleware for `/admin/*`: 404 when no admin token is configured, 401 for a wrong one.
pub async fn require_admin(
    State(state): State<Arc<AppState>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let Some(expected) = state.admin_token.as_deref() else {
        return ApiError::not_found("no such endpoint").into_response();
    };
    match bearer(request.headers()) {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
            next.run(request).await
        }
        _ => ApiError::unauthorized("missing or wrong admin token").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn protocol_header_absent_or_one() {
        let mut h = HeaderMap::new();
        assert!(check_protocol(&h).is_ok());
        h.insert(PROTOCOL_HEADER, HeaderValue::from_static("1"));
        assert!(check_protocol(&h).is_ok());
        h.insert(PROTOCOL_HEADER, HeaderValue::from_static("2"));
        assert_eq!(
            check_protocol(&h).unwrap_err().code,
            ErrorCode::UnsupportedProtocolVersion
        );
    }

    #[test]
    fn tokens_resolve_to_their_device() {
        let auth = Auth::new(&[DeviceToken::new("t1", "d1", "s1")]);
        assert_eq!(auth.device("t1").unwrap().store_id, "s1");
        assert!(auth.device("t2").is_none());
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
