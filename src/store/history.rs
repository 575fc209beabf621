//! What sync did, and how to undo it: the sync log (one row per step of a run), the audit
//! trail of applied changes, per-type sync tokens, and the undo journal of pre-images that
//! lets a run's downloads be rolled back.

use crate::error::{Error, Result};
use crate::model::EntityType;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;
use std::sync::OnceLock;

// ----------------------------------------------------------------------------- sync log

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct SyncLogEntry {
    pub id: String,
    pub run_id: String,
    /// An entity type, or `cycle` for the run as a whole.
    pub sync_type: String,
    /// `upload`, `download`, `both` or `check`.
    pub direction: String,
    pub records_count: i64,
    pub started_at_ms: i64,
    pub completed_at_ms: Option<i64>,
    /// RUNNING, OK, FAILED, CANCELLED or ROLLED_BACK; QUARANTINED and RESYNC for what
    /// happened within a download step (`log_event`).
    pub status: String,
    pub error_message: Option<String>,
    /// Why the run started (`interval`, `network`, `manual`, `background`, ...).
    pub reason: Option<String>,
}

pub fn begin_step(
    tx: &Transaction,
    run_id: &str,
    sync_type: &str,
    direction: &str,
    reason: &str,
    now_ms: i64,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    tx.prepare_cached(
        "INSERT INTO sync_log (id, run_id, sync_type, direction, started_at, status, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'RUNNING', ?6)",
    )?
    .execute(params![id, run_id, sync_type, direction, now_ms, reason])?;
    Ok(id)
}

pub fn finish_step(
    tx: &Transaction,
    step_id: &str,
    status: &str,
    records_count: i64,
    error: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_log SET status = ?2, records_count = ?3, error_message = ?4, completed_at = ?5 WHERE id = ?1",
    )?
    .execute(params![step_id, status, records_count, error, now_ms])?;
    Ok(())
}

/// A sync log row for something that happened within a step, complete when written: a
/// download that quarantined records (`QUARANTINED`), a full resync the server asked for
/// (`RESYNC`).
pub fn log_event(
    tx: &Transaction,
    run_id: &str,
    entity_type: EntityType,
    status: &str,
    records_count: i64,
    message: &str,
    now_ms: i64,
) -> Result<()> {
    let id = uuid::Uuid::new_v4().to_string();
    tx.prepare_cached(
        "INSERT INTO sync_log (id, run_id, sync_type, direction, records_count, started_at, \
         completed_at, status, error_message) VALUES (?1, ?2, ?3, 'download', ?4, ?5, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        run_id,
        entity_type.as_str(),
        records_count,
        now_ms,
        status,
        message
    ])?;
    Ok(())
}

/// Steps still RUNNING belong to a process that died: mark them so.
pub fn close_interrupted_steps(tx: &Transaction, now_ms: i64) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE sync_log SET status = 'FAILED', completed_at = ?1, \
         error_message = 'interrupted: the app stopped during this step' WHERE status = 'RUNNING'",
        [now_ms],
    )?)
}

/// The most recent log rows, newest first.
pub fn recent_log(conn: &Connection, limit: u32) -> Result<Vec<SyncLogEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, run_id, sync_type, direction, records_count, started_at, completed_at, status, \
         error_message, reason FROM sync_log ORDER BY started_at DESC, rowid DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(SyncLogEntry {
            id: r.get(0)?,
            run_id: r.get(1)?,
            sync_type: r.get(2)?,
            direction: r.get(3)?,
            records_count: r.get(4)?,
            started_at_ms: r.get(5)?,
            completed_at_ms: r.get(6)?,
            status: r.get(7)?,
            error_message: r.get(8)?,
            reason: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ----------------------------------------------------------------------------- audit

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
pub struct AuditEntry {
    pub at_ms: i64,
    pub run_id: Option<String>,
    /// `uploaded`, `duplicate`, `downloaded`, `merged`, `superseded`, `resolved`, `rolled_back`.
    pub event: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub change_id: Option<String>,
    pub version: Option<i64>,
    pub detail: Option<String>,
}

pub fn audit(tx: &Transaction, entry: &AuditEntry) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, run_id, event, entity_type, entity_id, change_id, version, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        entry.at_ms,
        entry.run_id,
        entry.event,
        entry.entity_type.as_str(),
        entry.entity_id,
        entry.change_id,
        entry.version,
        entry.detail
    ])?;
    Ok(())
}

