//! The HTTP client for the sync protocol: reqwest with rustls, bearer tokens from the app
//! (asked again once on 401), gzip, timeouts, and typed errors for 429 / 5xx / hostile
//! answers. It never logs tokens or bodies.

use crate::error::{Error, Result};
use crate::model::EntityType;
use crate::protocol::{
    body_checksum, DownloadResponse, ErrorBody, ErrorCode, ResolveRequest, ResolveResponse,
    StatusResponse, UploadRequest, UploadResponse, BODY_CHECKSUM_HEADER, PROTOCOL_HEADER,
    PROTOCOL_VERSION,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Supplies the device's bearer token. Implemented by the app (Kotlin, Swift, JS through the
/// plugin) so tokens can live in the platform's secure storage. Asynchronous (Kotlin
/// `suspend`, Swift `async`) because getting a fresh token usually means a network call to
/// the app's login service; the engine waits for it without holding a thread.
#[uniffi::export(foreign)]
// UniFFI's single-threaded wasm build implements foreign traits with non-`Send` futures (a
// browser worker has one thread), so the trait's futures are `Send` on native only.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait TokenProvider: Send + Sync {
    /// The current token. `refresh` is true when the server refused the previous one: fetch
    /// a new one (for example from the app's login service) or throw `TokenError`.
    async fn token(&self, refresh: bool) -> std::result::Result<String, TokenError>;
}

/// What a token provider throws when it cannot supply a token. (The engine's own error type
/// only travels from Rust to the app, so providers get this small one of their own.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TokenError {
    /// No token can be had now (signed out, login service unreachable, …).
    #[error("no token available: {reason}")]
    Unavailable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TokenError {
    /// Any other exception thrown by the app's provider counts as "no token available".
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TokenError::Unavailable { reason: err.reason }
    }
}

/// A fixed token, for apps that configure one in `EngineConfig::auth_token`.
pub struct StaticToken(pub String);

// Send on native only: see the trait.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl TokenProvider for StaticToken {
    async fn token(&self, _refresh: bool) -> std::result::Result<String, TokenError> {
        Ok(self.0.clone())
    }
}

/// Request body compression for uploads. Responses are always accepted gzip-compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Compression {
    None,
    /// gzip level 1: most of the size saving at a fraction of the CPU (the default).
    Fast,
    /// gzip level 6: smallest bodies, several times slower to compress.
    Best,
}

