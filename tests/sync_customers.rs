//! End to end: customers edited on both sides are merged field by field, decided by
//! hybrid-logical-clock timestamp (corrected by the server's clock, so a device whose clock
//! is a day off decides correctly), or sent to manual review and resolved.

mod support;

use pos_sync::model::{OffsetClock, SyncState};
use pos_sync::protocol::Resolution;
use pos_sync::store::conflicts::Conflict;
use pos_sync::sync::events::{SyncStatus, SyncStatusListener};
use pos_sync::sync::SyncOutcome;
use pos_sync::SyncEngine;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

const DAY_MS: i64 = 86_400_000;

/// Opens till 1 with a clock that is `offset_ms` wrong and the given tie window, and syncs
/// one customer so both sides share a merge base.
async fn till_with_shared_customer(world: &World, offset_ms: i64, tie_ms: i64) -> Arc<SyncEngine> {
    let mut config = world.config(TILL_1, &world.url());
    config.conflict_tie_window_ms = tie_ms;
    let till = SyncEngine::open_with_clock(config, Arc::new(OffsetClock::new(offset_ms))).unwrap();
    till.create_customer(
        json!({"id":"c1","name":"Ana Silva","phone":"+351 911 000 001","email":"ana@example.com"})
            .to_string(),
    )
    .unwrap();
    let report = till.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::Completed, "{report:?}");
    assert_eq!(till.get_customer("c1".into()).unwrap().unwrap().version, 1);
    till
}

async fn server_customer(world: &World) -> serde_json::Value {
    world
        .records("customer")
        .await
        .into_iter()
        .find(|r| r.entity_id == "c1")
        .unwrap()
        .payload
}

/// The till edits a customer (the app's JSON document).
fn edit_on_till(till: &SyncEngine, customer: serde_json::Value) {
    till.update_customer(customer.to_string()).unwrap();
}

