//! Bearer tokens from the web app. The engine awaits [`TokenBroker::token`] before a request; the app gives tokens with `setToken`. With a current token and no
//! refresh asked, the broker answers at once. Otherwise (no token yet, or the server refused
//! it) it emits `tokenRequested` and waits up to its timeout for the next `setToken`; without
//! an answer it returns the token it has (the server refuses it again, the sync fails with
//! `AUTH` and is retried later) or fails if it has none. No listener: no wait.

use super::events::TOKEN_REQUESTED;
use super::saved::SavedState;
use super::{BridgeError, BridgeHost};
use crate::transport::{TokenError, TokenProvider};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long the engine waits for `setToken` after `tokenRequested`.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The payload of the `tokenRequested` event.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    /// `true` when the server refused the current token (answer with a new one); `false`
    /// when the engine has no token yet.
    pub refresh: bool,
    /// How long the engine waits for `setToken`, in ms.
    pub timeout_ms: i64,
}

pub struct TokenBroker {
    host: Arc<dyn BridgeHost>,
    timeout: Duration,
    // A watch channel, so the engine's wait for `setToken` is an await, not a blocked thread.
    current: watch::Sender<Current>,
}

#[derive(Default, Clone)]
struct Current {
    token: Option<String>,
    /// Counts `set` calls, so a waiter sees an answer even when it repeats the old token.
    generation: u64,
}

impl TokenBroker {
    pub fn new(host: Arc<dyn BridgeHost>, timeout: Duration) -> TokenBroker {
        TokenBroker {
            host,
            timeout,
            current: watch::Sender::new(Current::default()),
        }
    }

    /// The app's token (`None`: it has none, e.g. signed out). Wakes a waiting `token`.
    pub fn set(&self, token: Option<String>) {
        self.current.send_modify(|current| {
            current.token = token;
            current.generation += 1;
        });
    }

    /// Takes the saved token when the app has given none in this process (a background
    /// worker, or `open` without `authToken` after a restart).
    pub fn load_saved(&self, saved: &SavedState) -> Result<(), BridgeError> {
        if self.current.borrow().token.is_none() {
            if let Some(token) = saved.token()? {
                self.set(Some(token));
            }
        }
        Ok(())
    }

    fn unavailable(reason: impl Into<String>) -> TokenError {
        TokenError::Unavailable {
            reason: reason.into(),
        }
    }
}

// Send on native only: see the trait.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl TokenProvider for TokenBroker {
    async fn token(&self, refresh: bool) -> Result<String, TokenError> {
        let mut answers = self.current.subscribe();
        let (token, asked) = {
            let current = answers.borrow_and_update();
            (current.token.clone(), current.generation)
        };
        if let (Some(token), false) = (&token, refresh) {
            return Ok(token.clone());
        }
        if !self.host.has_listeners(TOKEN_REQUESTED.to_owned()) {
            return token.ok_or_else(|| {
                Self::unavailable("no token: call PosSync.setToken() or listen to 'tokenRequested'")
            });
        }
        let request = TokenRequest {
            refresh,
            timeout_ms: self.timeout.as_millis() as i64,
        };
        let json = serde_json::to_string(&request).expect("two plain fields");
        self.host.emit(TOKEN_REQUESTED.to_owned(), json);
        // Timing out is an answer too (see the module's doc); the sender lives in `self`.
        // The runtime seam's timer: tokio's on native, the worker's setTimeout on wasm32.
        let _ = crate::runtime::timeout(
            self.timeout,
            answers.wait_for(|current| current.generation != asked),
        )
        .await;
        let current = self.current.borrow().clone();
        match (&current.token, current.generation != asked) {
            (Some(token), _) => Ok(token.clone()),
            (None, true) => Err(Self::unavailable(
                "no token: the app answered setToken(null)",
            )),
            (None, false) => Err(Self::unavailable(format!(
                "no token: the app did not answer 'tokenRequested' within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}