#[derive(Debug, Clone)]
pub struct TransportSettings {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub compression: Compression,
    /// Largest response body accepted (a hostile server cannot exhaust memory).
    pub max_response_bytes: usize,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            compression: Compression::Fast,
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A download's answer: a page, or the server saying the token is ahead of it (restored
/// from a backup, or the store was reset: docs/protocol.md §8), so the type must be
/// downloaded again from the beginning.
#[derive(Debug)]
pub enum Download {
    Page(DownloadResponse),
    /// The server's message.
    TokenAhead(String),
}

/// The server's judgment of a resolution.
#[derive(Debug)]
pub enum Resolved {
    Done(ResolveResponse),
    /// `409 conflict_closed`: resolved before (perhaps by this device, whose answer was
    /// lost), with the server's message.
    AlreadyClosed(String),
    /// Refused for good (`404`, `400`, ...): sending it again will not help.
    Refused(Error),
}

/// Bodies smaller than this are sent uncompressed: gzip would not pay for itself.
const COMPRESS_ABOVE_BYTES: usize = 1024;

/// A JSON request body as it goes on the wire: gzipped when that pays for itself.
pub struct EncodedBody {
    bytes: Vec<u8>,
    gzipped: bool,
}

pub struct Transport {
    client: reqwest::Client,
    base_url: String,
    tokens: RwLock<Arc<dyn TokenProvider>>,
    settings: TransportSettings,
}

/// Plain http is allowed only to this machine (tests, the demo, an emulator's host alias
/// is not included on purpose); everything else must be https.
pub fn check_base_url(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::invalid(format!("the server URL '{url}' is not a valid URL: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::invalid(format!(
                "the server URL '{url}' uses plain http; use https (plain http is allowed only to localhost)"
            )))
        }
        other => {
            return Err(Error::invalid(format!(
                "the server URL must start with https://, not {other}://"
            )))
        }
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl Transport {
    pub fn new(
        base_url: &str,
        tokens: Arc<dyn TokenProvider>,
        settings: TransportSettings,
    ) -> Result<Transport> {
        let base_url = check_base_url(base_url)?;
        let client = http_client(&settings)
            .map_err(|e| Error::NotConfigured(format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport {
            client,
            base_url,
            tokens: RwLock::new(tokens),
            settings,
        })
    }

    pub fn set_token_provider(&self, provider: Arc<dyn TokenProvider>) {
        *self.tokens.write().unwrap_or_else(|p| p.into_inner()) = provider;
    }

    /// An upload's body, serialized and compressed ahead of sending (the engine does this
    /// for the next batch while the server works on the current one).
    pub fn encode_upload<P: Serialize>(&self, request: &UploadRequest<P>) -> EncodedBody {
        self.encode_body(serde_json::to_vec(request).expect("wire types serialize"))
    }

    pub async fn send_upload(&self, body: &EncodedBody) -> Result<UploadResponse> {
        self.call_encoded(Method::POST, "/api/sync/upload", &[], Some(body))
            .await
    }

    pub async fn download(
        &self,
        entity_type: EntityType,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Download> {
        let limit = limit.to_string();
        let mut query = vec![
            ("entity_type", entity_type.as_str()),
            ("limit", limit.as_str()),
        ];
        if let Some(since) = since {
            query.push(("since", since));
        }
        let path = "/api/sync/download";
        let (status, retry_after, bytes) = self.exchange(Method::GET, path, &query, None).await?;
        if status == StatusCode::CONFLICT {
            if let Ok(body) = serde_json::from_slice::<ErrorBody>(&bytes) {
                if body.error.code == ErrorCode::SyncTokenAhead {
                    return Ok(Download::TokenAhead(truncate(&body.error.message, 300)));
                }
            }
        }
        decode(status, retry_after, &bytes, path).map(Download::Page)
    }

    pub async fn status(&self) -> Result<StatusResponse> {
        self.call(Method::GET, "/api/sync/status", &[], None).await
    }

    /// Sends a resolution. `Err` means no judgment was heard (the network, a 5xx, 429, a
    /// damaged answer: worth sending again); a judgment is `Resolved`, a refusal included.
    pub async fn resolve(&self, request: &ResolveRequest) -> Result<Resolved> {
        let path = "/api/sync/resolve";
        let body = self.encode_body(serde_json::to_vec(request).expect("wire types serialize"));
        let (status, retry_after, bytes) =
            self.exchange(Method::POST, path, &[], Some(&body)).await?;
        if status == StatusCode::CONFLICT {
            if let Ok(body) = serde_json::from_slice::<ErrorBody>(&bytes) {
                if body.error.code == ErrorCode::ConflictClosed {
                    return Ok(Resolved::AlreadyClosed(truncate(&body.error.message, 300)));
                }
            }
        }
        match decode(status, retry_after, &bytes, path) {
            Ok(response) => Ok(Resolved::Done(response)),
            // 429 and a request damaged in transit (`checksum_mismatch`) are worth sending again.
            Err(e)
                if status.is_client_error()
                    && !matches!(e, Error::RateLimited { .. } | Error::Integrity(_)) =>
            {
                Ok(Resolved::Refused(e))
            }
            Err(e) => Err(e),
        }
    }

    async fn token(&self, refresh: bool) -> Result<String> {
        let provider = self
            .tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        provider.token(refresh).await.map_err(|e| Error::Auth {
            message: format!(
                "the app's token provider could not supply a token ({e}); sign the device in again"
            ),
            http_status: None,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<T> {
        let body = body.map(|b| self.encode_body(b));
        self.call_encoded(method, path, query, body.as_ref()).await
    }

    async fn call_encoded<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&EncodedBody>,
    ) -> Result<T> {
        let (status, retry_after, bytes) = self.exchange(method, path, query, body).await?;
        decode(status, retry_after, &bytes, path)
    }

    /// One request (asking the app for a fresh token once on 401), and the answer's status,
    /// `Retry-After` and body, checked against its declared body checksum.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&EncodedBody>,
    ) -> Result<(StatusCode, Option<u64>, Vec<u8>)> {
        let mut refreshed = false;
        loop {
            let token = self.token(refreshed).await?;
            let mut request = self
                .client
                .request(method.clone(), format!("{}{path}", self.base_url))
                .query(query)
                .bearer_auth(token)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
                .header(reqwest::header::ACCEPT, "application/json");
            // fetch has no client-wide timeout: each request carries it.
            #[cfg(target_arch = "wasm32")]
            {
                request = request.timeout(self.settings.request_timeout);
            }
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.bytes.clone());
                if body.gzipped {
                    request = request.header(reqwest::header::CONTENT_ENCODING, "gzip");
                }
            }
            let response = request.send().await.map_err(network_error)?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                log::info!("server refused the device token; asking the app for a fresh one");
                refreshed = true;
                continue;
            }
            let retry_after = retry_after_ms(&response);
            let declared = response
                .headers()
                .get(BODY_CHECKSUM_HEADER)
                .map(|v| v.to_str().unwrap_or("").to_ascii_lowercase());
            let bytes = self.read_capped(response).await?;
            check_body(declared.as_deref(), &bytes, path)?;
            return Ok((status, retry_after, bytes));
        }
    }

    fn encode_body(&self, body: Vec<u8>) -> EncodedBody {
        let plain = |bytes| EncodedBody {
            bytes,
            gzipped: false,
        };
        let level = match self.settings.compression {
            Compression::None => return plain(body),
            _ if body.len() < COMPRESS_ABOVE_BYTES => return plain(body),
            Compression::Fast => flate2::Compression::fast(),
            Compression::Best => flate2::Compression::default(),
        };
        let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
        encoder
            .write_all(&body)
            .expect("writing to memory cannot fail");
        EncodedBody {
            bytes: encoder.finish().expect("writing to memory cannot fail"),
            gzipped: true,
        }
    }

    fn too_large(&self) -> Error {
        Error::server(format!(
            "the server's answer is larger than {} bytes; refused",
            self.settings.max_response_bytes
        ))
    }

    /// In a browser, fetch has already read (and gunzipped) the body: only its size is checked.
    #[cfg(target_arch = "wasm32")]
    async fn read_capped(&self, response: reqwest::Response) -> Result<Vec<u8>> {
        let bytes = response.bytes().await.map_err(network_error)?;
        if bytes.len() > self.settings.max_response_bytes {
            return Err(self.too_large());
        }
        Ok(bytes.to_vec())
    }

    #[cfg(not(target_arch = "wasm32"))]
    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network_error)? {
            if bytes.len() + chunk.len() > self.settings.max_response_bytes {
                return Err(self.too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn http_client(settings: &TransportSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .gzip(true)
        .tcp_nodelay(true)
        .no_proxy()
        .user_agent(concat!("pos-sync/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The browser's fetch: it negotiates gzip, sets its own User-Agent and has no connect
/// timeout of its own (the request timeout covers it).
#[cfg(target_arch = "wasm32")]
fn http_client(_: &TransportSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().build()
}

fn network_error(err: reqwest::Error) -> Error {
    // reqwest's Display includes the URL, never headers or bodies.
    #[cfg(not(target_arch = "wasm32"))]
    let connect = err.is_connect();
    // A browser reports any failed fetch alike (server down, offline, refused by CORS).
    #[cfg(target_arch = "wasm32")]
    let connect = err.is_request();
    let what = if err.is_timeout() {
        "timed out"
    } else if connect {
        "could not connect"
    } else if err.is_decode() || err.is_body() {
        "the connection broke while reading the answer"
    } else {
        "request failed"
    };
    Error::Network(format!("{what}: {}", err.without_url()))
}

fn retry_after_ms(response: &reqwest::Response) -> Option<u64> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    // Only the delay-seconds form; an HTTP date falls back to the engine's own backoff.
    value.trim().parse::<u64>().ok().map(|s| s.min(3600) * 1000)
}

/// An answer whose body does not match the checksum its server declared was corrupted in
/// transit: nothing of it is used (a server that declares none is trusted as far as the
/// page and payload checksums go).
fn check_body(declared: Option<&str>, bytes: &[u8], path: &str) -> Result<()> {
    match declared {
        Some(expected) if body_checksum(bytes) != expected => Err(Error::Integrity(format!(
            "the server's answer to {path} does not match its body checksum (corrupted in transit); not applied, will retry"
        ))),
        _ => Ok(()),
    }
}

/// Turns an HTTP answer into a value or a typed error. Nothing from the server is trusted:
/// bodies that do not parse are errors, not panics.
fn decode<T: DeserializeOwned>(
    status: StatusCode,
    retry_after: Option<u64>,
    bytes: &[u8],
    path: &str,
) -> Result<T> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|e| {
            Error::server(format!(
                "the server's answer to {path} is not valid protocol JSON ({e})"
            ))
        });
    }
    let detail = serde_json::from_slice::<ErrorBody>(bytes)
        .map(|b| {
            format!(
                "{}: {}",
                b.error.code.as_str(),
                truncate(&b.error.message, 300)
            )
        })
        .unwrap_or_else(|_| format!("HTTP {}", status.as_u16()));
    let http_status = Some(status.as_u16());
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
            retry_after_ms: retry_after.unwrap_or(30_000),
        },
        StatusCode::UNAUTHORIZED => Error::Auth {
            message: format!(
                "the server refused the device token even after a refresh ({detail}); check the device's credentials"
            ),
            http_status,
        },
        StatusCode::FORBIDDEN => Error::Auth {
            message: format!("the server denied access ({detail})"),
            http_status,
        },
        s if s.is_server_error() => Error::Server {
            message: format!("{path} failed on the server ({detail}); will retry"),
            http_status,
        },
        _ if detail.starts_with("checksum_mismatch") => {
            Error::Integrity(format!("the server saw a corrupted request ({detail}); will retry"))
        }
        _ => Error::Server {
            message: format!("the server refused {path} ({detail})"),
            http_status,
        },
    })
}

