//! What the campaigns share: their size (quick or full), a reference server they configure
//! themselves (no rate limit, a database file when asked), an admin client, and read-outs
//! of a device database for before/after comparisons.

pub use crate::support::sale;
use crate::support::Admin;
use pos_sync::protocol::ServerRecord;
use pos_sync::{EngineConfig, SyncEngine};
use pos_sync_server::testing::{spawn_with, TestServer};
use pos_sync_server::{Config, DeviceToken};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const ADMIN: &str = "reliability-admin";
pub const STORE: &str = "S1";
pub const TOKEN: &str = "tok-reliability-till-1";
pub const DEVICE: &str = "till-1";

/// True when the campaigns run at full size (`POS_SYNC_RELIABILITY=full`).
pub fn full() -> bool {
    std::env::var("POS_SYNC_RELIABILITY").is_ok_and(|v| v == "full")
}

/// A campaign's size: `quick` in `cargo test`, `full` under `POS_SYNC_RELIABILITY=full`,
/// or `POS_SYNC_RELIABILITY_<NAME>` when set (to reproduce a run at another size).
pub fn size(name: &str, quick: usize, full_size: usize) -> usize {
    std::env::var(format!("POS_SYNC_RELIABILITY_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full() { full_size } else { quick })
}

/// Prints a campaign's result line and appends it to `target/tmp/reliability-results.txt`
/// (docs/reliability.md quotes the full-size lines).
pub fn report(campaign: &str, line: &str) {
    let text = format!(
        "[{}] {campaign}: {line}",
        if full() { "full" } else { "quick" }
    );
    println!("RESULT {text}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("reliability-results.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        use std::io::Write;
        let _ = writeln!(
            f,
            "{} {text}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")
        );
    }
}

/// A reference server for one till of store S1 (plus one of store S2), admin routes on,
/// no practical rate limit; `db` is `:memory:` or a file.
pub struct Rig {
    pub server: TestServer,
    pub admin: Admin,
}

pub const OTHER_TOKEN: &str = "tok-reliability-s2";

impl Rig {
    pub fn start(db: &str) -> Rig {
        let server = spawn_with(Config {
            devices: vec![
                DeviceToken::new(TOKEN, DEVICE, STORE),
                DeviceToken::new(OTHER_TOKEN, "till-s2", "S2"),
            ],
            admin_token: Some(ADMIN.into()),
            rate_limit: 1_000_000,
            db: db.into(),
            ..Config::default()
        })
        .expect("the reference server starts");
        Rig {
            admin: Admin::new(server.url(), STORE, ADMIN),
            server,
        }
    }

    pub fn url(&self) -> String {
        self.server.url().to_owned()
    }

    /// Server-side upsert of downloaded data (products, prices, reports, customers).
    pub async fn put(&self, entity_type: &str, docs: Value) {
        self.admin.put(entity_type, docs).await;
    }

    /// Live records of a type as the server holds them, by id.
    pub async fn records(&self, entity_type: &str) -> BTreeMap<String, ServerRecord> {
        let list = self.admin.records(entity_type).await;
        let n = list.len();
        let map: BTreeMap<_, _> = list.into_iter().map(|r| (r.entity_id.clone(), r)).collect();
        assert_eq!(map.len(), n, "the server lists a {entity_type} id twice");
        map
    }

    /// Server-side stock levels of every product that moved.
    pub async fn stock(&self) -> BTreeMap<String, f64> {
        self.admin.stock().await
    }

    /// An engine configuration for the till against `url`, on `path`, with short retry
    /// delays and timeouts so campaigns move fast.
    pub fn config(&self, path: &str, url: &str) -> EngineConfig {
        let mut config = EngineConfig::new(path, STORE, "R1", DEVICE);
        config.server_url = Some(url.to_owned());
        config.auth_token = Some(TOKEN.to_owned());
        config.durability = Some(pos_sync::store::Durability::Normal);
        config.retry_base_ms = 20;
        config.retry_max_ms = 100;
        config.network_debounce_ms = 20;
        config
    }
}

/// `count` catalog products whose names carry `revision`.
pub fn products(range: std::ops::Range<usize>, revision: usize) -> Value {
    Value::Array(
        range
            .map(|i| {
                serde_json::json!({
                    "id": format!("p{i}"),
                    "sku": format!("SKU-{i}"),
                    "barcode": format!("{:013}", 4_000_000_000_000u64 + i as u64),
                    "name": format!("Product {i} rev {revision}"),
                    "price": 100 + (i % 50) as i64,
                })
            })
            .collect(),
    )
}

/// Every row of every table of a device database, as text (compare before and after).
pub fn dump(engine: &SyncEngine) -> BTreeMap<String, Vec<String>> {
    engine
        .store()
        .read(dump_connection)
        .expect("the device database reads")
}

pub fn dump_connection(
    conn: &rusqlite::Connection,
) -> pos_sync::Result<BTreeMap<String, Vec<String>>> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = BTreeMap::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut row = Vec::with_capacity(columns);
                for i in 0..columns {
                    row.push(format!("{:?}", r.get_ref(i)?));
                }
                Ok(row.join("|"))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.sort();
        out.insert(table, rows);
    }
    Ok(out)
}

/// Every sale of a device database: id → (receipt number, canonical payload).
pub fn device_sales(engine: &SyncEngine) -> BTreeMap<String, (String, String)> {
    engine
        .store()
        .read(|c| {
            let mut stmt = c.prepare("SELECT id, receipt_number, payload FROM sales")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?))))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .unwrap()
}

/// Every catalog product of a device database: id → canonical payload.
pub fn device_products(engine: &SyncEngine) -> BTreeMap<String, String> {
    engine
        .store()
        .read(|c| {
            let mut stmt = c.prepare("SELECT id, payload FROM products")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .unwrap()
}

/// Syncs until the queue holds nothing unsynced and a cycle completes, bounded in rounds and
/// time; waits out backoffs. Returns the reports.
pub async fn sync_until_converged(
    engine: &Arc<SyncEngine>,
    max_rounds: usize,
    max_time: Duration,
) -> Vec<pos_sync::sync::SyncReport> {
    let started = Instant::now();
    let mut reports = Vec::new();
    for _ in 0..max_rounds {
        let report = engine.sync_now().await;
        let done = report.outcome == pos_sync::sync::SyncOutcome::Completed
            && report.remaining == 0
            && !report.more_work_pending;
        let wait = report
            .next_sync_allowed_at_ms
            .map(|at| at - chrono::Utc::now().timestamp_millis())
            .unwrap_or(0)
            .clamp(20, 2_000);
        reports.push(report);
        if done {
            return reports;
        }
        assert!(
            started.elapsed() < max_time,
            "no convergence within {max_time:?}: last report {:?}",
            reports.last()
        );
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
    panic!(
        "no convergence within {max_rounds} rounds: last report {:?}",
        reports.last()
    );
}
