//! Downloaded records the device cannot use (a price whose `amount` is `"1.50"`, a product
//! without an `id`), set aside so the rest of their page and its token still apply: one bad
//! record never stalls its type. A record stays here until a usable version of it (or its
//! tombstone) is applied. A page whose checksum fails is not quarantined record by record:
//! that is corruption in transit, and the whole page is refused and fetched again.

use crate::error::{Error, Result};
use crate::model::EntityType;
use rusqlite::{params, Connection, Transaction};

/// One quarantined record, for the support screen and `pos-sync quarantine`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuarantinedRecord {
    pub entity_type: String,
    pub entity_id: String,
    /// The server version that could not be used (the newest one received).
    pub version: i64,
    /// Why, in words.
    pub reason: String,
    /// The payload as received (canonical JSON), `None` for a tombstone.
    pub payload: Option<String>,
    pub first_seen_at_ms: i64,
    pub last_seen_at_ms: i64,
    /// How often this version arrived.
    pub times_seen: i64,
    /// The sync run that received it last.
    pub run_id: String,
}

/// Ids longer than this (themselves the problem) are kept shortened.
const MAX_STORED_ID_CHARS: usize = 200;

/// What `put` needs to know about a record.
pub struct Unusable<'a> {
    pub entity_type: EntityType,
    pub entity_id: &'a str,
    pub version: i64,
    pub reason: &'a str,
    pub payload: Option<&'a str>,
}

/// Quarantines a record, or notes that it arrived again. A different version replaces the
/// row (its first sighting starts over).
pub fn put(tx: &Transaction, record: &Unusable, run_id: &str, now_ms: i64) -> Result<()> {
    let id: String = record.entity_id.chars().take(MAX_STORED_ID_CHARS).collect();
    tx.prepare_cached(
        "INSERT INTO download_quarantine (entity_type, entity_id, version, reason, payload, \
         first_seen_at, last_seen_at, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) \
         ON CONFLICT (entity_type, entity_id) DO UPDATE SET \
         times_seen = CASE WHEN version = excluded.version THEN times_seen + 1 ELSE 1 END, \
         first_seen_at = CASE WHEN version = excluded.version THEN first_seen_at \
         ELSE excluded.first_seen_at END, \
         version = excluded.version, reason = excluded.reason, payload = excluded.payload, \
         last_seen_at = excluded.last_seen_at, run_id = excluded.run_id",
    )?
    .execute(params![
        record.entity_type.as_str(),
        id,
        record.version,
        record.reason,
        record.payload,
        now_ms,
        run_id
    ])?;
    Ok(())
}

/// Whether any record of the type is quarantined (a page checks once, so the usual empty
/// quarantine costs no statement per applied record).
pub fn holds_any(conn: &Connection, entity_type: EntityType) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM download_quarantine WHERE entity_type = ?1)")?
        .query_row([entity_type.as_str()], |r| r.get(0))?)
}

/// A usable version of the record was applied: it leaves the quarantine.
pub fn release(tx: &Transaction, entity_type: EntityType, entity_id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM download_quarantine WHERE entity_type = ?1 AND entity_id = ?2",
        )?
        .execute(params![entity_type.as_str(), entity_id])?
        > 0)
}

/// After a full resync: records the server no longer sent are gone from the server, so
/// their quarantine entries go too. `seen` is the resync's set of ids (a TEMP table).
pub(crate) fn release_unseen(tx: &Transaction, entity_type: EntityType) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM download_quarantine WHERE entity_type = ?1 AND entity_id NOT IN \
         (SELECT id FROM temp.resync_seen WHERE entity_type = ?1)",
        [entity_type.as_str()],
    )?)
}

