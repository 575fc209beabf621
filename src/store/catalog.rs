//! Downloaded master data the till reads all day: the product catalog (barcode, SKU and
//! name search), price lists and cached report documents. The server always wins here.

use crate::documents::{self, Document};
use crate::error::{Error, Result};
use crate::model::EntityType;
use crate::protocol::ServerRecord;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Product {
    pub id: String,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub name: String,
    /// The whole product document as the server sent it.
    #[serde(serialize_with = "crate::bridge::wire::json_text")]
    #[cfg_attr(test, ts(type = "JsonObject"))]
    pub json: String,
    pub version: i64,
}

const PRODUCT_COLUMNS: &str = "id, sku, barcode, name, payload, version";

fn product_from_row(r: &Row) -> rusqlite::Result<Product> {
    Ok(Product {
        id: r.get(0)?,
        sku: r.get(1)?,
        barcode: r.get(2)?,
        name: r.get(3)?,
        json: r.get(4)?,
        version: r.get(5)?,
    })
}

pub fn product_by_id(conn: &Connection, id: &str) -> Result<Option<Product>> {
    product_where(conn, "id", id)
}

pub fn product_by_barcode(conn: &Connection, barcode: &str) -> Result<Option<Product>> {
    product_where(conn, "barcode", barcode)
}

pub fn product_by_sku(conn: &Connection, sku: &str) -> Result<Option<Product>> {
    product_where(conn, "sku", sku)
}

fn product_where(conn: &Connection, column: &str, value: &str) -> Result<Option<Product>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE {column} = ?1 LIMIT 1"
        ))?
        .query_row([value], product_from_row)
        .optional()?)
}

/// Turns what a cashier types into an FTS5 query: every word becomes a quoted prefix term
/// ("col" → `"col"*`), all words must match. Quotes and operators in the input are dropped,
/// so no input can break the query syntax. `None` when nothing searchable is left.
pub fn fts_prefix_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Products whose name has words starting with every word of `query`, at most `limit`.
pub fn search_products(conn: &Connection, query: &str, limit: u32) -> Result<Vec<Product>> {
    let Some(fts) = fts_prefix_query(query) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.sku, p.barcode, p.name, p.payload, p.version FROM products_fts f \
         JOIN products p ON p.pk = f.rowid WHERE products_fts MATCH ?1 LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![fts, limit.min(super::MAX_LIST_LIMIT as u32)],
        product_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Where a product's current price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum PriceSource {
    /// A price list entry valid now.
    PriceList,
    /// The `price` field of the product document.
    Catalog,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, uniffi::Record)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Price {
    pub product_id: String,
    /// In minor units (cents).
    pub amount: i64,
    pub currency: Option<String>,
    pub source: PriceSource,
    /// The price list entry, for `PriceList`.
    pub price_id: Option<String>,
    pub valid_from_ms: i64,
}

/// The price of a product at `now_ms`: the latest price list entry already valid, else the
/// product's own `price` field, else `None`.
pub fn current_price(conn: &Connection, product_id: &str, now_ms: i64) -> Result<Option<Price>> {
    let listed = conn
        .prepare_cached(
            "SELECT id, amount, currency, valid_from FROM prices WHERE product_id = ?1 \
             AND valid_from <= ?2 ORDER BY valid_from DESC, pk DESC LIMIT 1",
        )?
        .query_row(params![product_id, now_ms], |r| {
            Ok(Price {
                product_id: product_id.to_owned(),
                price_id: Some(r.get(0)?),
                amount: r.get(1)?,
                currency: r.get(2)?,
                valid_from_ms: r.get(3)?,
                source: PriceSource::PriceList,
            })
        })
        .optional()?;
    if listed.is_some() {
        return Ok(listed);
    }
    let Some(product) = product_by_id(conn, product_id)? else {
        return Ok(None);
    };
    let doc = crate::store::parse_stored(&product.json)?;
    let amount = doc.get("price").and_then(serde_json::Value::as_i64);
    Ok(amount.map(|amount| Price {
        product_id: product_id.to_owned(),
        amount,
        currency: doc
            .get("currency")
            .and_then(|c| c.as_str())
            .map(str::to_owned),
        source: PriceSource::Catalog,
        price_id: None,
        valid_from_ms: 0,
    }))
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Report {
    pub key: String,
    pub json: String,
    /// Server version; 0 for a document the app stored itself.
    pub version: i64,
}

pub fn get_report(conn: &Connection, key: &str) -> Result<Option<Report>> {
    Ok(conn
        .prepare_cached("SELECT key, payload, version FROM reports WHERE key = ?1")?
        .query_row([key], |r| {
            Ok(Report {
                key: r.get(0)?,
                json: r.get(1)?,
                version: r.get(2)?,
            })
        })
        .optional()?)
}

/// Caches a report document the app computed itself (version 0: any server copy wins).
pub fn put_report(tx: &Transaction, key: &str, json: &str) -> Result<()> {
    let key = documents::check_key("report", "key", key)?;
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::invalid(format!("the report is not valid JSON: {e}")))?;
    let doc = Document::new(value)?;
    tx.prepare_cached(
        "INSERT INTO reports (key, payload, version, checksum, updated_hlc) VALUES (?1, ?2, 0, ?3, 0) \
         ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, version = 0, \
         checksum = excluded.checksum, updated_hlc = 0",
    )?
    .execute(params![key, doc.canonical, doc.checksum])?;
    Ok(())
}

