//! Bearer tokens from the web app. The engine asks [`TokenBroker::token`] on its own thread
//! before a request; the app gives tokens with `setToken`. With a current token and no
//! refresh asked, the broker answers at once. Otherwise (no token yet, or the server refused
//! it) it emits `tokenRequested` and waits up to its timeout for the next `setToken`; without
//! an answer it returns the token it has (the server refuses it again, the sync fails with
//! `AUTH` and is retried later) or fails if it has none. No listener: no wait.

use super::events::TOKEN_REQUESTED;
use super::saved::SavedState;
use super::{BridgeError, BridgeHost};
use crate::transport::{TokenError, TokenProvider};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

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
    current: Mutex<Current>,
    changed: Condvar,
}

#[derive(Default)]
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
            current: Mutex::new(Current::default()),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app's token (`None`: it has none, e.g. signed out). Wakes a waiting `token`.
    pub fn set(&self, token: Option<String>) {
        let mut current = self.lock();
        current.token = token;
        current.generation += 1;
        self.changed.notify_all();
    }

    /// Takes the saved token when the app has given none in this process (a background
    /// worker, or `open` without `authToken` after a restart).
    pub fn load_saved(&self, saved: &SavedState) -> Result<(), BridgeError> {
        if self.lock().token.is_none() {
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

impl TokenProvider for TokenBroker {
    fn token(&self, refresh: bool) -> Result<String, TokenError> {
        let (token, asked) = {
            let current = self.lock();
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
        let deadline = Instant::now() + self.timeout;
        let mut current = self.lock();
        while current.generation == asked {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            current = self
                .changed
                .wait_timeout(current, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
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