/// Every quarantined record, newest sighting first.
pub fn list(conn: &Connection) -> Result<Vec<QuarantinedRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT entity_type, entity_id, version, reason, payload, first_seen_at, last_seen_at, \
         times_seen, run_id FROM download_quarantine ORDER BY last_seen_at DESC, entity_type, entity_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(QuarantinedRecord {
            entity_type: r.get(0)?,
            entity_id: r.get(1)?,
            version: r.get(2)?,
            reason: r.get(3)?,
            payload: r.get(4)?,
            first_seen_at_ms: r.get(5)?,
            last_seen_at_ms: r.get(6)?,
            times_seen: r.get(7)?,
            run_id: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many records of each type are quarantined, in priority order (types with none left
/// out).
pub fn counts(conn: &Connection) -> Result<Vec<(EntityType, i64)>> {
    let stmt = conn.prepare_cached(
        "SELECT entity_type, count(*) FROM download_quarantine GROUP BY entity_type",
    );
    let mut stmt = match stmt {
        Ok(stmt) => stmt,
        // A database the CLI inspects without migrating it, from before schema v7.
        Err(e) if e.to_string().contains("no such table") => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut counts: Vec<(EntityType, i64)> = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?
        .filter_map(|row| match row {
            Ok((name, n)) => name.parse().ok().map(|t| Ok((t, n))),
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()?;
    counts.sort_by_key(|(t, _)| t.priority());
    Ok(counts)
}

/// The words for the health line: "2 downloaded price records could not be used ...".
pub fn health_reason(counts: &[(EntityType, i64)]) -> Option<String> {
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let (records, are) = if total == 1 {
        ("record", "is")
    } else {
        ("records", "are")
    };
    let what = match counts {
        [] => return None,
        [(t, n)] => format!("{n} downloaded {t} {records}"),
        several => {
            let by_type: Vec<String> = several.iter().map(|(t, n)| format!("{n} {t}")).collect();
            format!("{total} downloaded {records} ({})", by_type.join(", "))
        }
    };
    Some(format!(
        "{what} could not be used and {are} quarantined until the server sends a usable version (`pos-sync quarantine`)"
    ))
}

/// Whether an error from applying a downloaded record is about the record itself (it
/// cannot be used, and is quarantined) rather than about the device (a full disk, a damaged
/// file), which fails the page. The apply functions validate a record before they write any
/// of it, so such an error leaves the transaction as it was.
pub fn is_unusable_record(err: &Error) -> bool {
    matches!(err, Error::InvalidInput { .. } | Error::PayloadTooLarge(_))
}

/// An error's words without its kind ("invalid input: ..."), for the reason column.
pub fn reason_of(err: &Error) -> String {
    match err {
        Error::InvalidInput { message: m, .. }
        | Error::PayloadTooLarge(m)
        | Error::Server { message: m, .. } => m.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn bad<'a>(id: &'a str, version: i64, reason: &'a str) -> Unusable<'a> {
        Unusable {
            entity_type: EntityType::Price,
            entity_id: id,
            version,
            reason,
            payload: Some(r#"{"amount":"1.50"}"#),
        }
    }

    #[test]
    fn a_record_is_kept_once_per_id_and_a_new_version_starts_over() {
        let (_d, store) = temp_store();
        store
            .write(|tx| put(tx, &bad("pr1", 3, "amount is text"), "run-1", 1_000))
            .unwrap();
        store
            .write(|tx| put(tx, &bad("pr1", 3, "amount is text"), "run-2", 2_000))
            .unwrap();
        let listed = store.read(list).unwrap();
        assert_eq!(listed.len(), 1);
        let r = &listed[0];
        assert_eq!(
            (
                r.version,
                r.times_seen,
                r.first_seen_at_ms,
                r.last_seen_at_ms,
                r.run_id.as_str()
            ),
            (3, 2, 1_000, 2_000, "run-2")
        );
        store
            .write(|tx| put(tx, &bad("pr1", 4, "no amount"), "run-3", 3_000))
            .unwrap();
        let r = &store.read(list).unwrap()[0];
        assert_eq!(
            (
                r.version,
                r.times_seen,
                r.first_seen_at_ms,
                r.reason.as_str()
            ),
            (4, 1, 3_000, "no amount")
        );
        assert_eq!(store.read(counts).unwrap(), vec![(EntityType::Price, 1)]);
        let words = health_reason(&store.read(counts).unwrap()).unwrap();
        assert!(
            words.starts_with("1 downloaded price record could not be used and is quarantined"),
            "{words}"
        );
        assert!(store.read(|c| holds_any(c, EntityType::Price)).unwrap());
        assert!(!store.read(|c| holds_any(c, EntityType::Product)).unwrap());
        assert!(store
            .write(|tx| release(tx, EntityType::Price, "pr1"))
            .unwrap());
        assert!(store.read(list).unwrap().is_empty());
        assert_eq!(health_reason(&store.read(counts).unwrap()), None);
    }
}
