//! Encryption at rest (cargo feature `encryption`; `make test-encryption`): a database
//! created with `EngineConfig.encryption_key` is unreadable without it, a wrong key is a
//! clear error, readers and the support CLI use the key, sync works as usual, and the cost
//! of encryption is measured roughly. Its life cycle: the key of an open engine is rotated,
//! a plain database is encrypted in place (surviving SIGKILL at any moment), a support copy
//! is exported, the CLI does the same, and no key reaches a log line.
#![cfg(any(feature = "encryption", feature = "encryption-system-openssl"))]

#[path = "support/log_capture.rs"]
mod log_capture;

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

// ------------------------------------------------------------------------------ life cycle

const NEW_KEY: &str = "rotated-key-from-the-keystore-81d4";
const SUPPORT_KEY: &str = "support-desk-key-5a0f";
const TOKEN: &str = "tok-bearer-never-in-a-copy-77c2";

/// How many sales the rotation and encryption tests time (`POS_SYNC_ENCRYPTION_SALES`, for
/// the figures in docs/reliability.md).
fn timed_sales() -> usize {
    std::env::var("POS_SYNC_ENCRYPTION_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Records sales `s{from}`..`s{from + n}`.
fn record_sales(till: &SyncEngine, from: usize, n: usize) {
    for i in from..from + n {
        till.record_sale(sale(i)).unwrap();
    }
}

/// The database file and its log, as they are on disk.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(
        std::fs::read(pos_sync::store::encryption::sibling(path, "wal")).unwrap_or_default(),
    );
    bytes
}

fn assert_encrypted(path: &Path) {
    let bytes = file_bytes(path);
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "plain SQLite header"
    );
    for secret in [NOTE, NAME, "S1-R1-000001"] {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "'{secret}' readable in the file"
        );
    }
}

