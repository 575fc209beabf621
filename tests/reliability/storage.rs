//! Storage faults: the disk filling up, a database file damaged in the middle, and a
//! database from a newer schema (`src/store/migrations.rs` tests that one at the store
//! level: `newer_schema_is_refused_and_file_left_unchanged`; here it is checked through the
//! API and the CLI). Errors are typed and clear, nothing panics, unsynced sales are never
//! silently dropped, and `pos-sync export-unsynced` saves what a damaged file still holds.

use crate::rig::{self, Rig};
use pos_sync::{EngineConfig, PosSyncError, SyncEngine};
use serde_json::json;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn offline_config(path: &Path) -> EngineConfig {
    let mut config = EngineConfig::new(path.to_str().unwrap(), "S1", "R1", "till-1");
    config.durability = Some(pos_sync::store::Durability::Normal);
    config
}

fn big_sale(id: &str) -> String {
    json!({
        "id": id,
        "lines": [{"product_id": "p1", "quantity": 1, "unit_price": 250}],
        "note": "n".repeat(600),
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_typed_error_that_loses_nothing() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let till = SyncEngine::open(rig.config(
        dir.path().join("till.db").to_str().unwrap(),
        "http://127.0.0.1:9",
    ))
    .unwrap();
    // The same database file, but through the real server: opened after the limit is set.
    for i in 0..5 {
        till.record_sale(big_sale(&format!("ok-{i}"))).unwrap();
    }
    let pages: i64 = till
        .store()
        .read(|c| Ok(c.query_row("PRAGMA page_count", [], |r| r.get(0))?))
        .unwrap();
    // Only the engine's writer connection gets the limit: SQLite then answers SQLITE_FULL
    // exactly as on a full disk.
    till.store()
        .write(|tx| {
            tx.query_row(
                &format!("PRAGMA max_page_count = {}", pages + 4),
                [],
                |_| Ok(()),
            )?;
            Ok(())
        })
        .unwrap();
    let mut recorded = 5;
    let err = loop {
        match till.record_sale(big_sale(&format!("ok-{recorded}"))) {
            Ok(_) => recorded += 1,
            Err(e) => break e,
        }
        assert!(recorded < 2_000, "the page limit never hit");
    };
    assert!(
        matches!(&err, PosSyncError::StorageFull { reason: m, .. } if m.contains("free some storage")),
        "{err:?}"
    );
    assert_eq!(err.code(), "STORAGE_FULL");
    let full_dump = rig::dump(&till);
    for attempt in [
        till.record_sale(big_sale("refused")).map(|_| ()),
        till.record_stock_adjustment(
            json!({"id":"adj","product_id":"p1","quantity_delta":1,"note":"n".repeat(3000)})
                .to_string(),
        )
        .map(|_| ()),
        till.create_customer(json!({"id":"c1","name":"x".repeat(5000)}).to_string())
            .map(|_| ()),
    ] {
        assert!(
            matches!(attempt, Err(PosSyncError::StorageFull { .. })),
            "{attempt:?}"
        );
    }
    assert_eq!(
        rig::dump(&till),
        full_dump,
        "a refused write changed the database"
    );
    let stats = till.queue_stats().unwrap();
    assert_eq!(
        stats.pending as usize, recorded,
        "every recorded sale still queued"
    );
    assert!(
        till.integrity_check().unwrap().ok,
        "receipts gapless, queue consistent"
    );
    drop(till);

    // Space comes back (the app reopens): everything recorded syncs, once.
    let till =
        SyncEngine::open(rig.config(dir.path().join("till.db").to_str().unwrap(), &rig.url()))
            .unwrap();
    till.record_sale(big_sale("after")).unwrap();
    rig::sync_until_converged(&till, 20, Duration::from_secs(30)).await;
    assert_eq!(rig.records("sale").await.len(), recorded + 1);
    rig::report(
        "storage: disk full",
        &format!("SQLITE_FULL after {recorded} sales -> StorageFull for sale, adjustment and customer; database unchanged; all {} synced once after space came back", recorded + 1),
    );
}

/// Builds a database with unsynced sales and a catalog, closed and checkpointed so every
/// page is in the main file. Returns the sale ids.
fn build_database(path: &Path, sales: usize) -> Vec<String> {
    let till = SyncEngine::open(offline_config(path)).unwrap();
    let catalog: Vec<_> = (0..2000)
        .map(|i| json!({"id": format!("p{i}"), "name": format!("Product {i} with a longer name"), "sku": format!("SKU{i}")}))
        .collect();
    till.import_products(serde_json::Value::Array(catalog).to_string())
        .unwrap();
    let ids: Vec<String> = (0..sales).map(|i| format!("sale-{i:04}")).collect();
    for id in &ids {
        till.record_sale(rig::sale(id, "p1", 1)).unwrap();
    }
    drop(till);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    ids
}

/// Page numbers of each table and index (from SQLite's dbstat), and the number of rows on
/// each leaf page of `sync_queue`.
/// Pages of each table or index, (page, rows) of each queue leaf, and the page size.
type PageMap = (BTreeMap<String, Vec<i64>>, Vec<(i64, i64)>, i64);

fn page_map(path: &Path) -> PageMap {
    let conn = rusqlite::Connection::open(path).unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let mut map: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut queue_leaves = Vec::new();
    let mut stmt = conn
        .prepare("SELECT name, pageno, pagetype, ncell FROM dbstat ORDER BY pageno")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (name, page, kind, cells) = row.unwrap();
        if name == "sync_queue" && kind == "leaf" {
            queue_leaves.push((page, cells));
        }
        map.entry(name).or_default().push(page);
    }
    (map, queue_leaves, page_size)
}

fn smash(path: &Path, pages: &[i64], page_size: i64) {
    let mut bytes = std::fs::read(path).unwrap();
    for page in pages {
        assert!(*page > 1, "page 1 holds the schema");
        let start = ((page - 1) * page_size) as usize;
        for (i, b) in bytes[start..start + page_size as usize]
            .iter_mut()
            .enumerate()
        {
            *b = (i as u8).wrapping_mul(31) ^ 0xa5;
        }
    }
    std::fs::write(path, bytes).unwrap();
}

fn export(path: &Path) -> (Vec<serde_json::Value>, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .args(["--db", path.to_str().unwrap(), "export-unsynced"])
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

/// Calls every read and write of the API on a damaged database: each must answer (a value
/// or a typed error), never panic.
fn exercise(till: &SyncEngine) -> BTreeMap<&'static str, String> {
    let mut outcomes = BTreeMap::new();
    let mut note = |name: &'static str, r: std::thread::Result<Result<(), PosSyncError>>| {
        let text = match r {
            Err(_) => panic!("{name} panicked on a damaged database"),
            Ok(Ok(())) => "ok".to_owned(),
            Ok(Err(e)) => {
                assert!(
                    matches!(
                        e,
                        PosSyncError::Database { .. } | PosSyncError::NotFound { .. }
                    ),
                    "{name}: {e:?}"
                );
                e.code().to_owned()
            }
        };
        outcomes.insert(name, text);
    };
    let c = AssertUnwindSafe(till);
    note(
        "record_sale",
        std::panic::catch_unwind(|| c.record_sale(rig::sale("new", "p1", 1)).map(drop)),
    );
    note(
        "get_sale",
        std::panic::catch_unwind(|| c.get_sale("sale-0001".into()).map(drop)),
    );
    note(
        "search_products",
        std::panic::catch_unwind(|| c.search_products("Product 12".into(), 10).map(drop)),
    );
    note(
        "product_by_sku",
        std::panic::catch_unwind(|| c.product_by_sku("SKU1500".into()).map(drop)),
    );
    note(
        "queue_stats",
        std::panic::catch_unwind(|| c.queue_stats().map(drop)),
    );
    note(
        "queue_items",
        std::panic::catch_unwind(|| c.queue_items(None, None, 10_000).map(drop)),
    );
    note(
        "audit_trail",
        std::panic::catch_unwind(|| c.audit_trail(10).map(drop)),
    );
    note(
        "integrity_check",
        std::panic::catch_unwind(|| {
            let report = c.integrity_check()?;
            assert!(!report.ok, "damage goes unnoticed");
            Ok(())
        }),
    );
    outcomes
}