/// Applies one downloaded product, price or report (server wins): an upsert, or a delete
/// for a tombstone. The caller journals the pre-image first.
pub fn apply_server_record(tx: &Transaction, record: &ServerRecord) -> Result<()> {
    let doc = if record.deleted {
        None
    } else {
        Some(Document::new(record.payload.clone())?)
    };
    apply_server_document(tx, record, doc.as_ref())
}

/// `apply_server_record` for a record whose payload was already made a document (`None` for
/// a tombstone) when its checksum was verified; `record.payload` is not read.
pub fn apply_server_document(
    tx: &Transaction,
    record: &ServerRecord,
    doc: Option<&Document>,
) -> Result<()> {
    let Some(doc) = doc else {
        return delete(tx, record.entity_type, &record.entity_id);
    };
    match record.entity_type {
        EntityType::Product => {
            documents::expect_object("product", &doc.value)?;
            upsert_product(tx, doc, record.version, record.updated_hlc)
        }
        EntityType::Price => {
            documents::expect_object("price", &doc.value)?;
            let f = documents::price_fields(doc)?;
            crate::store::update_else_upsert(
                tx,
                UPDATE_PRICE_SAME_KEYS,
                UPSERT_PRICE,
                params![
                    f.id,
                    f.product_id,
                    f.amount,
                    f.currency,
                    f.valid_from,
                    doc.canonical,
                    record.version,
                    doc.checksum,
                    record.updated_hlc
                ],
            )
        }
        EntityType::Report => {
            tx.prepare_cached(
                "INSERT INTO reports (key, payload, version, checksum, updated_hlc) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, version = excluded.version, \
                 checksum = excluded.checksum, updated_hlc = excluded.updated_hlc",
            )?
            .execute(params![record.entity_id, doc.canonical, record.version, doc.checksum, record.updated_hlc])?;
            Ok(())
        }
        other => Err(Error::invalid(format!(
            "{other} records are not master data and cannot be applied as such"
        ))),
    }
}

const UPDATE_PRICE_SAME_KEYS: &str =
    "UPDATE prices SET amount = ?3, currency = ?4, payload = ?6, version = ?7, checksum = ?8, \
     updated_hlc = ?9 WHERE id = ?1 AND product_id IS ?2 AND valid_from IS ?5";
const UPSERT_PRICE: &str =
    "INSERT INTO prices (id, product_id, amount, currency, valid_from, payload, version, checksum, updated_hlc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO UPDATE SET \
     product_id = excluded.product_id, amount = excluded.amount, currency = excluded.currency, \
     valid_from = excluded.valid_from, payload = excluded.payload, version = excluded.version, \
     checksum = excluded.checksum, updated_hlc = excluded.updated_hlc";

/// Inserts or replaces a product by id, keeping the indexed columns in step with the document.
pub fn upsert_product(
    tx: &Transaction,
    doc: &Document,
    version: i64,
    updated_hlc: i64,
) -> Result<()> {
    with_product_params(doc, version, updated_hlc, |params| {
        crate::store::update_else_upsert(tx, UPDATE_PRODUCT_SAME_KEYS, UPSERT_PRODUCT, params)
    })
}

/// The full-text index follows `name` through its update trigger (only when it changed).
const UPDATE_PRODUCT_SAME_KEYS: &str =
    "UPDATE products SET name = ?4, payload = ?5, version = ?6, checksum = ?7, updated_hlc = ?8 \
     WHERE id = ?1 AND sku IS ?2 AND barcode IS ?3";

const INSERT_PRODUCT: &str =
    "INSERT INTO products (id, sku, barcode, name, payload, version, checksum, updated_hlc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const UPSERT_PRODUCT: &str =
    "INSERT INTO products (id, sku, barcode, name, payload, version, checksum, updated_hlc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, \
     barcode = excluded.barcode, name = excluded.name, payload = excluded.payload, \
     version = excluded.version, checksum = excluded.checksum, updated_hlc = excluded.updated_hlc";

