//! The sync queue: every local change waiting for the server, in priority order, with
//! retry state. Rows move PENDING → SYNCING → SYNCED, or to FAILED (retried after a backoff)
//! or CONFLICT (a person decides). Nothing is deleted before it is SYNCED.

use crate::error::Result;
use crate::model::{Action, EntityType, SyncState};
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use std::collections::HashSet;

/// A change about to be queued.
pub struct NewChange<'a> {
    pub entity_type: EntityType,
    pub entity_id: &'a str,
    pub action: Action,
    /// Canonical JSON text of the payload (`null` for a delete).
    pub payload: &'a str,
    pub checksum: &'a str,
    pub hlc: i64,
}

/// A queued change as the uploader and the app see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, uniffi::Record)]
pub struct QueueItem {
    pub change_id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub action: Action,
    pub status: SyncState,
    pub priority: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The server refused it permanently; it stays FAILED (never dropped) and is retried
    /// rarely in case the server's data changes.
    pub rejected: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub next_attempt_at_ms: Option<i64>,
    pub hlc: i64,
    pub payload_json: String,
    pub checksum: String,
    pub payload_bytes: i64,
}

const ITEM_COLUMNS: &str = "id, entity_type, entity_id, action, status, priority, attempts, \
     last_error, rejected, created_at, updated_at, next_attempt_at, hlc, payload, checksum, payload_bytes";

fn item_from_row(row: &Row) -> rusqlite::Result<QueueItem> {
    let text = |i: usize| -> rusqlite::Result<String> { row.get(i) };
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown {what} in sync_queue").into(),
        )
    };
    Ok(QueueItem {
        change_id: text(0)?,
        entity_type: text(1)?.parse().map_err(|_| bad(1, "entity type"))?,
        entity_id: text(2)?,
        action: Action::parse(&text(3)?).ok_or_else(|| bad(3, "action"))?,
        status: SyncState::parse(&text(4)?).ok_or_else(|| bad(4, "status"))?,
        priority: row.get(5)?,
        attempts: row.get(6)?,
        last_error: row.get(7)?,
        rejected: row.get(8)?,
        created_at_ms: row.get(9)?,
        updated_at_ms: row.get(10)?,
        next_attempt_at_ms: row.get(11)?,
        hlc: row.get(12)?,
        payload_json: text(13)?,
        checksum: text(14)?,
        payload_bytes: row.get(15)?,
    })
}

/// Adds a change to the queue and returns its change id.
pub fn enqueue(tx: &Transaction, change: &NewChange, now_ms: i64) -> Result<String> {
    // Time-ordered (UUIDv7): change ids key the queue here and the idempotency table on
    // the server, and ids that grow with time are appended to those indexes, where random
    // ones rewrote pages all over them with every batch (and every page went through the
    // write-ahead log again).
    let id = uuid::Uuid::now_v7().to_string();
    tx.prepare_cached(
        "INSERT INTO sync_queue (id, entity_type, entity_id, action, payload, priority, status, \
         created_at, updated_at, seq, hlc, checksum, payload_bytes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'PENDING', ?7, ?7, \
         (SELECT COALESCE(MAX(seq), 0) + 1 FROM sync_queue), ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        change.entity_type.as_str(),
        change.entity_id,
        change.action.as_str(),
        change.payload,
        change.entity_type.priority(),
        now_ms,
        change.hlc,
        change.checksum,
        change.payload.len() as i64,
    ])?;
    Ok(id)
}

