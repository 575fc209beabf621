//! Crash campaign: a child process (this test binary, re-run as `crash::child_process_entry`)
//! records sales and stock adjustments and syncs in a loop against a reference server kept
//! in this process on a database file, while the back office keeps changing a large catalog
//! so every cycle downloads several pages. The parent kills the child with SIGKILL at random
//! moments, restarts it, and at the end checks that the server holds every sale the child
//! reported as recorded exactly once, that the queue drained, and that `pos-sync check`
//! passes. The child reports what it was doing on a pipe, so each kill is classified
//! (opening, recording, uploading, mid-apply of a downloaded page, ...).

use crate::rig::{self, products, Rig};
use crate::support::proxy::Proxy;
use pos_sync::sync::events::{SyncPhase, SyncStatus, SyncStatusListener};
use pos_sync::{EngineConfig, SyncEngine};
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const ENV_DB: &str = "POS_SYNC_CRASH_CHILD_DB";
const ENV_URL: &str = "POS_SYNC_CRASH_CHILD_URL";
const ENV_LIFE: &str = "POS_SYNC_CRASH_CHILD_LIFE";
const PRODUCTS_SOLD: usize = 20;

// ------------------------------------------------------------------------------ the child

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "EV {line}");
    let _ = out.flush();
}

/// Turns status updates into what the parent needs: a new step, or one more batch / page
/// finished within the current step.
#[derive(Default)]
struct StepReporter {
    last: Mutex<Option<(SyncPhase, Option<pos_sync::model::EntityType>)>>,
}

impl SyncStatusListener for StepReporter {
    fn on_status(&self, status: SyncStatus) {
        let key = (status.phase, status.entity_type);
        let mut last = self.last.lock().unwrap();
        let name = status.entity_type.map(|t| t.as_str()).unwrap_or("-");
        match status.phase {
            SyncPhase::Uploading | SyncPhase::Downloading if *last == Some(key) => {
                let what = if status.phase == SyncPhase::Uploading {
                    "BATCH"
                } else {
                    "PAGE"
                };
                emit(&format!("{what} {name} {}", status.progress));
            }
            SyncPhase::Uploading => emit(&format!("STEP upload {name}")),
            SyncPhase::Downloading => emit(&format!("STEP download {name}")),
            _ => {}
        }
        *last = Some(key);
    }

    fn on_conflict(&self, _: pos_sync::store::conflicts::Conflict) {}
}

