//! The benchmark harness (issue 8): every figure beside its baseline measured in the same
//! run, as a ratio, with the target.
//!
//! - `cargo bench --bench e2e -- --write-docs` (what `make bench` runs after the criterion
//!   benches): full sizes, prints the table and rewrites docs/benchmarks.md.
//! - `cargo test --bench e2e` (what `make bench-quick`, inside `make test`, runs): the same
//!   code at small sizes in a debug build. It never judges a figure, but it fails when the
//!   harness breaks (a sync that does not converge, a count that does not add up).
//!
//! The reference server runs in this process on its own threads, on a database file; the
//! device under test runs in this process too, except for the peak-RSS runs, which run in a
//! child process (this binary with `--child-download`) so their memory is theirs alone.

mod common;

use common::proxy::{Link, Proxy};
use common::*;
use pos_sync::model::{Action, EntityType};
use pos_sync::protocol::{
    batch_checksum, Change, ChangeStatus, StatusResponse, UploadRequest, UploadResponse,
    PROTOCOL_HEADER,
};
use pos_sync::store::state::Identity;
use pos_sync::store::{pos, Durability};
use pos_sync::sync::SyncOutcome;
use pos_sync::transport::Compression;
use pos_sync::{EngineConfig, SyncEngine};
use pos_sync_server::testing::{spawn_with, TestServer};
use pos_sync_server::{Config, DeviceToken};
use rusqlite::OptionalExtension;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "bench-admin";

/// Every device the harness uses: (token, device id, store id).
const DEVICES: &[(&str, &str, &str)] = &[
    ("t-up", "till-up", "UP"),
    ("t-up-ui", "till-up-ui", "UPUI"),
    ("t-naive", "till-naive", "UP"),
    ("t-wan", "till-wan", "UP"),
    ("t-naive-wan", "till-naive-wan", "UP"),
    ("t-cmp-none", "till-cmp-none", "UP"),
    ("t-cmp-fast", "till-cmp-fast", "UP"),
    ("t-cmp-best", "till-cmp-best", "UP"),
    ("t-wan-none", "till-wan-none", "UP"),
    ("t-wan-fast", "till-wan-fast", "UP"),
    ("t-wan-best", "till-wan-best", "UP"),
    ("t-dl", "till-dl", "DL"),
    ("t-rss-small", "rss-small", "SMALL"),
    ("t-rss-mid", "rss-mid", "MID"),
    ("t-rss-big", "rss-big", "BIG"),
    // On the Laravel server (scripts/bench-laravel.sh imports these tokens).
    ("t-lv-upload", "till-lv-up", "LVUP"),
    ("t-lv-download", "till-lv-dl", "LVDL"),
];

fn token_of(device: &str) -> (&'static str, &'static str) {
    let d = DEVICES
        .iter()
        .find(|(_, id, _)| *id == device)
        .expect("a known device");
    (d.0, d.2)
}

#[derive(Clone, Copy)]
struct Sizes {
    sales: usize,
    sale_block: usize,
    catalog: usize,
    queries: usize,
    upload: usize,
    naive_loopback: usize,
    naive_wan: usize,
    engine_wan: usize,
    compression: usize,
    compression_wan: usize,
    download: usize,
    rss: [usize; 3],
    /// Sales uploaded to and products downloaded from the Laravel server.
    laravel: usize,
}

const FULL: Sizes = Sizes {
    sales: 20_000,
    sale_block: 250,
    catalog: 100_000,
    queries: 20_000,
    upload: 100_000,
    naive_loopback: 5_000,
    naive_wan: 200,
    engine_wan: 20_000,
    compression: 20_000,
    compression_wan: 5_000,
    download: 100_000,
    rss: [10_000, 100_000, 1_000_000],
    laravel: 20_000,
};

const QUICK: Sizes = Sizes {
    sales: 200,
    sale_block: 50,
    catalog: 2_000,
    queries: 300,
    upload: 2_000,
    naive_loopback: 50,
    naive_wan: 5,
    engine_wan: 600,
    compression: 300,
    compression_wan: 200,
    download: 2_000,
    rss: [500, 2_000, 5_000],
    laravel: 1_000,
};

/// One line of the table. `ratio` is always engine ÷ baseline; the target says which way
/// is better.
struct Row {
    what: String,
    engine: String,
    baseline: String,
    ratio: Option<f64>,
    target: String,
    met: Option<bool>,
}

impl Row {
    /// A rate beside its baseline's rate, judged by the lowest ratio the issue accepts.
    fn rate_at_least(
        what: String,
        (engine, unit): (f64, &str),
        (baseline, baseline_unit): (f64, &str),
        min_ratio: f64,
    ) -> Row {
        let ratio = engine / baseline;
        Row {
            what,
            engine: fmt_rate(engine, unit),
            baseline: fmt_rate(baseline, baseline_unit),
            ratio: Some(ratio),
            target: format!("≥ {min_ratio}×"),
            met: Some(ratio >= min_ratio),
        }
    }
}

