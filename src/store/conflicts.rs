//! The manual review queue: conflicts the engine could not decide by timestamp, with both
//! versions, until a person resolves them.

use crate::error::Result;
use crate::model::EntityType;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Conflict {
    /// The server's conflict id, passed to `resolve_conflict`.
    pub conflict_id: String,
    pub change_id: String,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The device's version of the record.
    #[serde(serialize_with = "crate::bridge::wire::json_text")]
    #[cfg_attr(test, ts(type = "JsonObject"))]
    pub local_json: String,
    /// The server's version (`null` when the server deleted it).
    #[serde(serialize_with = "crate::bridge::wire::json_text")]
    #[cfg_attr(test, ts(type = "JsonObject | null"))]
    pub server_json: String,
    pub server_version: i64,
    /// Hybrid logical clock timestamps of both versions.
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub local_hlc: i64,
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub server_hlc: i64,
    /// Why it needs a person, in words.
    pub reason: String,
    pub created_at_ms: i64,
}

const COLUMNS: &str = "id, change_id, entity_type, entity_id, local_payload, server_payload, \
     server_version, local_hlc, server_hlc, reason, created_at";

fn from_row(r: &Row) -> rusqlite::Result<Conflict> {
    let entity: String = r.get(2)?;
    Ok(Conflict {
        conflict_id: r.get(0)?,
        change_id: r.get(1)?,
        entity_type: entity.parse().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                "unknown entity type".into(),
            )
        })?,
        entity_id: r.get(3)?,
        local_json: r.get(4)?,
        server_json: r.get(5)?,
        server_version: r.get(6)?,
        local_hlc: r.get(7)?,
        server_hlc: r.get(8)?,
        reason: r.get(9)?,
        created_at_ms: r.get(10)?,
    })
}

pub fn insert(tx: &Transaction, c: &Conflict) -> Result<()> {
    tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO conflicts ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        c.conflict_id,
        c.change_id,
        c.entity_type.as_str(),
        c.entity_id,
        c.local_json,
        c.server_json,
        c.server_version,
        c.local_hlc,
        c.server_hlc,
        c.reason,
        c.created_at_ms
    ])?;
    Ok(())
}

/// Open conflicts, oldest first.
pub fn open(conn: &Connection) -> Result<Vec<Conflict>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM conflicts WHERE resolved_at IS NULL ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get_open(conn: &Connection, conflict_id: &str) -> Result<Option<Conflict>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM conflicts WHERE id = ?1 AND resolved_at IS NULL"
        ))?
        .query_row([conflict_id], from_row)
        .optional()?)
}

pub fn mark_resolved(
    tx: &Transaction,
    conflict_id: &str,
    resolution: &str,
    now_ms: i64,
) -> Result<()> {
    tx.prepare_cached("UPDATE conflicts SET resolved_at = ?2, resolution = ?3 WHERE id = ?1")?
        .execute(params![conflict_id, now_ms, resolution])?;
    Ok(())
}
