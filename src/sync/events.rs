//! What the app's sync indicator listens to: the engine's phase, progress, connectivity,
//! last/next sync time and queue stats, pushed to every subscribed listener, plus new
//! conflicts as they appear. Listeners get the current status at once on subscribing.

use crate::model::{Clock, EntityType};
use crate::store::conflicts::Conflict;
use crate::store::queue::{self, HealthThresholds, QueueStats};
use crate::store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use web_time::Instant;

/// Progress reports closer together than this are folded into the next one. Each report
/// reads the queue statistics for the listeners, and one per upload batch slowed a 100k
/// backlog by a quarter; a sync indicator cannot show more than a few per second anyway.
/// The first report after a phase change and every phase change always go out.
const PROGRESS_REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// While a sync runs, the statuses of its steps and progress carry queue statistics read
/// at most this long ago. A cycle changes phase at each of its steps (most take a
/// millisecond), and reading the statistics for each took over a third of the device's CPU
/// in a 100k upload with a listener. Every other status (the end of a run, an app write,
/// a new subscriber) reads them afresh.
const RUN_STATS_MAX_AGE_MS: i64 = 100;

/// Implemented by the app (Kotlin Flow, Swift AsyncStream, the Capacitor plugin's events).
/// Called from an engine thread: hand the value to the UI thread, do not block.
#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    fn on_status(&self, status: SyncStatus);
    fn on_conflict(&self, conflict: Conflict);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SyncPhase {
    Idle,
    Uploading,
    Downloading,
    /// The last attempt could not reach the server, or the app said the network is gone.
    Offline,
    /// Waiting out a backoff (after failures or the server's Retry-After).
    BackedOff,
    /// The last cycle failed for a reason other than the network (see `last_error`).
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncStatus {
    pub phase: SyncPhase,
    /// The entity type being synced, while uploading or downloading.
    pub entity_type: Option<EntityType>,
    /// Records done so far in the current step.
    pub progress: i64,
    /// What the app last told the engine about connectivity.
    pub online: bool,
    pub last_sync_at_ms: Option<i64>,
    pub next_sync_at_ms: Option<i64>,
    pub last_error: Option<String>,
    pub queue: QueueStats,
}

struct State {
    phase: SyncPhase,
    entity_type: Option<EntityType>,
    progress: i64,
    online: bool,
    last_sync_at_ms: Option<i64>,
    next_sync_at_ms: Option<i64>,
    last_error: Option<String>,
    /// When progress was last sent to the listeners (`None`: not since the phase changed).
    last_progress_report: Option<Instant>,
}

pub struct Events {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    health: HealthThresholds,
    state: Mutex<State>,
    listeners: Mutex<Vec<(u64, Arc<dyn SyncStatusListener>)>>,
    next_id: AtomicU64,
    /// The last queue statistics read, and when (device clock), for `RUN_STATS_MAX_AGE_MS`.
    recent_stats: Mutex<Option<(i64, QueueStats)>>,
}

/// How old the queue statistics in a status may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stats {
    Fresh,
    /// Statistics read less than `RUN_STATS_MAX_AGE_MS` ago will do.
    Recent,
}