/// Folds a new edit of a record into a queued change of the same record that was never sent
/// (PENDING, no attempts), so a customer edited five times offline uploads once. Returns the
/// change id it folded into, or `None` when a new change must be queued (the earlier one may
/// already have reached the server, so its payload must not change under its id).
pub fn coalesce_unsent(
    tx: &Transaction,
    change: &NewChange,
    now_ms: i64,
) -> Result<Option<String>> {
    let existing: Option<(String, String)> = tx
        .prepare_cached(
            "SELECT id, action FROM sync_queue WHERE entity_type = ?1 AND entity_id = ?2 \
             AND status = 'PENDING' AND attempts = 0 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(
            params![change.entity_type.as_str(), change.entity_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, action)) = existing else {
        return Ok(None);
    };
    // A create followed by edits is still a create; a create followed by a delete of a
    // record the server never saw would be a no-op, but keeping the delete is simpler and
    // the server treats deleting a missing record as applied.
    let action = match (Action::parse(&action), change.action) {
        (Some(Action::Create), Action::Update) => Action::Create,
        (_, new) => new,
    };
    tx.prepare_cached(
        "UPDATE sync_queue SET action = ?2, payload = ?3, checksum = ?4, payload_bytes = ?5, \
         hlc = ?6, updated_at = ?7 WHERE id = ?1",
    )?
    .execute(params![
        id,
        action.as_str(),
        change.payload,
        change.checksum,
        change.payload.len() as i64,
        change.hlc,
        now_ms
    ])?;
    Ok(Some(id))
}

/// Limits of one upload batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_items: usize,
    pub max_bytes: usize,
}

/// The claim query: the rowids of the next due rows, oldest first. Each state is read in seq
/// order straight from the (status, priority, seq) index, so a claim costs the same with 100
/// or 1,000,000 synced rows behind it. (One query with `status = 'PENDING' OR status =
/// 'FAILED'` scanned every row of the type and sorted it: quadratic over a backlog.) A
/// priority is one entity type. Only rowids are merged and sorted here; selecting whole rows
/// copied every payload through two sorters before it was read.
fn claim_sql(one_per_record: bool) -> String {
    let one_per_record_clause = if one_per_record {
        "AND NOT EXISTS (SELECT 1 FROM sync_queue e WHERE e.entity_type = q.entity_type \
         AND e.entity_id = q.entity_id AND e.seq < q.seq AND e.status != 'SYNCED')"
    } else {
        ""
    };
    format!(
        "SELECT rid FROM ( \
           SELECT * FROM (SELECT q.rowid AS rid, q.seq AS seq FROM sync_queue q \
             WHERE status = 'PENDING' AND priority = ?4 \
             AND entity_type = ?1 {one_per_record_clause} ORDER BY seq LIMIT ?3) \
           UNION ALL \
           SELECT * FROM (SELECT q.rowid AS rid, q.seq AS seq FROM sync_queue q \
             WHERE status = 'FAILED' AND priority = ?4 \
             AND entity_type = ?1 AND COALESCE(next_attempt_at, 0) <= ?2 {one_per_record_clause} \
             ORDER BY seq LIMIT ?3) \
         ) ORDER BY seq LIMIT ?3"
    )
}

/// Claims the next batch of one entity type: PENDING rows and FAILED rows whose retry time
/// has come, oldest first, become SYNCING with one more attempt. For records that change
/// (customers) only the oldest unsynced change per record is claimed, because the next one
/// is based on the server version the first will produce.
pub fn claim_batch(
    tx: &Transaction,
    entity_type: EntityType,
    limits: BatchLimits,
    now_ms: i64,
) -> Result<Vec<QueueItem>> {
    let one_per_record = entity_type == EntityType::Customer;
    let due: Vec<i64> = tx
        .prepare_cached(&claim_sql(one_per_record))?
        .query_map(
            params![
                entity_type.as_str(),
                now_ms,
                limits.max_items as i64,
                entity_type.priority()
            ],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut read = tx.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM sync_queue WHERE rowid = ?1"
    ))?;
    let mut mark = tx.prepare_cached(
        "UPDATE sync_queue SET status = 'SYNCING', attempts = attempts + 1, updated_at = ?2 \
         WHERE rowid = ?1",
    )?;
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    let mut seen = HashSet::new();
    for rowid in due {
        let mut item = read.query_row([rowid], item_from_row)?;
        let size = item.payload_bytes as usize;
        if !batch.is_empty() && bytes + size > limits.max_bytes {
            break;
        }
        if one_per_record && !seen.insert(item.entity_id.clone()) {
            continue;
        }
        mark.execute(params![rowid, now_ms])?;
        item.status = SyncState::Syncing;
        item.attempts += 1;
        bytes += size;
        batch.push(item);
    }
    Ok(batch)
}

