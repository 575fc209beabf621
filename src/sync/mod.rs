//! The sync engine: one priority-ordered cycle (uploads of sales and stock adjustments, then
//! downloads of catalog and prices, customers both ways, then reports), run one at a time,
//! interruptible between batches, with backoff after failures. `cycle` is the batch entry
//! point that the scheduler, `sync_now`, WorkManager and BGTaskScheduler all call.

pub mod conflict;
mod consistency;
mod download;
pub mod events;
pub mod scheduler;
mod upload;

pub use consistency::{ConsistencyReport, EntityConsistency, IntegrityReport};
#[doc(hidden)]
pub use download::verify_page;

use crate::error::{Error, Result};
use crate::model::{Clock, EntityType};
use crate::store::queue::{self, BatchLimits, HealthThresholds, RetryPolicy};
use crate::store::{history, Store};
use crate::transport::Transport;
use events::{Events, SyncPhase};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Why a sync runs: logged with the run, and used to decide whether backoff applies.
/// Internal: no exported call takes or returns it (the app says why through `sync_now` /
/// `run_background_sync`), so it is not part of the Kotlin/Swift surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncReason {
    /// The app asked (`sync_now`): skips the engine's failure backoff, not the server's 429.
    Manual,
    /// The foreground interval timer.
    Interval,
    /// The network came back.
    Network,
    /// A background worker (WorkManager, BGTaskScheduler).
    Background,
}

impl SyncReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncReason::Manual => "manual",
            SyncReason::Interval => "interval",
            SyncReason::Network => "network",
            SyncReason::Background => "background",
        }
    }
}

/// How a cycle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SyncOutcome {
    /// Everything due was synced.
    Completed,
    /// The time budget ran out between batches; `more_work_pending` says whether to go on.
    BudgetExhausted,
    /// `cancel()` (or an OS deadline) stopped it between batches.
    Cancelled,
    /// The server could not be reached; retried later.
    NetworkError,
    /// The server failed or answered something the engine does not trust; retried later.
    ServerError,
    /// The device's credentials were refused.
    AuthError,
    /// The engine is waiting out a backoff (after failures, or the server's Retry-After).
    BackedOff,
    /// No server URL is configured: the engine works offline only.
    NotConfigured,
}

/// What one cycle did. WorkManager and BGTaskScheduler map it to success / retry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncReport {
    pub run_id: String,
    pub outcome: SyncOutcome,
    /// Changes the server applied (or had already applied: duplicates count here too).
    pub uploaded: i64,
    /// Server records applied on the device.
    pub downloaded: i64,
    /// Customer conflicts decided automatically (by timestamp or by merging fields).
    pub auto_resolved: i64,
    /// New conflicts waiting for a person.
    pub conflicts: i64,
    /// Changes that failed this cycle (retried later).
    pub failed: i64,
    /// Of those, changes the server refused permanently.
    pub rejected: i64,
    /// Changes still not synced after this cycle.
    pub remaining: i64,
    pub duration_ms: i64,
    /// Run again soon: the budget or the per-cycle upload share ran out with work left.
    pub more_work_pending: bool,
    /// The earliest time the engine will contact the server again (backoff), if delayed.
    pub next_sync_allowed_at_ms: Option<i64>,
    pub error: Option<String>,
}

impl SyncReport {
    pub(crate) fn empty(run_id: String, outcome: SyncOutcome) -> SyncReport {
        SyncReport {
            run_id,
            outcome,
            uploaded: 0,
            downloaded: 0,
            auto_resolved: 0,
            conflicts: 0,
            failed: 0,
            rejected: 0,
            remaining: 0,
            duration_ms: 0,
            more_work_pending: false,
            next_sync_allowed_at_ms: None,
            error: None,
        }
    }
}

/// Tuning of the sync cycle (defaults in `EngineConfig`).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub upload_batch: BatchLimits,
    /// Upload batches per entity type per cycle, so downloads are never held back by a
    /// backlog of unsent sales: the next cycle continues where this one stopped.
    pub max_upload_batches_per_type: usize,
    pub download_page_size: u32,
    pub tie_window_ms: i64,
    pub retry: RetryPolicy,
    pub retention_ms: i64,
    pub health: HealthThresholds,
}

/// Engine-level backoff after failed cycles, separate from per-change retry times.
#[derive(Debug, Default)]
struct Backoff {
    until_ms: i64,
    consecutive_failures: u32,
}

pub struct Syncer {
    pub(crate) store: Arc<Store>,
    pub(crate) transport: Option<Arc<Transport>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: SyncSettings,
    pub(crate) events: Events,
    run_lock: tokio::sync::Mutex<()>,
    finished: watch::Sender<(u64, Option<SyncReport>)>,
    /// Bumped by `cancel()`; a cycle stops when it differs from the ticket it started with.
    cancel_generation: AtomicU64,
    /// The ticket of the cycle holding `run_lock`.
    running_ticket: AtomicU64,
    backoff: Mutex<Backoff>,
    /// Full resyncs started by this process (their seen-sets live in this connection).
    resyncs: Mutex<HashSet<EntityType>>,
}

