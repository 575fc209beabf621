//! End to end: catalog, prices and reports arrive by delta pages, verified by checksum,
//! with tombstones, rollback of a run, and drift repair by the consistency check.

mod support;

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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_fails_to_apply_discards_the_page_fetched_behind_it() {
    let world = World::start();
    let (_proxy, till) = till_in_pages_of_40(&world).await;
    let mut catalog = products(0..100);
    // Valid JSON with a good checksum, but a product's name must be text: its page (the
    // second: p40..p79) cannot be applied.
    catalog[50]["name"] = json!(42);
    world.put("product", catalog).await;

    let failed = till.sync_now().await;
    assert_eq!(failed.outcome, SyncOutcome::ServerError, "{failed:?}");
    assert!(failed
        .error
        .as_deref()
        .unwrap()
        .contains("unusable product"));
    assert_eq!(failed.downloaded, 40, "{failed:?}");
    let present = |range: std::ops::Range<usize>| {
        range
            .filter(|i| till.product_by_id(format!("p{i}")).unwrap().is_some())
            .count()
    };
    assert_eq!(present(0..40), 40, "the first page was applied");
    assert_eq!(present(40..80), 0, "the failed page left nothing");
    assert_eq!(
        present(80..100),
        0,
        "the page fetched during the failed apply was discarded"
    );

    world
        .put(
            "product",
            json!([{"id": "p50", "name": "Product number 50"}]),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let retry = till.sync_now().await;
    assert_eq!(retry.outcome, SyncOutcome::Completed, "{retry:?}");
    assert_eq!(
        retry.downloaded, 60,
        "from the last applied page's token on, nothing twice"
    );
    assert_eq!(present(0..100), 100);
    let downloaded = till
        .audit_trail(1000)
        .unwrap()
        .into_iter()
        .filter(|a| a.event == "downloaded")
        .count();
    assert_eq!(downloaded, 100, "each record applied once");
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