/// The server confirmed the change (applied or duplicate).
pub fn mark_synced(
    tx: &Transaction,
    change_id: &str,
    server_version: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_queue SET status = 'SYNCED', synced_at = ?2, updated_at = ?2, \
         server_version = ?3, last_error = NULL, next_attempt_at = NULL, rejected = 0 WHERE id = ?1",
    )?
    .execute(params![change_id, now_ms, server_version])?;
    Ok(())
}

/// Retry policy: exponential backoff with jitter, capped.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base_ms: i64,
    pub max_ms: i64,
    /// Cap for changes the server rejected: retried rarely, in case its data changed.
    pub rejected_max_ms: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 2_000,
            max_ms: 10 * 60_000,
            rejected_max_ms: 60 * 60_000,
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempts + 1`: base·2^(attempts-1), capped, then scaled by a
    /// random factor in [0.5, 1.0] so a fleet of tills does not retry in lockstep.
    pub fn delay_ms(&self, attempts: i64, rejected: bool) -> i64 {
        let cap = if rejected {
            self.rejected_max_ms
        } else {
            self.max_ms
        };
        let exp = (attempts.max(1) - 1).min(30) as u32;
        let full = self.base_ms.saturating_mul(1i64 << exp).min(cap);
        let jitter: f64 = rand::rng().random_range(0.5..=1.0);
        ((full as f64) * jitter) as i64
    }
}

/// The attempt failed. `rejected` means the server refused it for good.
pub fn mark_failed(
    tx: &Transaction,
    change_id: &str,
    error: &str,
    rejected: bool,
    policy: &RetryPolicy,
    now_ms: i64,
) -> Result<()> {
    let attempts: i64 = tx
        .prepare_cached("SELECT attempts FROM sync_queue WHERE id = ?1")?
        .query_row([change_id], |r| r.get(0))?;
    let next = now_ms + policy.delay_ms(attempts, rejected);
    tx.prepare_cached(
        "UPDATE sync_queue SET status = 'FAILED', last_error = ?2, rejected = ?3, \
         next_attempt_at = ?4, updated_at = ?5 WHERE id = ?1",
    )?
    .execute(params![change_id, error, rejected, next, now_ms])?;
    Ok(())
}

/// The change needs a person; it waits in the manual review queue.
pub fn mark_conflict(tx: &Transaction, change_id: &str, reason: &str, now_ms: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_queue SET status = 'CONFLICT', last_error = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![change_id, reason, now_ms])?;
    Ok(())
}

/// Returns claimed rows that were never sent (a cancelled cycle) to PENDING, undoing the
/// attempt count so a cancellation does not push them into backoff.
pub fn release_unsent(tx: &Transaction, change_ids: &[String], now_ms: i64) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE sync_queue SET status = 'PENDING', attempts = MAX(attempts - 1, 0), updated_at = ?2 \
         WHERE id = ?1 AND status = 'SYNCING'",
    )?;
    for id in change_ids {
        stmt.execute(params![id, now_ms])?;
    }
    Ok(())
}

/// Rows left SYNCING by a crash go back to PENDING. Their attempt count stays raised, which
/// marks them as possibly delivered: they are resent under the same change id, and the
/// server answers `duplicate` if the first delivery landed.
pub fn recover_interrupted(tx: &Transaction) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE sync_queue SET status = 'PENDING' WHERE status = 'SYNCING'",
        [],
    )?)
}

/// Makes every FAILED row that failed for a transient reason due now (on reconnect, or
/// "retry now"). Rows the server rejected keep their slow schedule.
pub fn retry_failed_now(tx: &Transaction, now_ms: i64) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE sync_queue SET next_attempt_at = ?1 WHERE status = 'FAILED' AND rejected = 0 AND next_attempt_at > ?1",
        [now_ms],
    )?)
}

/// Purges through the partial index of synced rows by age. Left to itself SQLite picks the
/// claim index (`status = 'SYNCED'`) and reads every synced row to test its age: at the
/// end of every sync cycle, over a week of retained sales.
const PURGE_SQL: &str =
    "DELETE FROM sync_queue INDEXED BY sync_queue_synced WHERE status = 'SYNCED' AND synced_at < ?1";

/// Deletes SYNCED rows older than the retention period. Unsynced rows are never deleted.
/// The cutoff is remembered so the integrity check knows which sales may lack a queue row.
pub fn purge_synced(tx: &Transaction, older_than_ms: i64) -> Result<usize> {
    let purged = tx.prepare_cached(PURGE_SQL)?.execute([older_than_ms])?;
    tx.prepare_cached(
        "INSERT INTO device_meta (key, value) VALUES ('purged_synced_before', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
    )?
    .execute([older_than_ms.to_string()])?;
    Ok(purged)
}

pub fn get(conn: &Connection, change_id: &str) -> Result<Option<QueueItem>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM sync_queue WHERE id = ?1"
        ))?
        .query_row([change_id], item_from_row)
        .optional()?)
}

/// Lists queue rows, optionally of one state and/or entity type, in priority order.
pub fn items(
    conn: &Connection,
    state: Option<SyncState>,
    entity_type: Option<EntityType>,
    limit: u32,
) -> Result<Vec<QueueItem>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM sync_queue WHERE (?1 IS NULL OR status = ?1) \
         AND (?2 IS NULL OR entity_type = ?2) ORDER BY priority, seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(
        params![
            state.map(SyncState::as_str),
            entity_type.map(EntityType::as_str),
            limit
        ],
        item_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether anything is waiting: one lookup per state in the claim index (an OR of the states
/// made SQLite walk every queued row of the type, synced ones included).
const HAS_DUE_SQL: &str = "SELECT \
     EXISTS (SELECT 1 FROM sync_queue WHERE status = 'PENDING' AND priority = ?3 AND entity_type = ?1) \
     OR EXISTS (SELECT 1 FROM sync_queue WHERE status = 'FAILED' AND priority = ?3 \
       AND entity_type = ?1 AND COALESCE(next_attempt_at, 0) <= ?2)";

/// Whether anything is waiting to be uploaded now (PENDING or a due FAILED row).
pub fn has_due(conn: &Connection, entity_type: EntityType, now_ms: i64) -> Result<bool> {
    Ok(conn.prepare_cached(HAS_DUE_SQL)?.query_row(
        params![entity_type.as_str(), now_ms, entity_type.priority()],
        |r| r.get(0),
    )?)
}

/// How many changes are not synced yet (any state but SYNCED), counted on the claim index
/// alone: the end of every sync cycle reports it.
pub fn unsynced_count(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM sync_queue \
             WHERE status IN ('PENDING', 'SYNCING', 'FAILED', 'CONFLICT')",
        )?
        .query_row([], |r| r.get(0))?)
}

/// When the earliest FAILED row becomes due, so the scheduler can wake up for it.
pub fn next_retry_at(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT MIN(next_attempt_at) FROM sync_queue WHERE status = 'FAILED'",
        [],
        |r| r.get(0),
    )?)
}

/// Counts of one entity type in the queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EntityQueueCounts {
    pub entity_type: EntityType,
    pub pending: i64,
    pub syncing: i64,
    pub synced: i64,
    pub failed: i64,
    pub conflict: i64,
}

/// What the app's sync indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum QueueHealth {
    Ok,
    Warning,
    Critical,
}

/// When the queue counts as unhealthy. Defaults suit a till that syncs every few minutes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, uniffi::Record,
)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HealthThresholds {
    #[uniffi(default = 500)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub warning_pending: i64,
    #[uniffi(default = 5000)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub critical_pending: i64,
    /// Oldest unsynced change older than this (ms): warning.
    #[uniffi(default = 3_600_000)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub warning_age_ms: i64,
    #[uniffi(default = 86_400_000)]
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub critical_age_ms: i64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            warning_pending: 500,
            critical_pending: 5000,
            warning_age_ms: 3_600_000,
            critical_age_ms: 86_400_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct QueueStats {
    pub pending: i64,
    pub syncing: i64,
    pub synced: i64,
    pub failed: i64,
    pub conflict: i64,
    /// Of the failed: refused by the server, waiting for a person or a server fix.
    pub rejected: i64,
    pub by_entity: Vec<EntityQueueCounts>,
    /// Age of the oldest change not yet synced (any state but SYNCED), if any.
    pub oldest_unsynced_age_ms: Option<i64>,
    /// Payload bytes not yet synced.
    pub bytes_pending: i64,
    pub health: QueueHealth,
    /// Why the health is not OK, in words for the support screen ("" when OK).
    pub health_reason: String,
}

/// Counts, ages, sizes and refusals per state and priority (a priority is one entity type),
/// in one scan of the claim index alone: schema v4 put those columns in it. Reading the
/// rows (payloads and all) made every sync cycle read the whole queue, and the app's status
/// listeners run this for every status they are sent.
const STATS_SQL: &str = "SELECT priority, status, COUNT(*), MIN(created_at), \
     COALESCE(SUM(payload_bytes), 0), COALESCE(SUM(rejected), 0) \
     FROM sync_queue GROUP BY status, priority";

pub fn stats(conn: &Connection, thresholds: &HealthThresholds, now_ms: i64) -> Result<QueueStats> {
    let mut by_entity: Vec<EntityQueueCounts> = EntityType::ALL
        .iter()
        .filter(|t| t.uploads())
        .map(|&entity_type| EntityQueueCounts {
            entity_type,
            pending: 0,
            syncing: 0,
            synced: 0,
            failed: 0,
            conflict: 0,
        })
        .collect();
    let (mut oldest, mut bytes_pending, mut rejected): (Option<i64>, i64, i64) = (None, 0, 0);
    let mut stmt = conn.prepare_cached(STATS_SQL)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let priority: i64 = row.get(0)?;
        let status = SyncState::parse(&row.get::<_, String>(1)?);
        let count: i64 = row.get(2)?;
        if status.is_some_and(|s| s != SyncState::Synced) {
            let created: Option<i64> = row.get(3)?;
            oldest = oldest.into_iter().chain(created).min();
            bytes_pending += row.get::<_, i64>(4)?;
            rejected += row.get::<_, i64>(5)?;
        }
        let Some(counts) = by_entity
            .iter_mut()
            .find(|c| c.entity_type.priority() == priority)
        else {
            continue;
        };
        match status {
            Some(SyncState::Pending) => counts.pending += count,
            Some(SyncState::Syncing) => counts.syncing += count,
            Some(SyncState::Synced) => counts.synced += count,
            Some(SyncState::Failed) => counts.failed += count,
            Some(SyncState::Conflict) => counts.conflict += count,
            None => {}
        }
    }
    let sum = |f: fn(&EntityQueueCounts) -> i64| by_entity.iter().map(f).sum::<i64>();
    let (pending, syncing, synced, failed, conflict) = (
        sum(|c| c.pending),
        sum(|c| c.syncing),
        sum(|c| c.synced),
        sum(|c| c.failed),
        sum(|c| c.conflict),
    );
    let oldest_unsynced_age_ms = oldest.map(|t| (now_ms - t).max(0));
    let unsynced = pending + syncing + failed + conflict;
    let age = oldest_unsynced_age_ms.unwrap_or(0);
    let quarantined = super::quarantine::health_reason(&super::quarantine::counts(conn)?);
    let (health, health_reason) = if unsynced >= thresholds.critical_pending {
        (
            QueueHealth::Critical,
            format!("{unsynced} changes are waiting to sync"),
        )
    } else if age >= thresholds.critical_age_ms {
        (
            QueueHealth::Critical,
            format!("the oldest unsynced change is {} minutes old", age / 60_000),
        )
    } else if rejected > 0 {
        (
            QueueHealth::Warning,
            format!("{rejected} changes were refused by the server and need attention"),
        )
    } else if conflict > 0 {
        (
            QueueHealth::Warning,
            format!("{conflict} changes wait for manual conflict review"),
        )
    } else if let Some(words) = quarantined {
        (QueueHealth::Warning, words)
    } else if unsynced >= thresholds.warning_pending {
        (
            QueueHealth::Warning,
            format!("{unsynced} changes are waiting to sync"),
        )
    } else if age >= thresholds.warning_age_ms {
        (
            QueueHealth::Warning,
            format!("the oldest unsynced change is {} minutes old", age / 60_000),
        )
    } else {
        (QueueHealth::Ok, String::new())
    };
    Ok(QueueStats {
        pending,
        syncing,
        synced,
        failed,
        conflict,
        rejected,
        by_entity,
        oldest_unsynced_age_ms,
        bytes_pending,
        health,
        health_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;
    use crate::store::Store;

    fn queue(store: &Store, entity_type: EntityType, entity_id: &str, now: i64) -> String {
        store
            .write(|tx| {
                enqueue(
                    tx,
                    &NewChange {
                        entity_type,
                        entity_id,
                        action: Action::Create,
                        payload: "{}",
                        checksum: "c",
                        hlc: now,
                    },
                    now,
                )
            })
            .unwrap()
    }

    const BIG: BatchLimits = BatchLimits {
        max_items: 100,
        max_bytes: 1 << 20,
    };

    #[test]
    fn claiming_reads_the_claim_index_not_the_whole_queue() {
        let (_d, store) = temp_store();
        for one_per_record in [false, true] {
            let plan: Vec<String> = store
                .read(|c| {
                    let mut stmt =
                        c.prepare(&format!("EXPLAIN QUERY PLAN {}", claim_sql(one_per_record)))?;
                    let rows = stmt.query_map(params!["sale", 0, 10, 1], |r| r.get(3))?;
                    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
                })
                .unwrap();
            let searches = plan
                .iter()
                .filter(|d| d.contains("USING INDEX sync_queue_claim"))
                .count();
            assert_eq!(searches, 2, "{plan:?}");
            assert!(
                !plan
                    .iter()
                    .any(|d| d.starts_with("SCAN q") || d.contains("SCAN sync_queue")),
                "{plan:?}"
            );
        }
    }

    /// The queries run at the end of every cycle stay on index ranges of their own states:
    /// a week of retained synced rows must not be read each time.
    #[test]
    fn cycle_end_queries_do_not_walk_the_synced_rows() {
        let (_d, store) = temp_store();
        let plan = |sql: &str| -> Vec<String> {
            store
                .read(|c| {
                    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = stmt.query_map([], |r| r.get(3))?;
                    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
                })
                .unwrap()
        };
        let has_due = plan(
            &HAS_DUE_SQL
                .replace("?1", "'sale'")
                .replace("?2", "0")
                .replace("?3", "1"),
        );
        assert_eq!(
            has_due
                .iter()
                .filter(|d| d.contains("USING INDEX sync_queue_claim (status=? AND priority=?)"))
                .count(),
            2,
            "{has_due:?}"
        );
        let purge = plan(&PURGE_SQL.replace("?1", "0"));
        assert!(
            purge
                .iter()
                .any(|d| d.contains("USING INDEX sync_queue_synced (synced_at<?)")),
            "{purge:?}"
        );
        // The counts behind the cycle report and the status listeners read the index only.
        for sql in [
            "SELECT COUNT(*) FROM sync_queue WHERE status IN ('PENDING', 'SYNCING', 'FAILED', 'CONFLICT')",
            STATS_SQL,
        ] {
            let steps = plan(sql);
            let reads: Vec<&String> = steps.iter().filter(|d| d.contains("sync_queue")).collect();
            assert!(
                !reads.is_empty()
                    && reads
                        .iter()
                        .all(|d| d.contains("COVERING INDEX sync_queue_claim")),
                "{sql}: {steps:?}"
            );
        }
    }

    #[test]
    fn due_and_unsynced_counts_follow_the_states() {
        let (_d, store) = temp_store();
        let due = |now| store.read(|c| has_due(c, EntityType::Sale, now)).unwrap();
        let unsynced = || store.read(unsynced_count).unwrap();
        assert!(!due(0));
        let id = queue(&store, EntityType::Sale, "s", 1);
        queue(&store, EntityType::StockAdjustment, "x", 1);
        assert!(due(0));
        assert_eq!(unsynced(), 2);
        store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 5))
            .unwrap();
        assert!(!due(5), "claimed rows are not due");
        let policy = RetryPolicy {
            base_ms: 1_000,
            max_ms: 1_000,
            rejected_max_ms: 1_000,
        };
        store
            .write(|tx| mark_failed(tx, &id, "offline", false, &policy, 10))
            .unwrap();
        assert!(!due(10), "waits for its backoff");
        assert!(due(10 + 1_000));
        assert_eq!(unsynced(), 2);
        store.write(|tx| mark_synced(tx, &id, None, 20)).unwrap();
        assert!(!due(i64::MAX));
        assert_eq!(unsynced(), 1);
    }

    #[test]
    fn claims_oldest_first_and_marks_syncing() {
        let (_d, store) = temp_store();
        let a = queue(&store, EntityType::Sale, "a", 1);
        let b = queue(&store, EntityType::Sale, "b", 2);
        queue(&store, EntityType::StockAdjustment, "x", 0);
        let batch = store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 10))
            .unwrap();
        let ids: Vec<_> = batch.iter().map(|i| i.change_id.clone()).collect();
        assert_eq!(ids, vec![a, b]);
        assert!(batch
            .iter()
            .all(|i| i.status == SyncState::Syncing && i.attempts == 1));
        // Claimed rows are not claimed twice.
        let again = store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 10))
            .unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn batch_is_bounded_by_count_and_bytes() {
        let (_d, store) = temp_store();
        for i in 0..5 {
            queue(&store, EntityType::Sale, &format!("s{i}"), i);
        }
        let two = BatchLimits {
            max_items: 2,
            max_bytes: 1 << 20,
        };
        assert_eq!(
            store
                .write(|tx| claim_batch(tx, EntityType::Sale, two, 10))
                .unwrap()
                .len(),
            2
        );
        // Each payload is 2 bytes ("{}"): a 5-byte budget takes two; one item always fits.
        let bytes = BatchLimits {
            max_items: 100,
            max_bytes: 5,
        };
        assert_eq!(
            store
                .write(|tx| claim_batch(tx, EntityType::Sale, bytes, 10))
                .unwrap()
                .len(),
            2
        );
        let tiny = BatchLimits {
            max_items: 100,
            max_bytes: 0,
        };
        assert_eq!(
            store
                .write(|tx| claim_batch(tx, EntityType::Sale, tiny, 10))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn failed_rows_wait_for_their_backoff_and_never_block_others() {
        let (_d, store) = temp_store();
        let bad = queue(&store, EntityType::Sale, "bad", 1);
        let policy = RetryPolicy {
            base_ms: 1_000,
            max_ms: 60_000,
            rejected_max_ms: 600_000,
        };
        store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 10))
            .unwrap();
        store
            .write(|tx| mark_failed(tx, &bad, "refused: no such product", true, &policy, 10))
            .unwrap();
        let good = queue(&store, EntityType::Sale, "good", 20);
        let batch = store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 20))
            .unwrap();
        assert_eq!(
            batch.iter().map(|i| &i.change_id).collect::<Vec<_>>(),
            vec![&good]
        );
        let item = store.read(|c| get(c, &bad)).unwrap().unwrap();
        assert_eq!(item.status, SyncState::Failed);
        assert!(item.rejected);
        assert_eq!(item.last_error.as_deref(), Some("refused: no such product"));
        let due = item.next_attempt_at_ms.unwrap();
        // First retry after base·[0.5, 1].
        assert!((10 + 500..=10 + 1_000).contains(&due), "due at {due}");
        assert!(store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, due - 1))
            .unwrap()
            .is_empty());
        let retried = store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, due))
            .unwrap();
        assert_eq!(retried[0].change_id, bad);
        assert_eq!(retried[0].attempts, 2);
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_caps() {
        let p = RetryPolicy {
            base_ms: 1_000,
            max_ms: 10_000,
            rejected_max_ms: 100_000,
        };
        for attempts in 1..=8 {
            let full = (1_000i64 << (attempts - 1)).min(10_000);
            for _ in 0..50 {
                let d = p.delay_ms(attempts, false);
                assert!(d >= full / 2 && d <= full, "attempt {attempts}: {d}");
            }
        }
        assert!(p.delay_ms(20, true) > 10_000);
    }

    #[test]
    fn crash_leaves_syncing_rows_that_return_to_pending_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.db");
        let path = path.to_str().unwrap();
        let id;
        {
            let store = Store::open(path, crate::store::Durability::Full).unwrap();
            id = queue(&store, EntityType::Sale, "s", 1);
            store
                .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 2))
                .unwrap();
            // Dropped without marking: as if the process died mid-upload.
        }
        let store = Store::open(path, crate::store::Durability::Full).unwrap();
        let item = store.read(|c| get(c, &id)).unwrap().unwrap();
        assert_eq!(item.status, SyncState::Pending);
        assert_eq!(item.attempts, 1, "attempt kept: it may have been delivered");
    }

    #[test]
    fn customers_claim_one_change_per_record() {
        let (_d, store) = temp_store();
        let first = queue(&store, EntityType::Customer, "c1", 1);
        let _second = queue(&store, EntityType::Customer, "c1", 2);
        let other = queue(&store, EntityType::Customer, "c2", 3);
        let batch = store
            .write(|tx| claim_batch(tx, EntityType::Customer, BIG, 10))
            .unwrap();
        let ids: Vec<_> = batch.iter().map(|i| i.change_id.clone()).collect();
        assert_eq!(ids, vec![first.clone(), other]);
        store
            .write(|tx| mark_synced(tx, &first, Some(1), 11))
            .unwrap();
        let next = store
            .write(|tx| claim_batch(tx, EntityType::Customer, BIG, 12))
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].entity_id, "c1");
    }

    #[test]
    fn retention_purges_only_old_synced_rows() {
        let (_d, store) = temp_store();
        let old = queue(&store, EntityType::Sale, "old", 1);
        let recent = queue(&store, EntityType::Sale, "recent", 2);
        let pending = queue(&store, EntityType::Sale, "pending", 3);
        store
            .write(|tx| {
                claim_batch(
                    tx,
                    EntityType::Sale,
                    BatchLimits {
                        max_items: 2,
                        max_bytes: 100,
                    },
                    5,
                )
            })
            .unwrap();
        store.write(|tx| mark_synced(tx, &old, None, 100)).unwrap();
        store
            .write(|tx| mark_synced(tx, &recent, None, 900))
            .unwrap();
        assert_eq!(store.write(|tx| purge_synced(tx, 500)).unwrap(), 1);
        assert!(store.read(|c| get(c, &old)).unwrap().is_none());
        assert!(store.read(|c| get(c, &recent)).unwrap().is_some());
        assert!(store.read(|c| get(c, &pending)).unwrap().is_some());
    }

    #[test]
    fn stats_count_by_state_and_grade_health() {
        let (_d, store) = temp_store();
        let t = HealthThresholds {
            warning_pending: 2,
            critical_pending: 4,
            warning_age_ms: 1_000,
            critical_age_ms: 10_000,
        };
        let s = store.read(|c| stats(c, &t, 0)).unwrap();
        assert_eq!(
            (s.pending, s.health, s.oldest_unsynced_age_ms),
            (0, QueueHealth::Ok, None)
        );
        queue(&store, EntityType::Sale, "a", 100);
        queue(&store, EntityType::StockAdjustment, "b", 200);
        let s = store.read(|c| stats(c, &t, 300)).unwrap();
        assert_eq!(s.pending, 2);
        assert_eq!(s.by_entity[0].pending, 1);
        assert_eq!(s.by_entity[1].pending, 1);
        assert_eq!(s.bytes_pending, 4);
        assert_eq!(s.oldest_unsynced_age_ms, Some(200));
        assert_eq!(s.health, QueueHealth::Warning);
        assert!(s.health_reason.contains("2 changes"));
        let s = store.read(|c| stats(c, &t, 20_000)).unwrap();
        assert_eq!(s.health, QueueHealth::Critical);
        assert!(s.health_reason.contains("minutes old"));
        // A synced change counts as synced and no longer in the unsynced age and size.
        let sale = store
            .write(|tx| claim_batch(tx, EntityType::Sale, BIG, 300))
            .unwrap();
        store
            .write(|tx| mark_synced(tx, &sale[0].change_id, Some(1), 301))
            .unwrap();
        let s = store.read(|c| stats(c, &t, 300)).unwrap();
        assert_eq!((s.pending, s.synced, s.by_entity[0].synced), (1, 1, 1));
        assert_eq!(s.bytes_pending, 2);
        assert_eq!(s.oldest_unsynced_age_ms, Some(100));
    }
}