/// Publishes a cycle's report to the callers that joined it, when dropped.
struct Announce<'a> {
    finished: &'a watch::Sender<(u64, Option<SyncReport>)>,
    report: Option<SyncReport>,
}

impl Drop for Announce<'_> {
    fn drop(&mut self) {
        let report = self.report.take();
        self.finished.send_modify(|(generation, last)| {
            *generation += 1;
            *last = report;
        });
    }
}

/// Why a cycle stopped early.
enum Stop {
    Cancelled,
    Budget,
}

/// The state of one running cycle.
pub(crate) struct Run {
    pub id: String,
    /// The sync_log row of a run outside a cycle (a manual conflict resolution).
    step: Option<String>,
    deadline_ms: Option<i64>,
    cancel_ticket: u64,
    pub report: SyncReport,
}

impl Syncer {
    pub fn new(
        store: Arc<Store>,
        transport: Option<Transport>,
        clock: Arc<dyn Clock>,
        settings: SyncSettings,
    ) -> Syncer {
        let events = Events::new(store.clone(), clock.clone(), settings.health);
        Syncer {
            store,
            transport: transport.map(Arc::new),
            clock,
            settings,
            events,
            run_lock: tokio::sync::Mutex::new(()),
            finished: watch::channel((0, None)).0,
            cancel_generation: AtomicU64::new(0),
            running_ticket: AtomicU64::new(0),
            backoff: Mutex::new(Backoff::default()),
            resyncs: Mutex::new(HashSet::new()),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn transport(&self) -> Result<&Arc<Transport>> {
        self.transport.as_ref().ok_or_else(|| {
            Error::NotConfigured(
                "no server URL is configured; set EngineConfig.server_url to sync".into(),
            )
        })
    }

    /// Asks the running cycle (if any) to stop at the next batch boundary.
    pub fn cancel(&self) {
        self.cancel_generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Taken when a caller asks for a cycle (before it is scheduled), so a `cancel()` that
    /// comes after the request but before the cycle starts still stops it.
    pub fn cancel_ticket(&self) -> u64 {
        self.cancel_generation.load(Ordering::SeqCst)
    }

    /// When the engine will contact the server again, if it is backing off.
    pub fn backoff_until(&self) -> Option<i64> {
        let b = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        (b.until_ms > self.now()).then_some(b.until_ms)
    }

    /// Runs one cycle, or, if one is already running, waits for it and returns its report:
    /// two callers never sync at the same time.
    pub async fn cycle(
        &self,
        reason: SyncReason,
        budget_ms: Option<i64>,
        ticket: u64,
    ) -> SyncReport {
        let mut finished = self.finished.subscribe();
        let seen = finished.borrow().0;
        let guard = match self.run_lock.try_lock() {
            Ok(guard) => guard,
            // A cancel came between the running cycle's start and this request: that cycle is
            // stopping (its end may already be on the listeners' screens), and this caller
            // asked for a sync after the cancel, so it gets a cycle of its own.
            Err(_) if self.running_ticket.load(Ordering::SeqCst) != ticket => {
                self.run_lock.lock().await
            }
            Err(_) => {
                // Join the running cycle.
                while finished.changed().await.is_ok() {
                    let (generation, report) = finished.borrow().clone();
                    if generation > seen {
                        if let Some(report) = report {
                            return report;
                        }
                    }
                }
                unreachable!("the sender lives as long as the syncer");
            }
        };
        self.running_ticket.store(ticket, Ordering::SeqCst);
        // Callers that joined must hear the end of this cycle even if it never finishes
        // normally (a panic, or the future dropped mid-way): then they get a Cancelled report.
        let mut announce = Announce {
            finished: &self.finished,
            report: Some(SyncReport {
                more_work_pending: true,
                error: Some("the sync stopped before it finished".into()),
                ..SyncReport::empty(String::new(), SyncOutcome::Cancelled)
            }),
        };
        let report = self.run(reason, budget_ms, ticket).await;
        announce.report = Some(report.clone());
        drop(announce);
        drop(guard);
        report
    }

    async fn run(&self, reason: SyncReason, budget_ms: Option<i64>, ticket: u64) -> SyncReport {
        let started = self.now();
        let mut run = self.empty_run(uuid::Uuid::new_v4().to_string());
        run.deadline_ms = budget_ms.map(|b| started + b.max(0));
        run.cancel_ticket = ticket;
        if self.transport.is_none() {
            run.report.outcome = SyncOutcome::NotConfigured;
            run.report.error = Some("no server URL is configured".into());
            return self.finish(run, started, None);
        }
        if let Some(until) = self.backoff_until() {
            let server_mandated = matches!(self.last_error_kind(), Some(SyncOutcome::BackedOff));
            if reason != SyncReason::Manual || server_mandated {
                run.report.outcome = SyncOutcome::BackedOff;
                run.report.next_sync_allowed_at_ms = Some(until);
                return self.finish(run, started, None);
            }
        }
        let cycle_step = self.store.write(|tx| {
            history::begin_step(tx, &run.id, "cycle", "both", reason.as_str(), started)
        });
        let cycle_step = match cycle_step {
            Ok(id) => id,
            Err(e) => {
                run.report.outcome = SyncOutcome::ServerError;
                run.report.error = Some(e.to_string());
                return self.finish(run, started, None);
            }
        };
        let result = self.run_steps(&mut run, reason).await;
        let (status, error) = match &result {
            Ok(()) => (
                match run.report.outcome {
                    SyncOutcome::Cancelled => "CANCELLED",
                    _ => "OK",
                },
                None,
            ),
            Err(e) => ("FAILED", Some(e.to_string())),
        };
        let count = run.report.uploaded + run.report.downloaded;
        let now = self.now();
        let retention_cutoff = now - self.settings.retention_ms;
        let closed = self.store.write(|tx| {
            history::finish_step(tx, &cycle_step, status, count, error.as_deref(), now)?;
            queue::purge_synced(tx, retention_cutoff)?;
            history::purge_older_than(tx, retention_cutoff)?;
            Ok(())
        });
        if let Err(e) = closed {
            log::warn!("could not close the sync log of run {}: {e}", run.id);
        }
        self.finish(run, started, result.err())
    }

    /// Sets outcome, backoff and counters at the end of a cycle and tells listeners.
    fn finish(&self, mut run: Run, started: i64, error: Option<Error>) -> SyncReport {
        let now = self.now();
        if let Some(err) = error {
            run.report.outcome = match &err {
                Error::Network(_) => SyncOutcome::NetworkError,
                Error::Auth { .. } => SyncOutcome::AuthError,
                Error::RateLimited { .. } => SyncOutcome::BackedOff,
                Error::Cancelled(_) => SyncOutcome::Cancelled,
                _ => SyncOutcome::ServerError,
            };
            let until = self.back_off(&err, now);
            run.report.next_sync_allowed_at_ms = Some(until);
            run.report.error = Some(err.to_string());
        } else if matches!(
            run.report.outcome,
            SyncOutcome::Completed | SyncOutcome::BudgetExhausted
        ) {
            *self.backoff.lock().unwrap_or_else(|p| p.into_inner()) = Backoff::default();
            self.events.set_last_sync(now);
        }
        if let Ok(unsynced) = self.store.read(queue::unsynced_count) {
            run.report.remaining = unsynced;
        }
        run.report.duration_ms = (now - started).max(0);
        let phase = match run.report.outcome {
            SyncOutcome::Completed | SyncOutcome::BudgetExhausted | SyncOutcome::Cancelled => {
                SyncPhase::Idle
            }
            SyncOutcome::NetworkError => SyncPhase::Offline,
            SyncOutcome::BackedOff => SyncPhase::BackedOff,
            SyncOutcome::NotConfigured => SyncPhase::Idle,
            SyncOutcome::ServerError | SyncOutcome::AuthError => SyncPhase::Error,
        };
        self.events.set_phase(phase, None, run.report.error.clone());
        self.events
            .set_next_sync(run.report.next_sync_allowed_at_ms);
        log::info!(
            "sync run {} ended {:?}: {} up, {} down, {} conflicts, {} failed, {} remaining",
            run.id,
            run.report.outcome,
            run.report.uploaded,
            run.report.downloaded,
            run.report.conflicts,
            run.report.failed,
            run.report.remaining
        );
        run.report
    }

    fn last_error_kind(&self) -> Option<SyncOutcome> {
        let last = self.finished.borrow().1.clone()?;
        Some(last.outcome)
    }

    /// Records a failed cycle and returns when the next one may start: the server's
    /// Retry-After for 429, otherwise exponential backoff with jitter.
    fn back_off(&self, err: &Error, now: i64) -> i64 {
        let mut b = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
        b.consecutive_failures += 1;
        let delay = match err {
            Error::RateLimited { retry_after_ms } => *retry_after_ms as i64,
            Error::Cancelled(_) => 0,
            _ => self
                .settings
                .retry
                .delay_ms(b.consecutive_failures as i64, false),
        };
        b.until_ms = now + delay;
        b.until_ms
    }

    /// The steps of a cycle in priority order. Transient server failures of one type are
    /// recorded and the cycle goes on with the next type; losing the network, the
    /// credentials, or being told to slow down ends the cycle.
    async fn run_steps(&self, run: &mut Run, reason: SyncReason) -> Result<()> {
        let mut first_error: Option<Error> = None;
        for entity_type in EntityType::ALL {
            for upload in [true, false] {
                let applies = if upload {
                    entity_type.uploads()
                } else {
                    entity_type.downloads()
                };
                if !applies {
                    continue;
                }
                if let Some(stop) = self.should_stop(run) {
                    self.stop(run, stop);
                    return Ok(());
                }
                let direction = if upload { "upload" } else { "download" };
                let now = self.now();
                let step = self.store.write(|tx| {
                    history::begin_step(
                        tx,
                        &run.id,
                        entity_type.as_str(),
                        direction,
                        reason.as_str(),
                        now,
                    )
                })?;
                let result = if upload {
                    self.events
                        .set_phase(SyncPhase::Uploading, Some(entity_type), None);
                    self.upload_type(run, entity_type).await
                } else {
                    self.events
                        .set_phase(SyncPhase::Downloading, Some(entity_type), None);
                    self.download_type(run, entity_type).await
                };
                let (status, count, error) = match &result {
                    Ok(count) => ("OK", *count, None),
                    Err(e) => ("FAILED", 0, Some(e.to_string())),
                };
                let now = self.now();
                self.store.write(|tx| {
                    history::finish_step(tx, &step, status, count, error.as_deref(), now)
                })?;
                if let Err(err) = result {
                    match err {
                        Error::Network(_)
                        | Error::Auth { .. }
                        | Error::RateLimited { .. }
                        | Error::NotConfigured(_)
                        | Error::Database(_)
                        | Error::StorageFull(_) => return Err(err),
                        other => {
                            log::warn!("{direction} of {entity_type} failed: {other}");
                            first_error.get_or_insert(other);
                        }
                    }
                }
            }
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    fn empty_run(&self, id: String) -> Run {
        Run {
            step: None,
            deadline_ms: None,
            cancel_ticket: self.cancel_ticket(),
            report: SyncReport::empty(id.clone(), SyncOutcome::Completed),
            id,
        }
    }

    fn should_stop(&self, run: &Run) -> Option<Stop> {
        if self.cancel_generation.load(Ordering::SeqCst) != run.cancel_ticket {
            return Some(Stop::Cancelled);
        }
        match run.deadline_ms {
            Some(deadline) if self.now() >= deadline => Some(Stop::Budget),
            _ => None,
        }
    }

    fn stop(&self, run: &mut Run, stop: Stop) {
        run.report.more_work_pending = true;
        run.report.outcome = match stop {
            Stop::Cancelled => SyncOutcome::Cancelled,
            Stop::Budget => SyncOutcome::BudgetExhausted,
        };
    }

    /// Completes when `cancel()` is called after `run` started (checked every 20 ms), for
    /// waits a person can cut short.
    pub(crate) async fn until_cancelled(&self, run: &Run) {
        while self.cancel_generation.load(Ordering::SeqCst) == run.cancel_ticket {
            crate::runtime::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Whether the running cycle should stop before its next batch.
    pub(crate) fn interrupted(&self, run: &mut Run) -> bool {
        match self.should_stop(run) {
            Some(stop) => {
                self.stop(run, stop);
                true
            }
            None => false,
        }
    }

    /// True when a pending full resync of the type must (re)start in this process.
    pub(crate) fn begin_resync(&self, entity_type: EntityType) -> bool {
        self.resyncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(entity_type)
    }

    pub(crate) fn end_resync(&self, entity_type: EntityType) {
        self.resyncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&entity_type);
    }

    /// A run outside the cycle, logged as one step (used by manual conflict resolution).
    pub(crate) fn manual_run(&self, direction: &str, entity_type: EntityType) -> Result<Run> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now();
        let step = self.store.write(|tx| {
            history::begin_step(tx, &id, entity_type.as_str(), direction, "manual", now)
        })?;
        let mut run = self.empty_run(id);
        run.step = Some(step);
        Ok(run)
    }

    pub(crate) fn finish_manual_run(&self, run: Run, error: Option<&Error>) -> Result<()> {
        let Some(step) = run.step else { return Ok(()) };
        let now = self.now();
        let (status, message) = match error {
            None => ("OK", None),
            Some(e) => ("FAILED", Some(e.to_string())),
        };
        self.store
            .write(|tx| history::finish_step(tx, &step, status, 1, message.as_deref(), now))
    }

    /// Learns the offset between this device's clock and the server's from an answer.
    pub(crate) fn observe_server_time(
        &self,
        tx: &rusqlite::Transaction,
        server_time: i64,
    ) -> Result<()> {
        let now = self.now();
        crate::store::state::set_clock_offset(tx, server_time - now, now)
    }
}
