//! Foreground scheduling while the app is open: a sync every interval, an opportunistic
//! (debounced) sync when the network comes back, a wake-up when a failed change becomes due
//! for retry, and respect for the engine's backoff. Background workers call `cycle` directly.

use super::{SyncOutcome, SyncReason, Syncer};
use crate::runtime::{sleep, spawn_background, BackgroundTask};
use crate::store::queue;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

pub struct Scheduler {
    syncer: Arc<Syncer>,
    debounce_ms: i64,
    task: Mutex<Option<(BackgroundTask, mpsc::UnboundedSender<SyncReason>)>>,
}

/// Never loop faster than this, even when work is due at once.
const MIN_GAP_MS: i64 = 200;

impl Scheduler {
    pub fn new(syncer: Arc<Syncer>, debounce_ms: i64) -> Scheduler {
        Scheduler {
            syncer,
            debounce_ms,
            task: Mutex::new(None),
        }
    }

    /// Starts (or restarts with a new interval) the foreground loop; the first sync runs now.
    pub fn start(&self, interval_ms: i64) {
        self.stop();
        let (wake, wakes) = mpsc::unbounded_channel();
        let handle = spawn_background(run_loop(
            self.syncer.clone(),
            interval_ms.max(1_000),
            self.debounce_ms.max(0),
            wakes,
        ));
        *self.task.lock().unwrap_or_else(|p| p.into_inner()) = Some((handle, wake));
    }

    pub fn stop(&self) {
        if let Some((mut handle, _)) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            handle.abort();
        }
    }

    pub fn is_running(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|(h, _)| !h.is_finished())
    }

    /// The app's connectivity signal. Coming back online makes transiently failed changes
    /// due now and triggers a (debounced) sync.
    pub fn set_network_available(&self, available: bool) {
        let was_online = self.syncer.events.is_online();
        self.syncer.events.set_online(available);
        if available && !was_online {
            let now = self.syncer.now();
            if let Err(e) = self
                .syncer
                .store
                .write(|tx| queue::retry_failed_now(tx, now))
            {
                log::warn!("could not reschedule failed changes on reconnect: {e}");
            }
            self.wake(SyncReason::Network);
        }
    }

    fn wake(&self, reason: SyncReason) {
        if let Some((_, wake)) = self.task.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = wake.send(reason);
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn run_loop(
    syncer: Arc<Syncer>,
    interval_ms: i64,
    debounce_ms: i64,
    mut wakes: mpsc::UnboundedReceiver<SyncReason>,
) {
    let mut next_at = syncer.now();
    let mut reason = SyncReason::Interval;
    loop {
        let wait = (next_at - syncer.now()).max(0) as u64;
        tokio::select! {
            _ = sleep(Duration::from_millis(wait)) => {}
            woken = wakes.recv() => {
                let Some(woken) = woken else { return };
                reason = woken;
                if reason == SyncReason::Network {
                    // Connectivity flaps: wait for it to settle, then sync once.
                    sleep(Duration::from_millis(debounce_ms as u64)).await;
                    while wakes.try_recv().is_ok() {}
                }
            }
        }
        let now = syncer.now();
        if !syncer.events.is_online() {
            next_at = now + interval_ms;
            continue;
        }
        if let Some(until) = syncer.backoff_until() {
            next_at = until;
            continue;
        }
        let report = syncer.cycle(reason, None, syncer.cancel_ticket()).await;
        reason = SyncReason::Interval;
        let now = syncer.now();
        let keep_going = report.more_work_pending && report.outcome == SyncOutcome::Completed;
        next_at = if keep_going {
            now
        } else {
            let retry_due = syncer.store.read(queue::next_retry_at).ok().flatten();
            [
                Some(now + interval_ms),
                retry_due,
                report.next_sync_allowed_at_ms,
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + interval_ms)
        };
        next_at = next_at.max(now + MIN_GAP_MS);
    }
}
