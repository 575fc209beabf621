//! The only module that speaks SQL. One SQLite connection behind a mutex is the single
//! writer; every request runs in one transaction on it, inside `spawn_blocking`.
//!
//! Sequence rule: every record change takes the next value of its store's counter row
//! (`store_seq`) inside the same transaction, so `seq` order is commit order and a download
//! page can never skip a change that commits late.
//!
//! `outbox`: the webhook outbox table, written in the same transactions.

use crate::error::ApiError;
use pos_sync_protocol::model::{hlc, EntityType};
use pos_sync_protocol::{
    canonical_checksum, canonical_json, drift_checksum, payload_checksum, ChangeResult,
    EntityStatus, ServerRecord,
};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::{Number, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub mod outbox;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS store_seq (
    store_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    store_id    TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    deleted     INTEGER NOT NULL,
    updated_hlc INTEGER NOT NULL,
    payload     TEXT,
    checksum    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (store_id, entity_type, entity_id)
);
CREATE INDEX IF NOT EXISTS records_by_seq ON records (store_id, entity_type, seq);
CREATE TABLE IF NOT EXISTS type_stats (
    store_id     TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    live_count   INTEGER NOT NULL,
    checksum_sum INTEGER NOT NULL,
    PRIMARY KEY (store_id, entity_type)
);
CREATE TABLE IF NOT EXISTS applied_changes (
    change_id   TEXT PRIMARY KEY,
    store_id    TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    result_json TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stock (
    store_id   TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity   NUMERIC NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
CREATE TABLE IF NOT EXISTS conflicts (
    conflict_id    TEXT PRIMARY KEY,
    store_id       TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    change_id      TEXT NOT NULL,
    local_payload  TEXT,
    local_hlc      INTEGER NOT NULL,
    server_version INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    resolution     TEXT,
    created_at     INTEGER NOT NULL,
    resolved_at    INTEGER
);
CREATE INDEX IF NOT EXISTS conflicts_by_change ON conflicts (change_id);
CREATE INDEX IF NOT EXISTS conflicts_open ON conflicts (store_id, status);
";

/// A device HLC more than this far ahead of the server's wall clock is not observed by the
/// server's clock (a device with a wrong clock must not drag the server into the future).
const MAX_OBSERVED_DRIFT_MS: i64 = 5 * 60 * 1000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Mutex<Inner>>,
}

/// The connection and the server's hybrid logical clock, guarded together.
pub struct Inner {
    conn: Connection,
    clock: i64,
}

impl Db {
    /// Opens (and migrates) a database file, or an in-memory database for `:memory:`.
    pub fn open(path: &str) -> rusqlite::Result<Db> {
        let conn = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            let conn = Connection::open(path)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // A change the server acknowledged must survive a power cut: devices drop it.
            conn.pragma_update(None, "synchronous", "FULL")?;
            // Records are keyed by ids the devices choose (random UUIDs), so every upload
            // touches index pages all over the file. With a 64 MB cache, once a store's file
            // outgrew it (about 40k sales) each batch read pages back from the OS again and
            // applying a batch took twice as long by 100k; a server can spare 256 MB.
            conn.pragma_update(None, "cache_size", -256 * 1024)?;
            // A checkpoint copies each page once however many batches rewrote it since the
            // last one: at SQLite's default (every 4 MB of log) the same hot index pages
            // were copied every few batches, and committing a batch took twice as long by
            // 100k sales. A 64 MB log is nothing for a server.
            conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
            conn
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(outbox::SCHEMA)?;
        let clock: i64 = conn.query_row(
            "SELECT COALESCE(MAX(updated_hlc), 0) FROM records",
            [],
            |r| r.get(0),
        )?;
        Ok(Db {
            inner: Arc::new(Mutex::new(Inner { conn, clock })),
        })
    }

    /// Runs `f` on the connection in a blocking thread.
    pub async fn run<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        F: FnOnce(&mut Inner) -> Result<R, ApiError> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic inside a transaction rolled it back, so the state is consistent.
            let mut guard = inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| {
            tracing::error!("database task failed: {e}");
            ApiError::internal("the server failed; retry later")
        })?
    }
}