pub fn recent_audit(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, run_id, event, entity_type, entity_id, change_id, version, detail FROM audit_log \
         ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        let entity: String = r.get(3)?;
        Ok(AuditEntry {
            at_ms: r.get(0)?,
            run_id: r.get(1)?,
            event: r.get(2)?,
            entity_type: entity.parse().map_err(|_| {
                rusqlite::Error::FromSqlConversionFailure(
                    3,
                    rusqlite::types::Type::Text,
                    "unknown entity type".into(),
                )
            })?,
            entity_id: r.get(4)?,
            change_id: r.get(5)?,
            version: r.get(6)?,
            detail: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes audit and log rows older than the retention period.
pub fn purge_older_than(tx: &Transaction, cutoff_ms: i64) -> Result<usize> {
    let audit = tx.execute("DELETE FROM audit_log WHERE at < ?1", [cutoff_ms])?;
    let log = tx.execute(
        "DELETE FROM sync_log WHERE completed_at IS NOT NULL AND completed_at < ?1",
        [cutoff_ms],
    )?;
    let undo = tx.execute(
        "DELETE FROM undo_journal WHERE run_id IN (SELECT run_id FROM sync_log GROUP BY run_id \
         HAVING MAX(started_at) < ?1) OR run_id NOT IN (SELECT run_id FROM sync_log)",
        [cutoff_ms],
    )?;
    tx.execute(
        "DELETE FROM undo_tokens WHERE run_id NOT IN (SELECT run_id FROM undo_journal)",
        [],
    )?;
    Ok(audit + log + undo)
}

// ----------------------------------------------------------------------------- tokens

pub fn token(conn: &Connection, entity_type: EntityType) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT token FROM sync_tokens WHERE entity_type = ?1")?
        .query_row([entity_type.as_str()], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Stores the token after a page, in the same transaction as the page. The first time a
/// run moves a type's token, the old token is journaled so a rollback can restore it.
pub fn set_token(
    tx: &Transaction,
    run_id: &str,
    entity_type: EntityType,
    token: &str,
    now_ms: i64,
) -> Result<()> {
    let previous = self::token(tx, entity_type)?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO undo_tokens (run_id, entity_type, token) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![run_id, entity_type.as_str(), previous])?;
    tx.prepare_cached(
        "INSERT INTO sync_tokens (entity_type, token, updated_at, full_resync) VALUES (?1, ?2, ?3, 0) \
         ON CONFLICT (entity_type) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at",
    )?
    .execute(params![entity_type.as_str(), token, now_ms])?;
    Ok(())
}

/// Forgets a type's token so the next cycle downloads it from the start (drift repair).
pub fn request_full_resync(tx: &Transaction, entity_type: EntityType, now_ms: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_tokens (entity_type, token, updated_at, full_resync) VALUES (?1, NULL, ?2, 1) \
         ON CONFLICT (entity_type) DO UPDATE SET token = NULL, updated_at = ?2, full_resync = 1",
    )?
    .execute(params![entity_type.as_str(), now_ms])?;
    Ok(())
}

/// Whether a full resync of the type was requested and has not finished yet.
pub fn full_resync_pending(conn: &Connection, entity_type: EntityType) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT full_resync FROM sync_tokens WHERE entity_type = ?1")?
        .query_row([entity_type.as_str()], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

/// Starts (or restarts) a full resync: forgets the token and the ids seen so far. The seen
/// set is a TEMP table of the writer connection, so a crash mid-resync starts it over.
pub fn begin_full_resync(tx: &Transaction, entity_type: EntityType, now_ms: i64) -> Result<()> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS resync_seen (entity_type TEXT NOT NULL, id TEXT NOT NULL, \
         PRIMARY KEY (entity_type, id)) WITHOUT ROWID",
    )?;
    tx.execute(
        "DELETE FROM resync_seen WHERE entity_type = ?1",
        [entity_type.as_str()],
    )?;
    request_full_resync(tx, entity_type, now_ms)
}

/// Notes that a record arrived during the running full resync.
pub fn mark_seen(tx: &Transaction, entity_type: EntityType, id: &str) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO temp.resync_seen (entity_type, id) VALUES (?1, ?2)")?
        .execute(params![entity_type.as_str(), id])?;
    Ok(())
}

