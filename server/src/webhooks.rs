//! Webhooks: a `changes.applied` event for every transaction that wrote records, POSTed to
//! every configured URL, signed with HMAC-SHA256.
//!
//! Durable: the event is written to the outbox (`db::outbox`) in the very transaction of the
//! changes, and a background worker delivers what the outbox holds, retrying with exponential
//! backoff. A crash or restart loses nothing: the rows are still there and go out when the
//! server runs again. Delivery is at least once; every attempt sends the same bytes under the
//! same `X-Pos-Sync-Event-Id`, so receivers de-duplicate on it. A device's request never
//! waits for a receiver.

use crate::config::WebhookRetry;
use crate::db::outbox::{Delivery, Outcome};
use crate::db::{now_ms, Db, StoreTx};
use hmac::{Hmac, Mac};
use pos_sync_protocol::model::EntityType;
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

/// Deliveries in flight at once.
const CONCURRENT_DELIVERIES: usize = 16;
/// How long shutdown waits for deliveries still in flight (the rest stay in the outbox).
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(2);
/// Longest wait between two attempts, however many failed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The worker looks at the outbox at least this often, even when nobody woke it.
const IDLE_POLL: Duration = Duration::from_secs(30);

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

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait after `failures` failed attempts: `initial`, doubled after each, at most
/// `MAX_BACKOFF`.
pub fn backoff(initial: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1));
    initial.saturating_mul(factor).min(MAX_BACKOFF)
}

/// The handlers' side: queues events in their transaction and wakes the worker. Cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    urls: Arc<Vec<String>>,
    wake: Arc<Notify>,
}

/// The running delivery task; `stop` ends it.
pub struct Worker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Worker {
    /// Lets deliveries in flight finish (briefly) and stops; what is left stays queued.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(SHUTDOWN_DRAIN + Duration::from_secs(1), self.task).await;
    }
}

impl Webhooks {
    pub fn disabled() -> Self {
        Webhooks {
            urls: Arc::new(Vec::new()),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Starts the delivery worker over the outbox of `db` (needs a Tokio runtime). No worker
    /// when no URL is configured; deliveries already queued for other URLs are kept.
    pub async fn start(
        db: Db,
        urls: Vec<String>,
        secret: Option<String>,
        retry: WebhookRetry,
    ) -> Result<(Self, Option<Worker>), String> {
        let urls = Arc::new(urls);
        let counts = {
            let urls = urls.clone();
            db.run(move |inner| Ok(inner.webhook_counts(&urls)?))
                .await
                .map_err(|e| format!("cannot read the webhook outbox: {e}"))?
        };
        if counts.pending + counts.unconfigured + counts.given_up > 0 {
            tracing::info!(
                "webhook outbox: {} deliveries to send, {} kept for URLs no longer configured, {} given up",
                counts.pending,
                counts.unconfigured,
                counts.given_up
            );
        }
        let hooks = Webhooks {
            urls,
            wake: Arc::new(Notify::new()),
        };
        if hooks.urls.is_empty() {
            return Ok((hooks, None));
        }
        if secret.is_none() {
            tracing::warn!("webhooks are not signed: no --webhook-secret given");
        }
        let client = reqwest::Client::builder()
            .timeout(retry.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pos-sync-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        let (stop, stopped) = watch::channel(false);
        let sender = Sender {
            client,
            secret: secret.map(Arc::new),
            retry,
        };
        let task = tokio::spawn(run_worker(db, hooks.clone(), sender, stopped));
        Ok((hooks, Some(Worker { stop, task })))
    }

    /// Queues a `changes.applied` event for `changes` in `tx`, commits `tx`, and wakes the
    /// worker. With no changes or no URL it only commits.
    pub fn commit_with_event(
        &self,
        tx: StoreTx<'_>,
        device_id: Option<&str>,
        changes: &[WrittenChange],
    ) -> rusqlite::Result<()> {
        if changes.is_empty() || self.urls.is_empty() {
            return tx.commit();
        }
        let event_id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let body = serde_json::to_vec(&Event {
            event: EVENT_CHANGES_APPLIED,
            event_id: &event_id,
            store_id: tx.store_id(),
            device_id,
            changes,
            sent_at: now,
        })
        .expect("events serialize");
        tx.enqueue_webhook(&event_id, &body, &self.urls, now)?;
        tx.commit()?;
        self.wake.notify_one();
        Ok(())
    }
}

/// What one attempt needs besides the delivery itself.
struct Sender {
    client: reqwest::Client,
    secret: Option<Arc<String>>,
    retry: WebhookRetry,
}

impl Sender {
    /// One attempt; `Err` says why it failed.
    async fn attempt(&self, delivery: &Delivery) -> Result<(), String> {
        let mut request = self
            .client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, EVENT_CHANGES_APPLIED)
            .header(EVENT_ID_HEADER, &delivery.event_id)
            .body(delivery.body.clone());
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, signature(secret, &delivery.body));
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
            Err(e) => Err(e.without_url().to_string()),
        }
    }