impl Inner {
    /// Starts a write transaction scoped to one store.
    pub fn store_tx(&mut self, store_id: &str) -> rusqlite::Result<StoreTx<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(StoreTx {
            tx,
            clock: &mut self.clock,
            store_id: store_id.to_string(),
            last_seq: None,
            stat_deltas: HashMap::new(),
        })
    }
}

/// A conflict row.
#[derive(Debug, Clone)]
pub struct ConflictRow {
    pub conflict_id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub change_id: String,
    pub open: bool,
}

/// One transaction, every statement filtered by `store_id`.
pub struct StoreTx<'a> {
    tx: Transaction<'a>,
    clock: &'a mut i64,
    store_id: String,
    /// The store's sequence counter, read once per transaction and written back at commit:
    /// the transaction holds the write lock, so no one else can take a number meanwhile.
    last_seq: Option<i64>,
    /// Drift aggregate changes per type (count, checksum sum), written at commit: one
    /// statement per type and transaction instead of one per record.
    stat_deltas: HashMap<EntityType, (i64, u32)>,
}

fn parse_type(s: &str) -> rusqlite::Result<EntityType> {
    s.parse::<EntityType>().map_err(|e| {
        rusqlite::Error::InvalidColumnType(0, e.to_string(), rusqlite::types::Type::Text)
    })
}

fn parse_payload(text: Option<String>) -> rusqlite::Result<Value> {
    match text {
        None => Ok(Value::Null),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        }),
    }
}

/// A tombstone standing for a record the server never had.
pub fn missing_record(entity_type: EntityType, entity_id: &str) -> ServerRecord {
    ServerRecord {
        entity_type,
        entity_id: entity_id.to_string(),
        version: 0,
        deleted: true,
        updated_hlc: 0,
        payload: Value::Null,
        checksum: payload_checksum(&Value::Null),
    }
}

const RECORD_COLUMNS: &str =
    "entity_type, entity_id, version, deleted, updated_hlc, payload, checksum, seq";

fn record_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, ServerRecord)> {
    let entity_type: String = row.get(0)?;
    Ok((
        row.get(7)?,
        ServerRecord {
            entity_type: parse_type(&entity_type)?,
            entity_id: row.get(1)?,
            version: row.get(2)?,
            deleted: row.get(3)?,
            updated_hlc: row.get(4)?,
            payload: parse_payload(row.get(5)?)?,
            checksum: row.get(6)?,
        },
    ))
}

fn number_to_sql(n: &Number) -> rusqlite::types::Value {
    match n.as_i64() {
        Some(i) => rusqlite::types::Value::Integer(i),
        None => rusqlite::types::Value::Real(n.as_f64().unwrap_or(0.0)),
    }
}

/// `-n`, staying an integer when it can.
pub fn negate(n: &Number) -> Number {
    match n.as_i64().and_then(i64::checked_neg) {
        Some(i) => Number::from(i),
        None => Number::from_f64(-n.as_f64().unwrap_or(0.0)).unwrap_or_else(|| Number::from(0)),
    }
}

