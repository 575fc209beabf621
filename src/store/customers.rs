//! Customers travel both ways: the till creates and edits them offline (queued for upload)
//! and the server sends edits made elsewhere. Each row keeps the device's current document
//! and the last version both sides agreed on, the base for a three-way merge.

use crate::documents::{self, Document};
use crate::error::{Error, Result};
use crate::model::{Action, EntityType};
use crate::protocol::ServerRecord;
use crate::store::queue::{self, NewChange};
use crate::store::state;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The whole customer document.
    #[serde(serialize_with = "crate::bridge::wire::json_text")]
    #[cfg_attr(test, ts(type = "JsonObject"))]
    pub json: String,
    /// The server version this device last agreed on (0: never synced).
    pub version: i64,
    /// A local edit is waiting to be uploaded (or for conflict review).
    pub pending_upload: bool,
    /// Hybrid logical clock timestamp of the last edit.
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub updated_hlc: i64,
}

const CUSTOMER_COLUMNS: &str = "c.id, c.name, NULL, c.email, c.payload, c.version, \
     EXISTS (SELECT 1 FROM sync_queue q WHERE q.entity_type = 'customer' AND q.entity_id = c.id \
     AND q.status != 'SYNCED'), c.updated_hlc";

fn customer_from_row(r: &Row) -> rusqlite::Result<Customer> {
    let json: String = r.get(4)?;
    // The phone column holds digits for searching; the app gets the number as it typed it.
    let phone = serde_json::from_str::<serde_json::Value>(&json)
        .ok()
        .and_then(|doc| doc.get("phone").and_then(|p| p.as_str()).map(str::to_owned));
    Ok(Customer {
        id: r.get(0)?,
        name: r.get(1)?,
        phone: phone.filter(|p| !p.is_empty()),
        email: r.get(3)?,
        json,
        version: r.get(5)?,
        pending_upload: r.get(6)?,
        updated_hlc: r.get(7)?,
    })
}

/// Digits of a phone number, the form it is indexed and searched in.
fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Customer>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.id = ?1"
        ))?
        .query_row([id], customer_from_row)
        .optional()?)
}

/// Creates a customer on this till and queues it for upload.
pub fn create(tx: &Transaction, json: &str, now_ms: i64) -> Result<Customer> {
    let doc = documents::parse_object("customer", json)?;
    let fields = documents::customer_fields(&doc)?;
    if get(tx, &fields.id)?.is_some() {
        return Err(Error::invalid(format!(
            "a customer with id '{}' already exists; use update_customer to change it",
            fields.id
        )));
    }
    let hlc = state::next_hlc(tx, now_ms)?;
    write_local(tx, &doc, hlc)?;
    queue_edit(tx, &fields.id, Action::Create, &doc, hlc, now_ms)?;
    Ok(get(tx, &fields.id)?.expect("just inserted"))
}

/// Replaces a customer's document with the app's edited version and queues the edit.
pub fn update(tx: &Transaction, json: &str, now_ms: i64) -> Result<Customer> {
    let doc = documents::parse_object("customer", json)?;
    let fields = documents::customer_fields(&doc)?;
    let Some(existing) = get(tx, &fields.id)? else {
        return Err(Error::NotFound(format!(
            "no customer with id '{}'; use create_customer for a new one",
            fields.id
        )));
    };
    if existing.json == doc.canonical {
        return Ok(existing);
    }
    let hlc = state::next_hlc(tx, now_ms)?;
    write_local(tx, &doc, hlc)?;
    let action = if existing.version == 0 {
        Action::Create
    } else {
        Action::Update
    };
    queue_edit(tx, &fields.id, action, &doc, hlc, now_ms)?;
    Ok(get(tx, &fields.id)?.expect("exists"))
}

/// Stores the device's version of a customer (creating the row if needed); the server's
/// version and merge base are left as they were.
fn write_local(tx: &Transaction, doc: &Document, hlc: i64) -> Result<()> {
    let fields = documents::customer_fields(doc)?;
    tx.prepare_cached(
        "INSERT INTO customers (id, name, phone, email, payload, updated_hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone, \
         email = excluded.email, payload = excluded.payload, updated_hlc = excluded.updated_hlc",
    )?
    .execute(params![
        fields.id,
        fields.name,
        fields.phone.as_deref().map(phone_digits),
        fields.email,
        doc.canonical,
        hlc
    ])?;
    Ok(())
}

fn queue_edit(
    tx: &Transaction,
    id: &str,
    action: Action,
    doc: &Document,
    hlc: i64,
    now_ms: i64,
) -> Result<()> {
    let change = NewChange {
        entity_type: EntityType::Customer,
        entity_id: id,
        action,
        payload: &doc.canonical,
        checksum: &doc.checksum,
        hlc,
    };
    if queue::coalesce_unsent(tx, &change, now_ms)?.is_none() {
        queue::enqueue(tx, &change, now_ms)?;
    }
    Ok(())
}

