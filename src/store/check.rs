//! The local consistency check behind `pos-sync check` and `SyncEngine::integrity_check`:
//! SQLite's own integrity check plus the invariants the sync engine relies on, each problem
//! reported in plain words.

use crate::error::Result;
use crate::protocol::payload_checksum;
use rusqlite::Connection;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct IntegrityReport {
    /// No problems found (warnings do not count).
    pub ok: bool,
    /// Things that are wrong, in words.
    pub problems: Vec<String>,
    /// Things worth knowing that are not wrong by themselves.
    pub warnings: Vec<String>,
}

pub fn integrity_check(conn: &Connection) -> Result<IntegrityReport> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if lines != ["ok"] {
        problems.extend(
            lines
                .into_iter()
                .take(20)
                .map(|l| format!("SQLite integrity check: {l}")),
        );
    }

    let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };

    let (sales, next_receipt): (i64, i64) = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM sales), (SELECT next_receipt FROM device_state)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if sales != next_receipt - 1 {
        problems.push(format!(
            "receipt numbers are not gapless: {sales} sales recorded but the counter issued {}",
            next_receipt - 1
        ));
    }
    // Each invariant: a query counting the rows that break it, and what that means.
    let invariants: [(&str, &str); 5] = [
        (
            "SELECT COUNT(*) FROM sync_queue q WHERE q.entity_type = 'sale' \
             AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.id = q.entity_id)",
            "queued sales have no sale record",
        ),
        (
            // Retention may have purged synced queue rows created before the last cutoff.
            "SELECT COUNT(*) FROM sales s WHERE s.created_at >= (SELECT COALESCE(MAX(CAST(value AS INTEGER)), 0) \
             FROM device_meta WHERE key = 'purged_synced_before') AND NOT EXISTS \
             (SELECT 1 FROM sync_queue q WHERE q.entity_type = 'sale' AND q.entity_id = s.id)",
            "sales were never queued for upload",
        ),
        (
            "SELECT COUNT(*) FROM sync_queue WHERE status = 'FAILED' AND next_attempt_at IS NULL",
            "failed changes have no retry time and would never be retried",
        ),
        (
            "SELECT COUNT(*) FROM sync_queue WHERE status = 'SYNCED' AND synced_at IS NULL",
            "synced changes have no sync time",
        ),
        (
            "SELECT COUNT(*) FROM conflicts c WHERE c.resolved_at IS NULL AND NOT EXISTS \
             (SELECT 1 FROM sync_queue q WHERE q.id = c.change_id AND q.status = 'CONFLICT')",
            "open conflicts point at no change waiting for review",
        ),
    ];
    for (sql, meaning) in invariants {
        let broken = count(sql)?;
        if broken > 0 {
            problems.push(format!("{broken} {meaning}"));
        }
    }
    let mut stmt =
        conn.prepare("SELECT id, payload, checksum FROM sync_queue WHERE status != 'SYNCED'")?;
    let mut rows = stmt.query([])?;
    let mut corrupted = 0;
    while let Some(row) = rows.next()? {
        let payload: String = row.get(1)?;
        let checksum: String = row.get(2)?;
        let matches = serde_json::from_str(&payload)
            .map(|v| payload_checksum(&v) == checksum)
            .unwrap_or(false);
        if !matches {
            corrupted += 1;
        }
    }
    if corrupted > 0 {
        problems.push(format!(
            "{corrupted} unsynced changes do not match their checksum (damaged); export them with `pos-sync export-unsynced`"
        ));
    }
    let notes: [(&str, &str); 2] = [
        (
            "SELECT COUNT(*) FROM sync_queue WHERE status = 'SYNCING'",
            "changes are being uploaded (or an upload was interrupted; they return to PENDING when the app opens the database)",
        ),
        (
            "SELECT COUNT(*) FROM sync_queue WHERE status = 'FAILED' AND rejected = 1",
            "changes were refused by the server and need attention",
        ),
    ];
    for (sql, meaning) in notes {
        let n = count(sql)?;
        if n > 0 {
            warnings.push(format!("{n} {meaning}"));
        }
    }
    Ok(IntegrityReport {
        ok: problems.is_empty(),
        problems,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[test]
    fn a_fresh_database_passes_and_tampering_is_reported_in_words() {
        let (_d, store) = temp_store();
        let identity = crate::store::state::Identity {
            store_id: "S".into(),
            register_id: "R".into(),
            device_id: "D".into(),
        };
        store
            .write(|tx| {
                crate::store::pos::record_sale(
                    tx,
                    &identity,
                    r#"{"id":"s1","lines":[{"product_id":"p","quantity":1}]}"#,
                    10,
                )
            })
            .unwrap();
        assert!(store.read(integrity_check).unwrap().ok);
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE sync_queue SET payload = '{\"id\":\"s1\",\"lines\":[]}'",
                    [],
                )?;
                tx.execute("UPDATE device_state SET next_receipt = 5", [])?;
                Ok(())
            })
            .unwrap();
        let report = store.read(integrity_check).unwrap();
        assert!(!report.ok);
        assert!(
            report.problems.iter().any(|p| p.contains("not gapless")),
            "{report:?}"
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("do not match their checksum")),
            "{report:?}"
        );
    }
}
