//! Upload: claim a batch of queued changes, send it, and apply the server's per-change
//! results to the queue. Claimed rows are released if the cycle is dropped mid-flight, and a
//! crash between the server's commit and the local mark converges through the change ids
//! (the resend is answered `duplicate`).

use super::conflict::{self, Decision, Sides};
use super::{Run, Syncer};
use crate::error::{Error, Result};
use crate::model::{hlc, ConflictPolicy, EntityType};
use crate::protocol::{
    batch_checksum, payload_checksum, CanonicalPayload, Change, ChangeResult, ChangeStatus,
    Resolution, ResolveRequest, ServerRecord, UploadRequest, UploadResponse,
};
use crate::runtime::{blocking, OwnedTask};
use crate::store::conflicts::{self, Conflict};
use crate::store::history::{self, AuditEntry};
use crate::store::queue::{self, QueueItem};
use crate::store::{customers, state, Store};
use crate::transport::{EncodedBody, Resolved, Transport};
use std::sync::Arc;

/// How far in the future of the server-corrected clock a local edit's stamp may lie (offset
/// measurement noise) before the stamp is no longer trusted to decide a conflict.
const FUTURE_STAMP_SLACK_MS: i64 = 60_000;

/// How often `resolve_conflict` sends a resolution before it reports the failure.
const RESOLVE_ATTEMPTS: i64 = 4;
/// The longest Retry-After a person waits for; a longer one is reported at once.
const MAX_RESOLVE_WAIT_MS: u64 = 30_000;

/// Returns claimed rows to PENDING if the upload future is dropped before it finished (a
/// cancelled coroutine, a panic), so they are not stuck in SYNCING until the next start.
struct ClaimGuard {
    store: Arc<Store>,
    ids: Vec<String>,
    armed: bool,
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Attempts stay counted: the batch may have reached the server.
        let ids = std::mem::take(&mut self.ids);
        let result = self.store.write(|tx| {
            for id in &ids {
                tx.execute(
                    "UPDATE sync_queue SET status = 'PENDING' WHERE id = ?1 AND status = 'SYNCING'",
                    [id],
                )?;
            }
            Ok(())
        });
        if let Err(e) = result {
            log::warn!("could not release interrupted upload batch: {e}");
        }
    }
}

/// A claimed batch and the request that carries it. Its rows stay SYNCING until the answer
/// is applied; the guard returns them to PENDING if the upload is abandoned.
struct ClaimedBatch {
    /// The claimed rows, in the order of the request's changes.
    items: Vec<QueueItem>,
    /// The request serialized and compressed when it was claimed, off the critical path.
    body: Arc<EncodedBody>,
    guard: ClaimGuard,
}

/// A claimed batch with its upload running on a task of its own, so the device can work on
/// other batches meanwhile. Dropping the task (a cancelled cycle) aborts the request.
type BatchInFlight = (ClaimedBatch, OwnedTask<UploadResponse>);

fn launch(transport: &Arc<Transport>, batch: ClaimedBatch) -> BatchInFlight {
    let (transport, body) = (transport.clone(), batch.body.clone());
    let upload = OwnedTask::spawn(async move { transport.send_upload(&body).await });
    (batch, upload)
}