/// Ends a full resync: records the server no longer has are deleted (pre-images journaled
/// with the run). Customers created or edited on this device and not yet synced are kept.
pub fn finish_full_resync(
    tx: &Transaction,
    run_id: &str,
    entity_type: EntityType,
) -> Result<usize> {
    let (table, key) = table_of(entity_type)?;
    let local_only = if entity_type == EntityType::Customer {
        "AND version > 0 AND NOT EXISTS (SELECT 1 FROM sync_queue q WHERE q.entity_type = 'customer' \
         AND q.entity_id = t.id AND q.status != 'SYNCED')"
    } else {
        ""
    };
    let stale: Vec<String> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT t.{key} FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM temp.resync_seen s \
             WHERE s.entity_type = ?1 AND s.id = t.{key}) {local_only}"
        ))?;
        let rows = stmt.query_map([entity_type.as_str()], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for id in &stale {
        journal_pre_image(tx, run_id, entity_type, id)?;
        tx.execute(&format!("DELETE FROM {table} WHERE {key} = ?1"), [id])?;
    }
    crate::store::quarantine::release_unseen(tx, entity_type)?;
    tx.execute(
        "DELETE FROM temp.resync_seen WHERE entity_type = ?1",
        [entity_type.as_str()],
    )?;
    tx.execute(
        "UPDATE sync_tokens SET full_resync = 0 WHERE entity_type = ?1",
        [entity_type.as_str()],
    )?;
    Ok(stale.len())
}

// ----------------------------------------------------------------------------- undo journal

/// Where a downloaded entity type lives on the device: its table, key column, and the
/// columns a pre-image keeps (all but `pk`: a restored row gets a new rowid, and the
/// full-text index follows through the triggers). A test checks them against the schema.
struct DownloadedTable {
    table: &'static str,
    key: &'static str,
    columns: &'static [&'static str],
    /// The journal inserts for one record and for a page, built from the columns on first use.
    journal_sql: OnceLock<String>,
    page_journal_sql: OnceLock<String>,
}

static PRODUCTS: DownloadedTable = DownloadedTable {
    table: "products",
    key: "id",
    columns: &[
        "id",
        "sku",
        "barcode",
        "name",
        "payload",
        "version",
        "checksum",
        "updated_hlc",
    ],
    journal_sql: OnceLock::new(),
    page_journal_sql: OnceLock::new(),
};
static PRICES: DownloadedTable = DownloadedTable {
    table: "prices",
    key: "id",
    columns: &[
        "id",
        "product_id",
        "amount",
        "currency",
        "valid_from",
        "payload",
        "version",
        "checksum",
        "updated_hlc",
    ],
    journal_sql: OnceLock::new(),
    page_journal_sql: OnceLock::new(),
};
static CUSTOMERS: DownloadedTable = DownloadedTable {
    table: "customers",
    key: "id",
    columns: &[
        "id",
        "name",
        "phone",
        "email",
        "payload",
        "updated_hlc",
        "version",
        "server_payload",
        "checksum",
    ],
    journal_sql: OnceLock::new(),
    page_journal_sql: OnceLock::new(),
};
static REPORTS: DownloadedTable = DownloadedTable {
    table: "reports",
    key: "key",
    columns: &["key", "payload", "version", "checksum", "updated_hlc"],
    journal_sql: OnceLock::new(),
    page_journal_sql: OnceLock::new(),
};

fn downloaded_table(entity_type: EntityType) -> Result<&'static DownloadedTable> {
    match entity_type {
        EntityType::Product => Ok(&PRODUCTS),
        EntityType::Price => Ok(&PRICES),
        EntityType::Customer => Ok(&CUSTOMERS),
        EntityType::Report => Ok(&REPORTS),
        other => Err(Error::invalid(format!(
            "{other} records are never downloaded, so they have no pre-images"
        ))),
    }
}

/// The table and key column that hold a downloaded entity type on the device.
fn table_of(entity_type: EntityType) -> Result<(&'static str, &'static str)> {
    let t = downloaded_table(entity_type)?;
    Ok((t.table, t.key))
}