/// What `Transport` does with an answer's bytes (body checksum, status, JSON), without the
/// network: the entry point of the fuzz targets and property runs (not part of the API).
#[doc(hidden)]
pub fn decode_untrusted<T: DeserializeOwned>(
    status: u16,
    retry_after_ms: Option<u64>,
    declared_checksum: Option<&str>,
    bytes: &[u8],
    path: &str,
) -> Result<T> {
    let status = StatusCode::from_u16(status)
        .map_err(|_| Error::server(format!("the server answered {path} with a bad status")))?;
    check_body(declared_checksum, bytes, path)?;
    decode(status, retry_after_ms, bytes, path)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_base_url("https://pos.example.com/").is_ok());
        assert_eq!(
            check_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://[::1]:1").is_ok());
        let err = check_base_url("http://pos.example.com").unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(check_base_url("http://10.0.0.1").is_err());
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("not a url").is_err());
    }

    #[test]
    fn error_answers_become_typed_errors() {
        let body = br#"{"error":{"code":"rate_limited","message":"slow down"}}"#;
        let err = decode::<UploadResponse>(StatusCode::TOO_MANY_REQUESTS, Some(2000), body, "/x")
            .unwrap_err();
        assert_eq!(
            err,
            Error::RateLimited {
                retry_after_ms: 2000
            }
        );
        let err =
            decode::<UploadResponse>(StatusCode::BAD_GATEWAY, None, b"<html>", "/x").unwrap_err();
        assert!(
            matches!(&err, Error::Server { message, http_status: Some(502) } if message.contains("HTTP 502")),
            "{err}"
        );
        assert!(err.is_transient());
        let bad = br#"{"error":{"code":"checksum_mismatch","message":"batch"}}"#;
        let err = decode::<UploadResponse>(StatusCode::BAD_REQUEST, None, bad, "/x").unwrap_err();
        assert!(matches!(err, Error::Integrity(_)));
        let err =
            decode::<UploadResponse>(StatusCode::OK, None, b"{\"results\":5}", "/x").unwrap_err();
        assert!(err.to_string().contains("not valid protocol JSON"));
    }

    #[test]
    fn a_body_that_differs_from_its_declared_checksum_is_refused() {
        let body = br#"{"next_token":"v1.5"}"#;
        let good = body_checksum(body);
        assert!(check_body(Some(&good), body, "/x").is_ok());
        assert!(check_body(None, body, "/x").is_ok(), "optional for servers");
        let err = check_body(Some(&good), br#"{"next_token":"v1.7"}"#, "/x").unwrap_err();
        assert!(
            matches!(&err, Error::Integrity(m) if m.contains("checksum")),
            "{err}"
        );
    }
}
