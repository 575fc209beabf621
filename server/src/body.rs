//! Reading a JSON request body: size limit (after gzip decoding), `Content-Encoding`,
//! `Content-Type`, and JSON syntax. Each failure is an `ApiError` with a JSON body.

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use http_body_util::BodyExt;
use pos_sync_protocol::{limits::MAX_BODY_BYTES, ErrorCode};
use serde_json::Value;
use std::io::Read;

fn too_large() -> ApiError {
    ApiError::too_large(format!(
        "request body is larger than {MAX_BODY_BYTES} bytes (after gzip decoding)"
    ))
}

/// An oversized body is still read (and thrown away) up to this many bytes before the 413
/// goes out: closing a socket with unread data resets the connection, and the client would
/// see "connection reset" instead of the answer.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads the whole body, at most `MAX_BODY_BYTES` both before and after gzip decoding.
pub async fn read_body(headers: &HeaderMap, mut body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(too_large());
    }
    let mut raw = Vec::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::invalid_request(format!("could not read the body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if total > DRAIN_LIMIT {
            break;
        }
        if total <= MAX_BODY_BYTES as u64 {
            raw.extend_from_slice(&data);
        }
    }
    if total > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    let raw = Bytes::from(raw);
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(raw),
        Some("gzip") | Some("x-gzip") => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(MAX_BODY_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    ApiError::invalid_request(format!("the gzip body could not be decoded: {e}"))
                })?;
            if out.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidRequest,
            format!(
                "Content-Encoding '{}' is not supported; send gzip or no encoding",
                other.chars().take(32).collect::<String>()
            ),
        )),
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
    let bytes = read_body(headers, body).await?;
    parse_json(headers, &bytes)
}
