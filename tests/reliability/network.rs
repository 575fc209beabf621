//! Network faults: a fault-injecting proxy between the engine and the real server resets
//! connections, stalls past the engine's timeouts, answers 500/503/429, cuts bodies short,
//! flips bytes of requests and answers, and renames downloaded products behind their
//! checksums, while the engine uploads a backlog of sales and downloads a changing catalog.
//! It must converge with nothing lost, nothing duplicated, and nothing corrupted applied.

use crate::rig::{self, products, sale, Rig};
use crate::support::proxy::{Fault, Proxy, RandomFaults};
use pos_sync::SyncEngine;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const STALL_MS: u64 = 900;

fn fault_kinds() -> Vec<(String, Fault)> {
    let both = [
        Fault::Status {
            status: 500,
            retry_after: None,
        },
        Fault::Status {
            status: 503,
            retry_after: None,
        },
        Fault::Status {
            status: 429,
            retry_after: Some(1),
        },
        Fault::ResetBeforeForward,
        Fault::ResetAfterForward,
        Fault::StallBeforeForward { ms: STALL_MS },
        Fault::StallAfterForward { ms: STALL_MS },
        Fault::TruncateBody,
        Fault::LoseResponse,
        Fault::FlipResponseBytes { count: 1 },
        Fault::FlipResponseBytes { count: 3 },
    ];
    let mut kinds = Vec::new();
    for path in ["/api/sync/upload", "/api/sync/download"] {
        for f in &both {
            kinds.push((path.to_owned(), f.clone()));
        }
    }
    for count in [1, 2, 4] {
        kinds.push((
            "/api/sync/upload".to_owned(),
            Fault::FlipRequestBytes { count },
        ));
    }
    kinds.push(("/api/sync/download".to_owned(), Fault::TamperNames));
    kinds.push(("/api/sync/download".to_owned(), Fault::CorruptRecords));
    kinds
}