impl DownloadedTable {
    /// The row whose key is `key_expr` as a JSON object of its columns, or NULL when it does
    /// not exist: SQLite reads the row and writes the text, no copy through Rust. TEXT
    /// columns (JSON payloads included) become JSON strings, INTEGER numbers, NULL null, as
    /// `json_object` writes them; the text is concatenated with `json_quote` because, nested
    /// in `json_array`/`json_group_array`, SQLite's JSON functions parse every value again
    /// (a sixth of a page's apply).
    fn row_json_sql(&self, key_expr: &str) -> String {
        let fields: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let comma = if i == 0 { "" } else { "," };
                format!("'{comma}\"{c}\":' || json_quote({c})")
            })
            .collect();
        format!(
            "(SELECT '{{' || {} || '}}' FROM {} WHERE {} = {key_expr})",
            fields.join(" || "),
            self.table,
            self.key
        )
    }

    /// Journals one record's row in one statement.
    fn journal_sql(&self) -> &str {
        self.journal_sql.get_or_init(|| {
            format!(
                "INSERT INTO undo_journal (run_id, entity_type, entity_id, pre_image) \
                 VALUES (?1, ?2, ?3, {})",
                self.row_json_sql("?3")
            )
        })
    }

    /// Journals the rows of a page's ids (`?3`, a JSON array) as one page entry.
    fn page_journal_sql(&self) -> &str {
        self.page_journal_sql.get_or_init(|| {
            format!(
                "INSERT INTO undo_journal (run_id, entity_type, entity_id, pre_image) \
                 SELECT ?1, ?2, '', '[' || group_concat('[' || json_quote(j.value) || ',' || \
                   COALESCE({}, 'null') || ']', ',' ORDER BY j.key) || ']' \
                 FROM json_each(?3) j",
                self.row_json_sql("j.value")
            )
        })
    }
}

/// Puts a row back exactly as `journal_pre_image` saw it (or removes it when it did not exist).
fn restore(tx: &Transaction, entity_type: EntityType, id: &str, row: Option<&Value>) -> Result<()> {
    let (table, key) = table_of(entity_type)?;
    tx.execute(&format!("DELETE FROM {table} WHERE {key} = ?1"), [id])?;
    let Some(Value::Object(row)) = row else {
        return Ok(());
    };
    let columns: Vec<&String> = row.keys().collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        placeholders.join(", ")
    );
    let values: Vec<rusqlite::types::Value> = columns
        .iter()
        .map(|c| match &row[*c] {
            Value::Null => rusqlite::types::Value::Null,
            Value::Number(n) if n.is_i64() => {
                rusqlite::types::Value::Integer(n.as_i64().unwrap_or_default())
            }
            Value::Number(n) => rusqlite::types::Value::Real(n.as_f64().unwrap_or_default()),
            Value::String(s) => rusqlite::types::Value::Text(s.clone()),
            other => rusqlite::types::Value::Text(other.to_string()),
        })
        .collect();
    tx.execute(&sql, rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Journals the current state of a record before a download run changes it.
pub fn journal_pre_image(
    tx: &Transaction,
    run_id: &str,
    entity_type: EntityType,
    id: &str,
) -> Result<()> {
    let sql = downloaded_table(entity_type)?.journal_sql();
    tx.prepare_cached(sql)?
        .execute(params![run_id, entity_type.as_str(), id])?;
    Ok(())
}

/// What the records of a downloaded page were before it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageBefore {
    /// Whatever their table holds now: read in the same statement.
    AsStored,
    /// Absent, without looking them up: an initial load into a table that was empty when it
    /// began. (A record the load writes twice gets "absent" twice; rolling the run back
    /// still empties the table, which is what it was.)
    Absent,
}

/// Journals the pre-images of a page of downloaded records before it is applied, as one
/// page entry: an empty `entity_id` and a `pre_image` array of `[id, row or null]`. One row
/// per record (its insert, its index entry) cost as much of a page's apply as copying the
/// rows themselves. Customers are journaled record by record: a page skips the customers
/// with local edits, and their pre-images must not be restored over those edits.
pub fn journal_page(
    tx: &Transaction,
    run_id: &str,
    entity_type: EntityType,
    ids: &[&str],
    before: PageBefore,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    match before {
        PageBefore::AsStored => {
            let sql = downloaded_table(entity_type)?.page_journal_sql();
            tx.prepare_cached(sql)?.execute(params![
                run_id,
                entity_type.as_str(),
                serde_json::to_string(ids).expect("a list of strings serializes")
            ])?;
            Ok(())
        }
        PageBefore::Absent => {
            let absent: Vec<(&str, ())> = ids.iter().map(|id| (*id, ())).collect();
            let page = serde_json::to_string(&absent).expect("a list of strings serializes");
            journal(tx, run_id, entity_type, "", Some(page))
        }
    }
}