impl StoreTx<'_> {
    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    pub fn commit(mut self) -> rusqlite::Result<()> {
        self.flush_counters()?;
        self.tx.commit()
    }

    /// Writes the sequence counter and the drift aggregate changes kept in memory.
    fn flush_counters(&mut self) -> rusqlite::Result<()> {
        if let Some(last_seq) = self.last_seq {
            self.tx
                .prepare_cached(
                    "INSERT INTO store_seq (store_id, last_seq) VALUES (?1, ?2)
                     ON CONFLICT (store_id) DO UPDATE SET last_seq = excluded.last_seq",
                )?
                .execute(params![self.store_id, last_seq])?;
        }
        for (entity_type, (count_delta, sum_delta)) in self.stat_deltas.drain() {
            self.tx
                .prepare_cached(
                    "INSERT INTO type_stats (store_id, entity_type, live_count, checksum_sum)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (store_id, entity_type) DO UPDATE SET
                        live_count = live_count + excluded.live_count,
                        checksum_sum = (checksum_sum + excluded.checksum_sum) % 4294967296",
                )?
                .execute(params![
                    self.store_id,
                    entity_type.as_str(),
                    count_delta,
                    i64::from(sum_delta)
                ])?;
        }
        Ok(())
    }

    /// The server's next HLC timestamp, for server-side edits.
    pub fn tick(&mut self) -> i64 {
        *self.clock = hlc::tick(*self.clock, now_ms());
        *self.clock
    }

    /// Lets the server's clock see a device timestamp, so later server edits order after it.
    pub fn observe(&mut self, remote: i64) {
        let now = now_ms();
        if hlc::millis(remote) <= now + MAX_OBSERVED_DRIFT_MS && remote > *self.clock {
            *self.clock = hlc::observe(*self.clock, remote, now);
        }
    }

    /// The timestamp to store for a device's edit: its own, observed by the server's clock —
    /// unless it lies more than `MAX_OBSERVED_DRIFT_MS` in the server's future (a device
    /// clock running ahead), in which case the server's own timestamp replaces it, so a
    /// wrong clock cannot make an edit win conflicts for days.
    pub fn stamp(&mut self, device_hlc: i64) -> i64 {
        if hlc::millis(device_hlc) > now_ms() + MAX_OBSERVED_DRIFT_MS {
            return self.tick();
        }
        self.observe(device_hlc);
        device_hlc
    }

    /// Takes the store's next sequence number. The transaction holds the database's write
    /// lock, so sequence order equals commit order.
    fn next_seq(&mut self) -> rusqlite::Result<i64> {
        let last_seq = match self.last_seq {
            Some(last_seq) => last_seq,
            None => self
                .tx
                .prepare_cached("SELECT last_seq FROM store_seq WHERE store_id = ?1")?
                .query_row(params![self.store_id], |r| r.get(0))
                .optional()?
                .unwrap_or(0),
        };
        self.last_seq = Some(last_seq + 1);
        Ok(last_seq + 1)
    }

    /// A record's version, deleted flag and checksum, without reading its payload.
    pub fn record_meta(
        &self,
        entity_type: EntityType,
        entity_id: &str,
    ) -> rusqlite::Result<Option<(i64, bool, String)>> {
        self.tx
            .prepare_cached(
                "SELECT version, deleted, checksum FROM records
                 WHERE store_id = ?1 AND entity_type = ?2 AND entity_id = ?3",
            )?
            .query_row(
                params![self.store_id, entity_type.as_str(), entity_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
    }

    pub fn get_record(
        &self,
        entity_type: EntityType,
        entity_id: &str,
    ) -> rusqlite::Result<Option<ServerRecord>> {
        self.tx
            .prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM records
                 WHERE store_id = ?1 AND entity_type = ?2 AND entity_id = ?3"
            ))?
            .query_row(
                params![self.store_id, entity_type.as_str(), entity_id],
                record_from_row,
            )
            .optional()
            .map(|r| r.map(|(_, rec)| rec))
    }

    /// Writes the next version of a record (`None` = tombstone), bumping its sequence
    /// number and the per-type drift aggregates in the same transaction.
    pub fn put_record(
        &mut self,
        entity_type: EntityType,
        entity_id: &str,
        payload: Option<&Value>,
        updated_hlc: i64,
    ) -> rusqlite::Result<ServerRecord> {
        // Only what the aggregates need of the old version: parsing its payload cost as
        // much as writing the new one.
        let old = self.record_meta(entity_type, entity_id)?;
        let payload_value = payload.cloned().unwrap_or(Value::Null);
        // Stored as canonical JSON, written once for both the text and its checksum.
        let canonical = canonical_json(&payload_value);
        let checksum = canonical_checksum(&canonical);
        let text = payload.map(|_| canonical.as_str());
        let version =
            self.write_version(entity_type, entity_id, old, text, &checksum, updated_hlc)?;
        Ok(ServerRecord {
            entity_type,
            entity_id: entity_id.to_string(),
            version,
            deleted: payload.is_none(),
            updated_hlc,
            checksum,
            payload: payload_value,
        })
    }

    /// Writes version 1 of a record the caller has just looked up and found missing, from
    /// the canonical text and checksum it already verified (an uploaded sale or stock
    /// adjustment): no second lookup and no second serialization of the payload.
    pub fn insert_new_record(
        &mut self,
        entity_type: EntityType,
        entity_id: &str,
        canonical: &str,
        checksum: &str,
        updated_hlc: i64,
    ) -> rusqlite::Result<i64> {
        self.write_version(
            entity_type,
            entity_id,
            None,
            Some(canonical),
            checksum,
            updated_hlc,
        )
    }

    /// Writes the version after `old` (`canonical: None` = tombstone) and moves the drift
    /// aggregates from the old live contribution to the new one. Returns the new version.
    fn write_version(
        &mut self,
        entity_type: EntityType,
        entity_id: &str,
        old: Option<(i64, bool, String)>,
        canonical: Option<&str>,
        checksum: &str,
        updated_hlc: i64,
    ) -> rusqlite::Result<i64> {
        let version = old.as_ref().map_or(0, |(version, ..)| *version) + 1;
        let seq = self.next_seq()?;
        self.tx.prepare_cached(
            "INSERT INTO records
                (store_id, entity_type, entity_id, version, deleted, updated_hlc, payload, checksum, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (store_id, entity_type, entity_id) DO UPDATE SET
                version = excluded.version, deleted = excluded.deleted,
                updated_hlc = excluded.updated_hlc, payload = excluded.payload,
                checksum = excluded.checksum, seq = excluded.seq",
        )?.execute(
            params![
                self.store_id,
                entity_type.as_str(),
                entity_id,
                version,
                canonical.is_none(),
                updated_hlc,
                canonical,
                checksum,
                seq
            ],
        )?;
        let (count_delta, sum_delta) = self.stat_deltas.entry(entity_type).or_default();
        if let Some((_, false, old_checksum)) = &old {
            *count_delta -= 1;
            *sum_delta = sum_delta.wrapping_sub(drift_checksum(old_checksum));
        }
        if canonical.is_some() {
            *count_delta += 1;
            *sum_delta = sum_delta.wrapping_add(drift_checksum(checksum));
        }
        Ok(version)
    }

    /// The result stored for a change id, with the store it was applied in.
    pub fn applied_result(
        &self,
        change_id: &str,
    ) -> rusqlite::Result<Option<(String, ChangeResult)>> {
        let row: Option<(String, String)> = self
            .tx
            .prepare_cached(
                "SELECT store_id, result_json FROM applied_changes WHERE change_id = ?1",
            )?
            .query_row(params![change_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(store, json)| {
            serde_json::from_str(&json)
                .map(|result| (store, result))
                .map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
        })
        .transpose()
    }

    pub fn record_applied(&self, device_id: &str, result: &ChangeResult) -> rusqlite::Result<()> {
        let json = serde_json::to_string(result).expect("ChangeResult serializes");
        self.tx.prepare_cached(
            "INSERT INTO applied_changes (change_id, store_id, device_id, result_json, applied_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?.execute(
            params![result.change_id, self.store_id, device_id, json, now_ms()],
        )?;
        Ok(())
    }

    /// Adds `delta` to the store's stock of `product_id` (a new product starts at 0).
    pub fn add_stock(&self, product_id: &str, delta: &Number) -> rusqlite::Result<()> {
        self.tx.prepare_cached(
            "INSERT INTO stock (store_id, product_id, quantity) VALUES (?1, ?2, ?3)
             ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity",
        )?.execute(
            params![self.store_id, product_id, number_to_sql(delta)],
        )?;
        Ok(())
    }

    /// The store's stock, by product id.
    pub fn stock(&self) -> rusqlite::Result<Vec<(String, Value)>> {
        let mut stmt = self.tx.prepare(
            "SELECT product_id, quantity FROM stock WHERE store_id = ?1 ORDER BY product_id",
        )?;
        let rows = stmt.query_map(params![self.store_id], |r| {
            let quantity = match r.get_ref(1)? {
                ValueRef::Integer(i) => Value::from(i),
                ValueRef::Real(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
                _ => Value::Null,
            };
            Ok((r.get::<_, String>(0)?, quantity))
        })?;
        rows.collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn open_conflict(
        &self,
        entity_type: EntityType,
        entity_id: &str,
        change_id: &str,
        local_payload: &Value,
        local_hlc: i64,
        server_version: i64,
    ) -> rusqlite::Result<String> {
        let conflict_id = uuid::Uuid::new_v4().to_string();
        let payload = (!local_payload.is_null()).then(|| local_payload.to_string());
        self.tx
            .prepare_cached(
                "INSERT INTO conflicts (conflict_id, store_id, entity_type, entity_id, change_id,
                local_payload, local_hlc, server_version, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)",
            )?
            .execute(params![
                conflict_id,
                self.store_id,
                entity_type.as_str(),
                entity_id,
                change_id,
                payload,
                local_hlc,
                server_version,
                now_ms()
            ])?;
        Ok(conflict_id)
    }

    fn conflict_where(&self, clause: &str, key: &str) -> rusqlite::Result<Option<ConflictRow>> {
        self.tx
            .query_row(
                &format!(
                    "SELECT conflict_id, entity_type, entity_id, change_id, status FROM conflicts
                     WHERE store_id = ?1 AND {clause} = ?2 ORDER BY created_at LIMIT 1"
                ),
                params![self.store_id, key],
                |r| {
                    let ty: String = r.get(1)?;
                    let status: String = r.get(4)?;
                    Ok(ConflictRow {
                        conflict_id: r.get(0)?,
                        entity_type: parse_type(&ty)?,
                        entity_id: r.get(2)?,
                        change_id: r.get(3)?,
                        open: status == "open",
                    })
                },
            )
            .optional()
    }

    /// A conflict of this store by id (another store's conflict is `None`).
    pub fn conflict(&self, conflict_id: &str) -> rusqlite::Result<Option<ConflictRow>> {
        self.conflict_where("conflict_id", conflict_id)
    }

    /// The conflict this store opened for a change id, if any.
    pub fn conflict_for_change(&self, change_id: &str) -> rusqlite::Result<Option<ConflictRow>> {
        self.conflict_where("change_id", change_id)
    }

    pub fn close_conflict(&self, conflict_id: &str, resolution: &str) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE conflicts SET status = 'resolved', resolution = ?3, resolved_at = ?4
             WHERE store_id = ?1 AND conflict_id = ?2",
            )?
            .execute(params![self.store_id, conflict_id, resolution, now_ms()])?;
        Ok(())
    }

    pub fn open_conflicts(&self) -> rusqlite::Result<i64> {
        self.tx.query_row(
            "SELECT COUNT(*) FROM conflicts WHERE store_id = ?1 AND status = 'open'",
            params![self.store_id],
            |r| r.get(0),
        )
    }

    /// The store's last allocated sequence number (0 for a store that never wrote): a
    /// download token beyond it is ahead of the store.
    pub fn last_seq(&self) -> rusqlite::Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT last_seq FROM store_seq WHERE store_id = ?1")?
            .query_row(params![self.store_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Records of a type changed after sequence `since`, oldest first, with their sequence.
    pub fn page(
        &self,
        entity_type: EntityType,
        since: i64,
        limit: usize,
    ) -> rusqlite::Result<Vec<(i64, ServerRecord)>> {
        let mut stmt = self.tx.prepare(&format!(
            "SELECT {RECORD_COLUMNS} FROM records
             WHERE store_id = ?1 AND entity_type = ?2 AND seq > ?3
             ORDER BY seq LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![self.store_id, entity_type.as_str(), since, limit as i64],
            record_from_row,
        )?;
        rows.collect()
    }

    /// All live records of a type, by entity id.
    pub fn live_records(&self, entity_type: EntityType) -> rusqlite::Result<Vec<ServerRecord>> {
        let mut stmt = self.tx.prepare(&format!(
            "SELECT {RECORD_COLUMNS} FROM records
             WHERE store_id = ?1 AND entity_type = ?2 AND deleted = 0
             ORDER BY entity_id"
        ))?;
        let rows = stmt.query_map(params![self.store_id, entity_type.as_str()], |r| {
            record_from_row(r).map(|(_, rec)| rec)
        })?;
        rows.collect()
    }

    /// Live count and drift checksum per type, in `EntityType::ALL` order, from the
    /// incrementally maintained aggregates.
    pub fn entity_stats(&mut self) -> rusqlite::Result<Vec<EntityStatus>> {
        self.flush_counters()?;
        let mut stmt = self.tx.prepare(
            "SELECT live_count, checksum_sum FROM type_stats
             WHERE store_id = ?1 AND entity_type = ?2",
        )?;
        EntityType::ALL
            .into_iter()
            .map(|entity_type| {
                let (count, sum): (i64, i64) = stmt
                    .query_row(params![self.store_id, entity_type.as_str()], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?
                    .unwrap_or((0, 0));
                Ok(EntityStatus {
                    entity_type,
                    count,
                    checksum: sum as u32,
                })
            })
            .collect()
    }

    /// The same numbers computed from scratch over the records (for checks and tests).
    pub fn recompute_stats(&self) -> rusqlite::Result<Vec<EntityStatus>> {
        EntityType::ALL
            .into_iter()
            .map(|entity_type| {
                let records = self.live_records(entity_type)?;
                Ok(EntityStatus {
                    entity_type,
                    count: records.len() as i64,
                    checksum: records
                        .iter()
                        .fold(0u32, |acc, r| acc.wrapping_add(drift_checksum(&r.checksum))),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> Inner {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        Inner { conn, clock: 0 }
    }

    #[test]
    fn incremental_stats_match_a_full_recomputation() {
        let mut inner = db();
        let mut tx = inner.store_tx("s1").unwrap();
        for i in 0..50 {
            let id = format!("c{}", i % 17);
            let payload = json!({"id": id, "n": i});
            if i % 7 == 3 {
                tx.put_record(EntityType::Customer, &id, None, i).unwrap();
            } else {
                tx.put_record(EntityType::Customer, &id, Some(&payload), i)
                    .unwrap();
            }
            tx.put_record(EntityType::Product, &format!("p{i}"), Some(&payload), i)
                .unwrap();
        }
        assert_eq!(tx.entity_stats().unwrap(), tx.recompute_stats().unwrap());
        tx.commit().unwrap();
        // Another store's aggregates stay apart.
        let mut tx = inner.store_tx("s2").unwrap();
        assert!(tx
            .entity_stats()
            .unwrap()
            .iter()
            .all(|s| s.count == 0 && s.checksum == 0));
    }

    #[test]
    fn versions_and_sequences_increase() {
        let mut inner = db();
        let mut tx = inner.store_tx("s1").unwrap();
        let a = tx
            .put_record(EntityType::Product, "p1", Some(&json!({"id": "p1"})), 1)
            .unwrap();
        let b = tx.put_record(EntityType::Product, "p1", None, 2).unwrap();
        assert_eq!((a.version, b.version, b.deleted), (1, 2, true));
        let page = tx.page(EntityType::Product, 0, 10).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].0, 2);
        assert_eq!(page[0].1, b);
    }

    #[test]
    fn stock_stays_integral_until_a_fraction_arrives() {
        let mut inner = db();
        let tx = inner.store_tx("s1").unwrap();
        tx.add_stock("p1", &Number::from(5)).unwrap();
        tx.add_stock("p1", &negate(&Number::from(2))).unwrap();
        assert_eq!(tx.stock().unwrap(), vec![("p1".to_string(), json!(3))]);
        tx.add_stock("p1", &Number::from_f64(0.5).unwrap()).unwrap();
        assert_eq!(tx.stock().unwrap(), vec![("p1".to_string(), json!(3.5))]);
    }
}