#[test]
fn a_damaged_database_gives_clear_errors_and_export_saves_the_unsynced_sales() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = dir.path().join("pristine.db");
    let ids = build_database(&pristine, 400);
    let (pages, queue_leaves, page_size) = page_map(&pristine);

    // 1. The header of the file overwritten: not a database any more.
    let headless = dir.path().join("headless.db");
    let mut bytes = std::fs::read(&pristine).unwrap();
    bytes[..100].fill(0x42);
    std::fs::write(&headless, bytes).unwrap();
    match SyncEngine::open(offline_config(&headless)) {
        Err(PosSyncError::Database { reason: m, .. }) => assert!(
            m.contains("damaged") && m.contains("export-unsynced"),
            "{m}"
        ),
        other => panic!("expected a Database error, got {:?}", other.err()),
    }
    let (_, stderr, ok) = export(&headless);
    assert!(!ok && stderr.contains("damaged"), "{stderr}");

    // 2. Every page of the catalog, the sales table and the audit trail overwritten; the
    // queue intact: everything unsynced is exported.
    let other_tables = dir.path().join("other-tables.db");
    std::fs::copy(&pristine, &other_tables).unwrap();
    let victims: Vec<i64> = pages
        .iter()
        .filter(|(name, _)| {
            name.starts_with("products")
                || name.starts_with("sales")
                || name.starts_with("sqlite_autoindex_sales")
        })
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    assert!(victims.len() > 20, "{pages:?}");
    smash(&other_tables, &victims, page_size);
    let (lines, stderr, ok) = export(&other_tables);
    assert!(ok, "{stderr}");
    let exported: Vec<&str> = lines
        .iter()
        .map(|l| l["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(exported, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        stderr.contains("exported 400 unsynced changes; 0 could not be read"),
        "{stderr}"
    );
    let till = SyncEngine::open(offline_config(&other_tables));
    let outcomes = match &till {
        Ok(till) => exercise(till),
        Err(e) => {
            assert!(matches!(e, PosSyncError::Database { .. }), "{e:?}");
            BTreeMap::from([("open", e.code().to_owned())])
        }
    };
    drop(till);

    // 3. Two leaf pages of the queue itself overwritten: the rest is exported, and the CLI
    // says how many rows it could not read.
    let queue_damaged = dir.path().join("queue-damaged.db");
    std::fs::copy(&pristine, &queue_damaged).unwrap();
    assert!(queue_leaves.len() >= 6, "{queue_leaves:?}");
    let hit = [queue_leaves[1], queue_leaves[queue_leaves.len() / 2]];
    let lost: i64 = hit.iter().map(|(_, cells)| cells).sum();
    smash(&queue_damaged, &hit.map(|(p, _)| p), page_size);
    let (lines, stderr, ok) = export(&queue_damaged);
    assert!(ok, "{stderr}");
    assert_eq!(lines.len() as i64, 400 - lost, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "exported {} unsynced changes; {lost} could not be read",
            400 - lost
        )),
        "{stderr}"
    );
    rig::report(
        "storage: damaged file",
        &format!(
            "header overwritten -> Database error naming export-unsynced; {} pages of other tables overwritten -> API answers {outcomes:?}, export saved 400/400; 2 queue leaf pages overwritten -> export saved {}/400 and reported {lost} unreadable",
            victims.len(),
            400 - lost
        ),
    );
}

#[test]
fn a_database_from_a_newer_pos_sync_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    build_database(&path, 3);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    match SyncEngine::open(offline_config(&path)) {
        Err(PosSyncError::SchemaTooNew { found: 99, .. }) => {}
        other => panic!("{:?}", other.err()),
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .args(["--db", path.to_str().unwrap(), "status"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("update the app"));
    // The unsynced sales can still be saved from it.
    let (lines, _, ok) = export(&path);
    assert!(ok && lines.len() == 3);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file was modified"
    );
}