/// Calls `run` with a product document's columns as the parameters of `INSERT_PRODUCT`,
/// `UPSERT_PRODUCT` and `UPDATE_PRODUCT_SAME_KEYS`.
fn with_product_params(
    doc: &Document,
    version: i64,
    updated_hlc: i64,
    run: impl FnOnce(&[&dyn rusqlite::ToSql]) -> Result<()>,
) -> Result<()> {
    let f = documents::product_fields(doc)?;
    run(params![
        f.id,
        f.sku,
        f.barcode,
        f.name,
        doc.canonical,
        version,
        doc.checksum,
        updated_hlc
    ])
}

fn delete(tx: &Transaction, entity_type: EntityType, id: &str) -> Result<()> {
    let sql = match entity_type {
        EntityType::Product => "DELETE FROM products WHERE id = ?1",
        EntityType::Price => "DELETE FROM prices WHERE id = ?1",
        EntityType::Report => "DELETE FROM reports WHERE key = ?1",
        other => {
            return Err(Error::invalid(format!(
                "{other} records are not master data"
            )))
        }
    };
    tx.prepare_cached(sql)?.execute([id])?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Initial catalog load
// ---------------------------------------------------------------------------------------

/// The indexes and full-text triggers of `products`, exactly as the schema migrations
/// create them (v3: the id's unique index; the v5 triggers). An initial load drops
/// them, inserts every page, then builds them once: maintaining them row by row costs most
/// of a large first download, the index of random UUID ids above all (a test checks that
/// the schema after a load is identical to a fresh one).
const PRODUCT_ID_INDEX: &str = "CREATE UNIQUE INDEX IF NOT EXISTS products_id ON products (id)";
const PRODUCT_INDEXES_AND_TRIGGERS: &str = "
CREATE INDEX IF NOT EXISTS products_barcode ON products (barcode);
CREATE INDEX IF NOT EXISTS products_sku ON products (sku);
CREATE TRIGGER IF NOT EXISTS products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts_pending (pk, old_name) VALUES (new.pk, NULL);
END;
CREATE TRIGGER IF NOT EXISTS products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts_pending (pk, old_name) VALUES (old.pk, old.name);
END;
CREATE TRIGGER IF NOT EXISTS products_fts_update AFTER UPDATE OF name ON products
WHEN old.name IS NOT new.name BEGIN
  INSERT INTO products_fts_pending (pk, old_name) VALUES (old.pk, old.name);
END;
";

const BULK_LOAD_MARK: &str = "products_bulk_load";

/// Where an initial load notes tombstones. `upto_pk` is the largest pk when the tombstone
/// came: the rows it deletes are at or below it.
const LOAD_DELETED_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS products_load_deleted (id TEXT NOT NULL, upto_pk INTEGER NOT NULL)";

/// Starts an initial catalog load if the device has no products yet: drops the indexes and
/// full-text triggers, creates the table where the load notes tombstones, and marks the
/// load, in the caller's transaction. Returns whether the load was started. While it runs,
/// products are written with `load_product` only; lookups still work (by scanning, and a
/// product the load wrote twice may show its older version) and name search sees nothing
/// new; `finish_bulk_load` must follow, and `Store::open` finishes a load that a crash
/// interrupted.
pub fn begin_bulk_load(tx: &Transaction) -> Result<bool> {
    let empty: bool = tx.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM products) \
         AND NOT EXISTS (SELECT 1 FROM device_meta WHERE key = ?1)",
        [BULK_LOAD_MARK],
        |r| r.get(0),
    )?;
    if !empty {
        return Ok(false);
    }
    tx.execute_batch(
        "DROP INDEX IF EXISTS products_id;
         DROP INDEX IF EXISTS products_barcode;
         DROP INDEX IF EXISTS products_sku;
         DROP TRIGGER IF EXISTS products_fts_insert;
         DROP TRIGGER IF EXISTS products_fts_delete;
         DROP TRIGGER IF EXISTS products_fts_update;",
    )?;
    tx.execute_batch(LOAD_DELETED_TABLE)?;
    tx.execute(
        "INSERT INTO device_meta (key, value) VALUES (?1, '1')",
        [BULK_LOAD_MARK],
    )?;
    Ok(true)
}

