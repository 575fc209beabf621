//! End to end: how the app and background workers drive the engine — tokens, one sync at a
//! time, the batch entry point's budget, cancellation, the foreground scheduler and the
//! connectivity signal, status listeners, and what opening an engine guarantees.

mod support;

use pos_sync::store::conflicts::Conflict;
use pos_sync::sync::events::{SyncPhase, SyncStatus, SyncStatusListener};
use pos_sync::sync::SyncOutcome;
use pos_sync::transport::{TokenError, TokenProvider};
use pos_sync::{PosSyncError, SyncEngine};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use support::proxy::{Fault, Proxy};
use support::*;

struct RotatingToken {
    fresh: String,
    refreshes: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenProvider for RotatingToken {
    async fn token(&self, refresh: bool) -> Result<String, TokenError> {
        if refresh {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            Ok(self.fresh.clone())
        } else {
            Ok("expired-token".into())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_and_a_bad_one_is_an_auth_error() {
    let world = World::start();
    let till = world.engine(TILL_1);
    till.record_sale(sale("tok-1", "p1", 1)).unwrap();
    let provider = Arc::new(RotatingToken {
        fresh: TILL_1.0.into(),
        refreshes: AtomicUsize::new(0),
    });
    till.set_token_provider(provider.clone()).unwrap();
    let report = till.sync_now().await;
    assert_eq!(
        (report.outcome, report.uploaded),
        (SyncOutcome::Completed, 1),
        "{report:?}"
    );
    assert!(provider.refreshes.load(Ordering::SeqCst) >= 1);

    let bad = Arc::new(RotatingToken {
        fresh: "still-wrong".into(),
        refreshes: AtomicUsize::new(0),
    });
    till.set_token_provider(bad).unwrap();
    till.record_sale(sale("tok-2", "p1", 1)).unwrap();
    let refused = till.sync_now().await;
    assert_eq!(refused.outcome, SyncOutcome::AuthError, "{refused:?}");
    assert!(refused
        .error
        .unwrap()
        .contains("check the device's credentials"));
    let stats = till.queue_stats().unwrap();
    assert_eq!(
        (stats.pending, stats.failed),
        (1, 0),
        "kept for later, not dropped, no attempt counted"
    );
}

struct SignedOut;

#[async_trait::async_trait]
impl TokenProvider for SignedOut {
    async fn token(&self, _refresh: bool) -> Result<String, TokenError> {
        Err(TokenError::Unavailable {
            reason: "the cashier must sign in".into(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_a_token_is_an_auth_error_with_its_reason() {
    let world = World::start();
    let till = world.engine(TILL_1);
    till.record_sale(sale("signed-out", "p1", 1)).unwrap();
    till.set_token_provider(Arc::new(SignedOut)).unwrap();
    let report = till.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::AuthError, "{report:?}");
    assert!(report.error.unwrap().contains("the cashier must sign in"));
    let stats = till.queue_stats().unwrap();
    assert_eq!((stats.pending, stats.syncing), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_caller_joins_the_running_sync() {
    let world = World::start();
    let till = world.engine(TILL_1);
    for i in 0..50 {
        till.record_sale(sale(&format!("join-{i}"), "p1", 1))
            .unwrap();
    }
    let (a, b) = tokio::join!(till.sync_now(), till.sync_now());
    assert_eq!(a.run_id, b.run_id, "one cycle served both callers");
    assert_eq!(a.uploaded, 50);
    assert_eq!(world.records("sale").await.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_entry_point_respects_its_budget() {
    let world = World::start();
    let till = world.engine(TILL_1);
    till.record_sale(sale("budget-1", "p1", 1)).unwrap();
    let none = till.run_batch_sync(0).await;
    assert_eq!(none.outcome, SyncOutcome::BudgetExhausted, "{none:?}");
    assert!(none.more_work_pending);
    assert_eq!(none.remaining, 1);
    let all = till.run_batch_sync(60_000).await;
    assert_eq!(
        (
            all.outcome,
            all.uploaded,
            all.remaining,
            all.more_work_pending
        ),
        (SyncOutcome::Completed, 1, 0, false),
        "{all:?}"
    );
    assert!(till
        .sync_log(10)
        .unwrap()
        .iter()
        .any(|l| l.reason.as_deref() == Some("background")));
}

/// Cancels the engine's first sync as soon as its first upload batch is reported, like an
/// OS deadline. With `idle`, it then tells the test when the cancelled cycle reports idle
/// and holds the cycle there a while (listeners hear the end of a cycle before it lets go
/// of the engine).
struct CancelOnFirstBatch {
    engine: Mutex<Weak<SyncEngine>>,
    cancelled: std::sync::atomic::AtomicBool,
    idle: Mutex<Option<std::sync::mpsc::Sender<()>>>,
}

impl CancelOnFirstBatch {
    fn new(engine: &Arc<SyncEngine>, idle: Option<std::sync::mpsc::Sender<()>>) -> Arc<Self> {
        Arc::new(CancelOnFirstBatch {
            engine: Mutex::new(Arc::downgrade(engine)),
            cancelled: false.into(),
            idle: Mutex::new(idle),
        })
    }
}

impl SyncStatusListener for CancelOnFirstBatch {
    fn on_status(&self, status: SyncStatus) {
        let first_batch = status.phase == SyncPhase::Uploading && status.progress > 0;
        if first_batch && !self.cancelled.swap(true, Ordering::SeqCst) {
            if let Some(engine) = self.engine.lock().unwrap().upgrade() {
                engine.cancel();
            }
        } else if status.phase == SyncPhase::Idle && self.cancelled.load(Ordering::SeqCst) {
            if let Some(idle) = self.idle.lock().unwrap().take() {
                idle.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        }
    }
    fn on_conflict(&self, _: Conflict) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_between_batches_and_nothing_is_lost() {
    let world = World::start();
    let mut config = world.config(TILL_1, &world.url());
    config.upload_batch_size = 10;
    let till = SyncEngine::open(config).unwrap();
    for i in 0..60 {
        till.record_sale(sale(&format!("cancel-{i}"), "p1", 1))
            .unwrap();
    }
    let handle = till.subscribe_status(CancelOnFirstBatch::new(&till, None));
    let stopped = till.run_batch_sync(60_000).await;
    handle.cancel();
    assert_eq!(stopped.outcome, SyncOutcome::Cancelled, "{stopped:?}");
    // Sales overlap: the second batch was already on its way when the first one's progress
    // was reported; the sync waits for its answer and sends nothing more.
    assert_eq!(
        stopped.uploaded, 20,
        "stopped after the batches already sent"
    );
    assert!(stopped.more_work_pending);
    let stats = till.queue_stats().unwrap();
    assert_eq!((stats.synced, stats.pending, stats.syncing), (20, 40, 0));
    let rest = till.sync_now().await;
    assert_eq!(rest.uploaded, 40);
    assert_eq!(world.records("sale").await.len(), 60);
}

/// A sync asked for once the status says the cancelled cycle is over gets a cycle of its
/// own, not the cancelled cycle's report, even while that cycle is still letting go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_asked_for_after_a_cancel_is_not_answered_by_the_cancelled_cycle() {
    let world = World::start();
    let mut config = world.config(TILL_1, &world.url());
    config.upload_batch_size = 10;
    let till = SyncEngine::open(config).unwrap();
    for i in 0..60 {
        till.record_sale(sale(&format!("after-cancel-{i}"), "p1", 1))
            .unwrap();
    }
    let (idle_tx, idle_rx) = std::sync::mpsc::channel();
    let handle = till.subscribe_status(CancelOnFirstBatch::new(&till, Some(idle_tx)));
    let cancelled = tokio::spawn({
        let till = till.clone();
        async move { till.sync_now().await }
    });
    tokio::task::spawn_blocking(move || idle_rx.recv().unwrap())
        .await
        .unwrap();
    let rest = till.sync_now().await;
    let cancelled = cancelled.await.unwrap();
    handle.cancel();
    assert_eq!(cancelled.outcome, SyncOutcome::Cancelled, "{cancelled:?}");
    assert_eq!(rest.outcome, SyncOutcome::Completed, "{rest:?}");
    assert_ne!(rest.run_id, cancelled.run_id);
    assert_eq!(cancelled.uploaded + rest.uploaded, 60);
    assert_eq!(world.records("sale").await.len(), 60);
}

#[derive(Default)]
struct Statuses(Mutex<Vec<SyncStatus>>);

impl SyncStatusListener for Statuses {
    fn on_status(&self, status: SyncStatus) {
        self.0.lock().unwrap().push(status);
    }
    fn on_conflict(&self, _: Conflict) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_get_the_current_status_then_every_change() {
    let world = World::start();
    let till = world.engine(TILL_1);
    let statuses = Arc::new(Statuses::default());
    let handle = till.subscribe_status(statuses.clone());
    assert_eq!(
        statuses.0.lock().unwrap().len(),
        1,
        "current status at once"
    );
    till.record_sale(sale("l-1", "p1", 1)).unwrap();
    assert_eq!(statuses.0.lock().unwrap().last().unwrap().queue.pending, 1);
    till.sync_now().await;
    {
        let seen = statuses.0.lock().unwrap();
        assert!(seen.iter().any(|s| s.phase == SyncPhase::Uploading));
        assert!(seen.iter().any(|s| s.phase == SyncPhase::Downloading));
        let last = seen.last().unwrap();
        assert_eq!(
            (last.phase, last.queue.pending, last.queue.synced),
            (SyncPhase::Idle, 0, 1)
        );
        assert!(last.last_sync_at_ms.is_some());
    }
    handle.cancel();
    let count = statuses.0.lock().unwrap().len();
    till.record_sale(sale("l-2", "p1", 1)).unwrap();
    assert_eq!(
        statuses.0.lock().unwrap().len(),
        count,
        "no events after cancel"
    );
}

/// Progress reaches listeners at most every 100 ms (each report reads the queue's
/// statistics), but the first one of a step and the final status always arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_reports_are_spaced_but_the_first_and_the_end_arrive() {
    let world = World::start();
    let mut config = world.config(TILL_1, &world.url());
    config.upload_batch_size = 1;
    config.max_upload_batches_per_cycle = 100;
    let till = SyncEngine::open(config).unwrap();
    let sales = 60;
    for i in 0..sales {
        till.record_sale(sale(&format!("spaced-{i}"), "p1", 1))
            .unwrap();
    }
    let statuses = Arc::new(Statuses::default());
    let handle = till.subscribe_status(statuses.clone());
    let started = std::time::Instant::now();
    let report = till.sync_now().await;
    let elapsed_ms = started.elapsed().as_millis() as usize;
    handle.cancel();
    assert_eq!(report.uploaded, sales as i64, "{report:?}");
    let seen = statuses.0.lock().unwrap();
    let progress: Vec<i64> = seen
        .iter()
        .filter(|s| s.phase == SyncPhase::Uploading && s.progress > 0)
        .map(|s| s.progress)
        .collect();
    assert_eq!(progress.first(), Some(&1), "the first batch is reported");
    assert!(
        progress.len() <= elapsed_ms / 100 + 1,
        "{} progress reports in {elapsed_ms} ms",
        progress.len()
    );
    let last = seen.last().unwrap();
    assert_eq!(
        (last.phase, last.queue.pending, last.queue.synced),
        (SyncPhase::Idle, 0, sales as i64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_sync_runs_on_start_on_reconnect_and_on_the_retry_timer() {
    let world = World::start();
    let proxy = Proxy::start(&world.url()).await;
    let till = SyncEngine::open(world.config(TILL_1, &proxy.url)).unwrap();
    till.record_sale(sale("auto-1", "p1", 1)).unwrap();
    till.start_auto_sync(3_600_000).unwrap();
    assert!(till.is_auto_sync_running());
    eventually("the first sale syncs on start", || {
        till.queue_stats().unwrap().synced == 1
    })
    .await;

    // Offline: nothing is sent; back online: a (debounced) sync runs without waiting an hour.
    till.set_network_available(false);
    assert!(!till.status().unwrap().online);
    till.record_sale(sale("auto-2", "p1", 1)).unwrap();
    till.set_network_available(true);
    eventually("the reconnect syncs", || {
        till.queue_stats().unwrap().synced == 2
    })
    .await;

    // A failed upload is retried on its own timer, with no app action.
    proxy.inject(
        "/api/sync/upload",
        Fault::Status {
            status: 503,
            retry_after: None,
        },
    );
    till.record_sale(sale("auto-3", "p1", 1)).unwrap();
    till.set_network_available(false);
    till.set_network_available(true);
    eventually("the retry timer resends it", || {
        till.queue_stats().unwrap().synced == 3
    })
    .await;
    assert_eq!(proxy.pending_faults(), 0);
    till.stop_auto_sync();
    assert!(!till.is_auto_sync_running());
    assert_eq!(world.records("sale").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_engine_per_database_file_per_process() {
    let world = World::start();
    let a = world.engine(TILL_1);
    let b = world.engine(TILL_1);
    assert!(
        Arc::ptr_eq(&a, &b),
        "the app and a background worker share one engine"
    );
    let mut other = world.config(TILL_1, &world.url());
    other.upload_batch_size = 7;
    let err = SyncEngine::open(other).err().unwrap();
    assert!(
        err.to_string().contains("already open in this process"),
        "{err}"
    );
    let mut wrong_identity = world.config(TILL_1, &world.url());
    wrong_identity.register_id = "R9".into();
    drop((a, b));
    let err = SyncEngine::open(wrong_identity).err().unwrap();
    assert!(
        err.to_string()
            .contains("belongs to store 'S1', register 'R1'"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_only_engines_and_bad_configuration_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("offline.db");
    let offline = SyncEngine::open(pos_sync::EngineConfig::new(
        path.to_str().unwrap(),
        "S1",
        "R1",
        "d1",
    ))
    .unwrap();
    offline.record_sale(sale("off-1", "p1", 1)).unwrap();
    let report = offline.sync_now().await;
    assert_eq!(report.outcome, SyncOutcome::NotConfigured);
    assert!(matches!(
        offline.start_auto_sync(1000),
        Err(PosSyncError::NotConfigured { .. })
    ));

    let mut insecure =
        pos_sync::EngineConfig::new(dir.path().join("x.db").to_str().unwrap(), "S1", "R1", "d1");
    insecure.server_url = Some("http://pos.example.com".into());
    let err = SyncEngine::open(insecure).err().unwrap();
    assert!(err.to_string().contains("plain http"), "{err}");
    let mut zero =
        pos_sync::EngineConfig::new(dir.path().join("y.db").to_str().unwrap(), "S1", "R1", "d1");
    zero.upload_batch_size = 0;
    assert!(SyncEngine::open(zero)
        .err()
        .unwrap()
        .to_string()
        .contains("upload_batch_size"));
}
