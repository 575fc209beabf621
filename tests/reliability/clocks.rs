//! Clocks: tests/sync_customers.rs covers a device clock a day behind or ahead that stays
//! so (the offset is learned before the edits). These add clocks that move while the till
//! works: jumping backwards mid-run between sales and syncs, and jumping a day forward
//! after the last sync, so an edit is stamped before the device can know its clock is wrong.

use crate::rig::{self, Rig};
use pos_sync::model::{hlc, OffsetClock, SyncState};
use pos_sync::store::pos::SaleReceipt;
use pos_sync::sync::SyncOutcome;
use pos_sync::SyncEngine;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_jumping_backwards_mid_run_keeps_sales_in_recording_order() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::new(0));
    let config = rig.config(dir.path().join("till.db").to_str().unwrap(), &rig.url());
    let till = SyncEngine::open_with_clock(config, clock.clone()).unwrap();
    // Each step: where the clock jumps (backwards only), how many sales, then sync or not.
    let steps: [(i64, usize, bool); 7] = [
        (0, 5, false),
        (-HOUR_MS, 5, true),
        (-DAY_MS, 5, false),
        (-DAY_MS - 10_000, 5, true),
        (-2 * DAY_MS, 5, true),
        (-2 * DAY_MS - 1, 5, false),
        (-3 * DAY_MS, 5, true),
    ];
    let mut recorded = Vec::new();
    for (offset, sales, sync) in steps {
        clock.set_offset_ms(offset);
        for _ in 0..sales {
            let id = format!("clock-{}", recorded.len());
            let receipt = till.record_sale(rig::sale(&id, "p1", 1)).unwrap();
            recorded.push(receipt);
        }
        if sync {
            let report = till.sync_now().await;
            assert_eq!(report.outcome, SyncOutcome::Completed, "{report:?}");
        }
    }
    for (i, receipt) in recorded.iter().enumerate() {
        assert_eq!(receipt.receipt_number, format!("S1-R1-{:06}", i + 1));
    }
    assert!(
        recorded.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "HLCs strictly increase in recording order while the clock goes backwards"
    );
    assert_queue_in_recording_order(&till, &recorded);
    let server = rig.records("sale").await;
    assert_eq!(server.len(), recorded.len());
    for r in &recorded {
        let stored = &server[&r.sale_id];
        assert_eq!(stored.payload["receipt_number"], r.receipt_number.as_str());
    }
    // The server's clock corrected every synced stamp: none lies in the real past by more
    // than the run took, whatever the device clock said.
    let now = chrono::Utc::now().timestamp_millis();
    for r in recorded.iter().skip(5) {
        assert!(
            hlc::millis(r.hlc) > now - 60_000,
            "sale {} stamped {} ms in the past",
            r.sale_id,
            now - hlc::millis(r.hlc)
        );
    }
    assert!(till.integrity_check().unwrap().ok);
}

/// The till and the server share customer c1; then the till's clock jumps a day ahead (no
/// sync since), the till edits the phone, and a little later the back office edits it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_stamped_by_a_clock_that_jumped_ahead_does_not_win_by_accident() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::new(0));
    let mut config = rig.config(dir.path().join("till.db").to_str().unwrap(), &rig.url());
    config.conflict_tie_window_ms = 100;
    let till = SyncEngine::open_with_clock(config, clock.clone()).unwrap();
    let c1 = |phone: &str| json!({"id":"c1","name":"Ana","phone":phone}).to_string();
    till.create_customer(c1("+351 000")).unwrap();
    assert_eq!(till.sync_now().await.outcome, SyncOutcome::Completed);

    clock.set_offset_ms(DAY_MS);
    till.update_customer(c1("+351 111")).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    rig.put(
        "customer",
        json!([{"id":"c1","name":"Ana","phone":"+351 222"}]),
    )
    .await;
    let report = till.sync_now().await;
    let server_phone = rig.records("customer").await["c1"].payload["phone"].clone();
    // The back office edited last in real time. The till's stamp is a day in the future of
    // the corrected clock, so it says nothing about which came first: the server's edit
    // must not lose to it automatically.
    let open = till.conflicts().unwrap();
    assert!(
        server_phone == "+351 222" || open.len() == 1,
        "the till's edit from a clock a day ahead won automatically: {report:?}"
    );
    if let Some(conflict) = open.first() {
        assert!(conflict.reason.contains("clock"), "{}", conflict.reason);
        assert_eq!(
            till.queue_items(Some(SyncState::Conflict), None, 5)
                .unwrap()
                .len(),
            1
        );
    }
}

/// The one place where a device's stamps go backwards on purpose: a clock found running
/// ahead is pulled back to the server's time at the next sync (otherwise every later edit
/// would keep the wrong lead and win conflicts it should lose; `state::set_clock_offset`).
/// Sales are not ordered by stamp: receipts and the queue keep the recording order, and no
/// stamp falls below what the server has already handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_found_ahead_is_pulled_back_and_sales_keep_their_order() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(OffsetClock::new(DAY_MS));
    let config = rig.config(dir.path().join("till.db").to_str().unwrap(), &rig.url());
    let till = SyncEngine::open_with_clock(config, clock.clone()).unwrap();
    let mut recorded = Vec::new();
    for round in 0..3 {
        for _ in 0..4 {
            let id = format!("ahead-{}", recorded.len());
            recorded.push(till.record_sale(rig::sale(&id, "p1", 1)).unwrap());
        }
        let report = till.sync_now().await;
        assert_eq!(
            report.outcome,
            SyncOutcome::Completed,
            "round {round}: {report:?}"
        );
    }
    let first_round_max = recorded[..4].iter().map(|r| r.hlc).max().unwrap();
    assert!(
        hlc::millis(first_round_max) > chrono::Utc::now().timestamp_millis() + DAY_MS / 2,
        "before the first sync the till cannot know its clock is ahead"
    );
    assert!(
        recorded[4].hlc < first_round_max,
        "after the sync the stamps are back on the server's time"
    );
    assert!(recorded[4..].windows(2).all(|w| w[0].hlc < w[1].hlc));
    for (i, r) in recorded.iter().enumerate() {
        assert_eq!(r.receipt_number, format!("S1-R1-{:06}", i + 1));
    }
    assert_queue_in_recording_order(&till, &recorded);
    // The server stamped the first round with its own time (a clock far ahead cannot make
    // an edit win for days), so everything it holds is on its own clock.
    let now = chrono::Utc::now().timestamp_millis();
    for record in rig.records("sale").await.values() {
        assert!(
            hlc::millis(record.updated_hlc) <= now + 60_000,
            "{record:?}"
        );
    }
}

/// The device's queue holds the sales in the order they were recorded, whatever the clock.
fn assert_queue_in_recording_order(till: &SyncEngine, recorded: &[SaleReceipt]) {
    let queued: Vec<String> = till
        .queue_items(None, None, 1000)
        .unwrap()
        .into_iter()
        .map(|i| i.entity_id)
        .collect();
    let order: Vec<String> = recorded.iter().map(|r| r.sale_id.clone()).collect();
    assert_eq!(queued, order, "queue order is recording order");
}