impl Syncer {
    /// Uploads due changes of one type, batch by batch. Returns how many the server took.
    ///
    /// The server always sees one batch at a time, in queue order. For types whose changes
    /// never conflict (sales, stock adjustments: each is independent and the device's copy
    /// wins), the device claims the next batch while the server works on the current one
    /// and sends it as soon as the answer arrives, then applies that answer while the next
    /// batch is in flight: device and server work in parallel instead of taking turns.
    /// Customers, whose answers can change what is sent next, go strictly in turn.
    pub(crate) async fn upload_type(&self, run: &mut Run, entity_type: EntityType) -> Result<i64> {
        let transport = self.transport()?.clone();
        let overlap = entity_type.conflict_policy() == ConflictPolicy::LocalWins;
        let mut uploaded = 0;
        let mut batch_number = 0;
        let mut sending = blocking(|| self.claim_upload(run, entity_type, batch_number))?
            .map(|batch| launch(&transport, batch));
        while let Some((batch, mut in_flight)) = sending.take() {
            batch_number += 1;
            let mut next = if overlap {
                blocking(|| self.claim_upload(run, entity_type, batch_number))?
            } else {
                None
            };
            let answer = in_flight
                .wait("the upload of a batch")
                .await
                .and_then(|response| {
                    check_results(&batch.items, &response.results).map(|_| response)
                });
            let response = match answer {
                Ok(response) => response,
                Err(e) => {
                    if let Some(unsent) = next {
                        self.release_unsent(unsent)?;
                    }
                    self.upload_failed(batch, &e, run)?;
                    return Err(e);
                }
            };
            if next.is_some() && self.interrupted(run) {
                // Claimed ahead, but the cycle must stop: it goes back unsent.
                if let Some(unsent) = next.take() {
                    self.release_unsent(unsent)?;
                }
            }
            sending = next.map(|batch| launch(&transport, batch));
            let confirmed = self.apply_answer(run, batch, response).await?;
            uploaded += confirmed;
            run.report.uploaded += confirmed;
            self.events.progress(entity_type, uploaded);
            if !overlap {
                sending = blocking(|| self.claim_upload(run, entity_type, batch_number))?
                    .map(|batch| launch(&transport, batch));
            }
        }
        Ok(uploaded)
    }

    /// Claims the next batch of due changes and builds its request, unless the cycle must
    /// stop or this type had its share of the cycle.
    fn claim_upload(
        &self,
        run: &mut Run,
        entity_type: EntityType,
        batch_number: usize,
    ) -> Result<Option<ClaimedBatch>> {
        if batch_number > 0 && self.interrupted(run) {
            return Ok(None);
        }
        if batch_number >= self.settings.max_upload_batches_per_type {
            // Leave the rest for the next cycle so downloads are not held back.
            let now = self.now();
            run.report.more_work_pending |=
                self.store.read(|c| queue::has_due(c, entity_type, now))?;
            return Ok(None);
        }
        let now = self.now();
        let items = self
            .store
            .write(|tx| queue::claim_batch(tx, entity_type, self.settings.upload_batch, now))?;
        if items.is_empty() {
            return Ok(None);
        }
        let mut guard = ClaimGuard {
            store: self.store.clone(),
            ids: items.iter().map(|i| i.change_id.clone()).collect(),
            armed: true,
        };
        let changes = match self.build_changes(&items) {
            Ok(changes) => changes,
            Err(e) => {
                self.fail_batch(&items, &e, run)?;
                guard.armed = false;
                return Err(e);
            }
        };
        let request = UploadRequest {
            batch_id: uuid::Uuid::new_v4().to_string(),
            checksum: batch_checksum(&changes),
            changes,
        };
        let body = Arc::new(self.transport()?.encode_upload(&request));
        Ok(Some(ClaimedBatch { items, body, guard }))
    }

    /// A batch claimed ahead but never sent: back to PENDING, no attempt counted.
    fn release_unsent(&self, mut batch: ClaimedBatch) -> Result<()> {
        let now = self.now();
        self.store
            .write(|tx| queue::release_unsent(tx, &batch.guard.ids, now))?;
        batch.guard.armed = false;
        Ok(())
    }

    /// The batch got no usable answer. A refused token or a rate limit means the server did
    /// not process it: back to PENDING, no attempt counted. Anything else may have reached
    /// the server: every change is retried after its backoff.
    fn upload_failed(&self, mut batch: ClaimedBatch, err: &Error, run: &mut Run) -> Result<()> {
        if matches!(err, Error::Auth { .. } | Error::RateLimited { .. }) {
            self.release_unsent(batch)
        } else {
            self.fail_batch(&batch.items, err, run)?;
            batch.guard.armed = false;
            Ok(())
        }
    }

