//! Download: delta pages per entity type since the stored sync token. A page is verified
//! (batch and record checksums, types, tombstones) and applied together with its token in one
//! transaction, so it lands wholly or not at all. A record the device cannot use is
//! quarantined (`store::quarantine`) and the rest of its page applies; a checksum that does
//! not match still refuses the whole page. Pre-images are journaled with the run.

use super::{Run, Syncer};
use crate::documents::{self, Document};
use crate::error::{Error, Result};
use crate::model::EntityType;
use crate::protocol::{
    batch_checksum, limits::MAX_PAGE_LIMIT, payload_checksum, DownloadResponse, ServerRecord,
};
use crate::runtime::{blocking, OwnedTask};
use crate::store::history::{self, AuditEntry};
use crate::store::{catalog, customers, quarantine, state};
use crate::transport::{Download, Transport};
use std::sync::Arc;

impl Syncer {
    /// Downloads and applies pages of one type until the server has no more (or the cycle
    /// must stop). Returns how many records were applied.
    pub(crate) async fn download_type(
        &self,
        run: &mut Run,
        entity_type: EntityType,
    ) -> Result<i64> {
        self.transport()?;
        let resync = self
            .store
            .read(|c| history::full_resync_pending(c, entity_type))?;
        if resync && self.begin_resync(entity_type) {
            let now = self.now();
            self.store
                .write(|tx| history::begin_full_resync(tx, entity_type, now))?;
        }
        // The first download of the catalog into an empty device builds its indexes once at
        // the end instead of row by row (crash-safe: see `catalog::begin_bulk_load`).
        let bulk = entity_type == EntityType::Product
            && !resync
            && self
                .store
                .read(|c| history::token(c, entity_type))?
                .is_none()
            && self.store.write(catalog::begin_bulk_load)?;
        // Pages of the configured size even for a bulk load: a page of 5,000 records held as
        // parsed JSON costs ~30 MB of RSS (measured: 21 -> 52 MB peak for 100k products).
        let limit = self
            .settings
            .download_page_size
            .clamp(1, MAX_PAGE_LIMIT as u32);
        let result = self
            .download_pages(run, entity_type, resync, bulk, limit)
            .await;
        if bulk {
            let started = web_time::Instant::now();
            let end = self.store.write(catalog::finish_bulk_load)?;
            log::info!(
                "initial catalog load: indexes built in {} ms ({end:?})",
                started.elapsed().as_millis()
            );
        }
        result
    }

    /// Pages are pipelined: as soon as a page is verified its `next_token` is known, so the
    /// next page is requested (and verified) by a task of its own while this one is applied.
    /// At most one page is in flight; it is discarded, never applied, if the apply fails or
    /// the cycle must stop, and each page is still applied with its token in one transaction.
    /// A server that answers `sync_token_ahead` turns the download into a full resync of the
    /// type, from the beginning.
    async fn download_pages(
        &self,
        run: &mut Run,
        entity_type: EntityType,
        mut resync: bool,
        bulk: bool,
        limit: u32,
    ) -> Result<i64> {
        let transport = self.transport()?;
        let since = self.store.read(|c| history::token(c, entity_type))?;
        let mut in_flight = prefetch(transport, entity_type, since, limit);
        let mut applied = 0;
        let mut restarted = false;
        loop {
            let verified = match in_flight.wait("the download of a page").await? {
                Fetched::Page(verified) => verified,
                Fetched::TokenAhead(message) => {
                    if restarted {
                        // Not even a download from the beginning is accepted: do not loop.
                        return Err(Error::server(format!(
                            "the server answered sync_token_ahead again during a full download of {entity_type} ({message}); will retry"
                        )));
                    }
                    restarted = true;
                    self.restart_from_the_beginning(run, entity_type, &message)?;
                    resync = true;
                    in_flight = prefetch(transport, entity_type, None, limit);
                    continue;
                }
            };
            let page = &verified.page;
            let following = page
                .has_more
                .then(|| prefetch(transport, entity_type, Some(page.next_token.clone()), limit));
            // The apply blocks this thread; `block_in_place` hands the runtime's other tasks
            // (the request just spawned) to another thread meanwhile.
            let count = blocking(|| self.apply_page(run, &verified, resync, bulk))?;
            applied += count;
            run.report.downloaded += count;
            self.events.progress(entity_type, applied);
            let Some(following) = following else {
                if resync {
                    self.finish_resync(run, entity_type)?;
                }
                break;
            };
            if self.interrupted(run) {
                break;
            }
            in_flight = following;
        }
        Ok(applied)
    }

