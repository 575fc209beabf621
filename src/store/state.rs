//! Device identity and the small per-device counters: receipt numbers, the hybrid logical
//! clock, and the measured offset between this device's clock and the server's.

use crate::error::{Error, Result};
use crate::model::hlc;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// Who this device is. Stored on first open; a later open with other values is refused so
/// one database never issues receipts under two names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub store_id: String,
    pub register_id: String,
    pub device_id: String,
}

pub fn ensure_identity(tx: &Transaction, wanted: &Identity) -> Result<()> {
    let stored = load_identity(tx)?;
    match stored {
        None => {
            let mut stmt =
                tx.prepare_cached("INSERT INTO device_meta (key, value) VALUES (?1, ?2)")?;
            stmt.execute(params!["store_id", wanted.store_id])?;
            stmt.execute(params!["register_id", wanted.register_id])?;
            stmt.execute(params!["device_id", wanted.device_id])?;
            Ok(())
        }
        Some(found) if &found == wanted => Ok(()),
        Some(found) => Err(Error::invalid(format!(
            "this database belongs to store '{}', register '{}', device '{}'; open it with the same identity or use another database file",
            found.store_id, found.register_id, found.device_id
        ))),
    }
}

pub fn load_identity(conn: &Connection) -> Result<Option<Identity>> {
    let get = |key: &str| -> Result<Option<String>> {
        Ok(conn
            .query_row("SELECT value FROM device_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    };
    match (get("store_id")?, get("register_id")?, get("device_id")?) {
        (Some(store_id), Some(register_id), Some(device_id)) => Ok(Some(Identity {
            store_id,
            register_id,
            device_id,
        })),
        _ => Ok(None),
    }
}

/// Issues the next gapless receipt sequence number and a fresh HLC timestamp in one row
/// update, inside the caller's transaction (so a rolled-back sale leaves no gap).
pub fn issue_receipt_and_hlc(tx: &Transaction, now_ms: i64) -> Result<(i64, i64)> {
    let (receipt, last, offset): (i64, i64, i64) = tx
        .prepare_cached("SELECT next_receipt, hlc_last, clock_offset_ms FROM device_state")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let stamp = hlc::tick(last, now_ms + offset);
    tx.prepare_cached("UPDATE device_state SET next_receipt = ?1, hlc_last = ?2")?
        .execute(params![receipt + 1, stamp])?;
    Ok((receipt, stamp))
}

/// A fresh HLC timestamp for a local edit.
pub fn next_hlc(tx: &Transaction, now_ms: i64) -> Result<i64> {
    let (last, offset): (i64, i64) = tx
        .prepare_cached("SELECT hlc_last, clock_offset_ms FROM device_state")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let stamp = hlc::tick(last, now_ms + offset);
    tx.prepare_cached("UPDATE device_state SET hlc_last = ?1")?
        .execute([stamp])?;
    Ok(stamp)
}

/// Moves the clock past a timestamp seen from the server.
pub fn observe_hlc(tx: &Transaction, remote: i64, now_ms: i64) -> Result<()> {
    let (last, offset): (i64, i64) = tx
        .prepare_cached("SELECT hlc_last, clock_offset_ms FROM device_state")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    tx.prepare_cached(
        "UPDATE device_state SET hlc_last = ?1, hlc_remote_max = MAX(hlc_remote_max, ?2)",
    )?
    .execute([hlc::observe(last, remote, now_ms + offset), remote])?;
    Ok(())
}

/// `server_time - device_time`, learned from the last server answer.
pub fn clock_offset(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT clock_offset_ms FROM device_state", [], |r| r.get(0))?)
}

/// Stores the offset learned from a server answer at device time `now_ms`. A clock that
/// was running ahead also pulls the HLC back to the corrected time (never below what was
/// seen from the server): otherwise every later edit would keep the wrong clock's lead and
/// win conflicts it should lose.
pub fn set_clock_offset(tx: &Transaction, offset_ms: i64, now_ms: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE device_state SET clock_offset_ms = ?1, \
         hlc_last = MAX(hlc_remote_max, MIN(hlc_last, ?2))",
    )?
    .execute([offset_ms, hlc::pack(now_ms + offset_ms, 0)])?;
    Ok(())
}

/// The receipt number the app prints: store, register and a zero-padded sequence.
pub fn format_receipt(identity: &Identity, sequence: i64) -> String {
    format!(
        "{}-{}-{:06}",
        identity.store_id, identity.register_id, sequence
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn id(store: &str) -> Identity {
        Identity {
            store_id: store.into(),
            register_id: "R1".into(),
            device_id: "dev".into(),
        }
    }

    #[test]
    fn identity_is_fixed_on_first_open() {
        let (_d, store) = temp_store();
        store.write(|tx| ensure_identity(tx, &id("S1"))).unwrap();
        store.write(|tx| ensure_identity(tx, &id("S1"))).unwrap();
        let err = store
            .write(|tx| ensure_identity(tx, &id("S2")))
            .unwrap_err();
        assert!(err.to_string().contains("belongs to store 'S1'"), "{err}");
    }

    #[test]
    fn receipts_are_gapless_even_when_a_transaction_rolls_back() {
        let (_d, store) = temp_store();
        let first = store.write(|tx| issue_receipt_and_hlc(tx, 1_000)).unwrap();
        let failed: Result<()> = store.write(|tx| {
            issue_receipt_and_hlc(tx, 1_000)?;
            Err(Error::invalid("sale rejected"))
        });
        assert!(failed.is_err());
        let second = store.write(|tx| issue_receipt_and_hlc(tx, 1_000)).unwrap();
        assert_eq!((first.0, second.0), (1, 2));
        assert!(second.1 > first.1);
        assert_eq!(format_receipt(&id("S1"), 2), "S1-R1-000002");
    }

    #[test]
    fn hlc_uses_server_corrected_clock() {
        let (_d, store) = temp_store();
        store
            .write(|tx| set_clock_offset(tx, 86_400_000, 1_000))
            .unwrap();
        let stamp = store.write(|tx| next_hlc(tx, 1_000)).unwrap();
        assert_eq!(hlc::millis(stamp), 86_401_000);
        store
            .write(|tx| observe_hlc(tx, hlc::pack(90_000_000, 5), 1_000))
            .unwrap();
        let after = store.write(|tx| next_hlc(tx, 1_000)).unwrap();
        assert!(after > hlc::pack(90_000_000, 5));
    }

    #[test]
    fn a_clock_found_running_ahead_is_pulled_back_but_not_below_the_server() {
        let (_d, store) = temp_store();
        let day = 86_400_000;
        let ahead = store.write(|tx| next_hlc(tx, 10 * day)).unwrap();
        store
            .write(|tx| observe_hlc(tx, hlc::pack(9 * day + 5, 0), 10 * day))
            .unwrap();
        // The server says the device is a day ahead.
        store
            .write(|tx| set_clock_offset(tx, -day, 10 * day))
            .unwrap();
        let corrected = store.write(|tx| next_hlc(tx, 10 * day + 1)).unwrap();
        assert!(corrected < ahead);
        assert_eq!(
            hlc::millis(corrected),
            9 * day + 5,
            "never below the server's timestamp"
        );
    }
}