    /// Applies the server's answer to a batch and settles its conflicts. Returns how many
    /// changes the server confirmed.
    async fn apply_answer(
        &self,
        run: &mut Run,
        mut batch: ClaimedBatch,
        response: UploadResponse,
    ) -> Result<i64> {
        let conflicts = blocking(|| {
            self.apply_results(run, &batch.items, &response.results, response.server_time)
        })?;
        let confirmed = response
            .results
            .iter()
            .filter(|r| matches!(r.status, ChangeStatus::Applied | ChangeStatus::Duplicate))
            .count() as i64;
        // Conflicted rows stay SYNCING (and guarded) until settled.
        batch.guard.ids = conflicts
            .iter()
            .map(|(item, _)| item.change_id.clone())
            .collect();
        let mut unsettled = conflicts.into_iter();
        while let Some((item, result)) = unsettled.next() {
            if let Err(e) = self.settle_conflict(run, &item, result).await {
                let rest: Vec<QueueItem> = std::iter::once(item)
                    .chain(unsettled.map(|(i, _)| i))
                    .collect();
                self.fail_batch(&rest, &e, run)?;
                batch.guard.armed = false;
                return Err(e);
            }
        }
        batch.guard.armed = false;
        Ok(confirmed)
    }

    /// The wire form of claimed rows. Customers carry the server version they were based on.
    fn build_changes(&self, batch: &[QueueItem]) -> Result<Vec<Change<CanonicalPayload>>> {
        self.store.read(|conn| {
            batch
                .iter()
                .map(|item| {
                    // Verified against its checksum and sent as the stored text, unparsed.
                    let payload = CanonicalPayload::verified(&item.payload_json, &item.checksum)
                        .ok_or_else(|| Error::Database(format!(
                            "queued change {} no longer matches its checksum; the database may be damaged, run `pos-sync --db PATH check`",
                            item.change_id
                        )))?;
                    let base_version = match item.entity_type {
                        EntityType::Customer => customers::merge_base(conn, &item.entity_id)?
                            .map(|(version, _)| version)
                            .filter(|v| *v > 0),
                        _ => None,
                    };
                    Ok(Change {
                        change_id: item.change_id.clone(),
                        entity_type: item.entity_type,
                        entity_id: item.entity_id.clone(),
                        action: item.action,
                        hlc: item.hlc,
                        base_version,
                        payload,
                        checksum: item.checksum.clone(),
                    })
                })
                .collect()
        })
    }

    /// A batch that never got a usable answer: every change is retried after its backoff.
    fn fail_batch(&self, batch: &[QueueItem], err: &Error, run: &mut Run) -> Result<()> {
        let now = self.now();
        let message = err.to_string();
        self.store.write(|tx| {
            for item in batch {
                queue::mark_failed(
                    tx,
                    &item.change_id,
                    &message,
                    false,
                    &self.settings.retry,
                    now,
                )?;
            }
            Ok(())
        })?;
        run.report.failed += batch.len() as i64;
        Ok(())
    }