/// Writes one downloaded product during an initial load, without the indexes: a plain
/// insert (no lookup by id), and a tombstone is noted for `finish_bulk_load`. A product
/// sent twice gets two rows until the finish keeps the later one.
pub fn load_product(tx: &Transaction, record: &ServerRecord, doc: Option<&Document>) -> Result<()> {
    if record.entity_type != EntityType::Product {
        return Err(Error::invalid(format!(
            "an initial catalog load takes products, not {} records",
            record.entity_type
        )));
    }
    let Some(doc) = doc else {
        tx.prepare_cached(
            "INSERT INTO products_load_deleted (id, upto_pk) \
             VALUES (?1, (SELECT coalesce(max(pk), 0) FROM products))",
        )?
        .execute([&record.entity_id])?;
        return Ok(());
    };
    documents::expect_object("product", &doc.value)?;
    with_product_params(doc, record.version, record.updated_hlc, |params| {
        tx.prepare_cached(INSERT_PRODUCT)?.execute(params)?;
        Ok(())
    })
}

/// Whether an initial catalog load is in progress (or was interrupted by a crash).
pub fn bulk_load_pending(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM device_meta WHERE key = ?1)",
        [BULK_LOAD_MARK],
        |r| r.get(0),
    )?)
}

/// What `finish_bulk_load` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkLoadEnd {
    NothingPending,
    /// SQLite sorted the index keys in temporary files (flat memory).
    SortedOnDisk,
    /// SQLite sorted them in RAM: it has no temporary folder (Android without
    /// `SQLITE_TMPDIR`), or its temporary files failed.
    SortedInMemory,
}

/// Ends an initial catalog load, in the caller's transaction: keeps the last row of a
/// product the load wrote twice, builds the indexes, applies the tombstones, restores the
/// triggers and rebuilds the full-text index from the table. A no-op without a load.
pub fn finish_bulk_load(tx: &Transaction) -> Result<BulkLoadEnd> {
    if !bulk_load_pending(tx)? {
        return Ok(BulkLoadEnd::NothingPending);
    }
    // A load a crash interrupted under schema v2 had no tombstone table.
    tx.execute_batch(LOAD_DELETED_TABLE)?;
    let end = with_temp_files_for_sorting(tx, |tx| {
        build_id_index(tx)?;
        // A tombstone deletes what the load wrote before it, not a later re-creation; done
        // before the full-text triggers are back (the rebuild below indexes what is left).
        tx.execute(
            "DELETE FROM products WHERE pk IN (SELECT p.pk FROM products_load_deleted d \
             JOIN products p ON p.id = d.id WHERE p.pk <= d.upto_pk)",
            [],
        )?;
        tx.execute_batch(PRODUCT_INDEXES_AND_TRIGGERS)?;
        Ok(())
    })?;
    tx.execute("DROP TABLE products_load_deleted", [])?;
    // The rebuild indexes every row as it is now, whatever the triggers noted since the
    // indexes were back.
    tx.execute(
        "INSERT INTO products_fts (products_fts) VALUES ('rebuild')",
        [],
    )?;
    tx.execute("DELETE FROM products_fts_pending", [])?;
    tx.execute("DELETE FROM device_meta WHERE key = ?1", [BULK_LOAD_MARK])?;
    Ok(end)
}

/// Builds the id's unique index. If the load wrote a product twice (it changed on the
/// server while the load was paging) the build fails; then only the row the server sent
/// last is kept (rows get increasing pks, nothing is deleted during a load) and the build
/// runs again. Duplicates are rare, so the usual load pays for one sort, not two.
fn build_id_index(tx: &Transaction) -> Result<()> {
    match tx.execute_batch(PRODUCT_ID_INDEX) {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            tx.execute(
                "DELETE FROM products WHERE pk NOT IN (SELECT max(pk) FROM products GROUP BY id)",
                [],
            )?;
            tx.execute_batch(PRODUCT_ID_INDEX)?;
            Ok(())
        }
        other => Ok(other?),
    }
}

/// Runs `f`, which sorts every product (index builds, the duplicate check), with SQLite's
/// temporary files. With the engine's `temp_store=MEMORY` its sorter keeps every key in
/// RAM (peak RSS 97 MB instead of 29 MB at 1M products); with `temp_store=FILE` it spills sorted runs
/// of about the page cache's size to a temporary file. So temporary files are used when
/// SQLite has a directory for them, and memory as before when it has none (Android) or
/// they fail.
fn with_temp_files_for_sorting(
    tx: &Transaction,
    f: impl Fn(&Transaction) -> Result<()>,
) -> Result<BulkLoadEnd> {
    let in_memory = |tx| f(tx).map(|()| BulkLoadEnd::SortedInMemory);
    if !super::sqlite_temp_dir_exists() {
        return in_memory(tx);
    }
    // SQLite refuses the switch inside a transaction once its temp schema is open (an
    // ALTER TABLE opens it; `Store::open` closes it after the migrations).
    if let Err(e) = tx.pragma_update(None, "temp_store", "FILE") {
        log::warn!("sorting the catalog in memory: temporary files unavailable ({e})");
        return in_memory(tx);
    }
    let on_disk = f(tx);
    tx.pragma_update(None, "temp_store", "MEMORY")?;
    match on_disk {
        Ok(()) => Ok(BulkLoadEnd::SortedOnDisk),
        // An I/O error may have rolled the transaction back: then nothing is left to finish.
        Err(e) if !tx.is_autocommit() => {
            log::warn!(
                "finishing the catalog load with temporary files failed ({e}); sorting in memory"
            );
            in_memory(tx)
        }
        Err(e) => Err(e),
    }
}

