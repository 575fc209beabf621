//! Webhooks: after changes commit, a `changes.applied` event is POSTed to every configured
//! URL from a background task, signed with HMAC-SHA256, and retried with exponential
//! backoff. Handing an event over never waits: the queue is bounded and a full queue drops
//! the event with a warning rather than delaying a device's upload.

use crate::config::WebhookRetry;
use crate::db::now_ms;
use hmac::{Hmac, Mac};
use pos_sync_protocol::model::EntityType;
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

/// Events waiting for delivery before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 1024;
/// Deliveries in flight at once.
const CONCURRENT_DELIVERIES: usize = 16;
/// How long shutdown waits for deliveries still in flight.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(2);

pub const SIGNATURE_HEADER: &str = "x-pos-sync-signature";
pub const EVENT_ID_HEADER: &str = "x-pos-sync-event-id";
pub const EVENT_HEADER: &str = "x-pos-sync-event";
pub const EVENT_CHANGES_APPLIED: &str = "changes.applied";

/// One record change that committed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WrittenChange {
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The device change that caused it; `null` for admin edits.
    pub change_id: Option<String>,
    pub version: i64,
}

#[derive(Serialize)]
struct Event<'a> {
    event: &'static str,
    event_id: &'a str,
    store_id: &'a str,
    /// The device that made the change; `null` for admin edits.
    device_id: Option<&'a str>,
    changes: &'a [WrittenChange],
    /// Milliseconds since the Unix epoch when the event was created.
    sent_at: i64,
}

/// A serialized event: the same bytes (and so the same signature) on every attempt.
#[derive(Clone)]
struct Job {
    event_id: String,
    body: Arc<Vec<u8>>,
}

/// The sending side, held by request handlers.
pub struct Webhooks {
    queue: Option<mpsc::Sender<Job>>,
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Webhooks {
    pub fn disabled() -> Self {
        Webhooks { queue: None }
    }

    /// Starts the delivery task (needs a Tokio runtime). `None` worker when no URL is set.
    pub fn start(
        urls: Vec<String>,
        secret: Option<String>,
        retry: WebhookRetry,
    ) -> (Self, Option<JoinHandle<()>>) {
        if urls.is_empty() {
            return (Self::disabled(), None);
        }
        if secret.is_none() {
            log::warn!("webhooks are not signed: no --webhook-secret given");
        }
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pos-sync-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let worker = tokio::spawn(run_worker(
            rx,
            client,
            Arc::new(urls),
            secret.map(Arc::new),
            retry,
        ));
        (Webhooks { queue: Some(tx) }, Some(worker))
    }

    /// Queues a `changes.applied` event; returns at once. Does nothing for no changes.
    pub fn notify(&self, store_id: &str, device_id: Option<&str>, changes: Vec<WrittenChange>) {
        let Some(queue) = &self.queue else { return };
        if changes.is_empty() {
            return;
        }
        let event_id = uuid::Uuid::new_v4().to_string();
        let body = serde_json::to_vec(&Event {
            event: EVENT_CHANGES_APPLIED,
            event_id: &event_id,
            store_id,
            device_id,
            changes: &changes,
            sent_at: now_ms(),
        })
        .expect("events serialize");
        if let Err(e) = queue.try_send(Job {
            event_id: event_id.clone(),
            body: Arc::new(body),
        }) {
            log::warn!("webhook event {event_id} dropped: {e}");
        }
    }
}

async fn run_worker(
    mut rx: mpsc::Receiver<Job>,
    client: reqwest::Client,
    urls: Arc<Vec<String>>,
    secret: Option<Arc<String>>,
    retry: WebhookRetry,
) {
    let permits = Arc::new(Semaphore::new(CONCURRENT_DELIVERIES));
    let mut running = JoinSet::new();
    while let Some(job) = rx.recv().await {
        while running.try_join_next().is_some() {}
        for url in urls.iter() {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .expect("semaphore stays open");
            let (client, url, job, secret) =
                (client.clone(), url.clone(), job.clone(), secret.clone());
            running.spawn(async move {
                deliver(
                    &client,
                    &url,
                    &job,
                    secret.as_deref().map(String::as_str),
                    retry,
                )
                .await;
                drop(permit);
            });
        }
    }
    // The server is shutting down: give deliveries in flight a moment, then stop.
    if tokio::time::timeout(SHUTDOWN_DRAIN, async {
        while running.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        log::warn!("{} webhook deliveries abandoned at shutdown", running.len());
    }
}

async fn deliver(
    client: &reqwest::Client,
    url: &str,
    job: &Job,
    secret: Option<&str>,
    retry: WebhookRetry,
) {
    let mut backoff = retry.initial_backoff;
    for attempt in 1..=retry.attempts {
        let mut request = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, EVENT_CHANGES_APPLIED)
            .header(EVENT_ID_HEADER, &job.event_id)
            .body(job.body.as_ref().clone());
        if let Some(secret) = secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, &job.body));
        }
        let outcome = match request.send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(e) => e.to_string(),
        };
        if attempt == retry.attempts {
            log::warn!(
                "webhook {} to {url} failed after {attempt} attempts: {outcome}",
                job.event_id
            );
            return;
        }
        log::info!(
            "webhook {} to {url} attempt {attempt} failed ({outcome}); retrying in {} ms",
            job.event_id,
            backoff.as_millis()
        );
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