    /// Applies the per-change results in one transaction. Conflicts are returned to be
    /// settled afterwards (settling may call the server).
    fn apply_results(
        &self,
        run: &mut Run,
        batch: &[QueueItem],
        results: &[ChangeResult],
        server_time: i64,
    ) -> Result<Vec<(QueueItem, ChangeResult)>> {
        let now = self.now();
        let mut conflicts = Vec::new();
        let (mut failed, mut rejected) = (0, 0);
        self.store.write(|tx| {
            self.observe_server_time(tx, server_time)?;
            for (item, result) in batch.iter().zip(results) {
                match result.status {
                    ChangeStatus::Applied | ChangeStatus::Duplicate => {
                        queue::mark_synced(tx, &item.change_id, result.version, now)?;
                        if item.entity_type == EntityType::Customer {
                            if let Some(version) = result.version {
                                customers::confirm_upload(tx, &item.entity_id, version, &item.payload_json, &item.checksum)?;
                            }
                        }
                        history::audit(
                            tx,
                            &AuditEntry {
                                at_ms: now,
                                run_id: Some(run.id.clone()),
                                event: if result.status == ChangeStatus::Applied { "uploaded" } else { "duplicate" }.into(),
                                entity_type: item.entity_type,
                                entity_id: item.entity_id.clone(),
                                change_id: Some(item.change_id.clone()),
                                version: result.version,
                                detail: None,
                            },
                        )?;
                    }
                    ChangeStatus::Rejected => {
                        let reason = format!(
                            "refused by the server ({}): {}",
                            result.code.as_deref().unwrap_or("rejected"),
                            result.reason.as_deref().unwrap_or("no reason given")
                        );
                        queue::mark_failed(tx, &item.change_id, &reason, true, &self.settings.retry, now)?;
                        failed += 1;
                        rejected += 1;
                    }
                    ChangeStatus::Conflict if item.entity_type == EntityType::Customer && result.server_record.is_some() && result.conflict_id.is_some() => {
                        conflicts.push((item.clone(), result.clone()));
                    }
                    ChangeStatus::Conflict => {
                        // Sales and stock adjustments always win locally: a server that
                        // answers conflict for them is misbehaving. Keep and retry.
                        let reason = "the server answered 'conflict' for a change that cannot conflict; will retry";
                        queue::mark_failed(tx, &item.change_id, reason, false, &self.settings.retry, now)?;
                        failed += 1;
                    }
                }
            }
            Ok(())
        })?;
        run.report.failed += failed;
        run.report.rejected += rejected;
        Ok(conflicts)
    }

    /// Decides a customer conflict by timestamp / field merge, or queues it for a person.
    async fn settle_conflict(
        &self,
        run: &mut Run,
        item: &QueueItem,
        result: ChangeResult,
    ) -> Result<()> {
        let server = result.server_record.expect("checked by apply_results");
        let conflict_id = result.conflict_id.expect("checked by apply_results");
        verify_record(&server, EntityType::Customer)?;
        let local = crate::store::parse_stored(&item.payload_json)?;
        let base = self
            .store
            .read(|c| customers::merge_base(c, &item.entity_id))?
            .and_then(|(_, base)| base)
            .map(|b| crate::store::parse_stored(&b))
            .transpose()?;
        // An edit stamped later than the server-corrected clock says now was made while this
        // device's clock ran ahead (it jumped after the last sync, so the offset was not
        // known yet): its real time is unknown, and comparing it would let it win by accident.
        let corrected_now = self.now() + self.store.read(state::clock_offset)?;
        let ahead_ms = hlc::millis(item.hlc) - corrected_now;
        let decision = if ahead_ms > FUTURE_STAMP_SLACK_MS {
            Decision::Manual(format!(
                "this device's clock was about {} minutes ahead when the edit was made, so nobody can tell which edit came last",
                ahead_ms / 60_000
            ))
        } else {
            conflict::decide(
                &Sides {
                    local: &local,
                    local_hlc: item.hlc,
                    server: &server.payload,
                    server_hlc: server.updated_hlc,
                    base: base.as_ref(),
                },
                self.settings.tie_window_ms,
            )
        };
        let (resolution, payload, event) = match decision {
            Decision::Manual(reason) => {
                let now = self.now();
                let conflict = Conflict {
                    conflict_id,
                    change_id: item.change_id.clone(),
                    entity_type: item.entity_type,
                    entity_id: item.entity_id.clone(),
                    local_json: item.payload_json.clone(),
                    server_json: crate::protocol::canonical_json(&server.payload),
                    server_version: server.version,
                    local_hlc: item.hlc,
                    server_hlc: server.updated_hlc,
                    reason: reason.clone(),
                    created_at_ms: now,
                };
                self.store.write(|tx| {
                    conflicts::insert(tx, &conflict)?;
                    queue::mark_conflict(
                        tx,
                        &item.change_id,
                        &format!("needs manual review: {reason}"),
                        now,
                    )
                })?;
                run.report.conflicts += 1;
                self.events.conflict(conflict);
                return Ok(());
            }
            Decision::KeepLocal => (Resolution::KeepLocal, Some(local), "resolved_local"),
            Decision::KeepServer => (Resolution::KeepServer, None, "resolved_server"),
            Decision::Merge(merged) => (Resolution::Merged, Some(merged), "merged"),
        };
        self.resolve_with_server(run, &conflict_id, item, resolution, payload, event, false)
            .await?;
        run.report.auto_resolved += 1;
        Ok(())
    }

