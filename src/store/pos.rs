//! What the till writes all day: sales and stock adjustments, each stored and queued for
//! upload in the caller's transaction, so a sale is either recorded and queued or not at all.

use crate::documents::{self, Document};
use crate::error::{Error, Result};
use crate::model::{Action, EntityType};
use crate::store::queue::{self, NewChange};
use crate::store::state::{self, Identity};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;

/// What the till gets back from recording a sale.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SaleReceipt {
    pub sale_id: String,
    /// `STORE-REGISTER-000042`: gapless per device, unique across tills.
    pub receipt_number: String,
    /// The queued change carrying this sale to the server.
    pub change_id: String,
    /// Hybrid logical clock timestamp of the sale.
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub hlc: i64,
}

/// Records a sale: validates the app's JSON, issues the next receipt number, stores the sale
/// with its receipt number inside the document, and queues it. Recording the same sale id
/// again with the same content returns the original receipt; different content is refused.
pub fn record_sale(
    tx: &Transaction,
    identity: &Identity,
    json: &str,
    now_ms: i64,
) -> Result<SaleReceipt> {
    let sale = documents::sale(json)?;
    if let Some(existing) = existing_sale(tx, &sale.id)? {
        return same_sale_or_error(tx, existing, &sale.doc);
    }
    let (sequence, hlc) = state::issue_receipt_and_hlc(tx, now_ms)?;
    let receipt_number = state::format_receipt(identity, sequence);
    let mut value = sale.doc.value;
    value
        .as_object_mut()
        .expect("validated as an object")
        .insert(
            "receipt_number".into(),
            Value::String(receipt_number.clone()),
        );
    let doc = Document::new(value)?;
    tx.prepare_cached(
        "INSERT INTO sales (id, receipt_number, customer_id, total, payload, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        sale.id,
        receipt_number,
        sale.customer_id,
        sale.total,
        doc.canonical,
        now_ms
    ])?;
    let change_id = queue::enqueue(
        tx,
        &NewChange {
            entity_type: EntityType::Sale,
            entity_id: &sale.id,
            action: Action::Create,
            payload: &doc.canonical,
            checksum: &doc.checksum,
            hlc,
        },
        now_ms,
    )?;
    Ok(SaleReceipt {
        sale_id: sale.id,
        receipt_number,
        change_id,
        hlc,
    })
}

struct StoredSale {
    id: String,
    receipt_number: String,
    payload: String,
}

fn existing_sale(conn: &Connection, id: &str) -> Result<Option<StoredSale>> {
    Ok(conn
        .prepare_cached("SELECT id, receipt_number, payload FROM sales WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(StoredSale {
                id: r.get(0)?,
                receipt_number: r.get(1)?,
                payload: r.get(2)?,
            })
        })
        .optional()?)
}

fn same_sale_or_error(
    tx: &Transaction,
    existing: StoredSale,
    incoming: &Document,
) -> Result<SaleReceipt> {
    let mut stored = crate::store::parse_stored(&existing.payload)?;
    if let Some(obj) = stored.as_object_mut() {
        obj.remove("receipt_number");
    }
    let mut incoming = incoming.value.clone();
    if let Some(obj) = incoming.as_object_mut() {
        obj.remove("receipt_number");
    }
    if stored != incoming {
        return Err(Error::invalid(format!(
            "a different sale with id '{}' was already recorded (receipt {}); sales cannot be changed, record a new sale or a refund",
            existing.id, existing.receipt_number
        )));
    }
    let (change_id, hlc): (String, i64) = tx
        .prepare_cached(
            "SELECT id, hlc FROM sync_queue WHERE entity_type = 'sale' AND entity_id = ?1 ORDER BY seq LIMIT 1",
        )?
        .query_row([&existing.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        // The queue row may have been purged after syncing; the receipt still stands.
        .unwrap_or_default();
    Ok(SaleReceipt {
        sale_id: existing.id,
        receipt_number: existing.receipt_number,
        change_id,
        hlc,
    })
}

/// A recorded sale as the app reads it back.
#[derive(Debug, Clone, PartialEq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Sale {
    pub sale_id: String,
    pub receipt_number: String,
    /// The sale document, with the receipt number added by the engine.
    #[serde(serialize_with = "crate::bridge::wire::json_text")]
    #[cfg_attr(test, ts(type = "JsonObject"))]
    pub json: String,
    pub created_at_ms: i64,
}

pub fn get_sale(conn: &Connection, id: &str) -> Result<Option<Sale>> {
    Ok(conn
        .prepare_cached("SELECT id, receipt_number, payload, created_at FROM sales WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(Sale {
                sale_id: r.get(0)?,
                receipt_number: r.get(1)?,
                json: r.get(2)?,
                created_at_ms: r.get(3)?,
            })
        })
        .optional()?)
}

/// A queued stock adjustment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ChangeRef {
    pub entity_id: String,
    pub change_id: String,
    #[serde(serialize_with = "crate::bridge::wire::int64_text")]
    #[cfg_attr(test, ts(type = "string"))]
    pub hlc: i64,
}