/// Runs the `pos-sync` CLI on `db` with only the given key variables set.
fn cli(db: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pos-sync"));
    cmd.args(["--db", db.to_str().unwrap()]).args(args);
    for var in [
        "POS_SYNC_DB_KEY",
        "POS_SYNC_NEW_DB_KEY",
        "POS_SYNC_SUPPORT_KEY",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn invalid_input<T>(result: Result<T, PosSyncError>, expected: &str) {
    match result.err() {
        Some(PosSyncError::InvalidInput { reason, .. }) => {
            assert!(reason.contains(expected), "{reason}")
        }
        other => panic!("expected InvalidInput ({expected}), got {other:?}"),
    }
}

fn database_error<T>(result: Result<T, PosSyncError>, expected: &str) {
    match result.err() {
        Some(PosSyncError::Database { reason }) => assert!(reason.contains(expected), "{reason}"),
        other => panic!("expected a Database error ({expected}), got {other:?}"),
    }
}

#[test]
fn the_key_of_an_open_engine_is_rotated_while_it_keeps_working() {
    log_capture::install();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    let till = SyncEngine::open(config(&path, Some(KEY))).unwrap();
    till.create_customer(json!({"id":"c1","name":NAME}).to_string())
        .unwrap();
    let n = timed_sales();
    record_sales(&till, 0, n);
    // Readers opened under the old key sit in the pool.
    assert!(till.get_sale("s1".into()).unwrap().is_some());
    assert_eq!(till.search_customers("gwen".into(), 5).unwrap().len(), 1);

    // Bad input changes nothing.
    invalid_input(till.rotate_encryption_key(String::new()), "empty");
    assert_eq!(till.queue_stats().unwrap().pending, n as i64 + 1);

    // A cashier keeps selling while the key changes.
    let sold_meanwhile = std::thread::scope(|scope| {
        let seller = scope.spawn(|| {
            let mut sold = 0;
            for i in 0..200 {
                till.record_sale(sale(100_000 + i)).unwrap();
                till.get_sale(format!("s{}", 100_000 + i)).unwrap().unwrap();
                sold += 1;
            }
            sold
        });
        let started = Instant::now();
        till.rotate_encryption_key(NEW_KEY.into()).unwrap();
        println!(
            "RESULT encryption: rotating the key of a database of {n} sales took {:?} ({} KiB)",
            started.elapsed(),
            std::fs::metadata(&path).unwrap().len() / 1024
        );
        seller.join().unwrap()
    });
    // Readers and the writer now use the new key.
    assert!(till.get_sale("s1".into()).unwrap().is_some());
    assert_eq!(till.search_customers("gwen".into(), 5).unwrap().len(), 1);
    record_sales(&till, n, 10);
    assert!(till.integrity_check().unwrap().ok);
    let total = n as i64 + 1 + sold_meanwhile + 10;
    assert_eq!(till.queue_stats().unwrap().pending, total);
    // The same engine is handed out under the new key; the old one no longer opens it.
    let again = SyncEngine::open(config(&path, Some(NEW_KEY))).unwrap();
    assert!(std::sync::Arc::ptr_eq(&till, &again));
    invalid_input(
        SyncEngine::open(config(&path, Some(KEY))),
        "different configuration",
    );
    drop((till, again));

    assert_encrypted(&path);
    database_error(SyncEngine::open(config(&path, Some(KEY))), "key is wrong");
    let reopened = SyncEngine::open(config(&path, Some(NEW_KEY))).unwrap();
    assert_eq!(reopened.queue_stats().unwrap().pending, total);
    assert!(reopened.integrity_check().unwrap().ok);
    drop(reopened);

    // A plain database has no key to rotate.
    let plain = SyncEngine::open(config(&dir.path().join("plain.db"), None)).unwrap();
    match plain.rotate_encryption_key(NEW_KEY.into()) {
        Err(PosSyncError::NotConfigured { reason }) => assert!(reason.contains("not encrypted")),
        other => panic!("expected NotConfigured, got {other:?}"),
    }
}

#[test]
fn a_plain_database_is_encrypted_in_place() {
    log_capture::install();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    let n = timed_sales();
    let till = SyncEngine::open(config(&path, None)).unwrap();
    till.create_customer(json!({"id":"c1","name":NAME}).to_string())
        .unwrap();
    till.import_products(json!([{"id":"p1","name":"Cola 33cl"}]).to_string())
        .unwrap();
    record_sales(&till, 0, n);
    let db = path.to_str().unwrap().to_owned();

    // Refused while the file is open: by an engine of this process, or by any connection.
    database_error(
        pos_sync::encrypt_database(db.clone(), KEY.into()),
        "open in an engine",
    );
    drop(till);
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .query_row("SELECT count(*) FROM sales", [], |r| r.get::<_, i64>(0))
        .unwrap();
    database_error(
        pos_sync::encrypt_database(db.clone(), KEY.into()),
        "open in another",
    );
    drop(other);
    // Bad input: nothing changes.
    invalid_input(
        pos_sync::encrypt_database(db.clone(), String::new()),
        "empty",
    );
    match pos_sync::encrypt_database(
        dir.path().join("none.db").to_str().unwrap().into(),
        KEY.into(),
    ) {
        Err(PosSyncError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(!dir.path().join("none.db").exists());
    assert!(std::fs::read(&path)
        .unwrap()
        .starts_with(b"SQLite format 3"));

    let size = std::fs::metadata(&path).unwrap().len();
    let started = Instant::now();
    pos_sync::encrypt_database(db.clone(), KEY.into()).unwrap();
    println!(
        "RESULT encryption: encrypting a plain database of {n} sales in place took {:?} ({} KiB)",
        started.elapsed(),
        size / 1024
    );
    assert_encrypted(&path);
    assert!(!pos_sync::store::encryption::sibling(&path, "encrypting").exists());
    invalid_input(
        pos_sync::encrypt_database(db.clone(), NEW_KEY.into()),
        "already encrypted",
    );
    database_error(SyncEngine::open(config(&path, None)), "encrypted");

    let till = SyncEngine::open(config(&path, Some(KEY))).unwrap();
    assert_eq!(till.queue_stats().unwrap().pending, n as i64 + 1);
    assert!(till.get_sale(format!("s{}", n - 1)).unwrap().is_some());
    assert_eq!(till.search_products("cola".into(), 5).unwrap().len(), 1);
    assert_eq!(till.search_customers("gwen".into(), 5).unwrap().len(), 1);
    assert!(till.integrity_check().unwrap().ok);
    // Receipts go on where they stopped.
    let next = till.record_sale(sale(n)).unwrap();
    assert_eq!(next.receipt_number, format!("S1-R1-{:06}", n + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_copy_is_a_consistent_snapshot_without_any_token() {
    log_capture::install();
    let server = pos_sync_server::testing::spawn(&[(TOKEN, "till-1", "S1")], None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    let mut config = config(&path, Some(KEY));
    config.server_url = Some(server.url().to_owned());
    config.auth_token = Some(TOKEN.into());
    let till = SyncEngine::open(config).unwrap();
    till.create_customer(json!({"id":"c1","name":NAME}).to_string())
        .unwrap();
    record_sales(&till, 0, 50);
    let report = till.sync_now().await;
    assert_eq!(report.remaining, 0, "{report:?}");
    record_sales(&till, 50, 7);

    let plain_copy = dir.path().join("support-plain.db");
    let started = Instant::now();
    till.export_support_copy(plain_copy.to_str().unwrap().into(), None)
        .unwrap();
    let took = started.elapsed();
    let encrypted_copy = dir.path().join("support-encrypted.db");
    till.export_support_copy(
        encrypted_copy.to_str().unwrap().into(),
        Some(SUPPORT_KEY.into()),
    )
    .unwrap();
    println!("RESULT encryption: a plain support copy of 57 sales took {took:?}");
    // The till keeps its own key and keeps working.
    record_sales(&till, 57, 1);

    let bytes = std::fs::read(&plain_copy).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3"));
    assert!(
        contains(&bytes, NAME.as_bytes()),
        "the copy holds customer data"
    );
    assert!(
        !contains(&bytes, TOKEN.as_bytes()),
        "a bearer token in the copy"
    );
    for leftover in ["partial", "partial-journal"] {
        assert!(!dir
            .path()
            .join(format!("support-plain.db.{leftover}"))
            .exists());
    }
    assert_encrypted(&encrypted_copy);
    assert!(!contains(&file_bytes(&encrypted_copy), TOKEN.as_bytes()));

    // pos-sync inspects both copies: 7 unsynced sales, the 50 synced ones.
    let unsynced = |db: &Path, env: &[(&str, &str)]| {
        let out = cli(db, env, &["export-unsynced"], "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(unsynced(&plain_copy, &[]), 7);
    assert_eq!(
        unsynced(&encrypted_copy, &[("POS_SYNC_DB_KEY", SUPPORT_KEY)]),
        7
    );
    let status = cli(&plain_copy, &[], &["--json", "status"], "");
    let stats: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        (stats["synced"].as_i64(), stats["pending"].as_i64()),
        (Some(51), Some(7))
    );
    assert!(cli(&encrypted_copy, &[], &["status"], "").status.code() == Some(1));

    // Bad input: typed errors, no file written, the existing one untouched.
    let before = std::fs::read(&plain_copy).unwrap();
    invalid_input(
        till.export_support_copy(plain_copy.to_str().unwrap().into(), None),
        "already exists",
    );
    assert_eq!(std::fs::read(&plain_copy).unwrap(), before);
    let other = dir.path().join("other.db");
    invalid_input(
        till.export_support_copy(other.to_str().unwrap().into(), Some(String::new())),
        "empty",
    );
    invalid_input(
        till.export_support_copy(
            dir.path().join("missing/copy.db").to_str().unwrap().into(),
            None,
        ),
        "does not exist",
    );
    assert!(!other.exists());
}

#[test]
fn the_cli_rotates_encrypts_and_copies_with_keys_from_the_environment_or_stdin() {
    log_capture::install();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    let till = SyncEngine::open(config(&path, None)).unwrap();
    record_sales(&till, 0, 30);
    drop(till);
    let all_output = std::cell::RefCell::new(String::new());
    let run = |env: &[(&str, &str)], args: &[&str], stdin: &str| {
        let out = cli(&path, env, args, stdin);
        all_output
            .borrow_mut()
            .push_str(&String::from_utf8_lossy(&out.stdout));
        all_output
            .borrow_mut()
            .push_str(&String::from_utf8_lossy(&out.stderr));
        out
    };

    // encrypt: the new key from stdin (no key on the command line, ever).
    let empty = run(&[], &["encrypt"], "\n");
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("empty"));
    let done = run(&[], &["encrypt"], &format!("{KEY}\n"));
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_encrypted(&path);

    // rotate-key: the current key and the new one from the environment.
    let wrong = run(
        &[
            ("POS_SYNC_DB_KEY", "not-the-key"),
            ("POS_SYNC_NEW_DB_KEY", NEW_KEY),
        ],
        &["rotate-key"],
        "",
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("key is wrong"));
    let keys = [("POS_SYNC_DB_KEY", KEY), ("POS_SYNC_NEW_DB_KEY", NEW_KEY)];
    let app = SyncEngine::open(config(&path, Some(KEY))).unwrap();
    let busy = run(&keys, &["rotate-key"], "");
    assert_eq!(busy.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("close it first"));
    assert_eq!(
        app.queue_stats().unwrap().pending,
        30,
        "the app still works"
    );
    drop(app);
    let rotated = run(&keys, &["rotate-key"], "");
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(!run(&[("POS_SYNC_DB_KEY", KEY)], &["status"], "")
        .status
        .success());
    assert!(run(&[("POS_SYNC_DB_KEY", NEW_KEY)], &["check"], "")
        .status
        .success());

    // export-support-copy: under a support key from the environment.
    let copy = dir.path().join("copy.db");
    let exported = run(
        &[
            ("POS_SYNC_DB_KEY", NEW_KEY),
            ("POS_SYNC_SUPPORT_KEY", SUPPORT_KEY),
        ],
        &["export-support-copy", copy.to_str().unwrap()],
        "",
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let pending = cli(
        &copy,
        &[("POS_SYNC_DB_KEY", SUPPORT_KEY)],
        &["export-unsynced"],
        "",
    );
    assert_eq!(String::from_utf8_lossy(&pending.stdout).lines().count(), 30);
    let missing = run(
        &[("POS_SYNC_DB_KEY", NEW_KEY)],
        &["export-support-copy"],
        "",
    );
    assert_eq!(missing.status.code(), Some(1));

    let output = all_output.into_inner();
    for key in [KEY, NEW_KEY, SUPPORT_KEY] {
        assert!(!output.contains(key), "a key in the CLI's output: {output}");
    }
}

/// Runs rotation, encryption, copies and every refusal with the capturing logger at
/// Trace, then checks that no log line and no error message holds a key.
#[test]
fn no_key_reaches_a_log_line_or_an_error_message() {
    log_capture::install();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("till.db");
    let db = path.to_str().unwrap().to_owned();
    let mut errors = Vec::new();
    let till = SyncEngine::open(config(&path, None)).unwrap();
    record_sales(&till, 0, 5);
    errors.push(till.rotate_encryption_key(NEW_KEY.into()).unwrap_err());
    errors.push(pos_sync::encrypt_database(db.clone(), KEY.into()).unwrap_err());
    drop(till);
    pos_sync::encrypt_database(db.clone(), KEY.into()).unwrap();
    errors.push(pos_sync::encrypt_database(db.clone(), NEW_KEY.into()).unwrap_err());
    errors.push(
        SyncEngine::open(config(&path, Some(NEW_KEY)))
            .err()
            .unwrap(),
    );
    let till = SyncEngine::open(config(&path, Some(KEY))).unwrap();
    till.rotate_encryption_key(NEW_KEY.into()).unwrap();
    let copy = dir.path().join("copy.db");
    till.export_support_copy(copy.to_str().unwrap().into(), Some(SUPPORT_KEY.into()))
        .unwrap();
    errors.push(
        till.export_support_copy(copy.to_str().unwrap().into(), Some(SUPPORT_KEY.into()))
            .unwrap_err(),
    );
    errors.push(SyncEngine::open(config(&path, Some(KEY))).err().unwrap());
    drop(till);

    let lines = log_capture::lines();
    assert!(
        lines.iter().any(|l| l.contains("key was rotated")),
        "the capture works: {lines:?}"
    );
    let texts: Vec<String> = errors.iter().map(|e| format!("{e} {e:?}")).collect();
    for text in lines.iter().chain(&texts) {
        for key in [KEY, NEW_KEY, SUPPORT_KEY] {
            assert!(!text.contains(key), "a key in '{text}'");
        }
    }
}

// ------------------------------------------------------------------------------ crashes

/// `encrypt:PATH` or `rotate:PATH`: what the child process does (see `crash_child_entry`).
const ENV_CHILD: &str = "POS_SYNC_ENCRYPTION_CHILD";

fn emit(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "EV {line}");
    let _ = out.flush();
}

/// The child: encrypts a plain database in place, or opens an encrypted one and rotates its
/// key, reporting when the operation starts and how long it took. A no-op test unless the
/// parent sets the environment.
#[test]
fn crash_child_entry() {
    let Ok(job) = std::env::var(ENV_CHILD) else {
        return;
    };
    let (operation, db) = job.split_once(':').unwrap();
    let till = match operation {
        "rotate" => Some(SyncEngine::open(config(Path::new(db), Some(KEY))).unwrap()),
        _ => None,
    };
    emit("BEGIN");
    let started = Instant::now();
    match &till {
        Some(till) => till.rotate_encryption_key(NEW_KEY.into()).unwrap(),
        None => pos_sync::encrypt_database(db.into(), KEY.into()).unwrap(),
    }
    emit(&format!("DONE {}", started.elapsed().as_micros()));
}

/// Runs the child on `db` and SIGKILLs it `kill_after` after it began its operation (never,
/// for `None`). Returns how long the operation took when the child finished it first.
fn run_child(operation: &str, db: &Path, kill_after: Option<Duration>) -> Option<Duration> {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_entry",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ENV_CHILD, format!("{operation}:{}", db.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness's "test crash_child_entry ... " may precede the first event.
            if let Some((_, event)) = line.split_once("EV ") {
                let _ = tx.send(event.to_owned());
            }
        }
    });
    let began = rx.recv_timeout(Duration::from_secs(60));
    assert_eq!(began.as_deref(), Ok("BEGIN"), "the child did not start");
    let done = match kill_after {
        None => rx.recv_timeout(Duration::from_secs(120)).ok(),
        Some(delay) => {
            let done = rx.recv_timeout(delay).ok();
            child.kill().unwrap(); // SIGKILL
            done
        }
    };
    child.wait().unwrap();
    reader.join().unwrap();
    done.and_then(|d| d.strip_prefix("DONE ")?.parse().ok())
        .map(Duration::from_micros)
}

/// SIGKILLs a child at moments spread over the whole operation, encrypting a plain database
/// in place or rotating the key of an encrypted one; after each kill the database must open
/// under exactly one of its two keys (none and `KEY`; `KEY` and `NEW_KEY`) with every sale,
/// and an interrupted encryption must succeed when run again.
#[test]
fn encrypting_and_rotating_survive_sigkill_at_any_moment() {
    let kills: usize = std::env::var("POS_SYNC_RELIABILITY_ENCRYPTION_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let n = 3000;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("template-plain.db");
    let till = SyncEngine::open(config(&plain, None)).unwrap();
    record_sales(&till, 0, n);
    drop(till);
    let encrypted = dir.path().join("template-encrypted.db");
    std::fs::copy(&plain, &encrypted).unwrap();
    pos_sync::encrypt_database(encrypted.to_str().unwrap().into(), KEY.into()).unwrap();

    let opens = |db: &Path, key: Option<&str>| -> Option<i64> {
        let till = SyncEngine::open(config(db, key)).ok()?;
        let stats = till.queue_stats().unwrap();
        assert!(till.integrity_check().unwrap().ok);
        Some(stats.pending)
    };
    let mut summary = Vec::new();
    for (operation, template, keys) in [
        ("encrypt", &plain, [None, Some(KEY)]),
        ("rotate", &encrypted, [Some(KEY), Some(NEW_KEY)]),
    ] {
        let life_db = |life: usize| {
            let db = dir.path().join(format!("{operation}-{life}.db"));
            std::fs::copy(template, &db).unwrap();
            db
        };
        let took = run_child(operation, &life_db(kills), None).expect("an uninterrupted run");
        let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
        for life in 0..kills {
            let db = life_db(life);
            // Evenly over the operation and somewhat past its end (its length varies).
            let delay = took.mul_f64((life as f64 + 0.5) / kills as f64 * 1.4);
            let finished = run_child(operation, &db, Some(delay)).is_some();
            let old = opens(&db, keys[0]);
            let new = opens(&db, keys[1]);
            assert!(
                old.is_some() != new.is_some(),
                "{operation} life {life}: opens under the old key {old:?}, under the new {new:?}"
            );
            assert_eq!(
                old.or(new),
                Some(n as i64),
                "{operation} life {life}: sales lost"
            );
            if finished {
                assert!(
                    new.is_some(),
                    "{operation} life {life}: finished, yet the old key"
                );
            }
            if operation == "encrypt" && old.is_some() {
                pos_sync::encrypt_database(db.to_str().unwrap().into(), KEY.into()).unwrap();
                assert_eq!(opens(&db, Some(KEY)), Some(n as i64));
            }
            *outcomes
                .entry(match (finished, new.is_some()) {
                    (true, _) => "finished",
                    (false, true) => "killed, new key in place",
                    (false, false) => "killed, old state kept",
                })
                .or_default() += 1;
        }
        summary.push(format!(
            "{operation} ({took:?} uninterrupted): {outcomes:?}"
        ));
    }
    println!(
        "RESULT encryption crashes: {kills} SIGKILLs per operation over a database of {n} sales; every life opened under exactly one key with all {n} sales and passed the integrity check; {}",
        summary.join("; ")
    );
}