fn journal(
    tx: &Transaction,
    run_id: &str,
    entity_type: EntityType,
    id: &str,
    pre_image: Option<String>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO undo_journal (run_id, entity_type, entity_id, pre_image) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![run_id, entity_type.as_str(), id, pre_image])?;
    Ok(())
}

/// Restores every record a run's downloads changed, newest first, and the sync tokens the
/// run started from (so the next sync fetches those changes again, as if the run never
/// happened). Returns how many records were restored.
pub fn rollback_run(tx: &Transaction, run_id: &str, now_ms: i64) -> Result<usize> {
    let entries: Vec<(String, String, Option<String>)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT entity_type, entity_id, pre_image FROM undo_journal WHERE run_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let tokens: Vec<(String, Option<String>)> = {
        let mut stmt =
            tx.prepare_cached("SELECT entity_type, token FROM undo_tokens WHERE run_id = ?1")?;
        let rows = stmt.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    if entries.is_empty() && tokens.is_empty() {
        return Err(Error::NotFound(format!(
            "sync run '{run_id}' downloaded nothing that can be rolled back (or was already rolled back)"
        )));
    }
    let mut restored = 0;
    for (entity, id, pre) in &entries {
        let entity_type: EntityType = entity
            .parse()
            .map_err(|e: crate::model::UnknownEntityType| Error::Database(e.to_string()))?;
        let pre = pre.as_deref().map(crate::store::parse_stored).transpose()?;
        let records: Vec<(&str, Option<&Value>)> = match &pre {
            // A page entry: its records newest (last applied) first, like the entries.
            Some(Value::Array(page)) if id.is_empty() => page
                .iter()
                .rev()
                .map(|entry| match entry.as_array().map(Vec::as_slice) {
                    Some([Value::String(id), row]) => Ok((id.as_str(), Some(row))),
                    _ => Err(Error::Database(format!(
                        "an undo journal page of run '{run_id}' is damaged, so the run cannot be rolled back and nothing was changed; run `pos-sync --db PATH check` to see what else is damaged"
                    ))),
                })
                .collect::<Result<_>>()?,
            pre => vec![(id.as_str(), pre.as_ref())],
        };
        for (id, row) in records {
            restore(tx, entity_type, id, row)?;
            audit(
                tx,
                &AuditEntry {
                    at_ms: now_ms,
                    run_id: Some(run_id.to_owned()),
                    event: "rolled_back".into(),
                    entity_type,
                    entity_id: id.to_owned(),
                    change_id: None,
                    version: None,
                    detail: None,
                },
            )?;
            restored += 1;
        }
    }
    for (entity, token) in &tokens {
        tx.prepare_cached(
            "UPDATE sync_tokens SET token = ?2, updated_at = ?3 WHERE entity_type = ?1",
        )?
        .execute(params![entity, token, now_ms])?;
    }
    tx.execute("DELETE FROM undo_journal WHERE run_id = ?1", [run_id])?;
    tx.execute("DELETE FROM undo_tokens WHERE run_id = ?1", [run_id])?;
    tx.execute(
        "UPDATE sync_log SET status = 'ROLLED_BACK' WHERE run_id = ?1 AND direction IN ('download', 'both')",
        [run_id],
    )?;
    Ok(restored)
}

// ----------------------------------------------------------------------------- drift

/// Local (count, checksum) of a downloaded type, computed the way the server computes its
/// status: live records the server knows, wrapping sum of `drift_checksum`.
pub fn local_drift_totals(conn: &Connection, entity_type: EntityType) -> Result<(i64, u32)> {
    let (table, _) = table_of(entity_type)?;
    let filter = if entity_type == EntityType::Customer {
        "WHERE version > 0 AND checksum IS NOT NULL"
    } else {
        "WHERE version > 0"
    };
    let mut stmt = conn.prepare_cached(&format!("SELECT checksum FROM {table} {filter}"))?;
    let mut rows = stmt.query([])?;
    let (mut count, mut sum) = (0i64, 0u32);
    while let Some(row) = rows.next()? {
        let checksum: String = row.get(0)?;
        count += 1;
        sum = sum.wrapping_add(crate::protocol::drift_checksum(&checksum));
    }
    Ok((count, sum))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{payload_checksum, ServerRecord};
    use crate::store::catalog;
    use crate::store::test_support::temp_store;
    use serde_json::json;

    fn product(id: &str, version: i64, name: &str) -> ServerRecord {
        let payload = json!({"id": id, "name": name, "barcode": format!("b-{id}")});
        ServerRecord {
            entity_type: EntityType::Product,
            entity_id: id.into(),
            version,
            deleted: false,
            updated_hlc: version,
            checksum: payload_checksum(&payload),
            payload,
        }
    }

    fn apply(tx: &Transaction, run: &str, rec: &ServerRecord) -> Result<()> {
        journal_pre_image(tx, run, rec.entity_type, &rec.entity_id)?;
        catalog::apply_server_record(tx, rec)
    }

    /// An initial load journals "absent" without a lookup; rolling it back empties the
    /// catalog again, even for a product the load wrote twice, and rewinds the token.
    #[test]
    fn rolling_back_an_initial_load_journaled_as_absent_empties_the_catalog() {
        let (_d, store) = temp_store();
        let load = |tx: &Transaction, rec: &ServerRecord| {
            journal_page(
                tx,
                "load",
                rec.entity_type,
                &[rec.entity_id.as_str()],
                PageBefore::Absent,
            )?;
            let doc = crate::documents::Document::new(rec.payload.clone())?;
            catalog::load_product(tx, rec, Some(&doc))
        };
        assert!(store.write(catalog::begin_bulk_load).unwrap());
        store
            .write(|tx| {
                load(tx, &product("p1", 1, "Apple Juice"))?;
                load(tx, &product("p2", 1, "Banana"))?;
                set_token(tx, "load", EntityType::Product, "v1.2", 10)
            })
            .unwrap();
        store
            .write(|tx| {
                // Edited on the server while the load ran: it comes again in a later page.
                load(tx, &product("p1", 2, "Orange Juice"))?;
                set_token(tx, "load", EntityType::Product, "v1.3", 20)
            })
            .unwrap();
        store.write(catalog::finish_bulk_load).unwrap();
        assert_eq!(store.write(|tx| rollback_run(tx, "load", 30)).unwrap(), 3);
        for id in ["p1", "p2"] {
            assert!(store
                .read(|c| catalog::product_by_id(c, id))
                .unwrap()
                .is_none());
        }
        assert!(store
            .read(|c| catalog::search_products(c, "juice", 5))
            .unwrap()
            .is_empty());
        assert_eq!(store.read(|c| token(c, EntityType::Product)).unwrap(), None);
    }

    #[test]
    fn rollback_restores_pre_images_tokens_and_search_index() {
        let (_d, store) = temp_store();
        store
            .write(|tx| {
                apply(tx, "run1", &product("p1", 1, "Apple Juice"))?;
                set_token(tx, "run1", EntityType::Product, "v1.1", 10)
            })
            .unwrap();
        store
            .write(|tx| {
                apply(tx, "run2", &product("p1", 2, "Orange Juice"))?;
                apply(tx, "run2", &product("p2", 1, "Banana"))?;
                set_token(tx, "run2", EntityType::Product, "v1.3", 20)
            })
            .unwrap();
        let restored = store.write(|tx| rollback_run(tx, "run2", 30)).unwrap();
        assert_eq!(restored, 2);
        let p1 = store
            .read(|c| catalog::product_by_id(c, "p1"))
            .unwrap()
            .unwrap();
        assert_eq!((p1.name.as_str(), p1.version), ("Apple Juice", 1));
        assert!(store
            .read(|c| catalog::product_by_id(c, "p2"))
            .unwrap()
            .is_none());
        assert_eq!(
            store
                .read(|c| catalog::search_products(c, "apple", 5))
                .unwrap()
                .len(),
            1
        );
        assert!(store
            .read(|c| catalog::search_products(c, "orange", 5))
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .read(|c| token(c, EntityType::Product))
                .unwrap()
                .as_deref(),
            Some("v1.1")
        );
        let again = store.write(|tx| rollback_run(tx, "run2", 31)).unwrap_err();
        assert!(matches!(again, Error::NotFound(_)));
        let audit = store.read(|c| recent_audit(c, 10)).unwrap();
        assert_eq!(audit.iter().filter(|a| a.event == "rolled_back").count(), 2);
    }

    /// A page journals its records' pre-images as one entry before it is applied; rolling
    /// the run back walks its pages newest first, so a record two pages changed ends as it
    /// was before the first (here: absent), and a record the page created is removed.
    #[test]
    fn rolling_back_page_journals_restores_what_each_page_found() {
        let (_d, store) = temp_store();
        let page = |tx: &Transaction, run: &str, records: &[ServerRecord]| -> Result<()> {
            let ids: Vec<&str> = records.iter().map(|r| r.entity_id.as_str()).collect();
            journal_page(tx, run, EntityType::Product, &ids, PageBefore::AsStored)?;
            for rec in records {
                catalog::apply_server_record(tx, rec)?;
            }
            Ok(())
        };
        store
            .write(|tx| page(tx, "run1", &[product("p1", 1, "Apple Juice")]))
            .unwrap();
        let before = store.read(|c| catalog::product_by_id(c, "p1")).unwrap();
        store
            .write(|tx| {
                page(
                    tx,
                    "run2",
                    &[product("p1", 2, "Orange Juice"), product("p2", 1, "Banana")],
                )?;
                page(tx, "run2", &[product("p2", 2, "Green Banana")])?;
                set_token(tx, "run2", EntityType::Product, "v1.3", 20)
            })
            .unwrap();
        let entries: i64 = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM undo_journal WHERE run_id = 'run2'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(entries, 2, "one journal entry per page");
        assert_eq!(store.write(|tx| rollback_run(tx, "run2", 30)).unwrap(), 3);
        assert_eq!(
            store.read(|c| catalog::product_by_id(c, "p1")).unwrap(),
            before
        );
        assert!(store
            .read(|c| catalog::product_by_id(c, "p2"))
            .unwrap()
            .is_none());
        assert!(store
            .read(|c| catalog::search_products(c, "banana", 5))
            .unwrap()
            .is_empty());
        let audit = store.read(|c| recent_audit(c, 10)).unwrap();
        assert_eq!(audit.iter().filter(|a| a.event == "rolled_back").count(), 3);
        // A damaged page entry is refused with a clear error, restoring nothing.
        store
            .write(|tx| {
                page(tx, "run3", &[product("p1", 3, "Pear Juice")])?;
                tx.execute(
                    "UPDATE undo_journal SET pre_image = '[[1, null]]' WHERE run_id = 'run3'",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let err = store.write(|tx| rollback_run(tx, "run3", 40)).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        let p1 = store
            .read(|c| catalog::product_by_id(c, "p1"))
            .unwrap()
            .unwrap();
        assert_eq!(p1.name, "Pear Juice");
    }

    /// The pre-image columns are every column of each downloaded table but `pk`.
    #[test]
    fn pre_images_keep_every_column_of_the_downloaded_tables() {
        let (_d, store) = temp_store();
        for entity_type in [
            EntityType::Product,
            EntityType::Price,
            EntityType::Customer,
            EntityType::Report,
        ] {
            let t = downloaded_table(entity_type).unwrap();
            let mut schema: Vec<String> = store
                .read(|c| {
                    let mut stmt = c.prepare(&format!("PRAGMA table_info({})", t.table))?;
                    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
                    Ok(names.collect::<rusqlite::Result<_>>()?)
                })
                .unwrap();
            schema.retain(|c| c != "pk");
            assert_eq!(schema, t.columns, "{}", t.table);
        }
    }

    /// A row comes back from its journaled pre-image exactly: text (a JSON payload
    /// included) stays text, integers integers, NULLs NULL.
    #[test]
    fn a_journaled_row_is_restored_column_for_column() {
        let (_d, store) = temp_store();
        let row = |c: &Connection| -> Result<Vec<rusqlite::types::Value>> {
            Ok(c.query_row(
                "SELECT id, name, phone, email, payload, updated_hlc, version, server_payload, \
                 checksum FROM customers WHERE id = 'c1'",
                [],
                |r| (0..9).map(|i| r.get(i)).collect(),
            )?)
        };
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO customers (id, name, phone, email, payload, updated_hlc, version) \
                     VALUES ('c1', 'Ann \"Q\" O''Neil', NULL, 'ann@example.com', \
                     '{\"id\":\"c1\",\"tags\":[1,2.5,\"x\"]}', 1700000000000123, 0)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let before = store.read(row).unwrap();
        store
            .write(|tx| {
                journal_pre_image(tx, "r", EntityType::Customer, "c1")?;
                tx.execute(
                    "UPDATE customers SET name = 'Other', phone = '123', payload = '{}', \
                     version = 9, server_payload = '{}', checksum = 'x' WHERE id = 'c1'",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        assert_ne!(store.read(row).unwrap(), before);
        store.write(|tx| rollback_run(tx, "r", 2)).unwrap();
        assert_eq!(store.read(row).unwrap(), before);
    }

    /// A page entry writes each row exactly as `json_object` does (quotes, backslashes,
    /// control characters, non-ASCII, NULLs, integers), and the row comes back from it
    /// column for column.
    #[test]
    fn a_page_journal_keeps_rows_exactly() {
        let (_d, store) = temp_store();
        let row = |c: &Connection| -> Result<Vec<rusqlite::types::Value>> {
            Ok(c.query_row(
                "SELECT id, sku, barcode, name, payload, version, checksum, updated_hlc \
                 FROM products WHERE id = 'p\"1'",
                [],
                |r| (0..8).map(|i| r.get(i)).collect(),
            )?)
        };
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO products (id, sku, barcode, name, payload, version, checksum, updated_hlc) \
                     VALUES ('p\"1', NULL, '4006381333931', 'Tee \"Grün\" \\ ' || char(9) || char(1), \
                     '{\"id\":\"p\\\"1\",\"tags\":[1,2.5]}', 7, 'abc', 1700000000000123)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let before = store.read(row).unwrap();
        // What SQLite's own json_object makes of the row, every column of the pre-image.
        let table = downloaded_table(EntityType::Product).unwrap();
        let pairs: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("'{c}', {c}"))
            .collect();
        let reference: Value = store
            .read(|c| {
                let sql = format!(
                    "SELECT json_object({}) FROM products WHERE id = 'p\"1'",
                    pairs.join(", ")
                );
                let text: String = c.query_row(&sql, [], |r| r.get(0))?;
                crate::store::parse_stored(&text)
            })
            .unwrap();
        store
            .write(|tx| {
                journal_page(
                    tx,
                    "r",
                    EntityType::Product,
                    &["p\"1", "missing"],
                    PageBefore::AsStored,
                )?;
                tx.execute(
                    "UPDATE products SET name = 'Other', sku = 'S', payload = '{}', version = 9 \
                     WHERE id = 'p\"1'",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let page: Value = store
            .read(|c| {
                let text: String =
                    c.query_row("SELECT pre_image FROM undo_journal", [], |r| r.get(0))?;
                crate::store::parse_stored(&text)
            })
            .unwrap();
        assert_eq!(page, json!([["p\"1", reference], ["missing", null]]));
        assert_ne!(store.read(row).unwrap(), before);
        assert_eq!(store.write(|tx| rollback_run(tx, "r", 2)).unwrap(), 2);
        assert_eq!(store.read(row).unwrap(), before);
    }

    #[test]
    fn drift_totals_wrap_and_count_live_records() {
        let (_d, store) = temp_store();
        let (a, b) = (product("a", 1, "A"), product("b", 1, "B"));
        store
            .write(|tx| {
                apply(tx, "r", &a)?;
                apply(tx, "r", &b)
            })
            .unwrap();
        let expected = crate::protocol::drift_checksum(&a.checksum)
            .wrapping_add(crate::protocol::drift_checksum(&b.checksum));
        assert_eq!(
            store
                .read(|c| local_drift_totals(c, EntityType::Product))
                .unwrap(),
            (2, expected)
        );
    }

    #[test]
    fn sync_log_steps_and_interrupted_runs() {
        let (_d, store) = temp_store();
        let step = store
            .write(|tx| begin_step(tx, "run", "sale", "upload", "manual", 1))
            .unwrap();
        store
            .write(|tx| begin_step(tx, "run", "product", "download", "manual", 2))
            .unwrap();
        store
            .write(|tx| finish_step(tx, &step, "OK", 5, None, 3))
            .unwrap();
        assert_eq!(store.write(|tx| close_interrupted_steps(tx, 4)).unwrap(), 1);
        let log = store.read(|c| recent_log(c, 10)).unwrap();
        assert_eq!(log[0].sync_type, "product");
        assert_eq!(log[0].status, "FAILED");
        assert!(log[0]
            .error_message
            .as_deref()
            .unwrap()
            .contains("interrupted"));
        assert_eq!((log[1].status.as_str(), log[1].records_count), ("OK", 5));
    }
}
