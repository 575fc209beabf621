//! Encryption at rest (cargo feature `encryption`; `make test-encryption`): a database
//! created with `EngineConfig.encryption_key` is unreadable without it, a wrong key is a
//! clear error, readers and the support CLI use the key, sync works as usual, and the cost
//! of encryption is measured roughly.
#![cfg(any(feature = "encryption", feature = "encryption-system-openssl"))]

use pos_sync::{EngineConfig, PosSyncError, SyncEngine};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const KEY: &str = "till-key-from-the-keystore-3c9e";
const NOTE: &str = "confidential-note-Frobozz";
const NAME: &str = "Gwendolyn Encryptedsworth";

fn config(path: &Path, key: Option<&str>) -> EngineConfig {
    let mut config = EngineConfig::new(path.to_str().unwrap(), "S1", "R1", "till-1");
    config.durability = Some(pos_sync::store::Durability::Normal);
    config.encryption_key = key.map(str::to_owned);
    config
}

fn sale(i: usize) -> String {
    json!({"id": format!("s{i}"), "note": NOTE, "customer_id": "c1",
           "lines": [{"product_id": "p1", "quantity": 1}]})
    .to_string()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn an_encrypted_database_is_unreadable_without_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    {
        let till = SyncEngine::open(config(&path, Some(KEY))).unwrap();
        till.create_customer(json!({"id":"c1","name":NAME}).to_string())
            .unwrap();
        till.import_products(json!([{"id":"p1","name":"Cola 33cl"}]).to_string())
            .unwrap();
        for i in 0..20 {
            till.record_sale(sale(i)).unwrap();
        }
        // Reads go through the reader pool: keyed too.
        assert_eq!(till.search_products("cola".into(), 5).unwrap().len(), 1);
        assert_eq!(till.search_customers("gwen".into(), 5).unwrap().len(), 1);
        assert!(till.get_sale("s3".into()).unwrap().is_some());
        assert!(till.integrity_check().unwrap().ok);
    }
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend(std::fs::read(dir.path().join("till.db-wal")).unwrap_or_default());
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "plain SQLite header"
    );
    for secret in [NOTE, NAME, "Cola 33cl", "S1-R1-000001"] {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "'{secret}' readable in the file"
        );
    }

    let plain = rusqlite::Connection::open(&path).unwrap();
    let err = plain
        .query_row("SELECT count(*) FROM sales", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase)
    );
    drop(plain);
    match SyncEngine::open(config(&path, None)) {
        Err(PosSyncError::Database { reason: m, .. }) => assert!(m.contains("encrypted"), "{m}"),
        other => panic!("opened without the key: {:?}", other.err()),
    }
    match SyncEngine::open(config(&path, Some("not-the-key"))) {
        Err(PosSyncError::Database { reason: m, .. }) => assert!(m.contains("key is wrong"), "{m}"),
        other => panic!("opened with a wrong key: {:?}", other.err()),
    }
    // A plain database is not silently "encrypted" by giving a key either.
    let plain_path = dir.path().join("plain.db");
    drop(SyncEngine::open(config(&plain_path, None)).unwrap());
    assert!(matches!(
        SyncEngine::open(config(&plain_path, Some(KEY))),
        Err(PosSyncError::Database { .. })
    ));

    let till = SyncEngine::open(config(&path, Some(KEY))).unwrap();
    assert_eq!(till.queue_stats().unwrap().pending, 21);
    drop(till);

    let cli = |key: Option<&str>, args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pos-sync"));
        cmd.args(["--db", path.to_str().unwrap()]).args(args);
        cmd.env_remove("POS_SYNC_DB_KEY");
        if let Some(key) = key {
            cmd.env("POS_SYNC_DB_KEY", key);
        }
        cmd.output().unwrap()
    };
    let refused = cli(None, &["status"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("encrypted"));
    let export = cli(Some(KEY), &["export-unsynced"]);
    assert!(export.status.success());
    assert_eq!(String::from_utf8_lossy(&export.stdout).lines().count(), 21);
    assert!(cli(Some(KEY), &["check"]).status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_till_syncs_as_usual_and_costs_little() {
    let server = pos_sync_server::testing::spawn(&[("tok-enc", "till-1", "S1")], Some("admin-enc"));
    let dir = tempfile::tempdir().unwrap();
    let mut timings = Vec::new();
    for key in [None, Some(KEY)] {
        let path = dir.path().join(format!("till-{}.db", key.is_some()));
        let mut config = config(&path, key);
        config.durability = Some(pos_sync::store::Durability::Full);
        config.server_url = Some(server.url().to_owned());
        config.auth_token = Some("tok-enc".into());
        let till = SyncEngine::open(config.clone()).unwrap();
        let started = Instant::now();
        for i in 0..300 {
            till.record_sale(sale(i + if key.is_some() { 1000 } else { 0 }))
                .unwrap();
        }
        let record = started.elapsed();
        let started = Instant::now();
        for _ in 0..200 {
            till.get_sale("s1".into()).unwrap();
            till.queue_stats().unwrap();
        }
        let read = started.elapsed();
        let started = Instant::now();
        let report = till.sync_now().await;
        assert_eq!((report.uploaded, report.remaining), (300, 0), "{report:?}");
        let sync = started.elapsed();
        drop(till);
        let started = Instant::now();
        let reopened = SyncEngine::open(config).unwrap();
        reopened.get_sale("s1".into()).unwrap();
        timings.push((record, read, sync, started.elapsed()));
    }
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    let (plain, enc) = (timings[0], timings[1]);
    println!(
        "RESULT encryption: 300 sales recorded (synchronous=FULL) plain {:?} / encrypted {:?} (x{:.2}); 200 reads x2 plain {:?} / encrypted {:?} (x{:.2}); sync of 300 plain {:?} / encrypted {:?} (x{:.2}); open + first read plain {:?} / encrypted {:?} (key derivation)",
        plain.0, enc.0, ratio(plain.0, enc.0), plain.1, enc.1, ratio(plain.1, enc.1), plain.2, enc.2, ratio(plain.2, enc.2), plain.3, enc.3
    );
}