/// The child: runs only when the parent sets the environment; otherwise a no-op test.
#[test]
fn child_process_entry() {
    let (Ok(db), Ok(url), Ok(life)) = (
        std::env::var(ENV_DB),
        std::env::var(ENV_URL),
        std::env::var(ENV_LIFE),
    ) else {
        return;
    };
    let mut config = EngineConfig::new(&db, rig::STORE, "R1", rig::DEVICE);
    config.server_url = Some(url);
    config.auth_token = Some(rig::TOKEN.into());
    // The production default: every commit is durable.
    config.durability = Some(pos_sync::store::Durability::Full);
    config.download_page_size = 200;
    config.upload_batch_size = 10;
    config.retry_base_ms = 10;
    config.retry_max_ms = 50;
    emit("OPENING");
    let engine = SyncEngine::open(config).expect("the device database opens after a crash");
    let stats = engine.queue_stats().unwrap();
    let report = engine.integrity_check().unwrap();
    emit(&format!(
        "READY syncing={} pending={} failed={} check_ok={} {:?}",
        stats.syncing, stats.pending, stats.failed, report.ok, report.problems
    ));
    let _subscription = engine.subscribe_status(Arc::new(StepReporter::default()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(life.parse::<u64>().unwrap_or(0));
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(120) && n < 100_000 {
        for _ in 0..rng.random_range(1..=30) {
            n += 1;
            let id = format!("L{life}-{n}");
            let product = format!("p{}", rng.random_range(0..PRODUCTS_SOLD));
            let quantity = rng.random_range(1..=5);
            emit(&format!("REC-BEGIN {id}"));
            match engine.record_sale(rig::sale(&id, &product, quantity)) {
                Ok(receipt) => emit(&format!("REC-DONE {id} {}", receipt.receipt_number)),
                Err(e) => emit(&format!("REC-ERR {id} {e}")),
            }
        }
        if rng.random_bool(0.2) {
            let id = format!("L{life}-adj-{n}");
            let product = format!("p{}", rng.random_range(0..PRODUCTS_SOLD));
            emit(&format!("REC-BEGIN {id}"));
            let json = serde_json::json!({"id": id, "product_id": product, "quantity_delta": 11});
            match engine.record_stock_adjustment(json.to_string()) {
                Ok(_) => emit(&format!("REC-DONE {id} -")),
                Err(e) => emit(&format!("REC-ERR {id} {e}")),
            }
        }
        emit("SYNC-BEGIN");
        let report = runtime.block_on(engine.sync_now());
        emit(&format!(
            "SYNC-END {:?} up={} down={}",
            report.outcome, report.uploaded, report.downloaded
        ));
    }
}

// ------------------------------------------------------------------------------ the parent

/// What the child was doing when it was killed.
fn classify(
    events: &[String],
    upload_answers: usize,
    download_answers: usize,
    upload_requests: usize,
) -> &'static str {
    if !events.iter().any(|e| e.starts_with("READY")) {
        return "opening the database (recovery)";
    }
    let batches = events.iter().filter(|e| e.starts_with("BATCH ")).count();
    let pages = events.iter().filter(|e| e.starts_with("PAGE ")).count();
    let last = events
        .iter()
        .rev()
        .find(|e| !e.starts_with("BATCH ") && !e.starts_with("PAGE "))
        .map(String::as_str)
        .unwrap_or("");
    if last.starts_with("REC-BEGIN") {
        "recording a sale (inside its transaction)"
    } else if last.starts_with("STEP upload") {
        if upload_answers > batches {
            "upload: the server committed, the device had not marked the batch yet"
        } else if upload_requests > upload_answers {
            "upload: waiting for the server's answer"
        } else {
            "upload: claiming / sending a batch"
        }
    } else if last.starts_with("STEP download") {
        if download_answers > pages {
            "download: page received, being verified / applied"
        } else {
            "download: waiting for a page"
        }
    } else if last.starts_with("SYNC-BEGIN") || last.starts_with("STEP") {
        "sync: between steps"
    } else {
        "between operations"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_campaign() {
    let kills = rig::size("CRASH_KILLS", 8, 200);
    let catalog = rig::size("CRASH_CATALOG", 1_000, 3_000);
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let rig = Arc::new(Rig::start(dir.path().join("server.db").to_str().unwrap()));
    for from in (0..catalog).step_by(1000) {
        rig.put("product", products(from..(from + 1000).min(catalog), 0))
            .await;
    }
    let proxy = Proxy::start(&rig.url()).await;
    let db = dir.path().join("till.db");
    let stderr_path = dir.path().join("child-stderr.txt");

    // The back office keeps editing a window of the catalog, so the till keeps downloading
    // pages (and kills land inside page applies).
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (rig, stop) = (rig.clone(), stop.clone());
        tokio::spawn(async move {
            let window = (catalog / 6).max(1);
            for revision in 1..100_000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let from = (revision * 211) % catalog;
                rig.put(
                    "product",
                    products(from..(from + window).min(catalog), revision),
                )
                .await;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xc4a5_0009);
    let mut mix: BTreeMap<&str, usize> = BTreeMap::new();
    let mut recorded: Vec<(String, String)> = Vec::new();
    let mut in_doubt: BTreeSet<String> = BTreeSet::new();
    let mut receipts_in_order: Vec<String> = Vec::new();
    for life in 0..kills {
        // Let requests of the last life finish at the server before the next one starts.
        for _ in 0..200 {
            if proxy.in_flight() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let (up_answers, down_answers, up_requests) = (
            proxy.responses("/api/sync/upload"),
            proxy.responses("/api/sync/download"),
            proxy.requests("/api/sync/upload"),
        );
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .unwrap();
        let mut child = Command::new(&exe)
            .args([
                "crash::child_process_entry",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(ENV_DB, &db)
            .env(ENV_URL, &proxy.url)
            .env(ENV_LIFE, life.to_string())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel::<(Instant, String)>();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(event) = line.strip_prefix("EV ") {
                    if tx.send((Instant::now(), event.to_owned())).is_err() {
                        break;
                    }
                }
            }
        });
        let mut events: Vec<(Instant, String)> = Vec::new();
        let spawned = Instant::now();
        let kill_at = if rng.random_bool(0.1) {
            // Early: while the engine opens the database and recovers the queue.
            spawned + Duration::from_millis(rng.random_range(0..40))
        } else {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !events.iter().any(|(_, e)| e.starts_with("READY")) {
                assert!(
                    Instant::now() < deadline,
                    "life {life}: the child did not open the database; stderr: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
                if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
                    events.push(ev);
                }
            }
            Instant::now() + Duration::from_millis(rng.random_range(20..900))
        };
        while Instant::now() < kill_at {
            if let Ok(ev) = rx.recv_timeout(kill_at.saturating_duration_since(Instant::now())) {
                events.push(ev);
            }
        }
        child.kill().unwrap(); // SIGKILL
        let killed = Instant::now();
        let status = child.wait().unwrap();
        let answers = (
            proxy.responses("/api/sync/upload") - up_answers,
            proxy.responses("/api/sync/download") - down_answers,
            proxy.requests("/api/sync/upload") - up_requests,
        );
        reader.join().unwrap();
        events.extend(rx.try_iter());
        assert!(
            !status.success(),
            "life {life}: the child ended by itself before it was killed; stderr: {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        );
        let before_kill: Vec<String> = events
            .iter()
            .filter(|(t, _)| *t <= killed)
            .map(|(_, e)| e.clone())
            .collect();
        *mix.entry(classify(&before_kill, answers.0, answers.1, answers.2))
            .or_default() += 1;
        for (_, e) in &events {
            let parts: Vec<&str> = e.split(' ').collect();
            match parts[0] {
                "READY" => assert!(
                    e.contains("syncing=0") && e.contains("check_ok=true"),
                    "life {life}: after a restart the queue must be recovered and consistent: {e}"
                ),
                "REC-BEGIN" => {
                    in_doubt.insert(parts[1].to_owned());
                }
                "REC-DONE" => {
                    in_doubt.remove(parts[1]);
                    recorded.push((parts[1].to_owned(), parts[2].to_owned()));
                    if parts[2] != "-" {
                        receipts_in_order.push(parts[2].to_owned());
                    }
                }
                "REC-ERR" => panic!("life {life}: recording failed: {e}"),
                _ => {}
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    churn.await.unwrap();

    // Restart one last time (in this process), and let it drain the queue.
    let till = SyncEngine::open(rig.config(db.to_str().unwrap(), &rig.url())).unwrap();
    let after_crash = till.queue_stats().unwrap();
    assert_eq!(
        after_crash.syncing, 0,
        "SYNCING rows return to PENDING on open"
    );
    rig::sync_until_converged(&till, 200, Duration::from_secs(120)).await;
    let stats = till.queue_stats().unwrap();
    assert_eq!(
        (stats.pending, stats.syncing, stats.failed, stats.conflict),
        (0, 0, 0, 0),
        "the device queue is fully SYNCED"
    );

    let device_sales = rig::device_sales(&till);
    let server_sales = rig.records("sale").await;
    let device_adjustments: BTreeMap<String, String> = till
        .store()
        .read(|c| {
            let mut stmt = c.prepare("SELECT id, payload FROM stock_adjustments")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .unwrap();
    let server_adjustments = rig.records("stock_adjustment").await;
    // Every sale and adjustment the child reported as recorded is on the device and the
    // server, with the receipt number the child was given.
    for (id, receipt) in &recorded {
        if receipt == "-" {
            assert!(device_adjustments.contains_key(id), "adjustment {id} lost");
            assert!(
                server_adjustments.contains_key(id),
                "adjustment {id} not on the server"
            );
        } else {
            let (device_receipt, _) = device_sales
                .get(id)
                .unwrap_or_else(|| panic!("sale {id} lost"));
            assert_eq!(device_receipt, receipt);
            assert!(server_sales.contains_key(id), "sale {id} not on the server");
        }
    }
    // Exactly once: the server holds exactly the device's sales, each written once, equal.
    assert_eq!(
        server_sales.keys().collect::<Vec<_>>(),
        device_sales.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        server_adjustments.keys().collect::<Vec<_>>(),
        device_adjustments.keys().collect::<Vec<_>>()
    );
    let mut expected_stock: BTreeMap<String, f64> = BTreeMap::new();
    for (id, (_, payload)) in &device_sales {
        let record = &server_sales[id];
        assert_eq!(record.version, 1, "sale {id} written once");
        assert_eq!(
            pos_sync::protocol::canonical_json(&record.payload),
            *payload
        );
        let doc: serde_json::Value = serde_json::from_str(payload).unwrap();
        for line in doc["lines"].as_array().unwrap() {
            *expected_stock
                .entry(line["product_id"].as_str().unwrap().to_owned())
                .or_default() -= line["quantity"].as_f64().unwrap();
        }
    }
    for (id, payload) in &device_adjustments {
        assert_eq!(
            server_adjustments[id].version, 1,
            "adjustment {id} written once"
        );
        let doc: serde_json::Value = serde_json::from_str(payload).unwrap();
        *expected_stock
            .entry(doc["product_id"].as_str().unwrap().to_owned())
            .or_default() += doc["quantity_delta"].as_f64().unwrap();
    }
    assert_eq!(
        rig.stock().await,
        expected_stock,
        "each movement counted once"
    );
    // Receipts: gapless, and issued in recording order.
    let mut numbers: Vec<&String> = device_sales.values().map(|(r, _)| r).collect();
    numbers.sort();
    for (i, r) in numbers.iter().enumerate() {
        assert_eq!(
            **r,
            format!("S1-R1-{:06}", i + 1),
            "receipt numbers are gapless"
        );
    }
    assert!(
        receipts_in_order.windows(2).all(|w| w[0] < w[1]),
        "receipts were issued in recording order"
    );
    let in_doubt_kept = in_doubt
        .iter()
        .filter(|id| device_sales.contains_key(*id) || device_adjustments.contains_key(*id))
        .count();
    drop(till);
    let check = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .args(["--db", db.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "pos-sync check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    rig::report(
        "crash",
        &format!(
            "{kills} SIGKILLs by moment {mix:?}; {} sales + {} stock adjustments recorded ({} reported, {} in doubt at a kill, {} of those kept), catalog of {catalog} products under constant edits; server holds each exactly once (duplicates 0, lost 0), stock sums match, receipts gapless, queue fully SYNCED, pos-sync check ok; {:.0} s",
            device_sales.len(),
            device_adjustments.len(),
            recorded.len(),
            in_doubt.len(),
            in_doubt_kept,
            started.elapsed().as_secs_f64()
        ),
    );
}
