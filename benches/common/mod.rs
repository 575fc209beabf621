//! What the criterion benches (`local.rs`) and the end-to-end harness (`e2e.rs`) share:
//! synthetic data shaped like a real till's, the raw-rusqlite baselines (same schema, same
//! pragmas, same rows, none of the engine), percentiles and peak RSS.

#![allow(dead_code)] // each bench uses a different subset

pub mod proxy;

use pos_sync::protocol::{canonical_json, payload_checksum};
use pos_sync::store::Durability;
use pos_sync::{EngineConfig, SyncEngine};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::sync::Arc;

/// The engine's own device schema: the raw baselines write into the same tables, indexes
/// and full-text index, so the ratio measures the engine, not the schema. The migrations up
/// to v4, in order, as the engine applies them; their full-text triggers update the index
/// row by row, as a hand-written client's do.
const SCHEMA_ROW_BY_ROW_FTS: &str = concat!(
    include_str!("../../src/store/schema/v1.sql"),
    include_str!("../../src/store/schema/v2.sql"),
    include_str!("../../src/store/schema/v3.sql"),
    include_str!("../../src/store/schema/v4.sql")
);

/// v5 and v6 leave the full-text indexes to the engine's commits (`search_index::apply_notes`).
const SCHEMA_NOTED_FTS: &str = concat!(
    include_str!("../../src/store/schema/v5.sql"),
    include_str!("../../src/store/schema/v6.sql")
);

pub const STORE: &str = "S1";
pub const REGISTER: &str = "R1";

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

// ------------------------------------------------------------------ product catalog

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "an", "qui", "mar", "zen", "po", "lu",
    "fir", "gan", "ho", "tes", "bra", "nel", "cor", "da", "ve", "sto",
];
const ADJECTIVES: &[&str] = &[
    "Classic",
    "Organic",
    "Fresh",
    "Light",
    "Extra",
    "Dark",
    "Sparkling",
    "Spicy",
    "Smoked",
    "Salted",
    "Sweet",
    "Crunchy",
    "Creamy",
    "Mild",
    "Strong",
    "Original",
    "Premium",
    "Mini",
    "Family",
    "Roasted",
    "Frozen",
    "Wholegrain",
    "Lemon",
    "Vanilla",
    "Cherry",
    "Honey",
    "Garlic",
    "Herbal",
    "Italian",
    "Greek",
    "Golden",
    "Green",
    "Red",
    "White",
    "Black",
    "Double",
    "Instant",
    "Natural",
    "Rustic",
    "Tropical",
];
const NOUNS: &[&str] = &[
    "Cola",
    "Water",
    "Juice",
    "Coffee",
    "Tea",
    "Milk",
    "Yogurt",
    "Cheese",
    "Butter",
    "Bread",
    "Bagel",
    "Croissant",
    "Muffin",
    "Cookies",
    "Crackers",
    "Chips",
    "Nuts",
    "Almonds",
    "Chocolate",
    "Candy",
    "Gum",
    "Cereal",
    "Oats",
    "Granola",
    "Pasta",
    "Rice",
    "Noodles",
    "Sauce",
    "Ketchup",
    "Mustard",
    "Mayonnaise",
    "Pesto",
    "Soup",
    "Beans",
    "Tuna",
    "Salmon",
    "Sardines",
    "Ham",
    "Salami",
    "Sausage",
    "Bacon",
    "Chicken",
    "Beef",
    "Pork",
    "Tofu",
    "Hummus",
    "Olives",
    "Pickles",
    "Jam",
    "Marmalade",
    "Peanut",
    "Biscuits",
    "Wafers",
    "Pretzels",
    "Popcorn",
    "Lemonade",
    "Soda",
    "Beer",
    "Cider",
    "Wine",
    "Vinegar",
    "Oil",
    "Flour",
    "Sugar",
    "Salt",
    "Pepper",
    "Paprika",
    "Cinnamon",
    "Soap",
    "Shampoo",
    "Toothpaste",
    "Detergent",
    "Sponges",
    "Napkins",
    "Tissues",
    "Batteries",
    "Candles",
    "Matches",
    "Foil",
    "Bags",
    "Lettuce",
    "Tomatoes",
    "Apples",
    "Bananas",
    "Grapes",
    "Oranges",
];
const SIZES: &[&str] = &[
    "33cl",
    "50cl",
    "1L",
    "1.5L",
    "2L",
    "100g",
    "200g",
    "250g",
    "500g",
    "1kg",
    "6-pack",
    "12-pack",
    "XL",
    "Family Pack",
];
const CATEGORIES: &[&str] = &[
    "beverages",
    "dairy",
    "bakery",
    "snacks",
    "pantry",
    "meat",
    "produce",
    "household",
    "frozen",
    "personal-care",
];