struct Bench {
    quick: bool,
    sizes: &'static Sizes,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    work: PathBuf,
    server: TestServer,
    rows: Vec<(&'static str, Row)>,
    notes: Vec<String>,
    seed: u64,
    /// The reference server's rates in this run (upload, first download), for the Laravel rows.
    reference_rates: (Option<f64>, Option<f64>),
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-download") {
        child_download(&args[i + 1..]);
        return;
    }
    // `cargo bench` passes --bench; `cargo test --bench e2e` does not: quick mode.
    let quick = !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--quick");
    let write_docs = args.iter().any(|a| a == "--write-docs")
        && !quick
        && !args
            .iter()
            .any(|a| a.starts_with("--only=") || a.starts_with("--big="));
    let started = chrono::Utc::now();
    let load_before = loadavg();
    let t0 = Instant::now();
    let mut bench = Bench::start(quick);
    println!(
        "pos-sync benchmark harness, {} mode (work folder {})",
        if quick { "quick" } else { "full" },
        bench.work.display()
    );
    // `--only=sale,lookups,upload,compression,download,big,ffi,laravel` runs a subset (profiling).
    let only: Option<Vec<String>> = args
        .iter()
        .find_map(|a| a.strip_prefix("--only="))
        .map(|s| s.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    if let Some(big) = args.iter().find_map(|a| a.strip_prefix("--big=")) {
        let big = big.parse().expect("--big=N");
        bench.sizes = Box::leak(Box::new(Sizes {
            rss: [bench.sizes.rss[0], bench.sizes.rss[1], big],
            ..*bench.sizes
        }));
    }
    if wanted("sale") {
        bench.record_sale();
    }
    if wanted("lookups") {
        bench.lookups();
    }
    if wanted("upload") {
        bench.upload();
    }
    if wanted("compression") {
        bench.compression();
    }
    if wanted("download") {
        bench.download();
    }
    if wanted("big") {
        bench.initial_load_and_rss();
    }
    if wanted("laravel") {
        bench.laravel();
    }
    if wanted("ffi") {
        bench.ffi();
    }
    bench.criterion_rows();
    let table = bench.table();
    println!("\n{table}");
    let machine = machine(started, load_before, t0.elapsed());
    println!("{machine}");
    for note in &bench.notes {
        println!("- {note}");
    }
    if write_docs {
        let docs = docs(&bench, &table, &machine);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
        std::fs::write(&path, docs).expect("docs/benchmarks.md written");
        println!("wrote {}", path.display());
    }
    let Bench { server, work, .. } = bench;
    server.shutdown();
    let _ = std::fs::remove_dir_all(work);
    println!("harness finished in {:.0} s", t0.elapsed().as_secs_f64());
}

/// A status listener that only counts what it is sent.
#[derive(Default)]
struct StatusCounter(std::sync::atomic::AtomicUsize);

impl pos_sync::sync::events::SyncStatusListener for StatusCounter {
    fn on_status(&self, _: pos_sync::sync::events::SyncStatus) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn on_conflict(&self, _: pos_sync::store::conflicts::Conflict) {}
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64().max(1e-9)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / secs(d)
}

fn fmt_rate(r: f64, unit: &str) -> String {
    if r >= 100.0 {
        format!("{} {unit}", group_digits(r.round() as u64))
    } else {
        format!("{r:.1} {unit}")
    }
}

fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 500 → "500", 100000 → "100k", 1000000 → "1M".
fn count(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn us(ns: u64) -> String {
    if ns < 1_000 {
        format!("{ns} ns")
    } else {
        format!("{:.1} µs", ns as f64 / 1000.0)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

impl Bench {
    fn start(quick: bool) -> Bench {
        let target = target_dir();
        let work = target.join(format!("bench-work-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let server = spawn_with(Config {
            db: work.join("server.db").to_str().unwrap().to_owned(),
            devices: DEVICES
                .iter()
                .map(|(t, d, s)| DeviceToken::new(t, d, s))
                .collect(),
            admin_token: Some(ADMIN.into()),
            rate_limit: 100_000_000,
            ..Config::default()
        })
        .expect("the reference server starts");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Bench {
            quick,
            sizes: if quick { &QUICK } else { &FULL },
            rt,
            http: reqwest::Client::builder()
                .no_proxy()
                .tcp_nodelay(true)
                .build()
                .unwrap(),
            work,
            server,
            rows: Vec::new(),
            notes: Vec::new(),
            seed: 100,
            reference_rates: (None, None),
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed += 1;
        self.seed
    }

    fn row(&mut self, section: &'static str, row: Row) {
        println!(
            "  {:<58} {:>22}  vs {:>22}  {}",
            row.what,
            row.engine,
            row.baseline,
            row.ratio.map_or(String::new(), |r| format!("{r:.2}×"))
        );
        self.rows.push((section, row));
    }

    fn dir(&self, name: &str) -> PathBuf {
        let d = self.work.join(name);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    // -------------------------------------------------------------- record a sale

    fn record_sale(&mut self) {
        println!(
            "record a sale ({} per side, interleaved blocks)",
            self.sizes.sales
        );
        for (durability, sync) in [(Durability::Full, "FULL"), (Durability::Normal, "NORMAL")] {
            let dir = self.dir(&format!("sale-{sync}"));
            let engine = engine(&dir, "till", durability);
            let raw = raw_open(dir.join("raw.db").to_str().unwrap(), sync);
            let n = self.sizes.sales;
            let mut rng = rng(self.next_seed());
            let jsons: Vec<String> = (0..n).map(|_| sale_json(&mut rng)).collect();
            let raws: Vec<RawSale> = (0..n).map(|i| raw_sale(&mut rng, i as i64 + 1)).collect();
            let (mut te, mut tr) = (Duration::ZERO, Duration::ZERO);
            let block = self.sizes.sale_block;
            for b in 0..n.div_ceil(block) {
                let range = b * block..((b + 1) * block).min(n);
                let t = Instant::now();
                for json in &jsons[range.clone()] {
                    engine.record_sale(json.clone()).expect("sale recorded");
                }
                te += t.elapsed();
                let t = Instant::now();
                for (i, sale) in raws[range.clone()].iter().enumerate() {
                    let seq = (range.start + i) as i64 + 1;
                    raw_record_sale(&raw, sale, seq, now_ms());
                }
                tr += t.elapsed();
            }
            let count: i64 = engine
                .store()
                .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM sync_queue", [], |r| r.get(0))?))
                .unwrap();
            assert_eq!(count as usize, n, "every sale is queued");
            self.row(
                "local",
                Row::rate_at_least(
                    format!("record a sale + queue it, 1 txn/sale, synchronous={sync}"),
                    (rate(n, te), "sales/s"),
                    (rate(n, tr), "sales/s (raw)"),
                    0.5,
                ),
            );
        }
    }

    // -------------------------------------------------------------- lookups

    fn lookups(&mut self) {
        let n = self.sizes.catalog;
        println!("barcode lookup and name search at {n} products");
        let dir = self.dir("catalog");
        let t = Instant::now();
        let (engine, docs) = catalog(&dir, n);
        self.notes.push(format!(
            "Catalog for the lookups: {n} products imported through `import_products` in {:.1} s.",
            t.elapsed().as_secs_f64()
        ));
        let raw = rusqlite::Connection::open_with_flags(
            dir.join("catalog.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut rng = rng(self.next_seed());
        let q = self.sizes.queries;
        let barcodes = random_barcodes(&mut rng, &docs, q);
        let prefixes: Vec<String> = (0..q / 4).map(|_| search_prefix(&mut rng, &docs)).collect();
        let mut by_barcode = raw.prepare(RAW_BARCODE_SQL).unwrap();
        let mut search = raw.prepare(RAW_SEARCH_SQL).unwrap();
        let raw_search = |stmt: &mut rusqlite::Statement, prefix: &str| -> usize {
            let fts = format!("\"{prefix}\"*");
            stmt.query_map(rusqlite::params![fts, 20], raw_row)
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap()
                .len()
        };
        // Warm both paths (cold SQLite caches are a start-up cost, not a lookup's).
        for b in barcodes.iter().take(1_000) {
            engine
                .product_by_barcode(b.clone())
                .unwrap()
                .expect("found");
            by_barcode.query_row([b], raw_row).unwrap();
        }
        for p in prefixes.iter().take(200) {
            engine.search_products(p.clone(), 20).unwrap();
            raw_search(&mut search, p);
        }
        let (mut e, mut r) = (Vec::with_capacity(q), Vec::with_capacity(q));
        for (i, b) in barcodes.iter().enumerate() {
            // Alternate which goes first so neither always finds the page the other loaded.
            let mut engine_lookup = || {
                let t = Instant::now();
                let hit = engine.product_by_barcode(b.clone()).unwrap();
                e.push(t.elapsed().as_nanos() as u64);
                assert!(hit.is_some());
            };
            let mut raw_lookup = || {
                let t = Instant::now();
                let hit = by_barcode.query_row([b], raw_row).optional().unwrap();
                r.push(t.elapsed().as_nanos() as u64);
                assert!(hit.is_some());
            };
            if i % 2 == 0 {
                engine_lookup();
                raw_lookup();
            } else {
                raw_lookup();
                engine_lookup();
            }
        }
        self.latency_rows("barcode lookup", n, &mut e, &mut r, 2.0, None);
        let (mut e, mut r) = (Vec::new(), Vec::new());
        for (i, p) in prefixes.iter().enumerate() {
            let mut engine_search = || {
                let t = Instant::now();
                let hits = engine.search_products(p.clone(), 20).unwrap();
                e.push(t.elapsed().as_nanos() as u64);
                hits.len()
            };
            let mut raw_s = || {
                let t = Instant::now();
                let hits = raw_search(&mut search, p);
                r.push(t.elapsed().as_nanos() as u64);
                hits
            };
            let (a, b) = if i % 2 == 0 {
                (engine_search(), raw_s())
            } else {
                let b = raw_s();
                (engine_search(), b)
            };
            assert_eq!(a, b, "engine and raw find the same products for '{p}'");
        }
        self.latency_rows(
            "name search, 3-letter prefix, LIMIT 20",
            n,
            &mut e,
            &mut r,
            f64::NAN,
            Some(2_000_000),
        );
    }

    fn latency_rows(
        &mut self,
        what: &str,
        n: usize,
        e: &mut [u64],
        r: &mut [u64],
        max_ratio: f64,
        p99_limit_ns: Option<u64>,
    ) {
        e.sort_unstable();
        r.sort_unstable();
        for p in [50.0, 99.0] {
            let (pe, pr) = (percentile(e, p), percentile(r, p));
            let ratio = pe as f64 / pr.max(1) as f64;
            let (target, met) = match (p as u32, p99_limit_ns) {
                (99, Some(limit)) => (format!("p99 < {}", us(limit)), Some(pe < limit)),
                (99, None) => (format!("≤ {max_ratio}×"), Some(ratio <= max_ratio)),
                _ => (String::new(), None),
            };
            self.row(
                "local",
                Row {
                    what: format!("{what} @{} products, p{p}", count(n)),
                    engine: us(pe),
                    baseline: format!("{} (raw)", us(pr)),
                    ratio: Some(ratio),
                    target,
                    met,
                },
            );
        }
    }

    // -------------------------------------------------------------- sync helpers

    fn device(
        &self,
        device: &str,
        url: &str,
        setup: impl FnOnce(&mut EngineConfig),
    ) -> Arc<SyncEngine> {
        let (token, store) = token_of(device);
        let dir = self.dir(device);
        let path = dir.join("device.db");
        let mut config = EngineConfig::new(
            path.to_str().unwrap(),
            store,
            &format!("R-{device}"),
            device,
        );
        config.server_url = Some(url.to_owned());
        config.auth_token = Some(token.to_owned());
        setup(&mut config);
        SyncEngine::open(config).expect("device opens")
    }

    /// Queues `n` sales on a device the fast way (1,000 per transaction through the store's
    /// own `record_sale`): the upload benchmarks time the sync, not the till.
    fn queue_sales(&mut self, engine: &SyncEngine, device: &str, n: usize) {
        let (_, store) = token_of(device);
        let identity = Identity {
            store_id: store.into(),
            register_id: format!("R-{device}"),
            device_id: device.into(),
        };
        let mut rng = rng(self.next_seed());
        let mut left = n;
        while left > 0 {
            let k = left.min(1_000);
            let jsons: Vec<String> = (0..k).map(|_| sale_json(&mut rng)).collect();
            engine
                .store()
                .write(|tx| {
                    for json in &jsons {
                        pos::record_sale(tx, &identity, json, now_ms())?;
                    }
                    Ok(())
                })
                .expect("sales queued");
            left -= k;
        }
    }

    /// Syncs until nothing is left, as an app does when `more_work_pending` is set. Panics
    /// (failing `make test`) on any outcome but success.
    fn sync_all(&self, engine: &SyncEngine) -> (Duration, i64, i64) {
        let t = Instant::now();
        let cpu = cpu_secs();
        let (mut up, mut down) = (0, 0);
        for _ in 0..100_000 {
            let report = self.rt.block_on(engine.sync_now());
            assert!(
                matches!(report.outcome, SyncOutcome::Completed),
                "sync did not complete: {report:?}"
            );
            up += report.uploaded;
            down += report.downloaded;
            if std::env::var_os("BENCH_VERBOSE").is_some() {
                eprintln!(
                    "    cycle: {} up, {} down, {} ms",
                    report.uploaded, report.downloaded, report.duration_ms
                );
            }
            if !report.more_work_pending && report.remaining == 0 {
                let cpu = cpu_secs() - cpu;
                if std::env::var_os("BENCH_VERBOSE").is_some() {
                    eprintln!(
                        "    sync: {:.2} s wall, {:.2} s CPU (server and device), {:.1} µs CPU per record",
                        t.elapsed().as_secs_f64(),
                        cpu,
                        cpu * 1e6 / (up + down).max(1) as f64
                    );
                }
                return (t.elapsed(), up, down);
            }
        }
        panic!("sync did not converge");
    }

    fn server_count(&self, device: &str, entity: EntityType) -> i64 {
        let (token, _) = token_of(device);
        let status: StatusResponse = self.rt.block_on(async {
            self.http
                .get(format!("{}/api/sync/status", self.server.url()))
                .bearer_auth(token)
                .header(PROTOCOL_HEADER, "1")
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        status
            .entities
            .iter()
            .find(|e| e.entity_type == entity)
            .map_or(0, |e| e.count)
    }

    /// Publishes product documents as back-office edits (admin route), in chunks.
    fn publish(&self, store: &str, docs: &[Value]) {
        self.publish_to(self.server.url(), ADMIN, store, docs);
    }

    /// The same on the server at `url`.
    fn publish_to(&self, url: &str, admin: &str, store: &str, docs: &[Value]) {
        for chunk in docs.chunks(5_000) {
            let body = serde_json::to_vec(chunk).unwrap();
            self.rt.block_on(async {
                let response = self
                    .http
                    .put(format!("{url}/admin/stores/{store}/records/product"))
                    .bearer_auth(admin)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                response.bytes().await.unwrap();
            });
        }
    }

    /// What hand-written sync queues do: take the oldest pending row, POST it alone, mark it
    /// synced, next. Same protocol, same server, same durable local queue.
    fn naive_upload(&mut self, device: &str, url: &str, n: usize) -> Duration {
        let (token, _) = token_of(device);
        let dir = self.dir(device);
        let conn = raw_open(dir.join("naive.db").to_str().unwrap(), "FULL");
        let mut rng = rng(self.next_seed());
        for seq in 1..=n as i64 {
            raw_record_sale(&conn, &raw_sale(&mut rng, seq), seq, now_ms());
        }
        let endpoint = format!("{url}/api/sync/upload");
        let t = Instant::now();
        let mut sent = 0;
        loop {
            let row: Option<(String, String, String, String, i64)> = conn
                .query_row(
                    "SELECT id, entity_id, payload, checksum, hlc FROM sync_queue \
                     WHERE status = 'PENDING' ORDER BY seq LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()
                .unwrap();
            let Some((change_id, entity_id, payload, checksum, hlc)) = row else {
                break;
            };
            let changes = vec![Change {
                change_id: change_id.clone(),
                entity_type: EntityType::Sale,
                entity_id,
                action: Action::Create,
                hlc,
                base_version: None,
                payload: serde_json::from_str::<serde_json::Value>(&payload).unwrap(),
                checksum,
            }];
            let request = UploadRequest {
                batch_id: uuid::Uuid::new_v4().to_string(),
                checksum: batch_checksum(&changes),
                changes,
            };
            let response: UploadResponse = self.rt.block_on(async {
                self.http
                    .post(&endpoint)
                    .bearer_auth(token)
                    .header(PROTOCOL_HEADER, "1")
                    .json(&request)
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            });
            assert_eq!(response.results[0].status, ChangeStatus::Applied);
            conn.execute(
                "UPDATE sync_queue SET status = 'SYNCED', synced_at = ?2 WHERE id = ?1",
                rusqlite::params![change_id, now_ms()],
            )
            .unwrap();
            sent += 1;
        }
        assert_eq!(sent, n);
        t.elapsed()
    }

    // -------------------------------------------------------------- upload

    fn upload(&mut self) {
        let s = self.sizes;
        let url = self.server.url().to_owned();
        println!(
            "upload {} queued sales (loopback), naive client {}",
            s.upload, s.naive_loopback
        );
        let d = self.upload_all(&url, "till-up", false);
        let naive = self.naive_upload("till-naive", &url, s.naive_loopback);
        let (re, rn) = (rate(s.upload, d), rate(s.naive_loopback, naive));
        self.reference_rates.0 = Some(re);
        self.row(
            "sync",
            Row {
                what: format!("upload {} queued sales, loopback", count(s.upload)),
                engine: fmt_rate(re, "changes/s"),
                baseline: fmt_rate(rn, "changes/s (naive)"),
                ratio: Some(re / rn),
                target: "≥ 20,000 changes/s".into(),
                met: Some(re >= 20_000.0),
            },
        );
        // An app shows the sync status, and every status it is sent carries the queue's
        // statistics: the same upload with a listener attached, beside the one without.
        let with_listener = rate(s.upload, self.upload_all(&url, "till-up-ui", true));
        self.row(
            "sync",
            Row {
                what: format!(
                    "upload {} queued sales, loopback, with a status listener (as in an app)",
                    count(s.upload)
                ),
                engine: fmt_rate(with_listener, "changes/s"),
                baseline: fmt_rate(re, "changes/s (no listener)"),
                ratio: Some(with_listener / re),
                target: String::new(),
                met: None,
            },
        );

        println!(
            "upload through a 50 ms round trip: engine {}, naive {}",
            s.engine_wan, s.naive_wan
        );
        let proxy = Proxy::start(&self.rt, &url, Link::rtt_ms(50));
        let engine = self.device("till-wan", &proxy.url, |_| {});
        self.queue_sales(&engine, "till-wan", s.engine_wan);
        let (d, up, _) = self.sync_all(&engine);
        assert_eq!(up as usize, s.engine_wan);
        let naive = self.naive_upload("till-naive-wan", &proxy.url, s.naive_wan);
        let (re, rn) = (rate(s.engine_wan, d), rate(s.naive_wan, naive));
        self.row(
            "sync",
            Row::rate_at_least(
                format!(
                    "upload {} queued sales, 50 ms RTT (naive: {} changes)",
                    count(s.engine_wan),
                    s.naive_wan
                ),
                (re, "changes/s"),
                (rn, "changes/s (naive)"),
                100.0,
            ),
        );
    }

    /// Queues the upload size of sales on a new device and syncs them all; checks the server
    /// got each once. With `listen`, a status listener is attached for the sync.
    fn upload_all(&mut self, url: &str, device: &str, listen: bool) -> Duration {
        let n = self.sizes.upload;
        let before = self.server_count(device, EntityType::Sale);
        let engine = self.device(device, url, |_| {});
        self.queue_sales(&engine, device, n);
        let statuses = Arc::new(StatusCounter::default());
        let subscription = listen.then(|| engine.subscribe_status(statuses.clone()));
        let (d, up, _) = self.sync_all(&engine);
        if let Some(subscription) = subscription {
            subscription.cancel();
            self.notes.push(format!(
                "The upload with a status listener sent it {} statuses.",
                statuses.0.load(std::sync::atomic::Ordering::Relaxed)
            ));
        }
        assert_eq!(up as usize, n);
        let after = self.server_count(device, EntityType::Sale);
        assert_eq!(
            (after - before) as usize,
            n,
            "every sale reached the server once"
        );
        d
    }

    // -------------------------------------------------------------- compression

    fn compression(&mut self) {
        let s = self.sizes;
        let url = self.server.url().to_owned();
        println!(
            "compression: {} sales per mode on loopback, {} through 50 ms RTT + 10 Mbit/s",
            s.compression, s.compression_wan
        );
        let modes = [
            (Compression::None, "none", "gzip off"),
            (Compression::Fast, "fast", "gzip level 1 (Fast)"),
            (Compression::Best, "best", "gzip level 6 (Best)"),
        ];
        let mut figures = Vec::new();
        for (mode, name, label) in modes {
            let proxy = Proxy::start(&self.rt, &url, Link::LOOPBACK);
            let device = format!("till-cmp-{name}");
            let engine = self.device(&device, &proxy.url, |c| c.compression = Some(mode));
            self.queue_sales(&engine, &device, s.compression);
            proxy.reset();
            let (d, up, _) = self.sync_all(&engine);
            assert_eq!(up as usize, s.compression);
            let (bytes_up, bytes_down) = proxy.bytes();
            let loopback = rate(s.compression, d);
            let wan_link = Link {
                one_way: Duration::from_millis(25),
                bits_per_second: Some(10_000_000),
            };
            let proxy = Proxy::start(&self.rt, &url, wan_link);
            let device = format!("till-wan-{name}");
            let engine = self.device(&device, &proxy.url, |c| c.compression = Some(mode));
            self.queue_sales(&engine, &device, s.compression_wan);
            let (d, up, _) = self.sync_all(&engine);
            assert_eq!(up as usize, s.compression_wan);
            let wan = rate(s.compression_wan, d);
            figures.push((
                label,
                bytes_up as f64 / s.compression as f64,
                bytes_down as f64 / s.compression as f64,
                loopback,
                wan,
            ));
        }
        let (_, none_bytes, _, none_rate, none_wan) = figures[0];
        for (label, per_sale, down, loopback, wan) in &figures {
            self.row(
                "wire",
                Row {
                    what: format!("bytes sent per sale, {label} (received: {down:.0} B)"),
                    engine: format!("{per_sale:.0} B"),
                    baseline: format!("{none_bytes:.0} B (gzip off)"),
                    ratio: Some(per_sale / none_bytes),
                    target: String::new(),
                    met: None,
                },
            );
            self.row(
                "wire",
                Row {
                    what: format!("upload throughput, {label}, loopback"),
                    engine: fmt_rate(*loopback, "changes/s"),
                    baseline: fmt_rate(none_rate, "changes/s (gzip off)"),
                    ratio: Some(loopback / none_rate),
                    target: String::new(),
                    met: None,
                },
            );
            self.row(
                "wire",
                Row {
                    what: format!("upload throughput, {label}, 50 ms RTT + 10 Mbit/s"),
                    engine: fmt_rate(*wan, "changes/s"),
                    baseline: fmt_rate(none_wan, "changes/s (gzip off)"),
                    ratio: Some(wan / none_wan),
                    target: String::new(),
                    met: None,
                },
            );
        }
        let (_, fast_bytes, _, fast_rate, fast_wan) = figures[1];
        let (_, best_bytes, _, best_rate, best_wan) = figures[2];
        self.notes.push(format!(
            "Compression default: `Fast` sends {:.0}% of the bytes of no compression (`Best`: {:.0}%) \
             at {:.0}% of its loopback throughput (`Best`: {:.0}%); on a 10 Mbit/s, 50 ms link it uploads \
             {:.1}× as fast as no compression (`Best`: {:.1}×). A till's uplink is the scarce resource \
             and its CPU is not, so the engine keeps `Fast` as its default: nearly all of gzip's saving \
             for a fraction of `Best`'s CPU.",
            100.0 * fast_bytes / none_bytes,
            100.0 * best_bytes / none_bytes,
            100.0 * fast_rate / none_rate,
            100.0 * best_rate / none_rate,
            fast_wan / none_wan,
            best_wan / none_wan,
        ));
    }

    // -------------------------------------------------------------- download

    fn download(&mut self) {
        let n = self.sizes.download;
        let url = self.server.url().to_owned();
        println!("download and apply {n} products (empty device, then every product changed)");
        let docs = products(self.next_seed(), n);
        let t = Instant::now();
        self.publish("DL", &docs);
        self.notes.push(format!(
            "Server set-up (not timed in the rates): publishing {n} products through the admin route took {:.1} s.",
            t.elapsed().as_secs_f64()
        ));
        let engine = self.device("till-dl", &url, |_| {});
        let (d_initial, _, down) = self.sync_all(&engine);
        assert_eq!(down as usize, n);
        self.reference_rates.1 = Some(rate(n, d_initial));
        let mut rng = rng(self.next_seed());
        let edits: Vec<Value> = docs
            .iter()
            .enumerate()
            .map(|(i, p)| edited(&mut rng, p, i))
            .collect();
        self.publish("DL", &edits);
        let (d_changes, _, down) = self.sync_all(&engine);
        assert_eq!(down as usize, n);
        let sample = &edits[n / 2];
        let local = engine
            .product_by_id(sample["id"].as_str().unwrap().to_owned())
            .unwrap()
            .expect("the product is on the device");
        assert_eq!(
            local.name,
            sample["name"].as_str().unwrap(),
            "the edit arrived"
        );
        drop(engine);

        let dir = self.dir("raw-download");
        let raw = raw_open(dir.join("raw.db").to_str().unwrap(), "FULL");
        let initial: Vec<RawProduct> = docs.iter().map(raw_product).collect();
        let t = Instant::now();
        raw_upsert_products(&raw, &initial, 1_000, 1, RawWrite::Upsert);
        let r_initial = t.elapsed();
        let changes: Vec<RawProduct> = edits.iter().map(raw_product).collect();
        let t = Instant::now();
        raw_upsert_products(&raw, &changes, 1_000, 2, RawWrite::Upsert);
        let r_changes = t.elapsed();
        // A raw client that writes the way the engine does, from the same catalog.
        let engine_like = raw_open_with(
            dir.join("raw-as-engine.db").to_str().unwrap(),
            "FULL",
            RawWrite::AsTheEngine,
        );
        raw_upsert_products(&engine_like, &initial, 1_000, 1, RawWrite::AsTheEngine);
        let t = Instant::now();
        raw_upsert_products(&engine_like, &changes, 1_000, 2, RawWrite::AsTheEngine);
        let r_as_engine = t.elapsed();
        self.notes.push(format!(
            "Download, product changes: the raw baseline is one upsert per product with the full-text \
             index kept row by row, as a hand-written client writes it. The engine updates without \
             assigning the barcode and SKU when they are unchanged (SQLite rewrites the index entry of \
             every assigned column) and brings the full-text index up to date once per transaction \
             (FTS5 writes a segment each time a statement follows a rename); a raw client writing the \
             same way applies the changes at {}, and the engine runs at {:.2}× of that (the rest: \
             download, checks, undo journal, audit trail).",
            fmt_rate(rate(n, r_as_engine), "records/s"),
            rate(n, d_changes) / rate(n, r_as_engine)
        ));
        for (what, d, r) in [
            (
                format!(
                    "download + apply {} products into an empty device",
                    count(n)
                ),
                d_initial,
                r_initial,
            ),
            (
                format!(
                    "download + apply {} product changes (10% renamed)",
                    count(n)
                ),
                d_changes,
                r_changes,
            ),
        ] {
            self.row(
                "sync",
                Row::rate_at_least(
                    what,
                    (rate(n, d), "records/s"),
                    (rate(n, r), "records/s (raw upsert, 1000/txn)"),
                    0.6,
                ),
            );
        }
    }

    // -------------------------------------------------------------- Laravel

    /// The pos-sync/laravel package (nginx + php-fpm + PostgreSQL, started by
    /// scripts/bench-laravel.sh, which sets `POS_SYNC_BENCH_LARAVEL_URL` and
    /// `POS_SYNC_BENCH_LARAVEL_ADMIN`): the same engine uploads sales to it and downloads
    /// products from it, beside the reference server's rates of this run.
    fn laravel(&mut self) {
        let (Ok(url), Ok(admin)) = (
            std::env::var("POS_SYNC_BENCH_LARAVEL_URL"),
            std::env::var("POS_SYNC_BENCH_LARAVEL_ADMIN"),
        ) else {
            println!("laravel: skipped (run through scripts/bench-laravel.sh)");
            return;
        };
        let n = self.sizes.laravel;
        println!("laravel: upload {n} queued sales to {url}, then download {n} products");
        let engine = self.device("till-lv-up", &url, |_| {});
        self.queue_sales(&engine, "till-lv-up", n);
        let (d_up, up, _) = self.sync_all(&engine);
        assert_eq!(up as usize, n, "every sale reached the Laravel server");
        drop(engine);
        let docs = products(self.next_seed(), n);
        let t = Instant::now();
        self.publish_to(&url, &admin, "LVDL", &docs);
        self.notes.push(format!(
            "Laravel set-up (not timed in the rates): publishing {n} products through its admin route took {:.1} s.",
            t.elapsed().as_secs_f64()
        ));
        let engine = self.device("till-lv-dl", &url, |_| {});
        let (d_down, _, down) = self.sync_all(&engine);
        assert_eq!(down as usize, n, "every product reached the device");
        let workers = std::env::var("POS_SYNC_BENCH_LARAVEL_WORKERS").unwrap_or_default();
        let (up_rate, down_rate) = (rate(n, d_up), rate(n, d_down));
        let reference = |r: Option<f64>| r.unwrap_or(f64::NAN);
        self.row(
            "laravel",
            Row::rate_at_least(
                format!(
                    "upload {} queued sales to pos-sync/laravel (nginx + php-fpm ×{workers}, PostgreSQL)",
                    count(n)
                ),
                (up_rate, "changes/s"),
                (reference(self.reference_rates.0), "changes/s (reference server)"),
                0.25,
            ),
        );
        let ratio = down_rate / reference(self.reference_rates.1);
        self.row(
            "laravel",
            Row {
                what: format!(
                    "download + apply {} products from pos-sync/laravel into an empty device",
                    count(n)
                ),
                engine: fmt_rate(down_rate, "records/s"),
                baseline: fmt_rate(
                    reference(self.reference_rates.1),
                    "records/s (reference server)",
                ),
                ratio: ratio.is_finite().then_some(ratio),
                target: String::new(),
                met: None,
            },
        );
    }

    // -------------------------------------------------------------- 1M and RSS

    fn initial_load_and_rss(&mut self) {
        let [small, mid, big] = self.sizes.rss;
        println!("initial catalog of {big} products and peak RSS at {small}/{mid}/{big} (child processes)");
        let seed = self.next_seed();
        let t = Instant::now();
        self.publish_generated("BIG", seed, big);
        self.notes.push(format!(
            "Server set-up (not timed): publishing {big} products took {:.1} s.",
            t.elapsed().as_secs_f64()
        ));
        let small_seed = self.next_seed();
        self.publish_generated("SMALL", small_seed, small);
        let mid_seed = self.next_seed();
        self.publish_generated("MID", mid_seed, mid);
        // The raw baseline: the same products, batched indexed upserts, into an empty table.
        let dir = self.dir("raw-big");
        let raw = raw_open(dir.join("raw.db").to_str().unwrap(), "FULL");
        let mut rng = rng(seed);
        let t = Instant::now();
        let mut generated = Duration::ZERO;
        let mut i = 0;
        while i < big {
            let g = Instant::now();
            let rows: Vec<RawProduct> = (i..(i + 10_000).min(big))
                .map(|k| raw_product(&product(&mut rng, k)))
                .collect();
            generated += g.elapsed();
            raw_upsert_products(&raw, &rows, 1_000, 1, RawWrite::Upsert);
            i += rows.len();
        }
        let raw_big = t.elapsed() - generated;
        println!(
            "  raw baseline: {big} products in {:.1} s",
            raw_big.as_secs_f64()
        );
        drop(raw);
        let _ = std::fs::remove_dir_all(&dir);

        let mut rss = Vec::new();
        for (device, n) in [("rss-small", small), ("rss-mid", mid), ("rss-big", big)] {
            let out = self.child(device, n);
            rss.push((n, out));
        }
        let (_, big_run) = rss[2];
        let (re, rr) = (rate(big, big_run.0), rate(big, raw_big));
        self.row(
            "sync",
            Row {
                what: format!(
                    "initial catalog sync, {} products, empty device",
                    count(big)
                ),
                engine: format!("{:.1} s = {}", secs(big_run.0), fmt_rate(re, "records/s")),
                baseline: format!(
                    "{:.1} s = {} (raw, 1000/txn)",
                    secs(raw_big),
                    fmt_rate(rr, "records/s")
                ),
                ratio: Some(re / rr),
                target: if self.quick {
                    "< 30 s at 1M".into()
                } else {
                    "< 30 s".into()
                },
                met: (!self.quick).then_some(big_run.0 < Duration::from_secs(30)),
            },
        );
        let base = rss[0].1 .2 as f64;
        for (n, (_, start_kib, peak_kib)) in &rss {
            self.row(
                "memory",
                Row {
                    what: format!("peak RSS of a process syncing {} products", count(*n)),
                    engine: format!("{:.1} MB", *peak_kib as f64 / 1024.0),
                    baseline: format!(
                        "{:.1} MB (@{}); {:.1} MB at open",
                        base / 1024.0,
                        count(small),
                        *start_kib as f64 / 1024.0
                    ),
                    ratio: Some(*peak_kib as f64 / base),
                    target: "< 64 MB, flat".into(),
                    met: Some((*peak_kib as f64) < 64.0 * 1024.0),
                },
            );
        }
    }

    fn publish_generated(&self, store: &str, seed: u64, n: usize) {
        let mut rng = rng(seed);
        let mut i = 0;
        while i < n {
            let chunk: Vec<Value> = (i..(i + 5_000).min(n))
                .map(|k| product(&mut rng, k))
                .collect();
            self.publish(store, &chunk);
            i += chunk.len();
        }
    }

    /// Runs a fresh device in a child process that downloads the whole catalog of its store;
    /// returns (time, VmHWM after open, VmHWM at the end).
    fn child(&self, device: &str, n: usize) -> (Duration, u64, u64) {
        let (token, store) = token_of(device);
        let dir = self.dir(device);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--child-download",
                self.server.url(),
                token,
                store,
                device,
                dir.join("device.db").to_str().unwrap(),
            ])
            .output()
            .expect("the child runs");
        assert!(
            out.status.success(),
            "child {device} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(line.trim()).expect("the child reports JSON");
        assert_eq!(
            v["records"].as_u64().unwrap() as usize,
            n,
            "child {device} got everything"
        );
        let _ = std::fs::remove_dir_all(&dir);
        (
            Duration::from_secs_f64(v["secs"].as_f64().unwrap()),
            v["open_kib"].as_u64().unwrap(),
            v["peak_kib"].as_u64().unwrap(),
        )
    }

    // -------------------------------------------------------------- FFI

    fn ffi(&mut self) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let lib = target_dir().join("release/libpos_sync.so");
        let tools = ["java", "mvn"].iter().all(|t| {
            std::process::Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        });
        if self.quick || !tools || !lib.exists() || !root.join("android/jvm-tests").exists() {
            self.notes.push(format!(
                "FFI cost not measured in this run ({}): it needs Java + Maven, android/jvm-tests and \
                 target/release/libpos_sync.so (`make bench` builds it).",
                if self.quick { "quick mode" } else { "missing tools or library" }
            ));
            return;
        }
        println!("FFI: the same engine calls through the Kotlin bindings on the JVM (Maven)");
        let out = self.work.join("ffi.json");
        let t = Instant::now();
        let status = std::process::Command::new("scripts/test-kotlin.sh")
            .current_dir(root)
            .args([
                "-Dtest=FfiBenchTest",
                &format!("-Dpossync.bench.out={}", out.display()),
                &format!("-Dnative.lib={}", lib.display()),
            ])
            .stdout(std::process::Stdio::null())
            .status();
        let jvm: Option<Value> = std::fs::read_to_string(&out)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok());
        let Some(jvm) = jvm.filter(|_| status.is_ok_and(|s| s.success())) else {
            self.notes.push(
                "FFI cost not measured: `scripts/test-kotlin.sh -Dtest=FfiBenchTest` failed (see its output)."
                    .into(),
            );
            return;
        };
        println!("  (JVM run took {:.0} s)", t.elapsed().as_secs_f64());
        // The Rust side: the same catalog, the same calls, timed the same way.
        let n = jvm["catalog"].as_u64().unwrap_or(10_000) as usize;
        let dir = self.dir("ffi");
        let engine = engine(&dir, "ffi", Durability::Full);
        let products: Vec<Value> = (0..n)
            .map(|i| {
                serde_json::json!({"id": format!("p{i}"), "sku": format!("SKU-{i}"),
                    "barcode": (4_000_000_000_000u64 + i as u64).to_string(),
                    "name": format!("Product {i}"), "price": 100 + i})
            })
            .collect();
        engine
            .import_products(Value::Array(products).to_string())
            .unwrap();
        let barcodes: Vec<String> = (0..n)
            .map(|i| (4_000_000_000_000u64 + (i as u64 * 7919) % n as u64).to_string())
            .collect();
        let per_call = |f: &mut dyn FnMut(usize)| -> f64 {
            const ROUND: usize = 20_000;
            for i in 0..3 * ROUND {
                f(i);
            }
            let mut rounds: Vec<f64> = (0..7)
                .map(|_| {
                    let t = Instant::now();
                    for i in 0..ROUND {
                        f(i);
                    }
                    t.elapsed().as_nanos() as f64 / ROUND as f64
                })
                .collect();
            rounds.sort_by(f64::total_cmp);
            rounds[3]
        };
        let version = per_call(&mut |_| {
            std::hint::black_box(pos_sync::api::pos_sync_version());
        });
        let lookup = per_call(&mut |i| {
            assert!(engine
                .product_by_barcode(barcodes[i % n].clone())
                .unwrap()
                .is_some());
        });
        for (what, rust, key) in [
            (
                "a trivial call (pos_sync_version), Kotlin/JVM vs Rust",
                version,
                "version_ns",
            ),
            (
                "product_by_barcode @10k, Kotlin/JVM vs Rust",
                lookup,
                "barcode_ns",
            ),
        ] {
            let kotlin = jvm[key].as_f64().unwrap_or(f64::NAN);
            self.row(
                "ffi",
                Row {
                    what: what.into(),
                    engine: format!("{} (JVM)", us(kotlin as u64)),
                    baseline: format!("{} (Rust)", us(rust as u64)),
                    ratio: Some(kotlin / rust),
                    target: String::new(),
                    met: None,
                },
            );
        }
        // The Capacitor plugin's path: the Rust bridge (JSON text) beside the direct binding,
        // both timed on the JVM in the same run, on the calling thread and from a coroutine.
        let plugin_rows = [
            (
                "plugin_bridge_ns",
                "plugin_direct_ns",
                "the binding",
                "on the calling thread",
            ),
            (
                "plugin_bridge_io_ns",
                "plugin_wrapper_io_ns",
                "the Kotlin wrapper",
                "from a coroutine through Dispatchers.IO",
            ),
        ];
        for (bridge_key, direct_key, direct_name, how) in plugin_rows {
            let bridged = jvm[bridge_key].as_f64().unwrap_or(f64::NAN);
            let direct = jvm[direct_key].as_f64().unwrap_or(f64::NAN);
            self.row(
                "ffi",
                Row {
                    what: format!(
                        "plugin call product_by_barcode @10k through the bridge vs {direct_name} (JVM, {how})"
                    ),
                    engine: format!("{} (bridge)", us(bridged as u64)),
                    baseline: format!("{} ({direct_name})", us(direct as u64)),
                    ratio: Some(bridged / direct),
                    target: "≤ 1.5×".into(),
                    met: Some(bridged / direct <= 1.5),
                },
            );
        }
        self.notes.push(format!(
            "FFI: each call through UniFFI's Kotlin bindings (JNA) costs about {:.1} µs more than \
             the same call in Rust (median of 7 rounds of 20,000 calls after warm-up, release \
             library, {n}-product catalog).",
            (jvm["barcode_ns"].as_f64().unwrap_or(0.0) - lookup) / 1000.0
        ));
    }

    // -------------------------------------------------------------- criterion

    /// Criterion's estimates from `cargo bench --bench local` (the same run of `make bench`).
    fn criterion_rows(&mut self) {
        let dir = target_dir().join("criterion");
        let median = |group: &str, id: &str| -> Option<f64> {
            let path = dir.join(group).join(id).join("new/estimates.json");
            let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
            v["median"]["point_estimate"].as_f64()
        };
        if self.quick {
            return;
        }
        self.notes.push(
            "Criterion rows (`benches/local.rs`) measure engine and raw one after the other, \
             5 s each, so a build starting on the shared machine between the two shows up in \
             their ratio; the harness's own rows above interleave the two sides block by block \
             (sales) or query by query (lookups) and are the reference figures."
                .into(),
        );
        let pairs = [
            (
                "record_sale",
                "engine_full",
                "raw_full",
                "record a sale, FULL (criterion median)",
                "≥ 0.5×",
                0.5,
                true,
            ),
            (
                "record_sale",
                "engine_normal",
                "raw_normal",
                "record a sale, NORMAL (criterion median)",
                "",
                0.0,
                true,
            ),
            (
                "catalog_100k",
                "barcode_engine",
                "barcode_raw",
                "barcode lookup @100k (criterion median)",
                "",
                0.0,
                false,
            ),
            (
                "catalog_100k",
                "search_engine",
                "search_raw",
                "name search @100k (criterion median)",
                "",
                0.0,
                false,
            ),
        ];
        for (group, e, r, what, target, min, is_rate) in pairs {
            let (Some(te), Some(tr)) = (median(group, e), median(group, r)) else {
                self.notes.push(format!(
                    "No criterion estimate for {group}/{e}: run `cargo bench --bench local` first (make bench does)."
                ));
                continue;
            };
            let row = if is_rate {
                let (re, rr) = (1e9 / te, 1e9 / tr);
                Row {
                    what: what.into(),
                    engine: fmt_rate(re, "sales/s"),
                    baseline: fmt_rate(rr, "sales/s (raw)"),
                    ratio: Some(re / rr),
                    target: target.into(),
                    met: (!target.is_empty()).then_some(re / rr >= min),
                }
            } else {
                Row {
                    what: what.into(),
                    engine: us(te as u64),
                    baseline: format!("{} (raw)", us(tr as u64)),
                    ratio: Some(te / tr),
                    target: String::new(),
                    met: None,
                }
            };
            self.row("criterion", row);
        }
    }

    // -------------------------------------------------------------- report

    fn table(&self) -> String {
        let mut t = String::from(
            "| area | measurement | pos-sync | baseline (same run) | ratio | target | met |\n|---|---|---|---|---|---|---|\n",
        );
        for (section, r) in &self.rows {
            let _ = writeln!(
                t,
                "| {section} | {} | {} | {} | {} | {} | {} |",
                r.what,
                r.engine,
                r.baseline,
                r.ratio.map_or(String::new(), |x| format!("{x:.2}×")),
                r.target,
                match r.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "",
                }
            );
        }
        t
    }
}

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // target/<profile>/deps/e2e-HASH
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine(started: chrono::DateTime<chrono::Utc>, load_before: String, took: Duration) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "Run {} UTC, {:.0} s, on {cores} × {cpu}, {mem_gib:.0} GiB RAM; {rustc}, {} build; \
         load average {load_before} before and {} after (other builds share the machine, \
         hence baselines measured in the same run).",
        started.format("%Y-%m-%d %H:%M"),
        took.as_secs_f64(),
        if cfg!(debug_assertions) {
            "debug (quick mode)"
        } else {
            "release"
        },
        loadavg()
    )
}

fn docs(bench: &Bench, table: &str, machine: &str) -> String {
    let before_after = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/before-after.md"),
    )
    .unwrap_or_default();
    let mut d = String::new();
    let _ = write!(
        d,
        "# Benchmarks\n\n\
         *This file is written by `make bench` (benches/e2e.rs); edit the harness or \
         benches/before-after.md, not this file.*\n\n\
         {machine}\n\n\
         Every figure stands beside a baseline measured in the same run, and the ratio is always \
         pos-sync ÷ baseline (for rates higher is better, for latencies and sizes lower is). \
         The raw baselines use rusqlite directly on the engine's own schema (same tables, \
         indexes and full-text index, kept by row-by-row triggers as in a hand-written app) \
         with the same pragmas, writing the same rows; the \
         naive client speaks the same protocol to the same server but sends one change per \
         request and marks it synced, as hand-written sync queues do.\n\n\
         {table}\n\
         ## Notes\n\n"
    );
    for note in &bench.notes {
        let _ = writeln!(d, "- {note}");
    }
    let _ = write!(
        d,
        "\n## How it is measured\n\n\
         - **Record a sale**: `SyncEngine::record_sale` (validation, receipt number, canonical \
         JSON, checksum, sale row, queue row, one IMMEDIATE transaction) against raw rusqlite \
         inserting the same sale row and queue row in one transaction; blocks of {} sales \
         alternate between the two so both see the same machine. Criterion (`benches/local.rs`) \
         measures the same pair again.\n\
         - **Lookups**: a catalog of {} products imported through the engine; the engine's \
         `product_by_barcode` / `search_products` against the same SQL on a raw connection to the \
         same file, alternating query by query; every query is timed on its own for p50/p99.\n\
         - **Upload**: sales queued on a device, then `sync_now` until nothing is pending \
         (default configuration: 500 changes per request, fast gzip); the server is the \
         reference server in the same process on a database file with `synchronous=FULL`. \
         The 50 ms round trip is a delaying TCP proxy on loopback (25 ms each way, connection \
         set-up not delayed). The naive client at 50 ms sends {} changes (at ~20 changes/s a \
         larger sample only costs time). The loopback upload runs again on a second device \
         (its own store on the server) with a status listener attached, as an app has one: \
         every status sent to it carries the queue's statistics.\n\
         - **Bytes on the wire**: counted by the same proxy, everything the device sends \
         (request lines, headers, bodies, the cycle's download requests) divided by the number \
         of sales.\n\
         - **Download**: the back office publishes products through the admin route (not timed); \
         a device syncs them (pages of 1,000, the default; a first load into an empty device \
         builds its indexes and full-text index once at the end); the raw baseline \
         upserts the same rows, 1,000 per transaction, into the engine's schema with its \
         indexes and a full-text index kept row by row by triggers, as a hand-written client \
         writes them. A second raw client writes the way the engine does (an update that \
         leaves unchanged barcode and SKU entries alone, the full-text index once per \
         transaction); its rate is in the notes.\n\
         - **Peak RSS**: a fresh process (this binary with `--child-download`) opens an engine \
         and downloads its store's whole catalog; it reports VmHWM from /proc/self/status.\n\n",
        bench.sizes.sale_block, bench.sizes.catalog, bench.sizes.naive_wan
    );
    if !before_after.is_empty() {
        d.push_str(&before_after);
    }
    d
}

// ------------------------------------------------------------------ child process

/// `--child-download URL TOKEN STORE DEVICE DB`: a fresh device downloads everything and
/// prints `{"records", "secs", "open_kib", "peak_kib"}`.
fn child_download(args: &[String]) {
    let [url, token, store, device, db, ..] = args else {
        panic!("--child-download URL TOKEN STORE DEVICE DB");
    };
    let mut config = EngineConfig::new(db, store, &format!("R-{device}"), device);
    config.server_url = Some(url.clone());
    config.auth_token = Some(token.clone());
    let engine = SyncEngine::open(config).expect("device opens");
    let open_kib = peak_rss_kib();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    let mut records = 0;
    loop {
        let report = rt.block_on(engine.sync_now());
        assert!(
            matches!(report.outcome, SyncOutcome::Completed),
            "sync did not complete: {report:?}"
        );
        records += report.downloaded;
        if !report.more_work_pending {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "records": records,
            "secs": secs,
            "open_kib": open_kib,
            "peak_kib": peak_rss_kib(),
        })
    );
}