impl Events {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, health: HealthThresholds) -> Events {
        Events {
            store,
            clock,
            health,
            state: Mutex::new(State {
                phase: SyncPhase::Idle,
                entity_type: None,
                progress: 0,
                online: true,
                last_sync_at_ms: None,
                next_sync_at_ms: None,
                last_error: None,
                last_progress_report: None,
            }),
            listeners: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            recent_stats: Mutex::new(None),
        }
    }

    pub fn snapshot(&self) -> crate::Result<SyncStatus> {
        self.status(Stats::Fresh)
    }

    fn queue_stats(&self, age: Stats) -> crate::Result<QueueStats> {
        let now = self.clock.now_ms();
        let mut recent = self.recent_stats.lock().unwrap_or_else(|p| p.into_inner());
        if let (Stats::Recent, Some((read_at, stats))) = (age, recent.as_ref()) {
            // A clock that jumped back makes them stale too.
            if (*read_at..*read_at + RUN_STATS_MAX_AGE_MS).contains(&now) {
                return Ok(stats.clone());
            }
        }
        let stats = self.store.read(|c| queue::stats(c, &self.health, now))?;
        *recent = Some((now, stats.clone()));
        Ok(stats)
    }

    fn status(&self, age: Stats) -> crate::Result<SyncStatus> {
        let queue = self.queue_stats(age)?;
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(SyncStatus {
            phase: s.phase,
            entity_type: s.entity_type,
            progress: s.progress,
            online: s.online,
            last_sync_at_ms: s.last_sync_at_ms,
            next_sync_at_ms: s.next_sync_at_ms,
            last_error: s.last_error.clone(),
            queue,
        })
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
        self.notify();
    }

    /// Sends the current status to every listener (outside any lock, so a listener may
    /// call back into the engine).
    pub fn notify(&self) {
        self.notify_with(Stats::Fresh);
    }

    fn notify_with(&self, age: Stats) {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if listeners.is_empty() {
            return;
        }
        match self.status(age) {
            Ok(status) => {
                for (_, listener) in listeners {
                    listener.on_status(status.clone());
                }
            }
            Err(e) => log::warn!("could not read the sync status for listeners: {e}"),
        }
    }

    pub fn set_phase(
        &self,
        phase: SyncPhase,
        entity_type: Option<EntityType>,
        error: Option<String>,
    ) {
        {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            s.phase = phase;
            s.entity_type = entity_type;
            s.progress = 0;
            s.last_progress_report = None;
            if error.is_some() || phase == SyncPhase::Idle {
                s.last_error = error;
            }
        }
        let running = matches!(phase, SyncPhase::Uploading | SyncPhase::Downloading);
        self.notify_with(if running { Stats::Recent } else { Stats::Fresh });
    }

    /// Records progress; listeners hear of it at most every `PROGRESS_REPORT_INTERVAL`.
    pub fn progress(&self, entity_type: EntityType, done: i64) {
        let report = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            s.entity_type = Some(entity_type);
            s.progress = done;
            let due = s
                .last_progress_report
                .is_none_or(|at| at.elapsed() >= PROGRESS_REPORT_INTERVAL);
            if due {
                s.last_progress_report = Some(Instant::now());
            }
            due
        };
        if report {
            self.notify_with(Stats::Recent);
        }
    }

    pub fn set_online(&self, online: bool) {
        self.update(|s| {
            s.online = online;
            if !online {
                s.phase = SyncPhase::Offline;
            } else if s.phase == SyncPhase::Offline {
                s.phase = SyncPhase::Idle;
            }
        });
    }

    pub fn is_online(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).online
    }

    pub fn set_last_sync(&self, at_ms: i64) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_sync_at_ms = Some(at_ms);
    }

    pub fn set_next_sync(&self, at_ms: Option<i64>) {
        self.update(|s| s.next_sync_at_ms = at_ms);
    }

    pub fn conflict(&self, conflict: Conflict) {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (_, listener) in listeners {
            listener.on_conflict(conflict.clone());
        }
    }

    /// Adds a listener and sends it the current status at once. Returns its id.
    pub fn subscribe(&self, listener: Arc<dyn SyncStatusListener>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, listener.clone()));
        match self.snapshot() {
            Ok(status) => listener.on_status(status),
            Err(e) => log::warn!("could not read the sync status for a new listener: {e}"),
        }
        id
    }

    pub fn unsubscribe(&self, id: u64) {
        self.listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(i, _)| *i != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::store::queue::NewChange;
    use crate::store::test_support::temp_store;
    use std::sync::atomic::AtomicI64;

    struct ManualClock(AtomicI64);

    impl Clock for ManualClock {
        fn now_ms(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[derive(Default)]
    struct Seen(Mutex<Vec<SyncStatus>>);

    impl SyncStatusListener for Seen {
        fn on_status(&self, status: SyncStatus) {
            self.0.lock().unwrap().push(status);
        }
        fn on_conflict(&self, _: Conflict) {}
    }

    /// Statuses in the middle of a run may reuse queue statistics up to 100 ms old (by the
    /// device clock); the end of the run, and a clock that jumped back, read them again.
    #[test]
    fn statuses_during_a_run_reuse_recent_queue_statistics() {
        let (_d, store) = temp_store();
        let store = Arc::new(store);
        let clock = Arc::new(ManualClock(AtomicI64::new(1_000_000)));
        let events = Events::new(store.clone(), clock.clone(), HealthThresholds::default());
        let seen = Arc::new(Seen::default());
        events.subscribe(seen.clone());
        let mut sales = 0;
        // A sale written behind the listeners' back, as a till does while a run goes on.
        let mut queue_a_sale = || {
            sales += 1;
            let id = format!("s{sales}");
            store
                .write(|tx| {
                    let change = NewChange {
                        entity_type: EntityType::Sale,
                        entity_id: &id,
                        action: Action::Create,
                        payload: "{}",
                        checksum: "c",
                        hlc: 1,
                    };
                    crate::store::queue::enqueue(tx, &change, 1)
                })
                .unwrap();
        };
        let pending = || seen.0.lock().unwrap().last().unwrap().queue.pending;
        let advance = |ms: i64| clock.0.fetch_add(ms, Ordering::SeqCst);

        events.set_phase(SyncPhase::Uploading, Some(EntityType::Sale), None);
        queue_a_sale();
        events.set_phase(SyncPhase::Downloading, Some(EntityType::Product), None);
        events.progress(EntityType::Product, 10);
        assert_eq!(pending(), 0, "statistics read in the same 100 ms");
        advance(99);
        events.set_phase(SyncPhase::Uploading, Some(EntityType::Customer), None);
        assert_eq!(pending(), 0);
        advance(1);
        events.set_phase(SyncPhase::Downloading, Some(EntityType::Customer), None);
        assert_eq!(pending(), 1, "read again after 100 ms");
        queue_a_sale();
        events.set_phase(SyncPhase::Idle, None, None);
        assert_eq!(pending(), 2, "the end of a run reads them afresh");
        events.set_phase(SyncPhase::Uploading, Some(EntityType::Sale), None);
        queue_a_sale();
        advance(-1_000);
        events.set_phase(SyncPhase::Downloading, Some(EntityType::Product), None);
        assert_eq!(pending(), 3, "a clock that went back does not keep them");
        queue_a_sale();
        events.notify();
        assert_eq!(pending(), 4, "an app write's status reads them afresh");
    }
}