/// About 3,000 brand names made of two or three syllables.
fn brand(i: usize) -> String {
    let n = SYLLABLES.len();
    let mut s = String::new();
    s.push_str(SYLLABLES[i % n]);
    s.push_str(SYLLABLES[(i / n) % n]);
    if i >= n * n {
        s.push_str(SYLLABLES[(i / (n * n)) % n]);
    }
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => s,
    }
}

/// A product document as a back office sends it: ~400 bytes of canonical JSON, a random
/// UUID id, a 13-digit barcode, a SKU and a name of brand, adjective, noun and size.
pub fn product(rng: &mut StdRng, i: usize) -> Value {
    let name = product_name(rng);
    let tags = [
        CATEGORIES[rng.random_range(0..CATEGORIES.len())].to_owned(),
        ADJECTIVES[rng.random_range(0..ADJECTIVES.len())].to_lowercase(),
    ];
    let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
    let barcode: String = (0..13)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    json!({
        "id": uuid(rng),
        "sku": format!("SKU-{i:07}"),
        "barcode": barcode,
        "name": name,
        "price": rng.random_range(49..99_999),
        "currency": "EUR",
        "tax_rate": if rng.random_bool(0.5) { 0.07 } else { 0.19 },
        "category": category,
        "unit": "piece",
        "active": true,
        "stock_tracked": rng.random_bool(0.8),
        "supplier_id": format!("SUP-{:05}", rng.random_range(0..5_000)),
        "description": format!("{name}. Store in a cool, dry place. Best before: see packaging. Lot {}.", rng.random_range(100_000..999_999)),
        "tags": tags,
        "updated_by": "back-office",
    })
}

pub fn product_name(rng: &mut StdRng) -> String {
    format!(
        "{} {} {} {}",
        brand(rng.random_range(0..3_000)),
        ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
        NOUNS[rng.random_range(0..NOUNS.len())],
        SIZES[rng.random_range(0..SIZES.len())]
    )
}

/// `n` product documents, deterministic for a seed.
pub fn products(seed: u64, n: usize) -> Vec<Value> {
    let mut rng = rng(seed);
    (0..n).map(|i| product(&mut rng, i)).collect()
}

/// A server-side edit of a product: new price, and every tenth one renamed.
pub fn edited(rng: &mut StdRng, p: &Value, i: usize) -> Value {
    let mut p = p.clone();
    // Always a real change (the server leaves an identical document alone).
    p["price"] = json!(p["price"].as_i64().unwrap_or(0) + rng.random_range(1..500));
    if i.is_multiple_of(10) {
        p["name"] = json!(product_name(rng));
    }
    p
}

