//! Versioned schema upgrades keyed on `PRAGMA user_version`. Each entry moves the schema
//! from version N to N+1 inside one transaction; a database newer than this code is refused
//! untouched.

use crate::error::{Error, Result};
use rusqlite::{Connection, TransactionBehavior};

/// Migration N (1-based) upgrades a database at version N-1.
const MIGRATIONS: &[&str] = &[
    include_str!("schema/v1.sql"),
    include_str!("schema/v2.sql"),
    include_str!("schema/v3.sql"),
    include_str!("schema/v4.sql"),
    include_str!("schema/v5.sql"),
    include_str!("schema/v6.sql"),
    include_str!("schema/v7.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Fails with `SchemaTooNew` when the file was written by a newer pos-sync.
pub fn check_supported(conn: &Connection) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
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

    /// v2 rewrites a product's full-text entry only on a rename; a v1 file upgrades in
    /// place, and its search keeps following renames (and only renames) afterwards.
    #[test]
    fn a_v1_database_upgrades_and_name_search_follows_renames() {
        use crate::model::EntityType;
        use crate::protocol::{payload_checksum, ServerRecord};
        use crate::store::catalog;
        let product = |version: i64, name: &str, price: i64| {
            let payload = serde_json::json!({"id": "p1", "name": name, "price": price});
            ServerRecord {
                entity_type: EntityType::Product,
                entity_id: "p1".into(),
                version,
                deleted: false,
                updated_hlc: version,
                checksum: payload_checksum(&payload),
                payload,
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let tx = conn.transaction().unwrap();
            catalog::apply_server_record(&tx, &product(1, "Apple Juice", 100)).unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(path.to_str().unwrap(), Durability::Normal).unwrap();
        assert_eq!(store.read(user_version).unwrap(), SCHEMA_VERSION);
        let trigger: String = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT sql FROM sqlite_master WHERE name = 'products_fts_update'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert!(
            trigger.contains("WHEN old.name IS NOT new.name"),
            "{trigger}"
        );
        let found = |q: &str| {
            store
                .read(|c| catalog::search_products(c, q, 10))
                .unwrap()
                .into_iter()
                .map(|p| (p.id, p.version))
                .collect::<Vec<_>>()
        };
        assert_eq!(found("app"), vec![("p1".to_owned(), 1)]);
        // Same name, new price: the row changes, its full-text entry stays valid.
        store
            .write(|tx| catalog::apply_server_record(tx, &product(2, "Apple Juice", 120)))
            .unwrap();
        assert_eq!(found("apple juice"), vec![("p1".to_owned(), 2)]);
        // A rename moves it in the index.
        store
            .write(|tx| catalog::apply_server_record(tx, &product(3, "Orange Juice", 120)))
            .unwrap();
        assert!(found("app").is_empty());
        assert_eq!(found("ora"), vec![("p1".to_owned(), 3)]);
        assert_eq!(found("juice"), vec![("p1".to_owned(), 3)]);
        crate::store::test_support::assert_product_search_intact(&store);
    }

    /// A database file at schema v2 (as the previous release left it), with `sql` run on it.
    fn v2_file(dir: &tempfile::TempDir, sql: &str) -> String {
        let path = dir.path().join("v2.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(sql).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// The catalog's schema is exactly a fresh database's.
    /// Every schema object of an upgraded file is exactly a fresh database's.
    fn assert_schema_is_fresh(store: &Store) {
        fn schema(store: &Store) -> Vec<(String, Option<String>)> {
            store
                .read(|c| {
                    let mut stmt = c.prepare(
                        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
                         ORDER BY name",
                    )?;
                    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
                })
                .unwrap()
        }
        let (_fresh_dir, fresh) = crate::store::test_support::temp_store();
        assert_eq!(schema(store), schema(&fresh));
    }

    /// v3 rebuilds `products` to move the id's uniqueness into a named index: a v2 file keeps
    /// every product with its `pk` (the full-text index's key), ids stay unique, search works,
    /// and the schema ends up exactly as a fresh database's.
    #[test]
    fn a_v2_database_keeps_its_products_and_their_search_through_v3() {
        let dir = tempfile::tempdir().unwrap();
        // pk 2 was deleted earlier: pks are not renumbered by the rebuild.
        let path = v2_file(
            &dir,
            "INSERT INTO products (pk, id, barcode, name, payload, version, checksum, updated_hlc) VALUES
               (1, 'p1', '111', 'Oat Milk 1L', '{}', 1, 'c1', 1),
               (3, 'p3', '333', 'Rye Bread', '{}', 4, 'c3', 2);",
        );
        let store = Store::open(&path, Durability::Normal).unwrap();
        assert_eq!(store.read(user_version).unwrap(), SCHEMA_VERSION);
        let rows: Vec<(i64, String, i64)> = store
            .read(|c| {
                let mut stmt = c.prepare("SELECT pk, id, version FROM products ORDER BY pk")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(rows, vec![(1, "p1".into(), 1), (3, "p3".into(), 4)]);
        let found = |q: &str| {
            store
                .read(|c| crate::store::catalog::search_products(c, q, 10))
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("rye"), vec!["p3"]);
        assert_eq!(found("oat"), vec!["p1"]);
        let duplicate = store.write(|tx| {
            tx.execute(
                "INSERT INTO products (id, name, payload, version, checksum, updated_hlc) \
                 VALUES ('p1', 'Again', '{}', 1, 'c', 1)",
                [],
            )?;
            Ok(())
        });
        assert!(duplicate.is_err(), "product ids stay unique");
        crate::store::test_support::assert_product_search_intact(&store);
        assert_schema_is_fresh(&store);
    }

    /// An initial catalog load that a crash interrupted under schema v2 (indexes and
    /// triggers dropped, no tombstone table yet) is finished when the upgraded app opens it.
    #[test]
    fn a_load_interrupted_under_v2_is_finished_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = v2_file(
            &dir,
            "DROP INDEX products_barcode; DROP INDEX products_sku;
             DROP TRIGGER products_fts_insert; DROP TRIGGER products_fts_delete;
             DROP TRIGGER products_fts_update;
             INSERT INTO device_meta (key, value) VALUES ('products_bulk_load', '1');
             INSERT INTO products (id, barcode, name, payload, version, checksum, updated_hlc)
               VALUES ('p1', '111', 'Oat Milk 1L', '{}', 1, 'c1', 1);",
        );
        let store = Store::open(&path, Durability::Normal).unwrap();
        let found = store
            .read(|c| crate::store::catalog::search_products(c, "oat", 5))
            .unwrap();
        assert_eq!(found.len(), 1);
        assert!(!store
            .read(crate::store::catalog::bulk_load_pending)
            .unwrap());
        assert_schema_is_fresh(&store);
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
            Error::SchemaTooNew {
                found: 99,
                supported: SCHEMA_VERSION
            }
        );
        assert!(err.to_string().contains("update the app"));
        assert_eq!(std::fs::read(&path).unwrap(), before, "file was modified");
        assert!(!dir.path().join("newer.db-wal").exists());
    }
}
