//! pos-sync-server: the reference implementation of the pos-sync protocol
//! (docs/protocol.md, docs/openapi.yaml). A library with a thin binary, so tests elsewhere in
//! the workspace can start a real server in-process (`testing::spawn`) or as a process.
//!
//! One module per responsibility: `config` (command line, tokens file), `auth` (bearer
//! tokens, store scoping, protocol header), `ratelimit`, `body` (size limit, gzip, JSON),
//! `db` (all SQL, the webhook outbox included), `upload`, `download`, `status`, `resolve`,
//! `webhooks` (delivery worker), `admin`, `error` (JSON error bodies), `logging`, `testing`
//! (in-process spawn helper).

pub mod admin;
pub mod auth;
pub mod body;
pub mod config;
pub mod db;
pub mod download;
pub mod error;
pub mod logging;
pub mod ratelimit;
pub mod resolve;
pub mod status;
pub mod testing;
pub mod upload;
pub mod webhooks;

pub use config::{Config, DeviceToken, WebhookRetry};

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use pos_sync_protocol::{body_checksum, BODY_CHECKSUM_HEADER, PROTOCOL_HEADER, PROTOCOL_VERSION};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// What every handler shares.
pub struct AppState {
    pub db: db::Db,
    pub auth: auth::Auth,
    pub limiter: ratelimit::RateLimiter,
    pub webhooks: webhooks::Webhooks,
    pub admin_token: Option<String>,
}

/// Every response says which protocol version the server speaks.
async fn protocol_header(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(PROTOCOL_HEADER, HeaderValue::from(PROTOCOL_VERSION));
    response
}

/// Every answer carries the SHA-256 of its body (before gzip), so a device can tell an
/// answer corrupted in transit even where the JSON still parses (a digit of a sync token or
/// of `server_time`).
async fn body_checksum_header(request: Request<Body>, next: Next) -> Response {
    let (mut parts, body) = next.run(request).await.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!("could not buffer an answer to checksum it: {e}");
            return axum::response::IntoResponse::into_response(error::ApiError::internal(
                "the server failed to send its answer; retry later",
            ));
        }
    };
    if let Ok(value) = HeaderValue::from_str(&body_checksum(&bytes)) {
        parts.headers.insert(BODY_CHECKSUM_HEADER, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The HTTP surface: the four sync endpoints, the admin routes, JSON errors everywhere,
/// gzip responses for clients that accept them.
pub fn router(state: Arc<AppState>) -> Router {
    let sync = body::limits(
        Router::new()
            .route("/api/sync/upload", post(upload::handler))
            .route("/api/sync/download", get(download::handler))
            .route("/api/sync/status", get(status::handler))
            .route("/api/sync/resolve", post(resolve::handler)),
    )
    .route_layer(from_fn_with_state(state.clone(), auth::require_device));
    let admin = body::limits(
        Router::new()
            .route(
                "/admin/stores/{store_id}/records/{entity_type}",
                get(admin::list_records).put(admin::put_records),
            )
            .route(
                "/admin/stores/{store_id}/records/{entity_type}/{entity_id}",
                delete(admin::delete_record),
            )
            .route("/admin/stores/{store_id}/stock", get(admin::stock)),
    )
    .route_layer(from_fn_with_state(state.clone(), auth::require_admin));
    Router::new()
        .merge(sync)
        .merge(admin)
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(from_fn(protocol_header))
        .layer(from_fn(error::json_errors))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(from_fn(body_checksum_header))
        // gzip level 1: most of the size saving for a fraction of level 6's CPU, which made
        // compressing download pages the server's largest cost (docs/benchmarks.md).
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .with_state(state)
}

/// A bound server, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    router: Router,
    webhook_worker: Option<webhooks::Worker>,
    addr: SocketAddr,
}

impl Server {
    /// Opens the database, starts the webhook task and binds the listener.
    pub async fn bind(config: Config) -> Result<Server, String> {
        let db = db::Db::open(&config.db)
            .map_err(|e| format!("cannot open database '{}': {e}", config.db))?;
        let (webhooks, webhook_worker) = webhooks::Webhooks::start(
            db.clone(),
            config.webhooks.clone(),
            config.webhook_secret.clone(),
            config.webhook_retry,
        )
        .await?;
        let state = Arc::new(AppState {
            db,
            auth: auth::Auth::new(&config.devices),
            limiter: ratelimit::RateLimiter::new(config.rate_limit, config.rate_window),
            webhooks,
            admin_token: config.admin_token.clone(),
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))?;
        tracing::info!(
            "listening on {addr}: {} device tokens, database {}, admin {}, {} webhook(s)",
            config.devices.len(),
            config.db,
            if config.admin_token.is_some() {
                "on"
            } else {
                "off"
            },
            config.webhooks.len()
        );
        Ok(Server {
            listener,
            router: router(state),
            webhook_worker,
            addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until `shutdown` completes, then finishes requests in flight and gives webhook
    /// deliveries in flight a moment (undelivered events stay in the outbox for the next run).
    pub async fn run<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await?;
        if let Some(worker) = self.webhook_worker {
            worker.stop().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}
