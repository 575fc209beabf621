//! Drift detection against the server (PowerSync-style): per downloaded type, compare the
//! local (count, checksum) with the server's `/api/sync/status`, and schedule a full resync
//! of every type that differs. Nothing is downloaded to find out.

use super::{SyncReason, Syncer};
use crate::error::Result;
use crate::model::EntityType;
use crate::store::history;

pub use crate::store::check::IntegrityReport;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EntityConsistency {
    pub entity_type: EntityType,
    pub local_count: i64,
    pub server_count: i64,
    /// Wrapping 64-bit checksums.
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub local_checksum: i64,
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub server_checksum: i64,
    pub in_sync: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ConsistencyReport {
    pub checked_at_ms: i64,
    pub entities: Vec<EntityConsistency>,
    /// Types whose drift scheduled a full resync on the next cycle.
    pub resync_scheduled: Vec<EntityType>,
    pub consistent: bool,
}

impl Syncer {
    /// Catches up with a cycle, then compares totals with the server. A record changed on
    /// the server between the two steps shows up as drift and costs one harmless resync.
    pub async fn check_consistency(&self) -> Result<ConsistencyReport> {
        let catch_up = self
            .cycle(SyncReason::Manual, None, self.cancel_ticket())
            .await;
        if let Some(error) = catch_up.error {
            log::info!("consistency check: catch-up sync did not complete ({error})");
        }
        let status = self.transport()?.status().await?;
        let now = self.now();
        let mut entities = Vec::new();
        let mut resync_scheduled = Vec::new();
        for entity_type in EntityType::ALL.into_iter().filter(|t| t.downloads()) {
            let (local_count, local_checksum) = self
                .store
                .read(|c| history::local_drift_totals(c, entity_type))?;
            let (server_count, server_checksum) = status
                .entities
                .iter()
                .find(|e| e.entity_type == entity_type)
                .map(|e| (e.count, e.checksum))
                .unwrap_or((0, 0));
            let in_sync = local_count == server_count && local_checksum == server_checksum;
            if !in_sync {
                self.store
                    .write(|tx| history::request_full_resync(tx, entity_type, now))?;
                resync_scheduled.push(entity_type);
                log::warn!(
                    "{entity_type} drifted from the server ({local_count} vs {server_count} records); full resync scheduled"
                );
            }
            entities.push(EntityConsistency {
                entity_type,
                local_count,
                server_count,
                local_checksum: local_checksum as i64,
                server_checksum: server_checksum as i64,
                in_sync,
            });
        }
        Ok(ConsistencyReport {
            checked_at_ms: now,
            consistent: resync_scheduled.is_empty(),
            entities,
            resync_scheduled,
        })
    }
}