/// Customers whose name, phone or e-mail has words starting with the query's words. A query
/// that looks like a phone number matches on its digits.
pub fn search(conn: &Connection, query: &str, limit: u32) -> Result<Vec<Customer>> {
    let looks_like_phone = !query.trim().is_empty()
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && query.chars().any(|c| c.is_ascii_digit());
    let fts = if looks_like_phone {
        Some(format!("\"{}\"*", phone_digits(query)))
    } else {
        crate::store::catalog::fts_prefix_query(query)
    };
    let Some(fts) = fts else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers_fts f JOIN customers c ON c.pk = f.rowid \
         WHERE customers_fts MATCH ?1 LIMIT ?2"
    ))?;
    let rows = stmt.query_map(
        params![fts, limit.min(super::MAX_LIST_LIMIT as u32)],
        customer_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The server's view of a customer becomes the device's: document, version and merge base.
/// A tombstone deletes the customer.
pub fn apply_server(tx: &Transaction, record: &ServerRecord) -> Result<()> {
    if record.deleted {
        tx.prepare_cached("DELETE FROM customers WHERE id = ?1")?
            .execute([&record.entity_id])?;
        return Ok(());
    }
    let doc = documents::object_document("customer", record.payload.clone())?;
    let fields = documents::customer_fields(&doc)?;
    crate::store::update_else_upsert(
        tx,
        "UPDATE customers SET name = ?2, payload = ?5, updated_hlc = ?6, version = ?7, \
         server_payload = ?5, checksum = ?8 WHERE id = ?1 AND phone IS ?3 AND email IS ?4",
        "INSERT INTO customers (id, name, phone, email, payload, updated_hlc, version, server_payload, checksum) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?5, ?8) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
         phone = excluded.phone, email = excluded.email, payload = excluded.payload, \
         updated_hlc = excluded.updated_hlc, version = excluded.version, \
         server_payload = excluded.server_payload, checksum = excluded.checksum",
        params![
            record.entity_id,
            fields.name,
            fields.phone.as_deref().map(phone_digits),
            fields.email,
            doc.canonical,
            record.updated_hlc,
            record.version,
            doc.checksum
        ],
    )
}

/// The server accepted the device's document as `version`: it becomes the merge base.
/// The device's current document is left alone (it may hold a newer queued edit).
pub fn confirm_upload(
    tx: &Transaction,
    id: &str,
    version: i64,
    payload: &str,
    checksum: &str,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE customers SET version = ?2, server_payload = ?3, checksum = ?4 WHERE id = ?1",
    )?
    .execute(params![id, version, payload, checksum])?;
    Ok(())
}