/// Seeds the catalog from a JSON array of product documents (demos, benchmarks, support).
/// All or nothing: one bad product rejects the whole file. Returns how many were imported.
pub fn import_products(tx: &Transaction, json: &str) -> Result<usize> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Error::invalid(format!("the product file is not valid JSON: {e}")))?;
    let items = value
        .as_array()
        .ok_or_else(|| Error::invalid("the product file must be a JSON array of products"))?;
    if bulk_load_pending(tx)? {
        return Err(Error::invalid(
            "the first catalog download is still loading products; import after it finishes",
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let doc = documents::object_document("product", item.clone())
            .and_then(|doc| {
                documents::product_fields(&doc)?;
                Ok(doc)
            })
            .map_err(|e| Error::invalid(format!("product #{} in the file: {e}", i + 1)))?;
        upsert_product(tx, &doc, 0, 0)?;
    }
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::payload_checksum;
    use crate::store::test_support::{catalog_schema, server_record as record, temp_store};
    use serde_json::json;

    /// Ids of the products a name search finds.
    fn search_ids(store: &crate::store::Store, query: &str) -> Vec<String> {
        store
            .read(|c| search_products(c, query, 10))
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect()
    }

    #[test]
    fn products_are_found_by_barcode_sku_and_name_prefix() {
        let (_d, store) = temp_store();
        store
            .write(|tx| {
                apply_server_record(tx, &record(EntityType::Product, "p1", 1,
                    json!({"id":"p1","sku":"COLA-33","barcode":"5000112637922","name":"Coca-Cola Zero 33cl","price":150})))?;
                apply_server_record(tx, &record(EntityType::Product, "p2", 1,
                    json!({"id":"p2","sku":"WATER","name":"Still Water 50cl"})))
            })
            .unwrap();
        let by_barcode = store
            .read(|c| product_by_barcode(c, "5000112637922"))
            .unwrap()
            .unwrap();
        assert_eq!(by_barcode.id, "p1");
        assert_eq!(
            store
                .read(|c| product_by_sku(c, "WATER"))
                .unwrap()
                .unwrap()
                .id,
            "p2"
        );
        let names = |q: &str| search_ids(&store, q);
        assert_eq!(names("coc"), vec!["p1"]);
        assert_eq!(names("zero coca"), vec!["p1"]);
        assert_eq!(names("50"), vec!["p2"]);
        assert!(names("\"; DROP TABLE products; --").is_empty());
        assert!(names("").is_empty());
        // Renames and tombstones keep the full-text index in step.
        store
            .write(|tx| {
                apply_server_record(
                    tx,
                    &record(
                        EntityType::Product,
                        "p1",
                        2,
                        json!({"id":"p1","name":"Pepsi Max"}),
                    ),
                )?;
                apply_server_record(
                    tx,
                    &record(EntityType::Product, "p2", 2, serde_json::Value::Null),
                )
            })
            .unwrap();
        assert!(names("coca").is_empty());
        assert_eq!(names("pep"), vec!["p1"]);
        assert!(names("water").is_empty());
        assert!(store
            .read(|c| product_by_barcode(c, "5000112637922"))
            .unwrap()
            .is_none());
    }

    /// Frames the write-ahead log gained since `checkpoint_truncate`: pages written.
    fn wal_frames(store: &crate::store::Store) -> u64 {
        let wal = store.path().with_extension("db-wal");
        let bytes = std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
        // A 32-byte header, then a 24-byte header before each 4 KiB page.
        bytes.saturating_sub(32) / (24 + 4096)
    }

    fn checkpoint_truncate(store: &crate::store::Store) {
        // The store's readers are read-only; a checkpoint writes the database file.
        Connection::open(store.path())
            .unwrap()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert_eq!(wal_frames(store), 0, "the log was emptied");
    }

    /// A price change keeps a product's barcode and SKU: their index entries are not
    /// rewritten, so a page of such changes writes the table's pages and nothing more (a
    /// plain upsert also rewrote a random page of each index per product).
    #[test]
    fn a_change_that_keeps_the_keys_writes_no_index_pages() {
        let (_d, store) = temp_store();
        let n = 10_000;
        let product = |i: usize, version: i64, price: usize| {
            // Barcodes in no particular order, as on real goods.
            let barcode = format!("{:013}", (i * 7_919_993) % 9_999_999_999_999);
            let id = format!("p{i}");
            let doc = json!({"id": id, "sku": format!("SKU-{i:06}"), "barcode": barcode,
                "name": format!("Product {i}"), "price": price});
            record(EntityType::Product, &id, version, doc)
        };
        store
            .write(|tx| (0..n).try_for_each(|i| apply_server_record(tx, &product(i, 1, 100))))
            .unwrap();
        checkpoint_truncate(&store);
        // The engine's write for every 40th product, new price, same keys.
        store
            .write(|tx| {
                (0..n)
                    .step_by(40)
                    .try_for_each(|i| apply_server_record(tx, &product(i, 2, 120)))
            })
            .unwrap();
        let engine = wal_frames(&store);
        checkpoint_truncate(&store);
        // The least any write can do: the same number of rows, as spread out, with only
        // their payload replaced.
        store
            .write(|tx| {
                for i in (20..n).step_by(40) {
                    let doc = product(i, 2, 120).payload.to_string();
                    tx.execute(
                        "UPDATE products SET payload = ?2, version = 2 WHERE id = ?1",
                        params![format!("p{i}"), doc],
                    )?;
                }
                Ok(())
            })
            .unwrap();
        let table_only = wal_frames(&store);
        assert!(
            engine <= table_only + 4,
            "{engine} pages written for price changes, {table_only} for the rows alone"
        );
        let barcode_of = |i: usize| {
            product(i, 1, 100).payload["barcode"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let by = |code: &str| store.read(|c| product_by_barcode(c, code)).unwrap();
        let found = by(&barcode_of(40)).unwrap();
        assert_eq!((found.id.as_str(), found.version), ("p40", 2));
        assert!(found.json.contains("120"), "{}", found.json);
        // A change of barcode still moves the product in the index.
        let mut moved = product(80, 3, 120);
        moved.payload["barcode"] = json!("4006381333931");
        moved.checksum = payload_checksum(&moved.payload);
        store.write(|tx| apply_server_record(tx, &moved)).unwrap();
        assert_eq!(by("4006381333931").map(|p| p.version), Some(3));
        assert!(by(&barcode_of(80)).is_none());
    }

    /// The search index follows every product change of a transaction, however tangled,
    /// and is written once, when the transaction ends: while it runs, the index's storage
    /// is untouched (written row by row, FTS5 flushed a segment per rename).
    #[test]
    fn search_follows_a_transactions_changes_written_once_at_its_end() {
        let (_d, store) = temp_store();
        let product = |id: &str, version: i64, name: &str| {
            record(
                EntityType::Product,
                id,
                version,
                json!({"id": id, "name": name}),
            )
        };
        let tombstone = |id: &str| record(EntityType::Product, id, 9, serde_json::Value::Null);
        store
            .write(|tx| {
                apply_server_record(tx, &product("p1", 1, "Apple Juice"))?;
                apply_server_record(tx, &product("p2", 1, "Bread Roll"))?;
                apply_server_record(tx, &product("p3", 1, "Cheddar Cheese"))
            })
            .unwrap();
        let pk = |c: &Connection, id: &str| -> Result<i64> {
            Ok(c.query_row("SELECT pk FROM products WHERE id = ?1", [id], |r| r.get(0))?)
        };
        let p3_pk = store.read(|c| pk(c, "p3")).unwrap();
        let index_storage = |c: &Connection| -> Result<i64> {
            Ok(c.query_row(
                "SELECT count(*), sum(length(block)) FROM products_fts_data",
                [],
                |r| Ok(r.get::<_, i64>(0)? * 1_000_000 + r.get::<_, i64>(1)?),
            )?)
        };
        let before = store.read(index_storage).unwrap();
        store
            .write(|tx| {
                // Renamed twice; deleted and its pk reused by a new product; added and
                // deleted again.
                apply_server_record(tx, &product("p1", 2, "Blood Orange"))?;
                apply_server_record(tx, &product("p1", 3, "Carrot Cake"))?;
                apply_server_record(tx, &tombstone("p3"))?;
                apply_server_record(tx, &product("p4", 1, "Dark Chocolate"))?;
                assert_eq!(
                    pk(tx, "p4")?,
                    p3_pk,
                    "the new product reuses the deleted pk"
                );
                apply_server_record(tx, &product("p5", 1, "Elder Flower"))?;
                apply_server_record(tx, &tombstone("p5"))?;
                assert_eq!(
                    index_storage(tx)?,
                    before,
                    "nothing written to the index yet"
                );
                Ok(())
            })
            .unwrap();
        let names = |q: &str| search_ids(&store, q);
        assert_eq!(names("car"), vec!["p1"]);
        assert_eq!(names("bre"), vec!["p2"]);
        assert_eq!(names("dar"), vec!["p4"]);
        for gone in ["app", "blo", "che", "eld"] {
            assert!(names(gone).is_empty(), "{gone} is still found");
        }
        let pending: i64 = store
            .read(|c| {
                Ok(
                    c.query_row("SELECT count(*) FROM products_fts_pending", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(pending, 0);
        crate::store::test_support::assert_product_search_intact(&store);
    }

    #[test]
    fn current_price_prefers_the_latest_valid_price_list_entry() {
        let (_d, store) = temp_store();
        store
            .write(|tx| {
                apply_server_record(
                    tx,
                    &record(
                        EntityType::Product,
                        "p1",
                        1,
                        json!({"id":"p1","name":"Tea","price":200,"currency":"EUR"}),
                    ),
                )?;
                apply_server_record(
                    tx,
                    &record(
                        EntityType::Price,
                        "pr1",
                        1,
                        json!({"id":"pr1","product_id":"p1","amount":180,"valid_from":1000}),
                    ),
                )?;
                apply_server_record(
                    tx,
                    &record(
                        EntityType::Price,
                        "pr2",
                        1,
                        json!({"id":"pr2","product_id":"p1","amount":170,"valid_from":5000}),
                    ),
                )
            })
            .unwrap();
        let at = |t| store.read(|c| current_price(c, "p1", t)).unwrap().unwrap();
        assert_eq!(
            (at(500).amount, at(500).source),
            (200, PriceSource::Catalog)
        );
        assert_eq!(at(500).currency.as_deref(), Some("EUR"));
        assert_eq!(
            (at(2000).amount, at(2000).price_id.as_deref()),
            (180, Some("pr1"))
        );
        assert_eq!(at(6000).amount, 170);
        assert!(store
            .read(|c| current_price(c, "nope", 0))
            .unwrap()
            .is_none());
    }

    #[test]
    fn reports_are_cached_by_key_and_server_copies_win() {
        let (_d, store) = temp_store();
        store
            .write(|tx| put_report(tx, "daily-2026-11-28", r#"{"sales":3}"#))
            .unwrap();
        assert_eq!(
            store
                .read(|c| get_report(c, "daily-2026-11-28"))
                .unwrap()
                .unwrap()
                .json,
            r#"{"sales":3}"#
        );
        store
            .write(|tx| {
                apply_server_record(
                    tx,
                    &record(
                        EntityType::Report,
                        "daily-2026-11-28",
                        4,
                        json!({"sales":5}),
                    ),
                )
            })
            .unwrap();
        let r = store
            .read(|c| get_report(c, "daily-2026-11-28"))
            .unwrap()
            .unwrap();
        assert_eq!((r.json.as_str(), r.version), (r#"{"sales":5}"#, 4));
        assert!(store.write(|tx| put_report(tx, "k", "{oops")).is_err());
    }

    fn product(id: &str, barcode: &str, name: &str) -> ServerRecord {
        record(
            EntityType::Product,
            id,
            1,
            json!({"id": id, "sku": format!("SKU-{id}"), "barcode": barcode, "name": name}),
        )
    }

    /// `load_product` as the download calls it (the document made when it was verified).
    fn load(tx: &Transaction, record: &ServerRecord) -> Result<()> {
        let doc = (!record.deleted)
            .then(|| Document::new(record.payload.clone()))
            .transpose()?;
        load_product(tx, record, doc.as_ref())
    }

    fn tombstone(id: &str) -> ServerRecord {
        record(EntityType::Product, id, 2, serde_json::Value::Null)
    }

    #[test]
    fn initial_load_defers_indexes_and_leaves_the_schema_as_it_was() {
        let (_d, store) = temp_store();
        let fresh = catalog_schema(&store);
        assert!(store.write(begin_bulk_load).unwrap());
        assert!(store.read(bulk_load_pending).unwrap());
        let during = catalog_schema(&store);
        assert!(!during.iter().any(|(n, _)| n == "products_id"
            || n == "products_barcode"
            || n == "products_fts_insert"));
        store
            .write(|tx| {
                load(tx, &product("p1", "111", "Sparkling Water 50cl"))?;
                load(tx, &product("p2", "222", "Still Water 1L"))?;
                // Deleted on the server after the load sent it: gone after the load.
                load(tx, &product("p4", "555", "Tonic Water"))?;
                load(tx, &tombstone("p4"))?;
                // Deleted, then created again: the later version stays.
                load(tx, &tombstone("p5"))?;
                load(tx, &product("p5", "666", "Mineral Water"))
            })
            .unwrap();
        store
            .write(|tx| {
                // The same product twice in one load (edited while it downloaded), in a
                // later page: the later version wins.
                load(tx, &product("p1", "333", "Sparkling Lemonade 33cl"))
            })
            .unwrap();
        // Reads work during the load, by scanning.
        assert_eq!(
            store
                .read(|c| product_by_barcode(c, "222"))
                .unwrap()
                .unwrap()
                .id,
            "p2"
        );
        // Other writers of products wait for the load, with a clear error.
        let err = store
            .write(|tx| import_products(tx, r#"[{"id":"x","name":"X"}]"#))
            .unwrap_err();
        assert!(err.to_string().contains("still loading"), "{err}");
        // This machine has a temporary folder: the keys were sorted there, not in RAM.
        assert_eq!(
            store.write(finish_bulk_load).unwrap(),
            BulkLoadEnd::SortedOnDisk
        );
        assert!(!store.read(bulk_load_pending).unwrap());
        // Identical to a fresh schema: every index and trigger back, the tombstone table gone.
        assert_eq!(catalog_schema(&store), fresh);
        // The build may sort in temporary files; the writer is back to memory afterwards.
        let temp_store: i64 = store
            .write(|tx| Ok(tx.query_row("PRAGMA temp_store", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(temp_store, 2, "temp_store=MEMORY");
        let ids: Vec<String> = store
            .read(|c| {
                let mut stmt = c.prepare("SELECT id FROM products ORDER BY id")?;
                let ids = stmt.query_map([], |r| r.get(0))?;
                Ok(ids.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(ids, vec!["p1", "p2", "p5"]);
        let names = |q: &str| search_ids(&store, q);
        assert_eq!(names("still"), vec!["p2"]);
        assert_eq!(names("lem"), vec!["p1"]);
        assert_eq!(names("min"), vec!["p5"]);
        assert!(names("spa water").is_empty());
        assert!(names("tonic").is_empty());
        assert_eq!(
            store
                .read(|c| product_by_barcode(c, "333"))
                .unwrap()
                .unwrap()
                .id,
            "p1"
        );
        // Later changes maintain the indexes row by row again.
        store
            .write(|tx| apply_server_record(tx, &product("p3", "444", "Cold Brew Coffee")))
            .unwrap();
        assert_eq!(names("cof"), vec!["p3"]);
        // A device that has products never starts a bulk load.
        assert!(!store.write(begin_bulk_load).unwrap());
        store
            .write(|tx| {
                let integrity: String = tx.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
                assert_eq!(integrity, "ok");
                Ok(())
            })
            .unwrap();
        crate::store::test_support::assert_product_search_intact(&store);
    }

    #[test]
    fn a_load_interrupted_by_a_crash_is_finished_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let path = path.to_str().unwrap();
        let fresh;
        {
            let store = crate::store::Store::open(path, crate::store::Durability::Full).unwrap();
            fresh = catalog_schema(&store);
            store.write(begin_bulk_load).unwrap();
            store
                .write(|tx| {
                    load(tx, &product("p1", "111", "Oat Milk 1L"))?;
                    load(tx, &product("p1", "111", "Oat Drink 1L"))?;
                    load(tx, &product("p2", "222", "Soy Milk 1L"))?;
                    load(tx, &tombstone("p2"))
                })
                .unwrap();
            // The process dies here: no finish_bulk_load.
        }
        let store = crate::store::Store::open(path, crate::store::Durability::Full).unwrap();
        assert!(!store.read(bulk_load_pending).unwrap());
        assert_eq!(catalog_schema(&store), fresh);
        assert_eq!(search_ids(&store, "oat"), vec!["p1"]);
        assert!(search_ids(&store, "milk").is_empty());
    }

    #[test]
    fn import_is_all_or_nothing() {
        let (_d, store) = temp_store();
        let err = store
            .write(|tx| import_products(tx, r#"[{"id":"a","name":"A"},{"name":"no id"}]"#))
            .unwrap_err();
        assert!(err.to_string().contains("product #2"), "{err}");
        assert!(store.read(|c| product_by_id(c, "a")).unwrap().is_none());
        assert_eq!(
            store
                .write(|tx| import_products(tx, r#"[{"id":"a","name":"A"}]"#))
                .unwrap(),
            1
        );
    }
}
