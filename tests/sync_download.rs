//! End to end: catalog, prices and reports arrive by delta pages, verified by checksum,
//! with tombstones, rollback of a run, and drift repair by the consistency check.

mod support;

use pos_sync::store::quarantine::{self, QuarantinedRecord};
use pos_sync::store::queue::QueueHealth;
use pos_sync::sync::SyncOutcome;
use pos_sync::SyncEngine;
use serde_json::json;
use support::proxy::{Fault, Proxy};
use support::*;

fn products(range: std::ops::Range<usize>) -> serde_json::Value {
    range
        .map(|i| json!({"id": format!("p{i}"), "sku": format!("SKU-{i}"), "barcode": format!("40000{i:05}"), "name": format!("Product number {i}"), "price": 100 + i}))
        .collect()
}

/// A till that downloads through a counting proxy in pages of 40.
async fn till_in_pages_of_40(world: &World) -> (Proxy, std::sync::Arc<SyncEngine>) {
    let proxy = Proxy::start(&world.url()).await;
    let mut config = world.config(TILL_1, &proxy.url);
    config.download_page_size = 40;
    let till = SyncEngine::open(config).unwrap();
    (proxy, till)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_prices_and_reports_arrive_by_delta_pages() {
    let world = World::start();
    let (proxy, till) = till_in_pages_of_40(&world).await;
    world.put("product", products(0..100)).await;
    world
        .put(
            "price",
            json!([{"id":"pr-1","product_id":"p7","amount":95,"currency":"EUR"}]),
        )
        .await;
    world
        .put("report", json!([{"id":"daily","sales":12}]))
        .await;

    let report = till.sync_now().await;
    assert_eq!(
        (report.outcome, report.downloaded),
        (SyncOutcome::Completed, 102),
        "{report:?}"
    );
    // 100 products in pages of 40 → 3 pages; one page each for prices, customers, reports.
    assert_eq!(proxy.requests("/api/sync/download"), 3 + 1 + 1 + 1);
    let p = till
        .product_by_barcode("4000000042".into())
        .unwrap()
        .unwrap();
    assert_eq!((p.id.as_str(), p.sku.as_deref()), ("p42", Some("SKU-42")));
    assert_eq!(
        till.product_by_sku("SKU-3".into()).unwrap().unwrap().id,
        "p3"
    );
    assert_eq!(till.search_products("number 9".into(), 5).unwrap().len(), 5);
    assert_eq!(till.current_price("p7".into()).unwrap().unwrap().amount, 95);
    assert_eq!(
        till.current_price("p8".into()).unwrap().unwrap().amount,
        108
    );
    assert!(till
        .get_report("daily".into())
        .unwrap()
        .unwrap()
        .json
        .contains("12"));

    // Delta: only what changed since the stored token comes down.
    world
        .put(
            "product",
            json!([{"id":"p1","name":"Renamed","barcode":"999"}]),
        )
        .await;
    world.delete("product", "p2").await;
    let delta = till.sync_now().await;
    assert_eq!(delta.downloaded, 2, "{delta:?}");
    assert_eq!(
        till.product_by_barcode("999".into()).unwrap().unwrap().name,
        "Renamed"
    );
    assert!(
        till.product_by_id("p2".into()).unwrap().is_none(),
        "tombstone deleted it"
    );
    assert!(till.search_products("renamed".into(), 5).unwrap().len() == 1);

    // Rolling the delta run back restores the pre-images and rewinds the token.
    let restored = till.rollback(delta.run_id.clone()).unwrap();
    assert_eq!(restored, 2);
    assert_eq!(
        till.product_by_id("p1".into()).unwrap().unwrap().name,
        "Product number 1"
    );
    assert!(till.product_by_id("p2".into()).unwrap().is_some());
    assert!(till
        .sync_log(50)
        .unwrap()
        .iter()
        .any(|l| l.run_id == delta.run_id && l.status == "ROLLED_BACK"));
    let again = till.sync_now().await;
    assert_eq!(
        again.downloaded, 2,
        "the rewound token fetches the run's changes again"
    );
    assert!(till.product_by_id("p2".into()).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_page_is_detected_and_never_applied() {
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let till = SyncEngine::open(world.config(TILL_1, &proxy.url)).unwrap();
    world.put("product", products(0..3)).await;
    proxy.inject("/api/sync/download", Fault::CorruptRecords);
    let report = till.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::ServerError, "{report:?}");
    assert!(
        report.error.as_deref().unwrap().contains("checksum"),
        "{report:?}"
    );
    assert!(
        till.product_by_id("p0".into()).unwrap().is_none(),
        "nothing of the page applied"
    );
    let failed_step = till
        .sync_log(20)
        .unwrap()
        .into_iter()
        .find(|l| l.sync_type == "product" && l.status == "FAILED")
        .unwrap();
    assert!(failed_step
        .error_message
        .unwrap()
        .contains("corrupted in transit"));
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let retry = till.sync_now().await;
    assert_eq!(retry.outcome, SyncOutcome::Completed, "{retry:?}");
    let p0 = till.product_by_id("p0".into()).unwrap().unwrap();
    assert_eq!(
        p0.name, "Product number 0",
        "the retried page is the server's, untampered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consistency_check_finds_drift_and_a_full_resync_repairs_it() {
    let world = World::start();
    let till = world.engine(TILL_1);
    world.put("product", products(0..20)).await;
    till.sync_now().await;
    let clean = till.check_consistency().await.unwrap();
    assert!(clean.consistent, "{clean:?}");
    let product = clean
        .entities
        .iter()
        .find(|e| e.entity_type == pos_sync::model::EntityType::Product)
        .unwrap();
    assert_eq!((product.local_count, product.server_count), (20, 20));

    // Damage the local catalog behind the engine's back: one row lost, one foreign row.
    till.store()
        .write(|tx| {
            tx.execute("DELETE FROM products WHERE id = 'p5'", [])?;
            tx.execute(
                "INSERT INTO products (id, name, payload, version, checksum, updated_hlc) VALUES ('ghost', 'Ghost', '{\"id\":\"ghost\"}', 3, 'abcd', 1)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let drift = till.check_consistency().await.unwrap();
    assert!(!drift.consistent);
    assert_eq!(
        drift.resync_scheduled,
        vec![pos_sync::model::EntityType::Product]
    );
    let resync = till.sync_now().await;
    assert!(resync.downloaded >= 20, "{resync:?}");
    assert!(till.product_by_id("p5".into()).unwrap().is_some());
    assert!(
        till.product_by_id("ghost".into()).unwrap().is_none(),
        "records the server lacks are removed"
    );
    assert!(till.check_consistency().await.unwrap().consistent);
}

/// The next page is fetched while one is applied; when the apply fails, the page already
/// fetched behind it is discarded: the token stays at the last applied page and the retry
/// brings every record exactly once.
/// Quarantined records of a type, as `pos-sync quarantine` lists them.
fn quarantined(till: &SyncEngine) -> Vec<QuarantinedRecord> {
    till.store().read(quarantine::list).unwrap()
}

/// One price the device cannot use (`amount` as text, as a Laravel decimal cast sends it)
/// among 1,000: the other 999 and the page's token apply, the bad one is quarantined and
/// the health, the sync log and the audit trail say so; later prices still arrive, and the
/// fixed version replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unusable_price_among_1000_is_quarantined_and_the_rest_applies() {
    let world = World::start();
    let till = world.engine(TILL_1);
    let price = |i: usize| json!({"id": format!("pr{i}"), "product_id": format!("p{i}"), "amount": 100 + i});
    let mut prices: Vec<serde_json::Value> = (0..1000).map(price).collect();
    prices[417]["amount"] = json!("1.50");
    world.put("price", json!(prices)).await;

    let first = till.sync_now().await;
    assert_eq!(
        (first.outcome, first.downloaded),
        (SyncOutcome::Completed, 999),
        "{first:?}"
    );
    let held = (0..1000)
        .filter(|i| till.current_price(format!("p{i}")).unwrap().is_some())
        .count();
    assert_eq!(held, 999);
    assert!(till.current_price("p417".into()).unwrap().is_none());
    let q = quarantined(&till);
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(
        (
            q[0].entity_type.as_str(),
            q[0].entity_id.as_str(),
            q[0].version
        ),
        ("price", "pr417", 1)
    );
    assert!(
        q[0].reason.contains("'amount' must be a whole number"),
        "{}",
        q[0].reason
    );
    assert!(q[0]
        .payload
        .as_deref()
        .unwrap()
        .contains(r#""amount":"1.50""#));
    let stats = till.queue_stats().unwrap();
    assert_eq!(stats.health, QueueHealth::Warning);
    assert!(
        stats
            .health_reason
            .starts_with("1 downloaded price record could not be used and is quarantined"),
        "{}",
        stats.health_reason
    );
    assert_eq!(
        till.status().unwrap().queue.health_reason,
        stats.health_reason
    );
    let log = till.sync_log(50).unwrap();
    let row = log
        .iter()
        .find(|l| l.status == "QUARANTINED")
        .expect("a sync log row lists it");
    assert_eq!((row.sync_type.as_str(), row.records_count), ("price", 1));
    assert!(
        row.error_message.as_deref().unwrap().contains("pr417 v1"),
        "{row:?}"
    );
    assert!(till
        .audit_trail(2000)
        .unwrap()
        .iter()
        .any(|a| a.event == "quarantined" && a.entity_id == "pr417"));

    // The token moved on: a new price arrives alone, the bad one is not fetched again.
    world.put("price", json!([price(1000)])).await;
    let next = till.sync_now().await;
    assert_eq!((next.outcome, next.downloaded), (SyncOutcome::Completed, 1));
    assert_eq!(quarantined(&till)[0].times_seen, 1);

    // The server fixes the record: its new version applies and leaves the quarantine.
    world.put("price", json!([price(417)])).await;
    let fixed = till.sync_now().await;
    assert_eq!(
        (fixed.outcome, fixed.downloaded),
        (SyncOutcome::Completed, 1)
    );
    assert_eq!(
        till.current_price("p417".into()).unwrap().unwrap().amount,
        517
    );
    assert!(quarantined(&till).is_empty());
    let stats = till.queue_stats().unwrap();
    assert_eq!(
        (stats.health, stats.health_reason.as_str()),
        (QueueHealth::Ok, "")
    );
}

/// The first catalog download (appended without indexes) and customers quarantine what they
/// cannot use the same way; a newer version that is still unusable replaces the entry, and
/// a tombstone of a quarantined record releases it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_products_in_the_first_load_and_customers_are_quarantined() {
    let world = World::start();
    let (_proxy, till) = till_in_pages_of_40(&world).await;
    let mut catalog = products(0..100);
    // Valid JSON with a good checksum, but a product's name must be text.
    catalog[50]["name"] = json!(42);
    catalog[90]["sku"] = json!({"not": "a key"});
    world.put("product", catalog).await;
    world
        .put(
            "customer",
            json!([{"id": "c1", "name": "Ann"}, {"id": "c2", "phone": "+49 1"}]),
        )
        .await;

    let report = till.sync_now().await;
    assert_eq!(
        (report.outcome, report.downloaded),
        (SyncOutcome::Completed, 98 + 1),
        "{report:?}"
    );
    let present = |range: std::ops::Range<usize>| {
        range
            .filter(|i| till.product_by_id(format!("p{i}")).unwrap().is_some())
            .count()
    };
    assert_eq!(present(0..100), 98);
    assert_eq!(
        till.search_products("number 51".into(), 5).unwrap().len(),
        1
    );
    let ids = |q: Vec<QuarantinedRecord>| -> Vec<(String, String, i64)> {
        q.into_iter()
            .map(|r| (r.entity_type, r.entity_id, r.version))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(
        ids(quarantined(&till)),
        vec![
            ("customer".into(), "c2".into(), 1),
            ("product".into(), "p50".into(), 1),
            ("product".into(), "p90".into(), 1),
        ]
    );
    assert!(till.get_customer("c1".into()).unwrap().is_some());
    let reason = till.queue_stats().unwrap().health_reason;
    assert!(
        reason.starts_with("3 downloaded records (2 product, 1 customer) could not be used"),
        "{reason}"
    );

    // p50 again unusable in a newer version: replaced, not added; p90 deleted on the
    // server: released; c2 fixed: applied.
    world
        .put(
            "product",
            json!([{"id": "p50", "name": ["still", "wrong"]}]),
        )
        .await;
    world.delete("product", "p90").await;
    world
        .put("customer", json!([{"id": "c2", "name": "Bo"}]))
        .await;
    let again = till.sync_now().await;
    assert_eq!(again.outcome, SyncOutcome::Completed, "{again:?}");
    assert_eq!(
        ids(quarantined(&till)),
        vec![("product".into(), "p50".into(), 2)]
    );
    assert_eq!(till.get_customer("c2".into()).unwrap().unwrap().name, "Bo");

    world
        .put(
            "product",
            json!([{"id": "p50", "name": "Product number 50"}]),
        )
        .await;
    assert_eq!(till.sync_now().await.downloaded, 1);
    assert!(quarantined(&till).is_empty());
    assert_eq!(present(0..100), 99);
}

/// The first catalog download appends without indexes; a product edited on the server
/// while the load pages comes twice and a product deleted meanwhile comes as a tombstone.
/// The device ends with exactly the server's catalog, indexed and searchable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_the_first_catalog_download_pages_end_as_on_the_server() {
    let world = World::start();
    let (proxy, till) = till_in_pages_of_40(&world).await;
    world.put("product", products(0..100)).await;
    // The first page's answer is held after the server produced it (p0..p39, p1 and p2
    // among them); meanwhile p1 is renamed and p2 deleted, so both come again at the end.
    proxy.inject("/api/sync/download", Fault::StallAfterForward { ms: 1_000 });
    let syncing = tokio::spawn({
        let till = till.clone();
        async move { till.sync_now().await }
    });
    eventually("the first page is requested", || {
        proxy.requests("/api/sync/download") == 1
    })
    .await;
    world
        .put(
            "product",
            json!([{"id": "p1", "name": "Renamed While Loading", "barcode": "777"}]),
        )
        .await;
    world.delete("product", "p2").await;
    let report = syncing.await.unwrap();
    assert_eq!(report.outcome, SyncOutcome::Completed, "{report:?}");
    assert_eq!(
        report.downloaded, 102,
        "100 products, p1 again and p2's tombstone: {report:?}"
    );

    let p1 = till.product_by_id("p1".into()).unwrap().unwrap();
    assert_eq!(p1.name, "Renamed While Loading");
    assert_eq!(
        till.product_by_barcode("777".into()).unwrap().unwrap().id,
        "p1"
    );
    assert!(till
        .product_by_barcode("4000000001".into())
        .unwrap()
        .is_none());
    assert!(till.product_by_id("p2".into()).unwrap().is_none());
    let present = (0..100)
        .filter(|i| till.product_by_id(format!("p{i}")).unwrap().is_some())
        .count();
    assert_eq!(present, 99);
    let renamed = till.search_products("renamed".into(), 5).unwrap();
    assert_eq!(renamed.len(), 1);
    assert!(till
        .search_products("number 1".into(), 200)
        .unwrap()
        .iter()
        .all(|p| p.id != "p1"));
    till.store()
        .write(|tx| {
            tx.execute(
                "INSERT INTO products_fts (products_fts) VALUES ('integrity-check')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let consistency = till.check_consistency().await.unwrap();
    assert!(consistency.consistent, "{consistency:?}");
}

/// The server restored from a backup (here: the till moved to a server that holds only the
/// backup's records): its answer `sync_token_ahead` makes the till download each such type
/// again from the beginning, remove what the server no longer has and keep its own unsynced
/// edits; the sync log records it, and the next sync is an ordinary delta again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_ahead_of_a_restored_server_leads_to_a_full_resync_of_its_type() {
    let before = World::start();
    before.put("product", products(0..10)).await;
    before
        .put(
            "customer",
            json!([{"id": "c1", "name": "Ann"}, {"id": "c2", "name": "Bo"}]),
        )
        .await;
    let till = before.engine(TILL_1);
    assert_eq!(till.sync_now().await.downloaded, 12);
    // An edit the restored server will not accept (it has no c2): it stays unsynced.
    till.update_customer(json!({"id": "c2", "name": "Bo Edited"}).to_string())
        .unwrap();
    let mut config = before.config(TILL_1, &before.url());
    drop(till);

    let restored = World::start();
    restored.put("product", products(0..5)).await;
    restored
        .put(
            "product",
            json!([{"id": "p100", "name": "New after the restore"}]),
        )
        .await;
    restored
        .put("customer", json!([{"id": "c1", "name": "Ann"}]))
        .await;
    config.server_url = Some(restored.url());
    let till = SyncEngine::open(config).unwrap();
    let report = till.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::Completed, "{report:?}");
    let has = |id: &str| till.product_by_id(id.into()).unwrap().is_some();
    assert!((0..5).all(|i| has(&format!("p{i}"))) && has("p100"));
    assert!(
        (5..10).all(|i| !has(&format!("p{i}"))),
        "gone from the server, gone here"
    );
    assert_eq!(till.get_customer("c1".into()).unwrap().unwrap().name, "Ann");
    assert_eq!(
        till.get_customer("c2".into()).unwrap().unwrap().name,
        "Bo Edited",
        "an unsynced edit is kept"
    );
    let resyncs: Vec<(String, i64)> = till
        .sync_log(100)
        .unwrap()
        .into_iter()
        .filter(|l| {
            l.status == "RESYNC" && l.error_message.as_deref().unwrap().contains("finished")
        })
        .map(|l| (l.sync_type, l.records_count))
        .collect();
    assert!(resyncs.contains(&("product".to_owned(), 5)), "{resyncs:?}");
    assert!(resyncs.iter().any(|(t, _)| t == "customer"), "{resyncs:?}");
    assert!(till
        .sync_log(100)
        .unwrap()
        .iter()
        .any(|l| l.status == "RESYNC"
            && l.error_message
                .as_deref()
                .unwrap()
                .contains("sync_token_ahead")));

    let again = till.sync_now().await;
    assert_eq!(
        (again.outcome, again.downloaded),
        (SyncOutcome::Completed, 0),
        "{again:?}"
    );
    let resyncs_after = till
        .sync_log(200)
        .unwrap()
        .into_iter()
        .filter(|l| l.status == "RESYNC")
        .count();
    assert_eq!(
        resyncs_after, 4,
        "two types, a start and an end each, only once"
    );
}