    /// The server's answer to the stored token was `sync_token_ahead` (restored from a
    /// backup, or the store was reset): the type is downloaded again from the beginning as
    /// a full resync, which survives a crash like one the consistency check started.
    fn restart_from_the_beginning(
        &self,
        run: &Run,
        entity_type: EntityType,
        message: &str,
    ) -> Result<()> {
        log::warn!("the server says the {entity_type} sync token is ahead of it: full resync");
        self.begin_resync(entity_type);
        let now = self.now();
        self.store.write(|tx| {
            history::begin_full_resync(tx, entity_type, now)?;
            history::log_event(
                tx,
                &run.id,
                entity_type,
                "RESYNC",
                0,
                &format!(
                    "the server answered sync_token_ahead ({message}); downloading every {entity_type} record again, then removing those the server no longer has (unsynced local edits are kept)"
                ),
                now,
            )
        })
    }

    /// Ends a full resync: local records the server no longer has are removed (logged).
    fn finish_resync(&self, run: &Run, entity_type: EntityType) -> Result<()> {
        let now = self.now();
        let removed = self.store.write(|tx| {
            let removed = history::finish_full_resync(tx, &run.id, entity_type)?;
            history::log_event(
                tx,
                &run.id,
                entity_type,
                "RESYNC",
                removed as i64,
                &format!("full resync of {entity_type} finished: {removed} local records the server no longer has were removed"),
                now,
            )?;
            Ok(removed)
        })?;
        self.end_resync(entity_type);
        log::info!("full resync of {entity_type} removed {removed} stale records");
        Ok(())
    }

