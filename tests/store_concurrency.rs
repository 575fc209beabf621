//! One writer and concurrent readers on a real database file (WAL): readers never block the
//! till, never see a sale without its queue row, and never fail with "database is locked".

use pos_sync::{EngineConfig, SyncEngine};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn readers_see_sales_and_queue_rows_commit_together_while_a_till_sells() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let engine =
        SyncEngine::open(EngineConfig::new(path.to_str().unwrap(), "S1", "R1", "d1")).unwrap();
    engine
        .import_products(r#"[{"id":"p1","name":"Espresso","barcode":"111"},{"id":"p2","name":"Water","barcode":"222"}]"#.into())
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let engine = engine.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut snapshots = 0;
                while !done.load(Ordering::SeqCst) {
                    let (sales, queued): (i64, i64) = engine
                        .store()
                        .read(|c| {
                            Ok(c.query_row(
                                "SELECT (SELECT COUNT(*) FROM sales), \
                                 (SELECT COUNT(*) FROM sync_queue WHERE entity_type = 'sale')",
                                [],
                                |r| Ok((r.get(0)?, r.get(1)?)),
                            )?)
                        })
                        .unwrap();
                    assert_eq!(sales, queued, "a reader saw a sale without its queue row");
                    assert_eq!(
                        engine.product_by_barcode("111".into()).unwrap().unwrap().id,
                        "p1"
                    );
                    assert!(engine.queue_stats().unwrap().pending >= sales);
                    snapshots += 1;
                }
                snapshots
            })
        })
        .collect();
    for i in 0..400 {
        let sale = format!(r#"{{"id":"c-{i}","lines":[{{"product_id":"p1","quantity":1}}]}}"#);
        engine.record_sale(sale).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let snapshots: i32 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(snapshots > 0);
    assert_eq!(engine.queue_stats().unwrap().pending, 400);
    assert!(engine.integrity_check().unwrap().ok);
}

#[test]
fn a_second_process_style_opener_shares_the_file_safely() {
    // Two independent stores on one file (as a second process would have): SQLite's locking
    // serialises writers, both see each other's commits, receipts never collide.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let path = path.to_str().unwrap();
    let a = pos_sync::store::Store::open(path, pos_sync::store::Durability::Full).unwrap();
    let b = pos_sync::store::Store::open(path, pos_sync::store::Durability::Full).unwrap();
    let identity = pos_sync::store::state::Identity {
        store_id: "S1".into(),
        register_id: "R1".into(),
        device_id: "d1".into(),
    };
    let writers: Vec<_> = [a, b]
        .into_iter()
        .enumerate()
        .map(|(w, store)| {
            let identity = identity.clone();
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| {
                        let json = format!(
                            r#"{{"id":"w{w}-{i}","lines":[{{"product_id":"p","quantity":1}}]}}"#
                        );
                        store
                            .write(|tx| pos_sync::store::pos::record_sale(tx, &identity, &json, 1))
                            .unwrap()
                            .receipt_number
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut receipts: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    receipts.sort();
    receipts.dedup();
    assert_eq!(receipts.len(), 200, "no receipt number issued twice");
    let store = pos_sync::store::Store::open_read_only(path).unwrap();
    let report = store.read(pos_sync::store::check::integrity_check).unwrap();
    assert!(report.ok, "{report:?}");
}