/// Records a stock adjustment (goods received, breakage, count correction) and queues it.
pub fn record_stock_adjustment(tx: &Transaction, json: &str, now_ms: i64) -> Result<ChangeRef> {
    let adj = documents::stock_adjustment(json)?;
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM stock_adjustments WHERE id = ?1)")?
        .query_row([&adj.id], |r| r.get(0))?;
    if exists {
        return Err(Error::invalid(format!(
            "a stock adjustment with id '{}' was already recorded; use a new id for a new adjustment",
            adj.id
        )));
    }
    let hlc = state::next_hlc(tx, now_ms)?;
    tx.prepare_cached(
        "INSERT INTO stock_adjustments (id, product_id, quantity_delta, payload, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        adj.id,
        adj.product_id,
        adj.quantity_delta,
        adj.doc.canonical,
        now_ms
    ])?;
    let change_id = queue::enqueue(
        tx,
        &NewChange {
            entity_type: EntityType::StockAdjustment,
            entity_id: &adj.id,
            action: Action::Create,
            payload: &adj.doc.canonical,
            checksum: &adj.doc.checksum,
            hlc,
        },
        now_ms,
    )?;
    Ok(ChangeRef {
        entity_id: adj.id,
        change_id,
        hlc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SyncState;
    use crate::store::test_support::temp_store;
    use crate::store::Store;

    fn identity() -> Identity {
        Identity {
            store_id: "S1".into(),
            register_id: "R2".into(),
            device_id: "d".into(),
        }
    }

    fn counts(store: &Store) -> (i64, i64) {
        store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT COUNT(*) FROM sales), (SELECT COUNT(*) FROM sync_queue)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap()
    }

    const SALE: &str = r#"{"id":"sale-1","lines":[{"product_id":"p1","quantity":2,"unit_price":150}],"payments":[{"method":"cash","amount":300}],"total":300,"customer_id":"c9"}"#;

    #[test]
    fn sale_is_stored_and_queued_with_a_receipt_number() {
        let (_d, store) = temp_store();
        let r = store
            .write(|tx| record_sale(tx, &identity(), SALE, 1_000))
            .unwrap();
        assert_eq!(r.receipt_number, "S1-R2-000001");
        let sale = store.read(|c| get_sale(c, "sale-1")).unwrap().unwrap();
        let doc: Value = serde_json::from_str(&sale.json).unwrap();
        assert_eq!(doc["receipt_number"], "S1-R2-000001");
        assert_eq!(doc["payments"][0]["amount"], 300);
        let item = store
            .read(|c| queue::get(c, &r.change_id))
            .unwrap()
            .unwrap();
        assert_eq!(
            (item.entity_type, item.status, item.priority),
            (EntityType::Sale, SyncState::Pending, 1)
        );
        assert_eq!(item.payload_json, sale.json);
        assert_eq!(item.checksum, crate::protocol::payload_checksum(&doc));
        let second = store
            .write(|tx| record_sale(tx, &identity(), &SALE.replace("sale-1", "sale-2"), 1_001))
            .unwrap();
        assert_eq!(second.receipt_number, "S1-R2-000002");
    }

    #[test]
    fn repeating_a_sale_is_idempotent_but_changing_it_is_refused() {
        let (_d, store) = temp_store();
        let first = store
            .write(|tx| record_sale(tx, &identity(), SALE, 1))
            .unwrap();
        let again = store
            .write(|tx| record_sale(tx, &identity(), SALE, 2))
            .unwrap();
        assert_eq!(first, again);
        let changed = SALE.replace("\"quantity\":2", "\"quantity\":3");
        let err = store
            .write(|tx| record_sale(tx, &identity(), &changed, 3))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("already recorded (receipt S1-R2-000001)"),
            "{err}"
        );
        assert_eq!(counts(&store), (1, 1));
    }

    #[test]
    fn bad_sales_change_nothing_and_burn_no_receipt_number() {
        let (_d, store) = temp_store();
        for bad in ["{", r#"{"id":"x"}"#, r#"{"id":"x","lines":[]}"#, "null"] {
            let err = store
                .write(|tx| record_sale(tx, &identity(), bad, 1))
                .unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
        }
        assert_eq!(counts(&store), (0, 0));
        let r = store
            .write(|tx| record_sale(tx, &identity(), SALE, 1))
            .unwrap();
        assert_eq!(r.receipt_number, "S1-R2-000001");
    }

    #[test]
    fn stock_adjustments_are_queued_at_priority_two() {
        let (_d, store) = temp_store();
        let json = r#"{"id":"adj-1","product_id":"p1","quantity_delta":-2,"reason":"breakage"}"#;
        let r = store
            .write(|tx| record_stock_adjustment(tx, json, 5))
            .unwrap();
        let item = store
            .read(|c| queue::get(c, &r.change_id))
            .unwrap()
            .unwrap();
        assert_eq!(
            (item.entity_type, item.priority),
            (EntityType::StockAdjustment, 2)
        );
        let err = store
            .write(|tx| record_stock_adjustment(tx, json, 6))
            .unwrap_err();
        assert!(err.to_string().contains("already recorded"));
    }
}
