//! Start a real server in-process for tests: its own thread and Tokio runtime, an
//! in-memory database, listening on 127.0.0.1 with a free port.
//!
//! ```no_run
//! let server = pos_sync_server::testing::spawn(&[("tok-1", "till-1", "store-a")], Some("admin"));
//! let url = server.url(); // "http://127.0.0.1:PORT"
//! // ... drive it over HTTP ...
//! server.shutdown();
//! ```

use crate::config::{Config, DeviceToken};
use crate::Server;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// A server running on its own thread. Dropping it stops the server (without waiting).
pub struct TestServer {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server and waits until it has finished.
    pub fn shutdown(mut self) {
        self.stop_now();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Starts a server for `devices` given as `(token, device_id, store_id)`, with the admin
/// routes behind `admin_token` when given. Panics if it cannot start.
pub fn spawn(devices: &[(&str, &str, &str)], admin_token: Option<&str>) -> TestServer {
    let config = Config {
        devices: devices
            .iter()
            .map(|(t, d, s)| DeviceToken::new(t, d, s))
            .collect(),
        admin_token: admin_token.map(str::to_string),
        ..Config::default()
    };
    spawn_with(config).expect("the test server starts")
}

/// Starts a server with any configuration (e.g. a tiny rate limit, webhooks).
pub fn spawn_with(config: Config) -> Result<TestServer, String> {
    let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("pos-sync-test-server".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot start a Tokio runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let server = match Server::bind(config).await {
                    Ok(server) => server,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(server.url()));
                let stopped = async move {
                    let _ = stop_rx.await;
                };
                if let Err(e) = server.run(stopped).await {
                    tracing::error!("test server failed: {e}");
                }
            });
        })
        .map_err(|e| format!("cannot start the server thread: {e}"))?;
    let url = ready_rx
        .recv()
        .map_err(|_| "the server thread stopped before it was ready".to_string())??;
    Ok(TestServer {
        url,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_serves_until_shutdown() {
        let server = spawn(&[("tok", "till-1", "store-1")], Some("admin"));
        let url = server.url().to_string();
        assert!(url.starts_with("http://127.0.0.1:"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::new();
        let status = |token: &'static str| {
            let request = client
                .get(format!("{url}/api/sync/status"))
                .bearer_auth(token);
            async move { request.send().await.map(|r| r.status().as_u16()) }
        };
        assert_eq!(runtime.block_on(status("tok")).unwrap(), 200);
        assert_eq!(runtime.block_on(status("wrong")).unwrap(), 401);
        server.shutdown();
        assert!(runtime.block_on(status("tok")).is_err(), "stopped");

        // Without an admin token the admin routes do not exist.
        let server = spawn(&[("tok", "till-1", "store-1")], None);
        let request = client
            .get(format!("{}/admin/stores/store-1/stock", server.url()))
            .bearer_auth("admin");
        let code = runtime.block_on(async { request.send().await.unwrap().status().as_u16() });
        assert_eq!(code, 404);
    }
}