    /// `bulk`: an initial load into a table that was empty when it began (no pre-images).
    /// A record the device cannot use is quarantined and the rest of the page applies with
    /// its token; only a page that fails its checks as a whole is refused.
    fn apply_page(
        &self,
        run: &Run,
        verified: &VerifiedPage,
        resync: bool,
        bulk: bool,
    ) -> Result<i64> {
        let page = &verified.page;
        let entity_type = page.entity_type;
        let now = self.now();
        let mut applied = 0;
        // Records set aside, by their index in the page.
        let mut unusable: Vec<(usize, String)> = Vec::new();
        // Catalog pages journal their pre-images as one entry; customers record by record
        // (see `history::journal_page`).
        let journal_by_page = entity_type != EntityType::Customer;
        self.store.write(|tx| {
            self.observe_server_time(tx, page.server_time)?;
            if journal_by_page {
                let ids: Vec<&str> = page
                    .records
                    .iter()
                    .zip(&verified.records)
                    .filter(|(_, checked)| matches!(checked, Checked::Usable(_)))
                    .map(|(r, _)| r.entity_id.as_str())
                    .collect();
                let before = if bulk {
                    history::PageBefore::Absent
                } else {
                    history::PageBefore::AsStored
                };
                history::journal_page(tx, &run.id, entity_type, &ids, before)?;
            }
            let quarantined_before = quarantine::holds_any(tx, entity_type)?;
            let mut newest_hlc = 0;
            for (index, (record, checked)) in page.records.iter().zip(&verified.records).enumerate()
            {
                if resync {
                    // Also for a record set aside: the device keeps its last usable version.
                    history::mark_seen(tx, entity_type, &record.entity_id)?;
                }
                let doc = match checked {
                    Checked::Usable(doc) => doc.as_ref(),
                    Checked::Unusable(reason) => {
                        unusable.push((index, reason.clone()));
                        continue;
                    }
                };
                if entity_type == EntityType::Customer
                    && customers::has_other_unsynced_edit(tx, &record.entity_id, "")?
                {
                    // The device's queued edit will meet this version as a conflict on
                    // upload and be decided there; overwriting it now would lose the edit.
                    continue;
                }
                if !journal_by_page {
                    history::journal_pre_image(tx, &run.id, entity_type, &record.entity_id)?;
                }
                let written = if entity_type == EntityType::Customer {
                    customers::apply_server(tx, record)
                } else if bulk {
                    catalog::load_product(tx, record, doc)
                } else {
                    catalog::apply_server_document(tx, record, doc)
                };
                match written {
                    Ok(()) => {}
                    Err(e) if quarantine::is_unusable_record(&e) => {
                        unusable.push((index, quarantine::reason_of(&e)));
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                if quarantined_before {
                    quarantine::release(tx, entity_type, &record.entity_id)?;
                }
                newest_hlc = newest_hlc.max(record.updated_hlc);
                history::audit(
                    tx,
                    &AuditEntry {
                        at_ms: now,
                        run_id: Some(run.id.clone()),
                        event: "downloaded".into(),
                        entity_type,
                        entity_id: record.entity_id.clone(),
                        change_id: None,
                        version: Some(record.version),
                        detail: record.deleted.then(|| "deleted".to_owned()),
                    },
                )?;
                applied += 1;
            }
            if newest_hlc > 0 {
                state::observe_hlc(tx, newest_hlc, now)?;
            }
            quarantine_records(tx, run, verified, &unusable, now)?;
            history::set_token(tx, &run.id, entity_type, &page.next_token, now)
        })?;
        Ok(applied)
    }
}

/// Sets a page's unusable records (by index) aside, each with an audit entry, and lists
/// them in one sync log row.
fn quarantine_records(
    tx: &rusqlite::Transaction,
    run: &Run,
    verified: &VerifiedPage,
    unusable: &[(usize, String)],
    now: i64,
) -> Result<()> {
    if unusable.is_empty() {
        return Ok(());
    }
    let entity_type = verified.page.entity_type;
    for (index, reason) in unusable {
        let record = &verified.page.records[*index];
        // A live master-data payload was moved into its document when it was verified.
        let payload = match &verified.records[*index] {
            Checked::Usable(Some(doc)) => Some(doc.canonical.clone()),
            _ if record.payload.is_null() => None,
            _ => Some(crate::protocol::canonical_json(&record.payload)),
        };
        quarantine::put(
            tx,
            &quarantine::Unusable {
                entity_type,
                entity_id: &record.entity_id,
                version: record.version,
                reason,
                payload: payload.as_deref(),
            },
            &run.id,
            now,
        )?;
        history::audit(
            tx,
            &AuditEntry {
                at_ms: now,
                run_id: Some(run.id.clone()),
                event: "quarantined".into(),
                entity_type,
                entity_id: record.entity_id.chars().take(200).collect(),
                change_id: None,
                version: Some(record.version),
                detail: Some(reason.clone()),
            },
        )?;
    }
    const LISTED: usize = 3;
    let listed: Vec<String> = unusable
        .iter()
        .take(LISTED)
        .map(|(index, reason)| {
            let record = &verified.page.records[*index];
            let id: String = record.entity_id.chars().take(40).collect();
            format!("{id} v{} ({reason})", record.version)
        })
        .collect();
    let more = match unusable.len().saturating_sub(LISTED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let (s, are) = if unusable.len() == 1 {
        ("", "is")
    } else {
        ("s", "are")
    };
    let message = format!(
        "{} {entity_type} record{s} could not be used and {are} quarantined: {}{more}; the rest of the page was applied; see `pos-sync quarantine`",
        unusable.len(),
        listed.join("; ")
    );
    log::warn!("{message}");
    history::log_event(
        tx,
        &run.id,
        entity_type,
        "QUARANTINED",
        unusable.len() as i64,
        &message,
        now,
    )
}

/// The request for one page and its verification, on a task of its own; dropping it aborts
/// the task, so a page that is not waited for is never applied.
fn prefetch(
    transport: &Arc<Transport>,
    entity_type: EntityType,
    since: Option<String>,
    limit: u32,
) -> OwnedTask<Fetched> {
    let transport = Arc::clone(transport);
    OwnedTask::spawn(async move {
        match transport
            .download(entity_type, since.as_deref(), limit)
            .await?
        {
            Download::Page(page) => verified(page, entity_type, limit).map(Fetched::Page),
            Download::TokenAhead(message) => Ok(Fetched::TokenAhead(message)),
        }
    })
}

/// What the request for a page brought.
enum Fetched {
    Page(VerifiedPage),
    /// `sync_token_ahead`, with the server's message.
    TokenAhead(String),
}

/// A verified page and what each record is for the apply: for master data its document
/// (the payload moved into it and canonicalised once, for the checksum check and for the
/// apply), `Usable(None)` for tombstones and customers (applied from the record itself),
/// or why it cannot be used.
struct VerifiedPage {
    page: DownloadResponse,
    records: Vec<Checked>,
}

/// One record of a verified page.
enum Checked {
    Usable(Option<Document>),
    /// Quarantined by the apply, with the rest of the page going on.
    Unusable(String),
}

/// Everything about a page is checked before any of it is applied. `Ok` also for a page
/// with records that cannot be used: they are quarantined when it applies.
pub fn verify_page(page: &DownloadResponse, entity_type: EntityType, limit: u32) -> Result<()> {
    verified(page.clone(), entity_type, limit).map(drop)
}

fn verified(
    mut page: DownloadResponse,
    entity_type: EntityType,
    limit: u32,
) -> Result<VerifiedPage> {
    if page.entity_type != entity_type {
        return Err(Error::server(format!(
            "asked for {entity_type} changes, the server sent {}; not applied",
            page.entity_type
        )));
    }
    if page.records.len() > limit as usize {
        return Err(Error::server(format!(
            "the server sent {} records for a page of at most {limit}; not applied",
            page.records.len()
        )));
    }
    if page.next_token.is_empty() || page.next_token.len() > 512 {
        return Err(Error::server(
            "the server sent an unusable sync token; not applied",
        ));
    }
    if batch_checksum(&page.records) != page.checksum {
        return Err(Error::Integrity(format!(
            "a downloaded {entity_type} page does not match its checksum (corrupted in transit); not applied, will retry"
        )));
    }
    let records = page
        .records
        .iter_mut()
        .map(|record| checked_record(record, entity_type))
        .collect::<Result<_>>()?;
    Ok(VerifiedPage { page, records })
}

/// Checks one record: a checksum that does not match fails the page (corrupted in transit:
/// fetched again), anything else wrong with the record makes it `Unusable`. For a live
/// product, price or report the payload also becomes the document the apply writes: the
/// checksum of its canonical JSON is compared with the record's, so neither the check nor
/// the apply canonicalises it again.
fn checked_record(record: &mut ServerRecord, expected: EntityType) -> Result<Checked> {
    let corrupted = || {
        Error::Integrity(format!(
            "a downloaded {expected} record does not match its checksum (corrupted in transit); not applied, will retry"
        ))
    };
    let doc = if expected == EntityType::Customer || record.deleted || record.payload.is_null() {
        if payload_checksum(&record.payload) != record.checksum {
            return Err(corrupted());
        }
        None
    } else {
        match Document::new(std::mem::take(&mut record.payload)) {
            Ok(doc) if doc.checksum != record.checksum => return Err(corrupted()),
            Ok(doc) => Some(doc),
            // Over the size limit: the device can never store it.
            Err(e) => return Ok(Checked::Unusable(quarantine::reason_of(&e))),
        }
    };
    let problem = if record.entity_type != expected {
        Some(format!(
            "a {} record came in a page of {expected} records",
            record.entity_type
        ))
    } else if record.deleted != (record.payload.is_null() && doc.is_none()) {
        Some("its deleted flag contradicts its payload".to_owned())
    } else {
        documents::check_key(expected.as_str(), "id", &record.entity_id)
            .err()
            .map(|e| quarantine::reason_of(&e))
    };
    Ok(match problem {
        Some(reason) => Checked::Unusable(reason),
        None => Checked::Usable(doc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::payload_checksum;
    use serde_json::json;

    fn page(records: Vec<ServerRecord>) -> DownloadResponse {
        DownloadResponse {
            entity_type: EntityType::Product,
            checksum: batch_checksum(&records),
            records,
            next_token: "t1".into(),
            has_more: false,
            server_time: 0,
        }
    }

    fn product(id: &str, payload: serde_json::Value) -> ServerRecord {
        ServerRecord {
            entity_type: EntityType::Product,
            entity_id: id.into(),
            version: 1,
            deleted: payload.is_null(),
            updated_hlc: 1,
            checksum: payload_checksum(&payload),
            payload,
        }
    }

    /// The document a record is applied from is the one whose checksum was checked.
    #[test]
    fn a_verified_page_carries_each_live_records_document() {
        let good = page(vec![
            product("p1", json!({"name": "Tea", "id": "p1"})),
            product("p2", serde_json::Value::Null),
        ]);
        let v = verified(good.clone(), EntityType::Product, 10).unwrap();
        let Checked::Usable(Some(doc)) = &v.records[0] else {
            panic!("a live product has its document")
        };
        assert_eq!(doc.checksum, good.records[0].checksum);
        assert_eq!(doc.canonical, r#"{"id":"p1","name":"Tea"}"#);
        assert!(
            matches!(v.records[1], Checked::Usable(None)),
            "a tombstone has no document"
        );
    }

    /// A record the device cannot use does not fail its page: it is marked for quarantine,
    /// and the page's other records stay usable. Only checksums fail a page.
    #[test]
    fn an_unusable_record_is_marked_and_the_page_still_verifies() {
        let mut wrong_type = product("p3", json!({"id": "p3"}));
        wrong_type.entity_type = EntityType::Sale;
        let mut contradiction = product("p4", serde_json::Value::Null);
        contradiction.deleted = false;
        let v = verified(
            page(vec![
                product("", json!({"id": ""})),
                product("p2", json!({"id": "p2", "name": "Tea"})),
                wrong_type,
                contradiction,
            ]),
            EntityType::Product,
            10,
        )
        .unwrap();
        let reasons: Vec<Option<&str>> = v
            .records
            .iter()
            .map(|c| match c {
                Checked::Unusable(reason) => Some(reason.as_str()),
                Checked::Usable(_) => None,
            })
            .collect();
        assert_eq!(
            reasons,
            vec![
                Some("the product's 'id' is empty"),
                None,
                Some("a sale record came in a page of product records"),
                Some("its deleted flag contradicts its payload"),
            ]
        );
    }

    /// A record altered after its checksum was computed is refused even when the page's
    /// checksum was recomputed over the altered records.
    #[test]
    fn a_record_that_does_not_match_its_checksum_fails_the_page() {
        let mut tampered = product("p1", json!({"id": "p1", "name": "Tea"}));
        tampered.payload["name"] = json!("Coffee");
        let err = verify_page(&page(vec![tampered]), EntityType::Product, 10).unwrap_err();
        assert!(
            matches!(&err, Error::Integrity(m) if m.contains("record does not match")),
            "{err}"
        );
    }
}