    /// What the outbox records after an attempt of `delivery` ended with `result`.
    fn outcome(&self, delivery: &Delivery, result: Result<(), String>) -> Outcome {
        let Err(error) = result else {
            return Outcome::Delivered;
        };
        let failures = delivery.attempts + 1;
        let (event, url) = (&delivery.event_id, &delivery.url);
        if failures >= self.retry.attempts {
            tracing::warn!(
                "webhook {event} to {url} failed after {failures} attempts ({error}); kept in the outbox, given up"
            );
            return Outcome::GiveUp { error };
        }
        let wait = backoff(self.retry.initial_backoff, failures);
        tracing::info!(
            "webhook {event} to {url} attempt {failures} failed ({error}); retrying in {} ms",
            wait.as_millis()
        );
        Outcome::RetryAt {
            error,
            retry_at: now_ms() + wait.as_millis() as i64,
        }
    }
}

type Finished = (Delivery, Result<(), String>);

/// Hands due deliveries to attempts (at most `CONCURRENT_DELIVERIES` at once), records each
/// outcome, and sleeps until the next delivery falls due, a handler wakes it, or an attempt
/// ends.
async fn run_worker(db: Db, hooks: Webhooks, sender: Sender, mut stopped: watch::Receiver<bool>) {
    let sender = Arc::new(sender);
    let mut running: JoinSet<Finished> = JoinSet::new();
    let mut in_flight: HashSet<i64> = HashSet::new();
    let mut finished: Vec<Finished> = Vec::new();
    loop {
        while let Some(done) = running.try_join_next() {
            finished.extend(done.ok());
        }
        record_outcomes(&db, &sender, &mut finished, &mut in_flight).await;
        if *stopped.borrow() {
            break;
        }
        let room = CONCURRENT_DELIVERIES - in_flight.len();
        let (urls, busy) = (hooks.urls.clone(), in_flight.clone());
        let looked = db
            .run(move |inner| {
                let due = inner.due_webhooks(&urls, &busy, now_ms(), room)?;
                let busy: HashSet<i64> = busy.into_iter().chain(due.iter().map(|d| d.id)).collect();
                Ok((due, inner.next_webhook_due(&urls, &busy)?))
            })
            .await;
        let next_due = match looked {
            Ok((due, next_due)) => {
                for delivery in due {
                    in_flight.insert(delivery.id);
                    let sender = sender.clone();
                    running.spawn(async move {
                        let result = sender.attempt(&delivery).await;
                        (delivery, result)
                    });
                }
                next_due
            }
            Err(e) => {
                tracing::error!("cannot read the webhook outbox: {e}");
                Some(now_ms() + 1000)
            }
        };
        // Sleep until something can be done. With every slot busy only a finished attempt
        // (or the stop) matters.
        let full = in_flight.len() >= CONCURRENT_DELIVERIES;
        let sleep = next_due
            .filter(|_| !full)
            .map(|at| Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64))
            .unwrap_or(IDLE_POLL)
            .min(IDLE_POLL);
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => finished.extend(done.ok()),
            _ = hooks.wake.notified(), if !full => {}
            _ = tokio::time::sleep(sleep) => {}
            _ = stopped.changed() => {}
        }
    }
    // Shutting down: give attempts in flight a moment and record how they ended; whatever is
    // not recorded is attempted again at the next start.
    let drain = tokio::time::timeout(SHUTDOWN_DRAIN, async {
        while let Some(done) = running.join_next().await {
            finished.extend(done.ok());
        }
    })
    .await;
    if drain.is_err() {
        tracing::info!(
            "{} webhook deliveries still in flight at shutdown stay queued",
            running.len()
        );
    }
    record_outcomes(&db, &sender, &mut finished, &mut in_flight).await;
}

/// Writes what became of the `finished` attempts to the outbox in one transaction.
async fn record_outcomes(
    db: &Db,
    sender: &Sender,
    finished: &mut Vec<Finished>,
    in_flight: &mut HashSet<i64>,
) {
    if finished.is_empty() {
        return;
    }
    let outcomes: Vec<(i64, Outcome)> = finished
        .drain(..)
        .map(|(delivery, result)| {
            in_flight.remove(&delivery.id);
            (delivery.id, sender.outcome(&delivery, result))
        })
        .collect();
    if let Err(e) = db
        .run(move |inner| Ok(inner.record_webhook_outcomes(&outcomes)?))
        .await
    {
        // The rows stay as they were: those attempts are simply made again.
        tracing::error!("cannot record webhook outcomes: {e}");
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

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let ms = Duration::from_millis;
        assert_eq!(backoff(ms(500), 1), ms(500));
        assert_eq!(backoff(ms(500), 2), ms(1000));
        assert_eq!(backoff(ms(500), 4), ms(4000));
        assert_eq!(backoff(ms(500), 40), MAX_BACKOFF);
    }
}
