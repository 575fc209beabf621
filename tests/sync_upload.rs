//! End to end: sales and stock adjustments recorded offline reach the real server exactly
//! once — through batches, duplicates, crashes, rejections, 429 and 5xx answers.

mod support;

use pos_sync::model::{EntityType, SyncState};
use pos_sync::protocol::{batch_checksum, Change, UploadRequest};
use pos_sync::store::queue::{self, BatchLimits, QueueHealth};
use pos_sync::sync::SyncOutcome;
use pos_sync::SyncEngine;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use support::proxy::{Fault, Proxy};
use support::*;

async fn assert_server_holds_each_sale_once(world: &World, expected: usize) {
    let sales = world.records("sale").await;
    let ids: HashSet<_> = sales.iter().map(|r| r.entity_id.clone()).collect();
    assert_eq!(sales.len(), expected, "server sales");
    assert_eq!(ids.len(), expected, "duplicated sale ids on the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_sales_reach_the_server_exactly_once_and_move_stock() {
    let world = World::start();
    let till = world.engine(TILL_1);
    for i in 0..25 {
        let receipt = till
            .record_sale(sale(&format!("t1-sale-{i}"), "p1", 2))
            .unwrap();
        assert_eq!(receipt.receipt_number, format!("S1-R1-{:06}", i + 1));
    }
    till.record_stock_adjustment(
        json!({"id":"adj-1","product_id":"p1","quantity_delta":100}).to_string(),
    )
    .unwrap();
    assert_eq!(till.queue_stats().unwrap().pending, 26);

    let report = till.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::Completed, "{report:?}");
    assert_eq!(
        (report.uploaded, report.failed, report.remaining),
        (26, 0, 0)
    );
    assert_server_holds_each_sale_once(&world, 25).await;
    assert_eq!(world.stock("p1").await, 100.0 - 50.0);
    let on_server = world.records("sale").await;
    assert!(on_server.iter().all(|r| r.payload["receipt_number"]
        .as_str()
        .unwrap()
        .starts_with("S1-R1-")));

    let again = till.sync_now().await;
    assert_eq!(again.uploaded, 0);
    let stats = till.queue_stats().unwrap();
    assert_eq!(
        (stats.synced, stats.pending, stats.health),
        (26, 0, QueueHealth::Ok)
    );
    let audit = till.audit_trail(100).unwrap();
    assert_eq!(audit.iter().filter(|a| a.event == "uploaded").count(), 26);
    let log = till.sync_log(50).unwrap();
    assert!(log.iter().any(|l| l.sync_type == "sale"
        && l.direction == "upload"
        && l.records_count == 25
        && l.status == "OK"));
    assert!(log
        .iter()
        .any(|l| l.sync_type == "cycle" && l.status == "OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_go_in_bounded_batches_by_priority() {
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let mut config = world.config(TILL_1, &proxy.url);
    config.upload_batch_size = 10;
    let till = SyncEngine::open(config).unwrap();
    till.record_stock_adjustment(
        json!({"id":"adj-first","product_id":"p9","quantity_delta":-1}).to_string(),
    )
    .unwrap();
    for i in 0..25 {
        till.record_sale(sale(&format!("b-{i}"), "p1", 1)).unwrap();
    }
    let report = till.sync_now().await;
    assert_eq!(report.uploaded, 26, "{report:?}");
    // 25 sales in batches of 10, then the stock adjustment queued before them.
    assert_eq!(proxy.requests("/api/sync/upload"), 4);
    let uploads: Vec<_> = till
        .audit_trail(100)
        .unwrap()
        .into_iter()
        .rev()
        .filter(|a| a.event == "uploaded")
        .map(|a| a.entity_type)
        .collect();
    assert_eq!(
        uploads.last(),
        Some(&EntityType::StockAdjustment),
        "sales (priority 1) go first"
    );
    assert!(uploads[..25].iter().all(|t| *t == EntityType::Sale));
}

/// Sales upload with the next batch claimed while the current one is at the server. That
/// batch must go out only after the answer to the current one, and go back to PENDING,
/// never sent and no attempt counted, when that answer is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_claimed_ahead_waits_for_the_answer_and_is_released_when_it_is_lost() {
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let mut config = world.config(TILL_1, &proxy.url);
    config.upload_batch_size = 5;
    let till = Arc::new(SyncEngine::open(config).unwrap());
    let status_count = |status: SyncState| {
        till.queue_items(Some(status), None, 100)
            .unwrap()
            .into_iter()
            .map(|i| i.attempts)
            .collect::<Vec<_>>()
    };
    for i in 0..15 {
        till.record_sale(sale(&format!("ahead-{i}"), "p1", 1))
            .unwrap();
    }

    // While the first batch waits at the server, the second is claimed but not sent.
    proxy.inject("/api/sync/upload", Fault::StallAfterForward { ms: 3_000 });
    let sync = tokio::spawn({
        let till = till.clone();
        async move { till.sync_now().await }
    });
    eventually(
        "two batches are claimed while one request is at the server",
        || status_count(SyncState::Syncing).len() == 10 && proxy.requests("/api/sync/upload") == 1,
    )
    .await;
    let report = sync.await.unwrap();
    assert_eq!(
        (report.outcome, report.uploaded),
        (SyncOutcome::Completed, 15),
        "{report:?}"
    );
    assert_eq!(proxy.requests("/api/sync/upload"), 3);
    assert_server_holds_each_sale_once(&world, 15).await;

    // The answer to the first batch is lost: it failed (it may have landed), the batch
    // claimed ahead is back to PENDING as if never claimed, and nothing else was sent.
    for i in 0..15 {
        till.record_sale(sale(&format!("lost-ahead-{i}"), "p1", 1))
            .unwrap();
    }
    proxy.inject("/api/sync/upload", Fault::LoseResponse);
    let lost = till.sync_now().await;
    assert_eq!(lost.outcome, SyncOutcome::ServerError, "{lost:?}");
    assert_eq!(proxy.requests("/api/sync/upload"), 4);
    assert_eq!(status_count(SyncState::Failed), vec![1; 5]);
    assert_eq!(status_count(SyncState::Pending), vec![0; 10]);
    assert!(status_count(SyncState::Syncing).is_empty());

    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // past the retry backoff
    let retried = till.sync_now().await;
    assert_eq!(
        (retried.outcome, retried.uploaded),
        (SyncOutcome::Completed, 15),
        "{retried:?}"
    );
    assert_server_holds_each_sale_once(&world, 30).await;
    assert_eq!(world.stock("p1").await, -30.0, "stock moved once per sale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_converges_through_duplicates() {
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let till = SyncEngine::open(world.config(TILL_1, &proxy.url)).unwrap();
    for i in 0..5 {
        till.record_sale(sale(&format!("lost-{i}"), "p1", 1))
            .unwrap();
    }
    proxy.inject("/api/sync/upload", Fault::LoseResponse);
    let first = till.sync_now().await;
    assert_eq!(first.outcome, SyncOutcome::ServerError, "{first:?}");
    assert_eq!(first.failed, 5);
    // The server committed them even though the device never heard back.
    assert_server_holds_each_sale_once(&world, 5).await;
    let failed = till.queue_items(Some(SyncState::Failed), None, 10).unwrap();
    assert_eq!(failed.len(), 5);
    assert!(failed[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("HTTP 504"));

    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // past the retry backoff
    let second = till.sync_now().await;
    assert_eq!(
        (second.outcome, second.uploaded),
        (SyncOutcome::Completed, 5),
        "{second:?}"
    );
    assert_server_holds_each_sale_once(&world, 5).await;
    assert_eq!(world.stock("p1").await, -5.0, "stock moved once per sale");
    let duplicates = till
        .audit_trail(50)
        .unwrap()
        .into_iter()
        .filter(|a| a.event == "duplicate")
        .count();
    assert_eq!(duplicates, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_server_committed_converges_to_exactly_once() {
    let world = World::start();
    let config = world.config(TILL_1, &world.url());
    let claimed = {
        let till = SyncEngine::open(config.clone()).unwrap();
        for i in 0..4 {
            till.record_sale(sale(&format!("crash-{i}"), "p1", 1))
                .unwrap();
        }
        // Mid-upload: the batch is claimed and delivered, then the process dies before
        // marking anything.
        let batch = till
            .store()
            .write(|tx| {
                queue::claim_batch(
                    tx,
                    EntityType::Sale,
                    BatchLimits {
                        max_items: 3,
                        max_bytes: 1 << 20,
                    },
                    0,
                )
            })
            .unwrap();
        deliver_raw(&world, &batch).await;
        batch
    }; // engine dropped: the "crash"
    let till = SyncEngine::open(config).unwrap();
    for item in &claimed {
        let row = till
            .store()
            .read(|c| queue::get(c, &item.change_id))
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.status, row.attempts),
            (SyncState::Pending, 1),
            "recovered on open"
        );
    }
    let report = till.sync_now().await;
    assert_eq!(
        (report.outcome, report.uploaded),
        (SyncOutcome::Completed, 4),
        "{report:?}"
    );
    assert_server_holds_each_sale_once(&world, 4).await;
    assert_eq!(till.queue_stats().unwrap().synced, 4);
}

/// Sends claimed queue rows the way the engine would, bypassing the engine.
async fn deliver_raw(world: &World, batch: &[queue::QueueItem]) {
    let changes: Vec<Change> = batch
        .iter()
        .map(|i| Change {
            change_id: i.change_id.clone(),
            entity_type: i.entity_type,
            entity_id: i.entity_id.clone(),
            action: i.action,
            hlc: i.hlc,
            base_version: None,
            payload: serde_json::from_str(&i.payload_json).unwrap(),
            checksum: i.checksum.clone(),
        })
        .collect();
    let request = UploadRequest {
        batch_id: "raw".into(),
        checksum: batch_checksum(&changes),
        changes,
    };
    let response = reqwest::Client::new()
        .post(format!("{}/api/sync/upload", world.url()))
        .bearer_auth(TILL_1.0)
        .json(&request)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_change_stays_failed_with_the_reason_and_never_blocks_the_rest() {
    let world = World::start();
    let till = world.engine(TILL_1);
    for i in 0..3 {
        till.record_sale(sale(&format!("ok-{i}"), "p1", 1)).unwrap();
    }
    let bad = till.record_sale(sale("bad-sale", "p1", 1)).unwrap();
    // An older app version queued a sale the server refuses (its id does not match).
    let payload = json!({"id":"someone-else","lines":[{"product_id":"p1","quantity":1}]});
    till.store()
        .write(|tx| {
            tx.execute(
                "UPDATE sync_queue SET payload = ?2, checksum = ?3 WHERE id = ?1",
                rusqlite::params![
                    bad.change_id,
                    payload.to_string(),
                    pos_sync::protocol::payload_checksum(&payload)
                ],
            )?;
            Ok(())
        })
        .unwrap();
    let report = till.sync_now().await;
    assert_eq!(
        (report.uploaded, report.rejected, report.failed),
        (3, 1, 1),
        "{report:?}"
    );
    let item = till
        .store()
        .read(|c| queue::get(c, &bad.change_id))
        .unwrap()
        .unwrap();
    assert_eq!(item.status, SyncState::Failed);
    assert!(item.rejected);
    assert!(
        item.last_error
            .as_deref()
            .unwrap()
            .contains("refused by the server (invalid_payload)"),
        "{item:?}"
    );
    let stats = till.queue_stats().unwrap();
    assert_eq!((stats.rejected, stats.health), (1, QueueHealth::Warning));
    assert!(stats.health_reason.contains("refused by the server"));
    // Later sales still flow; the rejected one is kept, never dropped.
    till.record_sale(sale("after", "p1", 1)).unwrap();
    let later = till.sync_now().await;
    assert_eq!(later.uploaded, 1);
    assert!(till
        .store()
        .read(|c| queue::get(c, &bad.change_id))
        .unwrap()
        .is_some());
    assert_server_holds_each_sale_once(&world, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limiting_and_server_errors_back_off_then_recover() {
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let till = SyncEngine::open(world.config(TILL_1, &proxy.url)).unwrap();
    till.record_sale(sale("r-1", "p1", 1)).unwrap();

    proxy.inject(
        "/api/sync/upload",
        Fault::Status {
            status: 429,
            retry_after: Some(1),
        },
    );
    let limited = till.sync_now().await;
    assert_eq!(limited.outcome, SyncOutcome::BackedOff, "{limited:?}");
    assert!(limited
        .error
        .as_deref()
        .unwrap()
        .contains("retry in 1000 ms"));
    let until = limited.next_sync_allowed_at_ms.unwrap();
    // The server asked for a pause: even a manual sync waits for it, without a request.
    let before = proxy.requests("/api/sync/upload");
    assert_eq!(till.sync_now().await.outcome, SyncOutcome::BackedOff);
    assert_eq!(proxy.requests("/api/sync/upload"), before);
    let wait = (until - chrono::Utc::now().timestamp_millis()).max(0) as u64 + 100;
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
    let recovered = till.sync_now().await;
    assert_eq!(
        (recovered.outcome, recovered.uploaded),
        (SyncOutcome::Completed, 1),
        "{recovered:?}"
    );

    // A 503 on upload fails that step, but downloads in the same cycle still happen.
    till.record_sale(sale("r-2", "p1", 1)).unwrap();
    world
        .put("product", json!([{"id":"p1","name":"Cola","price":250}]))
        .await;
    proxy.inject(
        "/api/sync/upload",
        Fault::Status {
            status: 503,
            retry_after: None,
        },
    );
    let failed = till.sync_now().await;
    assert_eq!(failed.outcome, SyncOutcome::ServerError, "{failed:?}");
    assert!(
        till.product_by_id("p1".into()).unwrap().is_some(),
        "downloads not held back"
    );
    // Manual sync skips the engine's own backoff (not a server-mandated one).
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let retried = till.sync_now().await;
    assert_eq!(
        (retried.outcome, retried.uploaded),
        (SyncOutcome::Completed, 1),
        "{retried:?}"
    );
    assert_server_holds_each_sale_once(&world, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_sales_never_holds_back_new_prices() {
    let world = World::start();
    let mut config = world.config(TILL_1, &world.url());
    config.upload_batch_size = 10;
    config.max_upload_batches_per_cycle = 1;
    let till = SyncEngine::open(config).unwrap();
    for i in 0..35 {
        till.record_sale(sale(&format!("backlog-{i}"), "p1", 1))
            .unwrap();
    }
    world
        .put(
            "price",
            json!([{"id":"price-1","product_id":"p1","amount":199}]),
        )
        .await;
    let first = till.sync_now().await;
    assert_eq!(first.uploaded, 10);
    assert!(first.more_work_pending);
    assert_eq!(
        till.current_price("p1".into()).unwrap().unwrap().amount,
        199,
        "price arrived in the same cycle"
    );
    let mut cycles = 1;
    while till.queue_stats().unwrap().pending > 0 {
        till.sync_now().await;
        cycles += 1;
        assert!(cycles < 10);
    }
    assert_eq!(cycles, 4);
    assert_server_holds_each_sale_once(&world, 35).await;
}

/// A queued payload is checked against its checksum before it is sent: stored text that
/// still means the same document goes out, a changed document never leaves the device.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_payload_changed_on_disk_is_never_sent() {
    let world = World::start();
    let till = world.engine(TILL_1);
    till.record_sale(sale("respaced", "p1", 1)).unwrap();
    till.record_sale(sale("tampered", "p1", 1)).unwrap();
    let rewrite = |entity_id: &str, edit: fn(&str) -> String| {
        till.store()
            .write(|tx| {
                let text: String = tx.query_row(
                    "SELECT payload FROM sync_queue WHERE entity_id = ?1",
                    [entity_id],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "UPDATE sync_queue SET payload = ?2 WHERE entity_id = ?1",
                    [entity_id, &edit(&text)],
                )?;
                Ok(())
            })
            .unwrap();
    };
    // Not canonical any more, but the same document: verified the long way, then sent.
    rewrite("respaced", |text| text.replace(',', ", "));
    let report = till.sync_now().await;
    assert_eq!(
        (report.outcome, report.uploaded),
        (SyncOutcome::Completed, 2),
        "{report:?}"
    );

    till.record_sale(sale("tampered-2", "p1", 1)).unwrap();
    rewrite("tampered-2", |text| {
        text.replace("\"quantity\":1", "\"quantity\":9")
    });
    let report = till.sync_now().await;
    assert_eq!((report.uploaded, report.failed), (0, 1), "{report:?}");
    let failed = till.queue_items(Some(SyncState::Failed), None, 10).unwrap();
    assert!(failed[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("no longer matches its checksum"));
    assert_eq!(
        world.records("sale").await.len(),
        2,
        "the changed sale stayed on the device"
    );
}
