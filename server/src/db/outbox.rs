//! The webhook outbox: one row per event and receiver URL, written in the transaction of the
//! change it announces (so a change never commits without its notification, nor the other
//! way round), deleted once the receiver acknowledged it. A row survives a crash or a restart
//! and is delivered then: at least once, always the same bytes under the same event id.

use super::{Inner, StoreTx};
use rusqlite::params;
use std::collections::HashSet;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id              INTEGER PRIMARY KEY,
    event_id        TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    -- 1 once every attempt failed: kept for the operator, no longer tried.
    given_up        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    UNIQUE (event_id, url)
);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (given_up, next_attempt_at);
";

/// One delivery waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub event_id: String,
    pub url: String,
    pub body: Vec<u8>,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx: the row goes.
    Delivered,
    /// Try again at `retry_at` (ms since the epoch).
    RetryAt { error: String, retry_at: i64 },
    /// The last allowed attempt failed: the row stays, marked given up.
    GiveUp { error: String },
}

/// How many rows wait, for the startup log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    /// Waiting for a configured URL.
    pub pending: i64,
    /// Waiting for a URL the server is no longer configured with (kept, not sent).
    pub unconfigured: i64,
    pub given_up: i64,
}

/// A list of strings or ids as one JSON text parameter, for `IN (SELECT value FROM json_each(?))`.
fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("strings and integers serialize")
}

impl StoreTx<'_> {
    /// Queues `body` (an event with id `event_id`) for every URL; committed or rolled back
    /// with the rest of this transaction.
    pub fn enqueue_webhook(
        &self,
        event_id: &str,
        body: &[u8],
        urls: &[String],
        now: i64,
    ) -> rusqlite::Result<()> {
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO webhook_outbox (event_id, url, body, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?4)",
        )?;
        for url in urls {
            insert.execute(params![event_id, url, body, now])?;
        }
        Ok(())
    }
}

impl Inner {
    /// Up to `limit` deliveries to `urls` due at `now`, oldest first, leaving out `in_flight`.
    pub fn due_webhooks(
        &self,
        urls: &[String],
        in_flight: &HashSet<i64>,
        now: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<Delivery>> {
        let in_flight: Vec<i64> = in_flight.iter().copied().collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, event_id, url, body, attempts FROM webhook_outbox
             WHERE given_up = 0 AND next_attempt_at <= ?1
               AND url IN (SELECT value FROM json_each(?2))
               AND id NOT IN (SELECT value FROM json_each(?3))
             ORDER BY next_attempt_at, id LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![now, json_list(urls), json_list(&in_flight), limit as i64],
            |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    event_id: r.get(1)?,
                    url: r.get(2)?,
                    body: r.get(3)?,
                    attempts: r.get(4)?,
                })
            },
        )?;
        rows.collect()
    }

    /// When the next delivery to `urls` that is not in flight falls due (ms since the epoch).
    pub fn next_webhook_due(
        &self,
        urls: &[String],
        in_flight: &HashSet<i64>,
    ) -> rusqlite::Result<Option<i64>> {
        let in_flight: Vec<i64> = in_flight.iter().copied().collect();
        self.conn
            .prepare_cached(
                "SELECT MIN(next_attempt_at) FROM webhook_outbox
                 WHERE given_up = 0 AND url IN (SELECT value FROM json_each(?1))
                   AND id NOT IN (SELECT value FROM json_each(?2))",
            )?
            .query_row(params![json_list(urls), json_list(&in_flight)], |r| {
                r.get(0)
            })
    }

    /// Writes the outcomes of finished attempts, all in one transaction.
    pub fn record_webhook_outcomes(&mut self, outcomes: &[(i64, Outcome)]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut delete = tx.prepare_cached("DELETE FROM webhook_outbox WHERE id = ?1")?;
            let mut failed = tx.prepare_cached(
                "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?2,
                    next_attempt_at = COALESCE(?3, next_attempt_at), given_up = (?3 IS NULL)
                 WHERE id = ?1",
            )?;
            for (id, outcome) in outcomes {
                match outcome {
                    Outcome::Delivered => delete.execute(params![id])?,
                    Outcome::RetryAt { error, retry_at } => {
                        failed.execute(params![id, error, retry_at])?
                    }
                    Outcome::GiveUp { error } => failed.execute(params![id, error, None::<i64>])?,
                };
            }
        }
        tx.commit()
    }

    pub fn webhook_counts(&self, urls: &[String]) -> rusqlite::Result<OutboxCounts> {
        self.conn.query_row(
            "SELECT
                COALESCE(SUM(given_up = 0 AND url IN (SELECT value FROM json_each(?1))), 0),
                COALESCE(SUM(given_up = 0 AND url NOT IN (SELECT value FROM json_each(?1))), 0),
                COALESCE(SUM(given_up = 1), 0)
             FROM webhook_outbox",
            params![json_list(urls)],
            |r| {
                Ok(OutboxCounts {
                    pending: r.get(0)?,
                    unconfigured: r.get(1)?,
                    given_up: r.get(2)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn rows_commit_with_their_transaction_and_leave_once_delivered() {
        let db = Db::open(":memory:").unwrap();
        let mut inner = db.inner.lock().unwrap();
        let urls = vec!["http://a/hook".to_string(), "http://b/hook".to_string()];
        let tx = inner.store_tx("s1").unwrap();
        tx.enqueue_webhook("e1", b"{}", &urls, 100).unwrap();
        drop(tx); // rolled back
        assert!(inner
            .due_webhooks(&urls, &HashSet::new(), 1000, 10)
            .unwrap()
            .is_empty());

        let tx = inner.store_tx("s1").unwrap();
        tx.enqueue_webhook("e2", b"{\"n\":2}", &urls, 100).unwrap();
        tx.commit().unwrap();
        let due = inner.due_webhooks(&urls, &HashSet::new(), 100, 10).unwrap();
        assert_eq!(due.len(), 2);
        assert!(due.iter().all(|d| d.event_id == "e2" && d.attempts == 0));
        // In flight rows are not handed out twice; a URL no longer configured is kept apart.
        let only_a = vec![urls[0].clone()];
        let in_flight = HashSet::from([due[0].id]);
        assert!(inner
            .due_webhooks(&only_a, &in_flight, 100, 10)
            .unwrap()
            .is_empty());
        assert_eq!(inner.next_webhook_due(&only_a, &in_flight).unwrap(), None);

        inner
            .record_webhook_outcomes(&[
                (due[0].id, Outcome::Delivered),
                (
                    due[1].id,
                    Outcome::RetryAt {
                        error: "HTTP 500".into(),
                        retry_at: 600,
                    },
                ),
            ])
            .unwrap();
        assert!(inner
            .due_webhooks(&urls, &HashSet::new(), 599, 10)
            .unwrap()
            .is_empty());
        assert_eq!(
            inner.next_webhook_due(&urls, &HashSet::new()).unwrap(),
            Some(600)
        );
        let retry = inner.due_webhooks(&urls, &HashSet::new(), 600, 10).unwrap();
        assert_eq!((retry.len(), retry[0].attempts), (1, 1));
        inner
            .record_webhook_outcomes(&[(
                retry[0].id,
                Outcome::GiveUp {
                    error: "HTTP 500".into(),
                },
            )])
            .unwrap();
        assert_eq!(
            inner.webhook_counts(&only_a).unwrap(),
            OutboxCounts {
                pending: 0,
                unconfigured: 0,
                given_up: 1
            }
        );
        assert_eq!(
            inner.next_webhook_due(&urls, &HashSet::new()).unwrap(),
            None
        );
    }
}