/// The back office edits a customer on the server.
async fn edit_on_server(world: &World, customer: serde_json::Value) {
    world
        .put("customer", serde_json::Value::Array(vec![customer]))
        .await;
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_created_offline_reach_the_other_till() {
    let world = World::start();
    let till1 = till_with_shared_customer(&world, 0, 100).await;
    let till2 = world.engine(TILL_2);
    till2.sync_now().await;
    let seen = till2.get_customer("c1".into()).unwrap().unwrap();
    assert_eq!(
        (seen.name.as_str(), seen.version, seen.pending_upload),
        ("Ana Silva", 1, false)
    );
    assert_eq!(
        till2.search_customers("+351 911".into(), 5).unwrap().len(),
        1
    );
    assert_eq!(
        till2.search_customers("ana@exa".into(), 5).unwrap().len(),
        1
    );
    edit_on_till(
        &till2,
        json!({"id":"c1","name":"Ana Silva Costa","phone":"+351 911 000 001","email":"ana@example.com"}),
    );
    till2.sync_now().await;
    till1.sync_now().await;
    assert_eq!(
        till1.get_customer("c1".into()).unwrap().unwrap().name,
        "Ana Silva Costa"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_later_edit_of_the_same_field_wins() {
    let world = World::start();
    let till = till_with_shared_customer(&world, 0, 100).await;
    // Server edits the phone, then the till edits it later: the till wins.
    edit_on_server(
        &world,
        json!({"id":"c1","name":"Ana Silva","phone":"+351 000","email":"ana@example.com"}),
    )
    .await;
    pause().await;
    edit_on_till(
        &till,
        json!({"id":"c1","name":"Ana Silva","phone":"+351 111","email":"ana@example.com"}),
    );
    let report = till.sync_now().await;
    assert_eq!(
        (report.auto_resolved, report.conflicts),
        (1, 0),
        "{report:?}"
    );
    assert_eq!(server_customer(&world).await["phone"], "+351 111");
    // The till edits the e-mail, then the server edits it later: the server wins.
    edit_on_till(
        &till,
        json!({"id":"c1","name":"Ana Silva","phone":"+351 111","email":"old@till"}),
    );
    pause().await;
    edit_on_server(
        &world,
        json!({"id":"c1","name":"Ana Silva","phone":"+351 111","email":"new@office"}),
    )
    .await;
    let report = till.sync_now().await;
    assert_eq!(report.auto_resolved, 1, "{report:?}");
    let local = till.get_customer("c1".into()).unwrap().unwrap();
    assert_eq!(local.email.as_deref(), Some("new@office"));
    assert!(!local.pending_upload);
    assert_eq!(server_customer(&world).await["email"], "new@office");
    assert!(till
        .audit_trail(20)
        .unwrap()
        .iter()
        .any(|a| a.event == "resolved_server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_of_different_fields_merge() {
    let world = World::start();
    let till = till_with_shared_customer(&world, 0, 60_000).await;
    edit_on_server(&world, json!({"id":"c1","name":"Ana S. (office)","phone":"+351 911 000 001","email":"ana@example.com"})).await;
    edit_on_till(
        &till,
        json!({"id":"c1","name":"Ana Silva","phone":"+351 999","email":"ana@example.com"}),
    );
    let report = till.sync_now().await;
    assert_eq!(
        (report.auto_resolved, report.conflicts),
        (1, 0),
        "{report:?}"
    );
    let merged =
        json!({"id":"c1","name":"Ana S. (office)","phone":"+351 999","email":"ana@example.com"});
    assert_eq!(server_customer(&world).await, merged);
    let local: serde_json::Value =
        serde_json::from_str(&till.get_customer("c1".into()).unwrap().unwrap().json).unwrap();
    assert_eq!(local, merged);
}

#[derive(Default)]
struct Recorder {
    conflicts: Mutex<Vec<Conflict>>,
    statuses: Mutex<Vec<SyncStatus>>,
}

impl SyncStatusListener for Recorder {
    fn on_status(&self, status: SyncStatus) {
        self.statuses.lock().unwrap().push(status);
    }
    fn on_conflict(&self, conflict: Conflict) {
        self.conflicts.lock().unwrap().push(conflict);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_edits_of_one_field_wait_for_a_person() {
    let world = World::start();
    let till = till_with_shared_customer(&world, 0, 60_000).await;
    let recorder = Arc::new(Recorder::default());
    let _subscription = till.subscribe_status(recorder.clone());

    for (i, resolution) in [
        Resolution::KeepLocal,
        Resolution::KeepServer,
        Resolution::Merged,
    ]
    .into_iter()
    .enumerate()
    {
        edit_on_server(&world, json!({"id":"c1","name":"Ana Silva","phone":format!("server-{i}"),"email":"ana@example.com"})).await;
        edit_on_till(
            &till,
            json!({"id":"c1","name":"Ana Silva","phone":format!("till-{i}"),"email":"ana@example.com"}),
        );
        let report = till.sync_now().await;
        assert_eq!(report.conflicts, 1, "{report:?}");
        let open = till.conflicts().unwrap();
        assert_eq!(open.len(), 1);
        let conflict = &open[0];
        assert!(conflict.reason.contains("phone"), "{}", conflict.reason);
        assert!(conflict.local_json.contains(&format!("till-{i}")));
        assert!(conflict.server_json.contains(&format!("server-{i}")));
        assert_eq!(
            recorder.conflicts.lock().unwrap().len(),
            i + 1,
            "listener told"
        );
        let item = till
            .queue_items(Some(SyncState::Conflict), None, 5)
            .unwrap();
        assert_eq!(item.len(), 1);

        let merged =
            json!({"id":"c1","name":"Ana Silva","phone":"merged","email":"ana@example.com"})
                .to_string();
        let resolved = till
            .resolve_conflict(
                conflict.conflict_id.clone(),
                resolution,
                (resolution == Resolution::Merged).then_some(merged),
            )
            .await
            .unwrap()
            .unwrap();
        let expected = match resolution {
            Resolution::KeepLocal => format!("till-{i}"),
            Resolution::KeepServer => format!("server-{i}"),
            Resolution::Merged => "merged".into(),
        };
        assert_eq!(
            resolved.phone.as_deref(),
            Some(expected.as_str()),
            "{resolution:?}"
        );
        assert_eq!(server_customer(&world).await["phone"], expected);
        assert!(till.conflicts().unwrap().is_empty());
        assert_eq!(till.queue_stats().unwrap().conflict, 0);
    }
    let wrong = till
        .resolve_conflict("no-such-conflict".into(), Resolution::KeepServer, None)
        .await;
    assert!(matches!(
        wrong,
        Err(pos_sync::PosSyncError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_clock_a_day_behind_still_wins_with_a_later_edit() {
    let world = World::start();
    let till = till_with_shared_customer(&world, -DAY_MS, 100).await;
    edit_on_server(
        &world,
        json!({"id":"c1","name":"Ana Silva","phone":"server","email":"ana@example.com"}),
    )
    .await;
    pause().await;
    // Uncorrected, this edit would be stamped a day before the server's and lose.
    edit_on_till(
        &till,
        json!({"id":"c1","name":"Ana Silva","phone":"till","email":"ana@example.com"}),
    );
    let report = till.sync_now().await;
    assert_eq!(report.auto_resolved, 1, "{report:?}");
    assert_eq!(server_customer(&world).await["phone"], "till");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_clock_a_day_ahead_does_not_win_with_an_earlier_edit() {
    let world = World::start();
    let till = till_with_shared_customer(&world, DAY_MS, 100).await;
    edit_on_till(
        &till,
        json!({"id":"c1","name":"Ana Silva","phone":"till","email":"ana@example.com"}),
    );
    pause().await;
    // Uncorrected, the till's edit would be stamped a day later than this one and win.
    edit_on_server(
        &world,
        json!({"id":"c1","name":"Ana Silva","phone":"server","email":"ana@example.com"}),
    )
    .await;
    let report = till.sync_now().await;
    assert_eq!(report.auto_resolved, 1, "{report:?}");
    assert_eq!(server_customer(&world).await["phone"], "server");
    assert_eq!(
        till.get_customer("c1".into())
            .unwrap()
            .unwrap()
            .phone
            .as_deref(),
        Some("server")
    );
}

/// Till 1 through a fault-injecting proxy, with a conflict on c1 waiting for a person: the
/// till's phone `till-{n}` against the server's `server-{n}`.
async fn conflict_through_proxy(world: &World, till: &SyncEngine, n: usize) -> Conflict {
    edit_on_server(world, json!({"id":"c1","name":"Ana Silva","phone":format!("server-{n}"),"email":"ana@example.com"})).await;
    edit_on_till(
        till,
        json!({"id":"c1","name":"Ana Silva","phone":format!("till-{n}"),"email":"ana@example.com"}),
    );
    let report = till.sync_now().await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    till.conflicts().unwrap().remove(0)
}

/// `resolve_conflict` is sent again after transient failures (503, 429 with Retry-After, a
/// reset connection), stops at `cancel()` while it waits, and a resolution whose answer was
/// lost after the server committed it is confirmed by the server's `conflict_closed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_conflict_is_retried_cancellable_and_survives_a_lost_answer() {
    use pos_sync::PosSyncError;
    use support::proxy::{Fault, Proxy};
    const RESOLVE: &str = "/api/sync/resolve";
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let mut config = world.config(TILL_1, &proxy.url);
    config.conflict_tie_window_ms = 60_000;
    let till = SyncEngine::open(config).unwrap();
    till.create_customer(
        json!({"id":"c1","name":"Ana Silva","phone":"+351 911 000 001","email":"ana@example.com"})
            .to_string(),
    )
    .unwrap();
    assert_eq!(till.sync_now().await.outcome, SyncOutcome::Completed);

    // Transient failures are sent again.
    let conflict = conflict_through_proxy(&world, &till, 1).await;
    for fault in [
        Fault::Status {
            status: 503,
            retry_after: None,
        },
        Fault::Status {
            status: 429,
            retry_after: Some(1),
        },
        Fault::ResetBeforeForward,
    ] {
        proxy.inject(RESOLVE, fault);
    }
    let resolved = till
        .resolve_conflict(conflict.conflict_id, Resolution::KeepLocal, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.phone.as_deref(), Some("till-1"));
    assert_eq!(
        proxy.requests(RESOLVE),
        4,
        "three failures, then the answer"
    );
    assert_eq!(server_customer(&world).await["phone"], "till-1");

    // A long Retry-After is waited out until the app cancels; the conflict stays open.
    let conflict = conflict_through_proxy(&world, &till, 2).await;
    proxy.inject(
        RESOLVE,
        Fault::Status {
            status: 429,
            retry_after: Some(25),
        },
    );
    let waiting = {
        let (till, id) = (till.clone(), conflict.conflict_id.clone());
        tokio::spawn(async move { till.resolve_conflict(id, Resolution::KeepLocal, None).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    till.cancel();
    let cancelled = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("cancel() ends the wait at once")
        .unwrap();
    assert!(
        matches!(cancelled, Err(PosSyncError::Cancelled { .. })),
        "{cancelled:?}"
    );
    assert_eq!(till.conflicts().unwrap().len(), 1);
    assert_eq!(server_customer(&world).await["phone"], "server-2");

    // The server commits, the answer is lost: the retry hears conflict_closed and the
    // device settles the change; the next sync brings the server's record.
    proxy.inject(RESOLVE, Fault::LoseResponse);
    till.resolve_conflict(conflict.conflict_id, Resolution::KeepLocal, None)
        .await
        .unwrap();
    assert!(till.conflicts().unwrap().is_empty());
    assert_eq!(till.queue_stats().unwrap().conflict, 0);
    assert_eq!(server_customer(&world).await["phone"], "till-2");
    let report = till.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::Completed, "{report:?}");
    let local = till.get_customer("c1".into()).unwrap().unwrap();
    assert_eq!(local.phone.as_deref(), Some("till-2"));
    assert_eq!(local.version, world.records("customer").await[0].version);
    assert_eq!(till.queue_stats().unwrap().pending, 0);
}
