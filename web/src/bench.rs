//! The raw baselines of the browser benchmark (capacitor-plugin/test/browser/bench.mjs):
//! rusqlite on the same OPFS VFS writing the rows the engine writes, with nothing else, as
//! benches/common/mod.rs does natively. Timed in the worker, beside the engine's own calls.

use pos_sync::protocol::{canonical_json, payload_checksum};
use rusqlite::{params, Connection};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use web_time::Instant;

/// The engine's device schema up to v4, as the native raw baselines use it.
const SCHEMA: &str = concat!(
    include_str!("../../src/store/schema/v1.sql"),
    include_str!("../../src/store/schema/v2.sql"),
    include_str!("../../src/store/schema/v3.sql"),
    include_str!("../../src/store/schema/v4.sql")
);

fn js(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A fresh raw database `name` in the OPFS pool, in the engine's journal mode there.
fn raw_open(name: &str, synchronous: &str) -> Result<Connection, JsError> {
    let conn = Connection::open(name).map_err(js)?;
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(js)?;
    if objects > 0 {
        return Err(js(format!("the raw bench database '{name}' is not new")));
    }
    conn.query_row("PRAGMA journal_mode = truncate", [], |r| {
        r.get::<_, String>(0)
    })
    .map_err(js)?;
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(js)?;
    conn.execute_batch(SCHEMA).map_err(js)?;
    Ok(conn)
}

/// Records the sales of `sales_json` (the app's documents, a JSON array) one transaction
/// each: the sale row and its queue row. Answers the milliseconds the inserts took.
#[wasm_bindgen(js_name = rawRecordSales)]
pub fn raw_record_sales(name: &str, sales_json: &str) -> Result<f64, JsError> {
    let conn = raw_open(name, "FULL")?;
    let sales: Vec<Value> = serde_json::from_str(sales_json).map_err(js)?;
    let rows: Vec<_> = sales
        .into_iter()
        .enumerate()
        .map(|(i, mut doc)| {
            let receipt = format!("S1-R1-{:06}", i + 1);
            doc["receipt_number"] = Value::from(receipt.clone());
            let id = doc["id"].as_str().unwrap_or_default().to_owned();
            (
                id,
                receipt,
                doc["total"].as_f64().unwrap_or(0.0),
                canonical_json(&doc),
                payload_checksum(&doc),
            )
        })
        .collect();
    let started = Instant::now();
    for (seq, (id, receipt, total, payload, checksum)) in rows.iter().enumerate() {
        let now = 1_764_000_000_000 + seq as i64;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(js)?;
        conn.prepare_cached(
            "INSERT INTO sales (id, receipt_number, customer_id, total, payload, created_at) \
             VALUES (?1, ?2, NULL, ?3, ?4, ?5)",
        )
        .and_then(|mut s| s.execute(params![id, receipt, total, payload, now]))
        .map_err(js)?;
        conn.prepare_cached(
            "INSERT INTO sync_queue (id, entity_type, entity_id, action, payload, priority, \
             status, created_at, updated_at, seq, hlc, checksum, payload_bytes) \
             VALUES (?1, 'sale', ?2, 'create', ?3, 1, 'PENDING', ?4, ?4, ?5, ?6, ?7, ?8)",
        )
        .and_then(|mut s| {
            s.execute(params![
                format!("change-{seq}"),
                id,
                payload,
                now,
                seq as i64,
                now << 16,
                checksum,
                payload.len() as i64
            ])
        })
        .map_err(js)?;
        conn.execute_batch("COMMIT").map_err(js)?;
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// Upserts the products of `products_json` (a JSON array of payloads) `per_tx` per
/// transaction, as a hand-written client applies downloaded pages. Answers milliseconds.
#[wasm_bindgen(js_name = rawUpsertProducts)]
pub fn raw_upsert_products(name: &str, products_json: &str, per_tx: usize) -> Result<f64, JsError> {
    let conn = raw_open(name, "FULL")?;
    let products: Vec<Value> = serde_json::from_str(products_json).map_err(js)?;
    let text = |doc: &Value, k: &str| doc[k].as_str().map(str::to_owned);
    let rows: Vec<_> = products
        .iter()
        .map(|doc| {
            (
                text(doc, "id").unwrap_or_default(),
                text(doc, "sku"),
                text(doc, "barcode"),
                text(doc, "name").unwrap_or_default(),
                canonical_json(doc),
                payload_checksum(doc),
            )
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(per_tx.max(1)) {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(js)?;
        let mut upsert = conn
            .prepare_cached(
                "INSERT INTO products (id, sku, barcode, name, payload, version, checksum, \
                 updated_hlc) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, 1) ON CONFLICT (id) DO UPDATE \
                 SET sku = excluded.sku, barcode = excluded.barcode, name = excluded.name, \
                 payload = excluded.payload, version = excluded.version, \
                 checksum = excluded.checksum, updated_hlc = excluded.updated_hlc",
            )
            .map_err(js)?;
        for (id, sku, barcode, name, payload, checksum) in chunk {
            upsert
                .execute(params![id, sku, barcode, name, payload, checksum])
                .map_err(js)?;
        }
        drop(upsert);
        conn.execute_batch("COMMIT").map_err(js)?;
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}