/// The server version and document the device last agreed on, for a three-way merge.
pub fn merge_base(conn: &Connection, id: &str) -> Result<Option<(i64, Option<String>)>> {
    Ok(conn
        .prepare_cached("SELECT version, server_payload FROM customers WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Whether the customer has a queued edit other than `except_change_id` not yet synced, so a
/// server copy must not overwrite the device's document.
pub fn has_other_unsynced_edit(
    conn: &Connection,
    id: &str,
    except_change_id: &str,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sync_queue WHERE entity_type = 'customer' AND entity_id = ?1 \
             AND status != 'SYNCED' AND id != ?2)",
        )?
        .query_row(params![id, except_change_id], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SyncState;
    use crate::protocol::payload_checksum;
    use crate::store::test_support::temp_store;
    use serde_json::json;

    #[test]
    fn create_update_get_and_search() {
        let (_d, store) = temp_store();
        let c = store
            .write(|tx| create(tx, r#"{"id":"c1","name":"Anna Schmidt","phone":"+49 170 1234567","email":"anna@example.com"}"#, 1))
            .unwrap();
        assert_eq!((c.version, c.pending_upload), (0, true));
        assert_eq!(c.phone.as_deref(), Some("+49 170 1234567"));
        let search_ids = |q: &str| -> Vec<String> {
            store
                .read(|conn| search(conn, q, 10))
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(search_ids("ann"), vec!["c1"]);
        assert_eq!(search_ids("schm an"), vec!["c1"]);
        assert_eq!(search_ids("+49 170"), vec!["c1"]);
        assert_eq!(search_ids("anna@example"), vec!["c1"]);
        assert!(search_ids("bob").is_empty());
        // Editing offline before the first upload keeps one queued create.
        store
            .write(|tx| {
                update(
                    tx,
                    r#"{"id":"c1","name":"Anna Weber","email":"anna@example.com"}"#,
                    2,
                )
            })
            .unwrap();
        let items = store
            .read(|c| queue::items(c, None, Some(EntityType::Customer), 10))
            .unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0].action, items[0].status),
            (Action::Create, SyncState::Pending)
        );
        assert!(items[0].payload_json.contains("Anna Weber"));
        assert_eq!(search_ids("weber"), vec!["c1"]);
        assert!(search_ids("schmidt").is_empty());
    }

    #[test]
    fn bad_customer_input_changes_nothing() {
        let (_d, store) = temp_store();
        for bad in [
            r#"{"name":"x"}"#,
            r#"{"id":"c"}"#,
            r#"{"id":"c","name":5}"#,
            "[]",
        ] {
            assert!(
                matches!(
                    store.write(|tx| create(tx, bad, 1)),
                    Err(Error::InvalidInput { .. })
                ),
                "{bad}"
            );
        }
        let missing = store
            .write(|tx| update(tx, r#"{"id":"nobody","name":"N"}"#, 1))
            .unwrap_err();
        assert!(matches!(missing, Error::NotFound(_)));
        store
            .write(|tx| create(tx, r#"{"id":"c","name":"C"}"#, 1))
            .unwrap();
        let dup = store
            .write(|tx| create(tx, r#"{"id":"c","name":"C"}"#, 1))
            .unwrap_err();
        assert!(dup.to_string().contains("already exists"));
        assert_eq!(
            store
                .read(|c| queue::items(c, None, None, 10))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn server_copies_set_the_merge_base_and_tombstones_delete() {
        let (_d, store) = temp_store();
        let payload = json!({"id":"c2","name":"Ben"});
        let rec = ServerRecord {
            entity_type: EntityType::Customer,
            entity_id: "c2".into(),
            version: 3,
            deleted: false,
            updated_hlc: 77,
            checksum: payload_checksum(&payload),
            payload,
        };
        store.write(|tx| apply_server(tx, &rec)).unwrap();
        let c = store.read(|c| get(c, "c2")).unwrap().unwrap();
        assert_eq!((c.version, c.pending_upload, c.updated_hlc), (3, false, 77));
        assert_eq!(
            store
                .read(|c| merge_base(c, "c2"))
                .unwrap()
                .unwrap()
                .1
                .as_deref(),
            Some(r#"{"id":"c2","name":"Ben"}"#)
        );
        store
            .write(|tx| update(tx, r#"{"id":"c2","name":"Benjamin"}"#, 5))
            .unwrap();
        let item = &store
            .read(|c| queue::items(c, None, Some(EntityType::Customer), 10))
            .unwrap()[0];
        assert_eq!(item.action, Action::Update);
        let tomb = ServerRecord {
            deleted: true,
            payload: serde_json::Value::Null,
            version: 4,
            ..rec
        };
        store.write(|tx| apply_server(tx, &tomb)).unwrap();
        assert!(store.read(|c| get(c, "c2")).unwrap().is_none());
    }

    /// Downloaded customer changes reach the search index when the transaction ends, and
    /// only those that change a name, phone or e-mail touch it (a new loyalty balance
    /// rewrote every customer's entry, and FTS5 flushed a segment per row).
    #[test]
    fn customer_search_is_written_once_and_only_for_searchable_changes() {
        let (_d, store) = temp_store();
        let rec = |id: &str, version: i64, name: &str, phone: &str, points: i64| {
            let payload = json!({"id": id, "name": name, "phone": phone, "points": points});
            crate::store::test_support::server_record(EntityType::Customer, id, version, payload)
        };
        store
            .write(|tx| {
                apply_server(tx, &rec("c1", 1, "Anna Schmidt", "0170 111", 0))?;
                apply_server(tx, &rec("c2", 1, "Ben Meyer", "0170 222", 0))
            })
            .unwrap();
        let index_storage = |c: &Connection| -> Result<(i64, i64)> {
            Ok(c.query_row(
                "SELECT count(*), sum(length(block)) FROM customers_fts_data",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        };
        let before = store.read(index_storage).unwrap();
        store
            .write(|tx| {
                apply_server(tx, &rec("c1", 2, "Anna Schmidt", "0170 111", 50))?;
                apply_server(tx, &rec("c2", 2, "Ben Meyer", "0170 222", 70))
            })
            .unwrap();
        assert_eq!(store.read(index_storage).unwrap(), before, "points only");
        store
            .write(|tx| {
                apply_server(tx, &rec("c1", 3, "Anna Weber", "0170 111", 50))?;
                apply_server(tx, &rec("c2", 3, "Ben Meyer", "0171 999", 70))?;
                assert_eq!(index_storage(tx)?, before, "not written before the end");
                Ok(())
            })
            .unwrap();
        let found = |q: &str| -> Vec<String> {
            store
                .read(|c| search(c, q, 10))
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(found("weber"), vec!["c1"]);
        assert!(found("schmidt").is_empty());
        assert_eq!(found("0171999"), vec!["c2"]);
        assert!(found("0170222").is_empty());
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO customers_fts (customers_fts) VALUES ('integrity-check')",
                    [],
                )?;
                Ok(())
            })
            .expect("the customers' full-text index matches the table");
    }
}
