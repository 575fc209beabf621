//! Reading a JSON request body: size limit (after gzip decoding), `Content-Encoding`,
//! `Content-Type`, and JSON syntax. Each failure is an `ApiError` with a JSON body.

use crate::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use pos_sync::protocol::{limits::MAX_BODY_BYTES, ErrorCode};
use serde_json::Value;
use std::io::Read;

fn too_large() -> ApiError {
    ApiError::too_large(format!(
        "request body is larger than {MAX_BODY_BYTES} bytes (after gzip decoding)"
    ))
}

/// Reads the whole body, at most `MAX_BODY_BYTES` both before and after gzip decoding.
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let raw = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(ApiError::invalid_request(format!(
                "could not read the body: {e}"
            )))
        }
    };
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

/// Checks `Content-Type` (absent, or `application/json`) and parses the body as JSON.
pub fn parse_json(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, ApiError> {
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
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid_request(format!("the body is not valid JSON: {e}")))
}

/// `read_body` then `parse_json`.
pub async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let bytes = read_body(headers, body).await?;
    parse_json(headers, &bytes)
}