/// `n` barcodes of products drawn at random (what a scanner reads).
pub fn random_barcodes(rng: &mut StdRng, products: &[Value], n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            products[rng.random_range(0..products.len())]["barcode"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// A three-letter prefix of a word of a random product name (what a cashier types).
pub fn search_prefix(rng: &mut StdRng, products: &[Value]) -> String {
    let name = products[rng.random_range(0..products.len())]["name"]
        .as_str()
        .unwrap_or("Cola");
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && w.chars().all(char::is_alphabetic))
        .collect();
    let word = words[rng.random_range(0..words.len())];
    word.chars().take(3).collect::<String>().to_lowercase()
}

/// An engine on `dir/name.db` with no server.
pub fn engine(dir: &std::path::Path, name: &str, durability: Durability) -> Arc<SyncEngine> {
    let path = dir.join(format!("{name}.db"));
    let mut config = EngineConfig::new(path.to_str().unwrap(), STORE, REGISTER, name);
    config.durability = Some(durability);
    SyncEngine::open(config).expect("engine opens")
}

/// A catalog of `n` products imported through the engine into `dir/catalog.db` (one file,
/// read by both the engine and the raw connection, so both see the same pages).
pub fn catalog(dir: &std::path::Path, n: usize) -> (Arc<SyncEngine>, Vec<Value>) {
    let engine = engine(dir, "catalog", Durability::Normal);
    let docs = products(7, n);
    for chunk in docs.chunks(10_000) {
        let json = Value::Array(chunk.to_vec()).to_string();
        engine.import_products(json).expect("catalog imported");
    }
    (engine, docs)
}

// ------------------------------------------------------------------ sales

/// The app's sale document: ~800 bytes of JSON, 3–5 lines, 1–2 payments, totals.
pub fn sale_json(rng: &mut StdRng) -> String {
    let lines: Vec<Value> = (0..rng.random_range(3..=5))
        .map(|_| {
            let qty = rng.random_range(1..4);
            let price = rng.random_range(49..2_999);
            json!({
                // A till sells from a catalog: 5,000 products, not a new one per line.
                "product_id": format!("P-{:06}", rng.random_range(0..5_000)),
                "sku": format!("SKU-{:07}", rng.random_range(0..100_000)),
                "name": product_name(rng),
                "quantity": qty,
                "unit_price": price,
                "discount": 0,
                "tax_rate": 0.19,
                "line_total": qty * price,
            })
        })
        .collect();
    let total: i64 = lines
        .iter()
        .map(|l| l["line_total"].as_i64().unwrap())
        .sum();
    let payments = if rng.random_bool(0.3) {
        let cash = total / 2;
        json!([{"method": "cash", "amount": cash}, {"method": "card", "amount": total - cash, "reference": uuid(rng)}])
    } else {
        json!([{"method": "card", "amount": total, "reference": uuid(rng)}])
    };
    json!({
        "id": uuid(rng),
        "lines": lines,
        "payments": payments,
        "subtotal": total,
        "tax": total * 19 / 119,
        "total": total,
        "currency": "EUR",
        "cashier_id": format!("cashier-{}", rng.random_range(1..20)),
        "customer_id": if rng.random_bool(0.2) { json!(uuid(rng)) } else { Value::Null },
        "created_at": "2026-11-28T10:15:00Z",
    })
    .to_string()
}

// ------------------------------------------------------------------ raw baselines

/// A raw rusqlite connection on `path` with the engine's schema and the given
/// `synchronous` setting (`FULL` or `NORMAL`), WAL like the engine, and the full-text index
/// kept row by row, as a hand-written client keeps it.
pub fn raw_open(path: &str, synchronous: &str) -> Connection {
    raw_open_with(path, synchronous, RawWrite::Upsert)
}

/// `raw_open` for a client that writes products the way `how` says.
pub fn raw_open_with(path: &str, synchronous: &str, how: RawWrite) -> Connection {
    let conn = Connection::open(path).expect("raw database opens");
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
        .unwrap();
    conn.pragma_update(None, "synchronous", synchronous)
        .unwrap();
    let fresh: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'products'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if fresh == 0 {
        conn.execute_batch(SCHEMA_ROW_BY_ROW_FTS).unwrap();
        if how == RawWrite::AsTheEngine {
            conn.execute_batch(SCHEMA_NOTED_FTS).unwrap();
        }
    }
    conn
}

/// The two rows the engine writes for a sale, prepared outside the timed region.
pub struct RawSale {
    pub id: String,
    pub receipt: String,
    pub customer_id: Option<String>,
    pub total: f64,
    pub payload: String,
    pub checksum: String,
    pub change_id: String,
}

pub fn raw_sale(rng: &mut StdRng, sequence: i64) -> RawSale {
    let mut doc: Value = serde_json::from_str(&sale_json(rng)).unwrap();
    let receipt = format!("{STORE}-{REGISTER}-{sequence:06}");
    doc["receipt_number"] = json!(receipt);
    RawSale {
        id: doc["id"].as_str().unwrap().to_owned(),
        receipt,
        customer_id: doc["customer_id"].as_str().map(str::to_owned),
        total: doc["total"].as_f64().unwrap(),
        payload: canonical_json(&doc),
        checksum: payload_checksum(&doc),
        change_id: uuid(rng),
    }
}

/// Writes a sale row and its queue row in one transaction: what a hand-written POS data
/// layer does, with nothing else.
pub fn raw_record_sale(conn: &Connection, sale: &RawSale, seq: i64, now_ms: i64) {
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn.prepare_cached(
        "INSERT INTO sales (id, receipt_number, customer_id, total, payload, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .unwrap()
    .execute(params![
        sale.id,
        sale.receipt,
        sale.customer_id,
        sale.total,
        sale.payload,
        now_ms
    ])
    .unwrap();
    conn.prepare_cached(
        "INSERT INTO sync_queue (id, entity_type, entity_id, action, payload, priority, status, \
         created_at, updated_at, seq, hlc, checksum, payload_bytes) \
         VALUES (?1, 'sale', ?2, 'create', ?3, 1, 'PENDING', ?4, ?4, ?5, ?6, ?7, ?8)",
    )
    .unwrap()
    .execute(params![
        sale.change_id,
        sale.id,
        sale.payload,
        now_ms,
        seq,
        now_ms << 16,
        sale.checksum,
        sale.payload.len() as i64
    ])
    .unwrap();
    conn.execute_batch("COMMIT").unwrap();
}

/// A product row as the engine stores it, prepared outside the timed region.
pub struct RawProduct {
    pub id: String,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub name: String,
    pub payload: String,
    pub checksum: String,
}

pub fn raw_product(doc: &Value) -> RawProduct {
    let text = |k: &str| doc[k].as_str().map(str::to_owned);
    RawProduct {
        id: text("id").unwrap(),
        sku: text("sku"),
        barcode: text("barcode"),
        name: text("name").unwrap_or_default(),
        payload: canonical_json(doc),
        checksum: payload_checksum(doc),
    }
}

/// How a raw client writes a product it may already have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RawWrite {
    /// One upsert per product, as a hand-written client does (and the engine did before
    /// session 5): every indexed column is assigned, so SQLite rewrites its index entries,
    /// and the full-text index is updated row by row.
    Upsert,
    /// What the engine does: an update that assigns no indexed column when the barcode and
    /// SKU are unchanged, the upsert otherwise, and the full-text index brought up to date
    /// once per transaction (open with `raw_open_with`).
    AsTheEngine,
}

const RAW_UPSERT_SQL: &str =
    "INSERT INTO products (id, sku, barcode, name, payload, version, checksum, updated_hlc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, \
     barcode = excluded.barcode, name = excluded.name, payload = excluded.payload, \
     version = excluded.version, checksum = excluded.checksum, updated_hlc = excluded.updated_hlc";
const RAW_UPDATE_KEEPING_KEYS_SQL: &str =
    "UPDATE products SET name = ?4, payload = ?5, version = ?6, checksum = ?7, updated_hlc = ?8 \
     WHERE id = ?1 AND sku IS ?2 AND barcode IS ?3";

/// Writes products `per_tx` per transaction, the way `how` says.
pub fn raw_upsert_products(
    conn: &Connection,
    rows: &[RawProduct],
    per_tx: usize,
    version: i64,
    how: RawWrite,
) {
    for chunk in rows.chunks(per_tx.max(1)) {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut upsert = conn.prepare_cached(RAW_UPSERT_SQL).unwrap();
        let mut update = conn.prepare_cached(RAW_UPDATE_KEEPING_KEYS_SQL).unwrap();
        for p in chunk {
            let params =
                params![p.id, p.sku, p.barcode, p.name, p.payload, version, p.checksum, version];
            if how == RawWrite::Upsert || update.execute(params).unwrap() == 0 {
                upsert.execute(params).unwrap();
            }
        }
        drop((upsert, update));
        if how == RawWrite::AsTheEngine {
            pos_sync::store::search_index::apply_notes(conn).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }
}

pub const RAW_BARCODE_SQL: &str =
    "SELECT id, sku, barcode, name, payload, version FROM products WHERE barcode = ?1 LIMIT 1";
pub const RAW_SEARCH_SQL: &str =
    "SELECT p.id, p.sku, p.barcode, p.name, p.payload, p.version FROM products_fts f \
     JOIN products p ON p.pk = f.rowid WHERE products_fts MATCH ?1 LIMIT ?2";

/// One product row read the way the engine reads it (all columns into owned values).
pub type RawRow = (String, Option<String>, Option<String>, String, String, i64);

pub fn raw_row(r: &rusqlite::Row) -> rusqlite::Result<RawRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

// ------------------------------------------------------------------ measuring

/// The `p`-th percentile (0–100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time (user + system) this process has used so far, in seconds: with other builds
/// sharing the machine, CPU per operation moves much less than wall-clock rates do.
pub fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start at state, field 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the state field.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