    /// Sends a resolution and makes the device agree with the server's answer. `manual`: a
    /// person is waiting (`resolve_conflict`), so transient failures are sent again here (the
    /// cycle retries its own on its next run) and `cancel()` stops the wait at once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn resolve_with_server(
        &self,
        run: &Run,
        conflict_id: &str,
        item: &QueueItem,
        resolution: Resolution,
        payload: Option<serde_json::Value>,
        event: &str,
        manual: bool,
    ) -> Result<()> {
        let hlc = self.store.write(|tx| state::next_hlc(tx, self.now()))?;
        let request = ResolveRequest {
            conflict_id: conflict_id.to_owned(),
            resolution,
            checksum: payload.as_ref().map(payload_checksum),
            payload,
            hlc,
        };
        let response = match self.send_resolution(run, &request, manual).await? {
            Resolved::Done(response) => response,
            Resolved::Refused(err) => return Err(err),
            Resolved::AlreadyClosed(message) => {
                return self.closed_on_the_server(run, conflict_id, item, event, &message)
            }
        };
        let record = response.record;
        verify_record(&record, item.entity_type)?;
        if record.entity_id != item.entity_id {
            return Err(Error::server(
                "the server resolved a conflict for a different record than asked; not applied",
            ));
        }
        let now = self.now();
        self.store.write(|tx| {
            self.observe_server_time(tx, response.server_time)?;
            state::observe_hlc(tx, record.updated_hlc, now)?;
            queue::mark_synced(tx, &item.change_id, Some(record.version), now)?;
            if customers::has_other_unsynced_edit(tx, &item.entity_id, &item.change_id)? {
                // A newer local edit is queued: keep it, only move the merge base.
                customers::confirm_upload(
                    tx,
                    &item.entity_id,
                    record.version,
                    &crate::protocol::canonical_json(&record.payload),
                    &record.checksum,
                )?;
            } else {
                history::journal_pre_image(tx, &run.id, EntityType::Customer, &item.entity_id)?;
                customers::apply_server(tx, &record)?;
            }
            conflicts::mark_resolved(tx, conflict_id, event, now)?;
            history::audit(
                tx,
                &resolution_audit(run, item, event, now, Some(record.version), None),
            )
        })?;
        Ok(())
    }

    /// Sends a resolution until the server judges it. A manual one is sent again after a
    /// transient failure (backoff of the retry policy, or the server's Retry-After up to
    /// `MAX_RESOLVE_WAIT_MS`), at most `RESOLVE_ATTEMPTS` times, and stops at `cancel()`.
    async fn send_resolution(
        &self,
        run: &Run,
        request: &ResolveRequest,
        manual: bool,
    ) -> Result<Resolved> {
        let transport = self.transport()?;
        let cancelled = || {
            Error::Cancelled(
                "the conflict resolution was cancelled; if the server received it, it is confirmed when resolved again".into(),
            )
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = if manual {
                tokio::select! {
                    biased;
                    () = self.until_cancelled(run) => return Err(cancelled()),
                    sent = transport.resolve(request) => sent,
                }
            } else {
                transport.resolve(request).await
            };
            let err = match sent {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            let wait_ms = match &err {
                _ if !manual || attempt >= RESOLVE_ATTEMPTS || !err.is_transient() => {
                    return Err(err)
                }
                Error::RateLimited { retry_after_ms } if *retry_after_ms > MAX_RESOLVE_WAIT_MS => {
                    return Err(err)
                }
                Error::RateLimited { retry_after_ms } => *retry_after_ms as i64,
                _ => self.settings.retry.delay_ms(attempt, false),
            };
            log::info!("resolving a conflict failed ({err}); sending it again in {wait_ms} ms");
            tokio::select! {
                biased;
                () = self.until_cancelled(run) => return Err(cancelled()),
                () = crate::runtime::sleep(std::time::Duration::from_millis(wait_ms.max(0) as u64)) => {}
            }
        }
    }

    /// The server had closed the conflict already: most likely this device's own earlier
    /// attempt, whose answer was lost (or another till's). Treated as done: the change is
    /// settled, the local conflict closed, and customers are downloaded again from the start
    /// so the device ends with the server's record whatever the resolution was (a download
    /// that came while the change was unsettled skipped it).
    fn closed_on_the_server(
        &self,
        run: &Run,
        conflict_id: &str,
        item: &QueueItem,
        event: &str,
        message: &str,
    ) -> Result<()> {
        log::info!("the server had already closed conflict {conflict_id}: confirming it here");
        let now = self.now();
        self.store.write(|tx| {
            queue::mark_synced(tx, &item.change_id, None, now)?;
            conflicts::mark_resolved(tx, conflict_id, event, now)?;
            history::request_full_resync(tx, EntityType::Customer, now)?;
            let detail =
                format!("already closed on the server ({message}); customers download again");
            history::audit(
                tx,
                &resolution_audit(run, item, event, now, None, Some(detail)),
            )
        })
    }
}

