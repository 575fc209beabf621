//! Versioned schema upgrades keyed on `PRAGMA user_version`. Each entry moves the schema
//! from version N to N+1 inside one transaction; a database newer than this code is refused
//! untouched.

use crate::error::{PosSyncError, Result};
use rusqlite::{Connection, TransactionBehavior};

/// Migration N (1-based) upgrades a database at version N-1.
const MIGRATIONS: &[&str] = &[include_str!("schema/v1.sql")];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Fails with `SchemaTooNew` when the file was written by a newer pos-sync.
pub fn check_supported(conn: &Connection) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(PosSyncError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Applies every migration the database has not seen yet.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    check_supported(conn)?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        // Read inside the transaction so two processes opening at once migrate only once.
        let version = user_version(&tx)?;
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        log::info!("device database migrated to schema version {}", version + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Durability, Store};

    #[test]
    fn fresh_database_gets_current_schema_with_spec_tables() {
        let (_dir, store) = crate::store::test_support::temp_store();
        store
            .read(|conn| {
                assert_eq!(user_version(conn)?, SCHEMA_VERSION);
                for (table, columns) in [
                    (
                        "sync_queue",
                        &[
                            "id",
                            "entity_type",
                            "entity_id",
                            "action",
                            "payload",
                            "priority",
                            "status",
                            "attempts",
                            "last_error",
                            "created_at",
                            "updated_at",
                        ][..],
                    ),
                    (
                        "sync_log",
                        &[
                            "id",
                            "sync_type",
                            "direction",
                            "records_count",
                            "started_at",
                            "completed_at",
                            "status",
                            "error_message",
                        ][..],
                    ),
                ] {
                    let mut stmt =
                        conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
                    let names: Vec<String> = stmt
                        .query_map([], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    for column in columns {
                        assert!(
                            names.iter().any(|n| n == column),
                            "{table}.{column} missing"
                        );
                    }
                }
                let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                assert_eq!(mode, "wal");
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn reopening_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let path = path.to_str().unwrap();
        drop(Store::open(path, Durability::Normal).unwrap());
        let store = Store::open(path, Durability::Normal).unwrap();
        let v = store.read(user_version).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_is_refused_and_file_left_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(path.to_str().unwrap(), Durability::Full)
            .err()
            .expect("newer schema must be refused");
        assert_eq!(
            err,
            PosSyncError::SchemaTooNew {
                found: 99,
                supported: SCHEMA_VERSION
            }
        );
        assert!(err.to_string().contains("update the app"));
        assert_eq!(std::fs::read(&path).unwrap(), before, "file was modified");
        assert!(!dir.path().join("newer.db-wal").exists());
    }
}
