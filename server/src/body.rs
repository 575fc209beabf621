//! Request bodies. The size limit and gzip decoding are tower-http layers (`limits`): the
//! decoder runs first, so `MAX_BODY_BYTES` bounds the *decoded* body and a small gzip body
//! that inflates past it (a zip bomb) is refused with 413 after reading no more than that.
//! This module reads the result, checks `Content-Type` and JSON syntax; every failure is an
//! `ApiError` with a JSON body (the layers' own 413 and 415 answers are rewritten into that
//! shape by `error::json_errors`).

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;
use http_body_util::{BodyExt, LengthLimitError};
use pos_sync_protocol::{limits::MAX_BODY_BYTES, ErrorCode};
use serde_json::Value;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

/// The message of every 413 about the body's size.
pub fn too_large_message() -> String {
    format!("request body is larger than {MAX_BODY_BYTES} bytes (after gzip decoding)")
}

/// Applies, outermost first: `drain_refused`, gzip decoding, the size limit. Used as route
/// layers, so they run after authentication.
pub fn limits<S>(router: axum::Router<S>) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .route_layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .route_layer(RequestDecompressionLayer::new().gzip(true))
        .route_layer(axum::middleware::from_fn(drain_refused))
}

/// An oversized body is still read (and thrown away) up to this many bytes before the 413
/// goes out: closing a socket with unread data resets the connection, and the client would
/// see "connection reset" instead of the answer.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// The raw request body, shared between the layers that read it and `drain_refused`, which
/// reads whatever they left once the answer is a 413.
struct Shared(Arc<Mutex<Option<Body>>>);

impl http_body::Body for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }
}

/// Middleware: after a 413, reads the rest of the raw body (at most `DRAIN_LIMIT`) so the
/// client receives the answer instead of a reset connection.
pub async fn drain_refused(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = request.into_parts();
    let raw = Arc::new(Mutex::new(Some(body)));
    let response = next
        .run(Request::from_parts(parts, Body::new(Shared(raw.clone()))))
        .await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && declared.is_none_or(|n| n <= DRAIN_LIMIT)
    {
        let rest = raw.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(rest) = rest {
            let _ = http_body_util::Limited::new(rest, DRAIN_LIMIT as usize)
                .collect()
                .await;
        }
    }
    response
}

/// Whether `error` (or what caused it) is the size limit's.
fn is_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Reads the whole (decoded, size-limited) body.
pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if is_length_limit(&e) => Err(ApiError::too_large(too_large_message())),
        Err(e) => Err(ApiError::invalid_request(format!(
            "the body could not be read or decoded: {e}"
        ))),
    }
}

/// Checks `Content-Type`: absent, or `application/json`.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("?").to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if mime != "application/json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::InvalidRequest,
                format!(
                    "Content-Type '{}' is not supported; send application/json",
                    mime.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks `Content-Type` and parses the body as JSON.
pub fn parse_json(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
    check_content_type(headers)?;
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid_request(format!("the body is not valid JSON: {e}")))
}

/// `read_body` then `parse_json`.
pub async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let bytes = read_body(body).await?;
    parse_json(headers, &bytes)
}