/// The server must answer once per change, in order, for exactly the changes it was sent.
/// The audit entry of a manual conflict resolution, resolved here or found already closed.
fn resolution_audit(
    run: &Run,
    item: &QueueItem,
    event: &str,
    now: i64,
    version: Option<i64>,
    detail: Option<String>,
) -> AuditEntry {
    AuditEntry {
        at_ms: now,
        run_id: Some(run.id.clone()),
        event: event.into(),
        entity_type: item.entity_type,
        entity_id: item.entity_id.clone(),
        change_id: Some(item.change_id.clone()),
        version,
        detail,
    }
}

fn check_results(sent: &[QueueItem], results: &[ChangeResult]) -> Result<()> {
    if results.len() != sent.len()
        || results
            .iter()
            .zip(sent)
            .any(|(r, item)| r.change_id != item.change_id)
    {
        return Err(Error::server(format!(
            "the server answered {} results for {} changes, or out of order; nothing was marked, the batch will be retried",
            results.len(),
            sent.len()
        )));
    }
    Ok(())
}

/// A record from the server is used only if its checksum matches its payload, its type is
/// the one asked for, and a tombstone has no payload.
pub(crate) fn verify_record(record: &ServerRecord, expected: EntityType) -> Result<()> {
    if record.entity_type != expected {
        return Err(Error::server(format!(
            "the server sent a {} record where a {expected} was expected; not applied",
            record.entity_type
        )));
    }
    if record.deleted != record.payload.is_null() {
        return Err(Error::server(format!(
            "the server sent a {expected} record whose deleted flag contradicts its payload; not applied"
        )));
    }
    crate::documents::check_key(expected.as_str(), "id", &record.entity_id).map_err(|e| {
        Error::server(format!(
            "the server sent a bad {expected} record ({e}); not applied"
        ))
    })?;
    if payload_checksum(&record.payload) != record.checksum {
        return Err(Error::Integrity(format!(
            "a downloaded {expected} record does not match its checksum (corrupted in transit); not applied, will retry"
        )));
    }
    Ok(())
}