/// Sorts a sync error message into a few kinds, to show how each fault was caught.
fn error_kind(message: &str) -> &'static str {
    if message.contains("checksum") {
        "checksum mismatch (integrity)"
    } else if message.contains("not valid protocol JSON") {
        "answer is not valid protocol JSON"
    } else if message.contains("timed out") {
        "timeout"
    } else if message.starts_with("network error") {
        "connection broken"
    } else if message.contains("rate limited") {
        "rate limited"
    } else if message.contains("failed on the server") {
        "server 5xx"
    } else if message.contains("the server refused") {
        "server refused the request (4xx)"
    } else {
        "other"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_fault_campaign() {
    let sales = rig::size("NETWORK_CHANGES", 400, 10_000);
    let catalog = rig::size("NETWORK_CATALOG", 300, 2_000);
    let rounds_of_catalog_edits = rig::size("NETWORK_CATALOG_EDITS", 3, 20);
    let started = Instant::now();
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&rig.url()).await;
    let mut config = rig.config(dir.path().join("till.db").to_str().unwrap(), &proxy.url);
    config.request_timeout_ms = 400;
    config.connect_timeout_ms = 400;
    config.upload_batch_size = if rig::full() { 100 } else { 40 };
    config.download_page_size = 100;
    config.max_upload_batches_per_cycle = 5;
    // Flipped request bytes land in the JSON itself, not in a gzip stream (whose CRC would
    // catch them before the protocol's checksums get a chance).
    config.compression = Some(pos_sync::transport::Compression::None);
    let till = SyncEngine::open(config).unwrap();

    rig.put("product", products(0..catalog, 0)).await;
    let mut expected_stock: BTreeMap<String, f64> = BTreeMap::new();
    let mut adjustments = 0;
    for i in 0..sales {
        let product = format!("p{}", i % 50);
        let quantity = 1 + (i % 3) as i64;
        till.record_sale(sale(&format!("net-{i}"), &product, quantity))
            .unwrap();
        *expected_stock.entry(product.clone()).or_default() -= quantity as f64;
        if i % 10 == 0 {
            till.record_stock_adjustment(
                json!({"id": format!("net-adj-{i}"), "product_id": product, "quantity_delta": 7})
                    .to_string(),
            )
            .unwrap();
            *expected_stock.entry(product).or_default() += 7.0;
            adjustments += 1;
        }
    }

    proxy.set_random_faults(RandomFaults {
        rate: 0.4,
        kinds: fault_kinds(),
        seed: 0x5eed_0009,
    });
    let mut reports = Vec::new();
    for revision in 1..=rounds_of_catalog_edits {
        // The back office edits part of the catalog while the till is catching up.
        let from = (revision * 37) % catalog;
        let to = (from + catalog / 3).min(catalog);
        rig.put("product", products(from..to, revision)).await;
        for _ in 0..3 {
            let report = till.sync_now().await;
            reports.push(report);
        }
    }
    reports.extend(
        rig::sync_until_converged(
            &till,
            20_000,
            Duration::from_secs(if rig::full() { 1500 } else { 150 }),
        )
        .await,
    );
    let injected = proxy.injected();
    proxy.clear_random_faults();
    let clean = till.sync_now().await;
    assert_eq!(
        (
            clean.outcome,
            clean.uploaded,
            clean.downloaded,
            clean.remaining
        ),
        (pos_sync::sync::SyncOutcome::Completed, 0, 0, 0),
        "converged under faults, so a clean sync has nothing left to do: {clean:?}"
    );

    // Nothing lost, nothing duplicated: each sale once, exactly the device's copy.
    let server_sales = rig.records("sale").await;
    let device_sales = rig::device_sales(&till);
    assert_eq!(device_sales.len(), sales);
    assert_eq!(server_sales.len(), sales, "every sale on the server, once");
    for (id, (_, payload)) in &device_sales {
        let on_server = server_sales.get(id).expect("sale on the server");
        assert_eq!(
            pos_sync::protocol::canonical_json(&on_server.payload),
            *payload,
            "the server stores sale {id} exactly as the device recorded it"
        );
        assert_eq!(on_server.version, 1, "sale {id} written once");
    }
    assert_eq!(
        rig.records("stock_adjustment").await.len(),
        adjustments,
        "every stock adjustment once"
    );
    let stock = rig.stock().await;
    for (product, expected) in &expected_stock {
        assert_eq!(
            stock.get(product).copied().unwrap_or(0.0),
            *expected,
            "stock of {product} is the sum of its movements, each counted once"
        );
    }
    let stats = till.queue_stats().unwrap();
    assert_eq!(
        (stats.pending, stats.syncing, stats.failed, stats.conflict),
        (0, 0, 0, 0)
    );
    assert_eq!(stats.synced as usize, sales + adjustments);

    // Nothing corrupted applied: the device catalog is exactly the server's.
    let server_products = rig.records("product").await;
    let device_products = rig::device_products(&till);
    assert!(
        device_products.values().all(|p| !p.contains("tampered")),
        "a tampered name reached the device catalog"
    );
    // ... and never did: every product a download overwrote is kept as a pre-image in the
    // undo journal, so a tampered name applied and later replaced would still be there.
    let (journaled, tampered_ever): (i64, i64) = till
        .store()
        .read(|c| {
            Ok(c.query_row(
                // A page entry (empty entity_id) holds the pre-images of all its records.
                "SELECT COALESCE(SUM(CASE WHEN entity_id = '' THEN json_array_length(pre_image) \
                 ELSE 1 END), 0), COALESCE(SUM(pre_image LIKE '%tampered%'), 0) FROM undo_journal",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert!(
        journaled > catalog as i64,
        "the journal saw the catalog edits"
    );
    assert_eq!(
        tampered_ever, 0,
        "a tampered name was applied at some point"
    );
    assert_eq!(device_products.len(), server_products.len());
    for (id, record) in &server_products {
        assert_eq!(
            device_products.get(id),
            Some(&pos_sync::protocol::canonical_json(&record.payload)),
            "device product {id} differs from the server's"
        );
    }
    assert!(till.integrity_check().unwrap().ok);

    let mut caught: BTreeMap<&str, usize> = BTreeMap::new();
    for log in till.sync_log(100_000).unwrap() {
        if let Some(e) = &log.error_message {
            if log.sync_type != "cycle" {
                *caught.entry(error_kind(e)).or_default() += 1;
            }
        }
    }
    let faults: usize = injected.values().sum();
    rig::report(
        "network",
        &format!(
            "{sales} sales + {adjustments} stock adjustments uploaded, catalog of {catalog} products edited {rounds_of_catalog_edits} times; {} sync rounds, {faults} faults injected {injected:?}; failed steps by cause {caught:?}; lost 0, duplicated 0, corrupted applied 0; {:.1} s",
            reports.len() + 1,
            started.elapsed().as_secs_f64()
        ),
    );
}

/// Changes the last digit of a download page's `next_token` (what one flipped bit does to
/// `v1.5`): still valid JSON, and the page's checksums do not cover the token.
fn bump_token_digit(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let start = text.find("\"next_token\":\"v1.").expect("a download page") + 17;
    let end = start + text[start..].find('"').unwrap();
    let mut bytes = text.into_bytes();
    let last = &mut bytes[end - 1];
    *last = b'0' + (*last - b'0' + 2) % 10;
    bytes
}

/// Moves an answer's `server_time` about 30 years ahead by changing its first digit.
fn skew_server_time(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(body.to_vec()).unwrap();
    let at = text
        .find("\"server_time\":")
        .expect("an answer with server_time")
        + 14;
    let mut bytes = text.into_bytes();
    bytes[at] += 1;
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_sync_token_is_detected_and_no_record_is_skipped() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&rig.url()).await;
    let mut config = rig.config(dir.path().join("till.db").to_str().unwrap(), &proxy.url);
    config.download_page_size = 5;
    let till = SyncEngine::open(config).unwrap();
    rig.put("product", products(0..10, 0)).await;
    proxy.inject("/api/sync/download", Fault::EditAnswer(bump_token_digit));
    let first = till.sync_now().await;
    assert_eq!(
        first.downloaded, 0,
        "the page with a damaged token is not applied: {first:?}"
    );
    assert!(
        first.error.as_deref().unwrap_or("").contains("checksum"),
        "{first:?}"
    );
    rig::sync_until_converged(&till, 50, Duration::from_secs(20)).await;
    let device = rig::device_products(&till);
    assert_eq!(device.len(), 10, "no record skipped: {:?}", device.keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_server_time_is_detected_and_not_believed() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&rig.url()).await;
    let till =
        SyncEngine::open(rig.config(dir.path().join("till.db").to_str().unwrap(), &proxy.url))
            .unwrap();
    till.record_sale(sale("skew-1", "p1", 1)).unwrap();
    proxy.inject("/api/sync/upload", Fault::EditAnswer(skew_server_time));
    let first = till.sync_now().await;
    assert!(
        first.error.as_deref().unwrap_or("").contains("checksum"),
        "{first:?}"
    );
    let offset = till
        .store()
        .read(pos_sync::store::state::clock_offset)
        .unwrap();
    assert!(
        offset.abs() < 3_600_000,
        "the device believed a server clock {offset} ms away"
    );
    rig::sync_until_converged(&till, 50, Duration::from_secs(20)).await;
    assert_eq!(rig.records("sale").await.len(), 1);
}
