//! Download: delta pages per entity type since the stored sync token. A page is verified
//! (batch and record checksums, types, tombstones) and applied together with its token in one
//! transaction, so it lands wholly or not at all. Pre-images are journaled with the run.

use super::upload::verify_record;
use super::{Run, Syncer};
use crate::documents::{self, Document};
use crate::error::{PosSyncError, Result};
use crate::model::EntityType;
use crate::protocol::{batch_checksum, limits::MAX_PAGE_LIMIT, DownloadResponse, ServerRecord};
use crate::runtime::{blocking, OwnedTask};
use crate::store::history::{self, AuditEntry};
use crate::store::{catalog, customers, state};
use crate::transport::Transport;
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
    async fn download_pages(
        &self,
        run: &mut Run,
        entity_type: EntityType,
        resync: bool,
        bulk: bool,
        limit: u32,
    ) -> Result<i64> {
        let transport = self.transport()?;
        let since = self.store.read(|c| history::token(c, entity_type))?;
        let mut in_flight = prefetch(transport, entity_type, since, limit);
        let mut applied = 0;
        loop {
            let verified = in_flight.wait("the download of a page").await?;
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
                    let removed = self
                        .store
                        .write(|tx| history::finish_full_resync(tx, &run.id, entity_type))?;
                    self.end_resync(entity_type);
                    log::info!("full resync of {entity_type} removed {removed} stale records");
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

    /// `bulk`: an initial load into a table that was empty when it began (no pre-images).
    fn apply_page(
        &self,
        run: &Run,
        verified: &VerifiedPage,
        resync: bool,
        bulk: bool,
    ) -> Result<i64> {
        let page = &verified.page;
        let now = self.now();
        let mut applied = 0;
        // Catalog pages journal their pre-images as one entry; customers record by record
        // (see `history::journal_page`).
        let journal_by_page = page.entity_type != EntityType::Customer;
        self.store.write(|tx| {
            self.observe_server_time(tx, page.server_time)?;
            if journal_by_page {
                let ids: Vec<&str> = page.records.iter().map(|r| r.entity_id.as_str()).collect();
                let before = if bulk {
                    history::PageBefore::Absent
                } else {
                    history::PageBefore::AsStored
                };
                history::journal_page(tx, &run.id, page.entity_type, &ids, before)?;
            }
            let mut newest_hlc = 0;
            for (record, doc) in page.records.iter().zip(&verified.docs) {
                newest_hlc = newest_hlc.max(record.updated_hlc);
                if resync {
                    history::mark_seen(tx, record.entity_type, &record.entity_id)?;
                }
                if record.entity_type == EntityType::Customer
                    && customers::has_other_unsynced_edit(tx, &record.entity_id, "")?
                {
                    // The device's queued edit will meet this version as a conflict on
                    // upload and be decided there; overwriting it now would lose the edit.
                    continue;
                }
                if !journal_by_page {
                    history::journal_pre_image(tx, &run.id, record.entity_type, &record.entity_id)?;
                }
                if record.entity_type == EntityType::Customer {
                    customers::apply_server(tx, record)?;
                } else {
                    let written = if bulk {
                        catalog::load_product(tx, record, doc.as_ref())
                    } else {
                        catalog::apply_server_document(tx, record, doc.as_ref())
                    };
                    written.map_err(|e| {
                        PosSyncError::Server(format!(
                            "the server sent an unusable {} record ({e}); page not applied",
                            record.entity_type
                        ))
                    })?;
                }
                history::audit(
                    tx,
                    &AuditEntry {
                        at_ms: now,
                        run_id: Some(run.id.clone()),
                        event: "downloaded".into(),
                        entity_type: record.entity_type,
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
            history::set_token(tx, &run.id, page.entity_type, &page.next_token, now)
        })?;
        Ok(applied)
    }
}

/// The request for one page and its verification, on a task of its own; dropping it aborts
/// the task, so a page that is not waited for is never applied.
fn prefetch(
    transport: &Arc<Transport>,
    entity_type: EntityType,
    since: Option<String>,
    limit: u32,
) -> OwnedTask<VerifiedPage> {
    let transport = Arc::clone(transport);
    OwnedTask::spawn(async move {
        let page = transport
            .download(entity_type, since.as_deref(), limit)
            .await?;
        verified(page, entity_type, limit)
    })
}

/// A verified page and, for master data, each record's document: the payload moved into it
/// and canonicalised once, for the checksum check and for the apply (`None` for tombstones
/// and customers, which are applied from the record itself).
struct VerifiedPage {
    page: DownloadResponse,
    docs: Vec<Option<Document>>,
}

/// Everything about a page is checked before any of it is applied.
pub fn verify_page(page: &DownloadResponse, entity_type: EntityType, limit: u32) -> Result<()> {
    verified(page.clone(), entity_type, limit).map(drop)
}

fn verified(
    mut page: DownloadResponse,
    entity_type: EntityType,
    limit: u32,
) -> Result<VerifiedPage> {
    if page.entity_type != entity_type {
        return Err(PosSyncError::Server(format!(
            "asked for {entity_type} changes, the server sent {}; not applied",
            page.entity_type
        )));
    }
    if page.records.len() > limit as usize {
        return Err(PosSyncError::Server(format!(
            "the server sent {} records for a page of at most {limit}; not applied",
            page.records.len()
        )));
    }
    if page.next_token.is_empty() || page.next_token.len() > 512 {
        return Err(PosSyncError::Server(
            "the server sent an unusable sync token; not applied".into(),
        ));
    }
    if batch_checksum(&page.records) != page.checksum {
        return Err(PosSyncError::Integrity(format!(
            "a downloaded {entity_type} page does not match its checksum (corrupted in transit); not applied, will retry"
        )));
    }
    let docs = page
        .records
        .iter_mut()
        .map(|record| verified_document(record, entity_type))
        .collect::<Result<_>>()?;
    Ok(VerifiedPage { page, docs })
}

/// `verify_record` for one record, which for a live product, price or report also makes its
/// payload the document the apply writes: the checksum of its canonical JSON is compared
/// with the record's, so neither the check nor the apply canonicalises it again.
fn verified_document(record: &mut ServerRecord, expected: EntityType) -> Result<Option<Document>> {
    if expected == EntityType::Customer || record.deleted || record.payload.is_null() {
        verify_record(record, expected)?;
        return Ok(None);
    }
    // `verify_record`'s other checks, in the same words.
    if record.entity_type != expected {
        return Err(PosSyncError::Server(format!(
            "the server sent a {} record where a {expected} was expected; not applied",
            record.entity_type
        )));
    }
    let unusable = |e: PosSyncError| {
        PosSyncError::Server(format!(
            "the server sent a bad {expected} record ({e}); not applied"
        ))
    };
    documents::check_key(expected.as_str(), "id", &record.entity_id).map_err(unusable)?;
    let doc = Document::new(std::mem::take(&mut record.payload)).map_err(unusable)?;
    if doc.checksum != record.checksum {
        return Err(PosSyncError::Integrity(format!(
            "a downloaded {expected} record does not match its checksum (corrupted in transit); not applied, will retry"
        )));
    }
    Ok(Some(doc))
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
        let doc = v.docs[0].as_ref().unwrap();
        assert_eq!(doc.checksum, good.records[0].checksum);
        assert_eq!(doc.canonical, r#"{"id":"p1","name":"Tea"}"#);
        assert!(v.docs[1].is_none(), "a tombstone has no document");
    }

    /// A record altered after its checksum was computed is refused even when the page's
    /// checksum was recomputed over the altered records.
    #[test]
    fn a_record_that_does_not_match_its_checksum_fails_the_page() {
        let mut tampered = product("p1", json!({"id": "p1", "name": "Tea"}));
        tampered.payload["name"] = json!("Coffee");
        let err = verify_page(&page(vec![tampered]), EntityType::Product, 10).unwrap_err();
        assert!(
            matches!(&err, PosSyncError::Integrity(m) if m.contains("record does not match")),
            "{err}"
        );
    }
}
