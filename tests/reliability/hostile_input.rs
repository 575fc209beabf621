//! Hostile input: malformed, oversized, unicode and SQL-looking input through every public
//! entry point, each refused with a typed error and a clear message, the database unchanged
//! (every row of every table compared before and after); plus bounded property runs that
//! throw mutated server answers at the transport's decoding and the engine's page
//! verification, and random documents at the app-JSON validation (the same entry points as
//! the cargo-fuzz targets in fuzz/, run for seconds inside `cargo test`).

use crate::rig::{self, Rig};
use pos_sync::protocol::{
    batch_checksum, payload_checksum, ChangeResult, ChangeStatus, DownloadResponse, ErrorBody,
    ErrorCode, ResolveResponse, ServerRecord, StatusResponse, UploadResponse,
};
use pos_sync::{EngineConfig, PosSyncError, SyncEngine};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::Arc;

fn offline_till(dir: &tempfile::TempDir) -> Arc<SyncEngine> {
    let path = dir.path().join("till.db");
    let mut config = EngineConfig::new(path.to_str().unwrap(), "S1", "R1", "till-1");
    config.durability = Some(pos_sync::store::Durability::Normal);
    let till = SyncEngine::open(config).unwrap();
    till.record_sale(rig::sale("existing-sale", "p1", 2))
        .unwrap();
    till.create_customer(json!({"id":"c1","name":"Ana"}).to_string())
        .unwrap();
    till.import_products(
        json!([{"id":"p1","name":"Cola 33cl","sku":"COLA","barcode":"5449000000996"}]).to_string(),
    )
    .unwrap();
    till.put_report("daily".into(), json!({"total": 1}).to_string())
        .unwrap();
    till
}

/// What a refused call must look like: this variant, a message naming the problem, and
/// short (an oversized input is never echoed back).
#[derive(Debug, Clone, Copy)]
enum Expect {
    Invalid(&'static str),
    TooLarge,
    NotFound,
}

fn check(what: &str, result: Result<(), PosSyncError>, expect: Expect) {
    let err = match result {
        Ok(()) => panic!("{what}: accepted, expected {expect:?}"),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(
        message.len() < 600,
        "{what}: message of {} bytes",
        message.len()
    );
    match (expect, &err) {
        (Expect::Invalid(needle), PosSyncError::InvalidInput { reason: m, .. }) => {
            assert!(m.contains(needle), "{what}: '{m}' lacks '{needle}'")
        }
        (Expect::TooLarge, PosSyncError::PayloadTooLarge { .. }) => {}
        (Expect::NotFound, PosSyncError::NotFound { .. }) => {}
        _ => panic!("{what}: got {err:?}, expected {expect:?}"),
    }
}

#[test]
fn malformed_input_through_the_api_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let till = offline_till(&dir);
    let before = rig::dump(&till);
    let huge = "x".repeat(600_000);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let line = |q: Value| json!({"id":"s","lines":[{"product_id":"p","quantity":q}]}).to_string();
    let sale_cases: Vec<(&str, String, Expect)> = vec![
        ("empty", String::new(), Expect::Invalid("not valid JSON")),
        (
            "garbage",
            "{not json".into(),
            Expect::Invalid("not valid JSON"),
        ),
        (
            "null",
            "null".into(),
            Expect::Invalid("must be a JSON object"),
        ),
        ("array", "[1,2]".into(), Expect::Invalid("got an array")),
        ("string", "\"sale\"".into(), Expect::Invalid("got a string")),
        (
            "no id",
            json!({"lines":[{"product_id":"p","quantity":1}]}).to_string(),
            Expect::Invalid("no 'id'"),
        ),
        (
            "numeric id",
            json!({"id":7,"lines":[]}).to_string(),
            Expect::Invalid("must be a string"),
        ),
        (
            "blank id",
            json!({"id":"  ","lines":[{"product_id":"p","quantity":1}]}).to_string(),
            Expect::Invalid("empty"),
        ),
        (
            "long id",
            json!({"id":"a".repeat(129),"lines":[{"product_id":"p","quantity":1}]}).to_string(),
            Expect::Invalid("longer than 128"),
        ),
        (
            "control char id",
            json!({"id":"a\u{0}b","lines":[{"product_id":"p","quantity":1}]}).to_string(),
            Expect::Invalid("control characters"),
        ),
        (
            "newline id",
            json!({"id":"a\nb","lines":[{"product_id":"p","quantity":1}]}).to_string(),
            Expect::Invalid("control characters"),
        ),
        (
            "no lines",
            json!({"id":"s"}).to_string(),
            Expect::Invalid("no 'lines'"),
        ),
        (
            "empty lines",
            json!({"id":"s","lines":[]}).to_string(),
            Expect::Invalid("no lines"),
        ),
        (
            "lines object",
            json!({"id":"s","lines":{}}).to_string(),
            Expect::Invalid("must be an array"),
        ),
        (
            "line not object",
            json!({"id":"s","lines":[3]}).to_string(),
            Expect::Invalid("must be an object"),
        ),
        (
            "line without product",
            json!({"id":"s","lines":[{"quantity":1}]}).to_string(),
            Expect::Invalid("no 'product_id'"),
        ),
        (
            "quantity text",
            line(json!("2")),
            Expect::Invalid("must be a number"),
        ),
        (
            "quantity null",
            line(Value::Null),
            Expect::Invalid("no 'quantity'"),
        ),
        (
            "quantity overflow",
            r#"{"id":"s","lines":[{"product_id":"p","quantity":1e400}]}"#.into(),
            Expect::Invalid("not valid JSON"),
        ),
        (
            "total text",
            json!({"id":"s","lines":[{"product_id":"p","quantity":1}],"total":"9"}).to_string(),
            Expect::Invalid("must be a number"),
        ),
        (
            "customer_id number",
            json!({"id":"s","lines":[{"product_id":"p","quantity":1}],"customer_id":5}).to_string(),
            Expect::Invalid("must be a string"),
        ),
        (
            "lone surrogate",
            r#"{"id":"\ud800","lines":[{"product_id":"p","quantity":1}]}"#.into(),
            Expect::Invalid("not valid JSON"),
        ),
        (
            "trailing garbage",
            format!("{} x", rig::sale("s", "p", 1)),
            Expect::Invalid("not valid JSON"),
        ),
        (
            "deep nesting",
            deep.clone(),
            Expect::Invalid("not valid JSON"),
        ),
        (
            "oversized note",
            json!({"id":"s","lines":[{"product_id":"p","quantity":1}],"note":"x".repeat(300_000)})
                .to_string(),
            Expect::TooLarge,
        ),
        ("huge text", huge.clone(), Expect::TooLarge),
        (
            "same id, other content",
            rig::sale("existing-sale", "p1", 3),
            Expect::Invalid("already recorded"),
        ),
    ];
    for (what, json, expect) in sale_cases {
        check(
            &format!("record_sale {what}"),
            till.record_sale(json).map(|_| ()),
            expect,
        );
    }
    let adjustment_cases: Vec<(&str, Value, Expect)> = vec![
        (
            "no delta",
            json!({"id":"a","product_id":"p"}),
            Expect::Invalid("no 'quantity_delta'"),
        ),
        (
            "delta text",
            json!({"id":"a","product_id":"p","quantity_delta":"1"}),
            Expect::Invalid("must be a number"),
        ),
        (
            "empty product",
            json!({"id":"a","product_id":"","quantity_delta":1}),
            Expect::Invalid("empty"),
        ),
        (
            "no id",
            json!({"product_id":"p","quantity_delta":1}),
            Expect::Invalid("no 'id'"),
        ),
    ];
    for (what, json, expect) in adjustment_cases {
        check(
            &format!("record_stock_adjustment {what}"),
            till.record_stock_adjustment(json.to_string()).map(|_| ()),
            expect,
        );
    }
    check(
        "stock adjustment deep",
        till.record_stock_adjustment(deep.clone()).map(|_| ()),
        Expect::Invalid("not valid JSON"),
    );
    let customer_cases: Vec<(&str, Value, Expect)> = vec![
        ("no name", json!({"id":"c9"}), Expect::Invalid("no 'name'")),
        (
            "blank name",
            json!({"id":"c9","name":"   "}),
            Expect::Invalid("no 'name'"),
        ),
        ("no id", json!({"name":"Bo"}), Expect::Invalid("no 'id'")),
        (
            "email number",
            json!({"id":"c9","name":"Bo","email":5}),
            Expect::Invalid("must be a string"),
        ),
        (
            "phone control",
            json!({"id":"c9","name":"Bo","phone":"1\u{7}2"}),
            Expect::Invalid("control characters"),
        ),
    ];
    for (what, json, expect) in customer_cases {
        check(
            &format!("create_customer {what}"),
            till.create_customer(json.to_string()).map(|_| ()),
            expect,
        );
        check(
            &format!("update_customer {what}"),
            till.update_customer(json.to_string()).map(|_| ()),
            expect,
        );
    }
    check(
        "create_customer huge",
        till.create_customer(huge.clone()).map(|_| ()),
        Expect::TooLarge,
    );
    check(
        "update_customer unknown",
        till.update_customer(json!({"id":"nobody","name":"X"}).to_string())
            .map(|_| ()),
        Expect::NotFound,
    );
    for (what, key, json, expect) in [
        ("empty key", "", "{}", Expect::Invalid("empty")),
        (
            "control key",
            "a\u{1b}b",
            "{}",
            Expect::Invalid("control characters"),
        ),
        (
            "long key",
            &*"k".repeat(200),
            "{}",
            Expect::Invalid("longer than 128"),
        ),
        ("bad json", "daily", "{", Expect::Invalid("not valid JSON")),
        (
            "huge json",
            "daily",
            &*format!("\"{huge}\""),
            Expect::TooLarge,
        ),
    ] {
        check(
            &format!("put_report {what}"),
            till.put_report(key.into(), json.into()),
            expect,
        );
    }
    for (what, json, expect) in [
        (
            "garbage",
            "nope".to_owned(),
            Expect::Invalid("not valid JSON"),
        ),
        ("object", "{}".to_owned(), Expect::Invalid("JSON array")),
        (
            "item without id",
            json!([{"name":"x"}]).to_string(),
            Expect::Invalid("product #1"),
        ),
        (
            "second item bad",
            json!([{"id":"p2","name":"ok"},{"id":"p3","name":5}]).to_string(),
            Expect::Invalid("product #2"),
        ),
        (
            "item too large",
            json!([{"id":"p4","name":"x".repeat(300_000)}]).to_string(),
            Expect::Invalid("product #1"),
        ),
    ] {
        check(
            &format!("import_products {what}"),
            till.import_products(json).map(|_| ()),
            expect,
        );
    }
    for name in [
        "",
        "SALE",
        "sale ",
        "invoice",
        "sale\u{0}",
        &"x".repeat(10_000),
    ] {
        check(
            &format!(
                "entity_type_from_name {:?}",
                name.chars().take(10).collect::<String>()
            ),
            pos_sync::api::entity_type_from_name(name.into()).map(|_| ()),
            Expect::Invalid("unknown entity type"),
        );
    }
    // Lookups and searches never fail on odd text, and find nothing that is not there.
    for query in [
        "\"",
        "*",
        "\"*\"",
        "NEAR(a b)",
        "a AND OR NOT b",
        "-",
        "^",
        "name:cola",
        "(",
        ")",
        "' OR 1=1 --",
        "'; DROP TABLE products; --",
        "\u{0}",
        "%",
        "_",
        "\\",
        "🍺",
        "c\u{301}ola",
        "ﬁ",
        "İ",
        &"cola ".repeat(10_000),
        "",
    ] {
        till.search_products(query.into(), 10)
            .unwrap_or_else(|e| panic!("search_products {query:?}: {e}"));
        till.search_customers(query.into(), 10)
            .unwrap_or_else(|e| panic!("search_customers {query:?}: {e}"));
        assert_eq!(till.product_by_barcode(query.into()).unwrap(), None);
        assert_eq!(till.product_by_sku(query.into()).unwrap(), None);
        assert!(till.get_sale(query.into()).unwrap().is_none());
    }
    assert_eq!(till.search_products("COLA 33".into(), 5).unwrap().len(), 1);
    assert_eq!(
        till.search_products("' OR 1=1 --".into(), 5).unwrap().len(),
        0
    );
    assert_eq!(
        rig::dump(&till),
        before,
        "a refused call changed the database"
    );

    // SQL-looking and unusual-but-valid text is data: stored exactly, nothing else touched.
    for (i, id) in [
        "'; DROP TABLE sales; --",
        "Robert'); DELETE FROM sync_queue;--",
        "ünïcödé 😀 \u{202e}RTL",
        "%_\\",
    ]
    .into_iter()
    .enumerate()
    {
        let receipt = till.record_sale(rig::sale(id, "p1", 1)).unwrap();
        assert_eq!(receipt.receipt_number, format!("S1-R1-{:06}", i + 2));
        let stored = till.get_sale(id.into()).unwrap().unwrap();
        assert_eq!(stored.sale_id, id);
    }
    assert_eq!(till.queue_stats().unwrap().pending, 6);
    assert!(till.integrity_check().unwrap().ok);
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.db");
    let base = || {
        let mut c = EngineConfig::new(path.to_str().unwrap(), "S1", "R1", "till-1");
        c.server_url = Some("https://sync.example.com".into());
        c
    };
    type Change = Box<dyn Fn(&mut EngineConfig)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "batch 0",
            Box::new(|c| c.upload_batch_size = 0),
            "upload_batch_size",
        ),
        (
            "batch -1",
            Box::new(|c| c.upload_batch_size = -1),
            "upload_batch_size",
        ),
        (
            "batch over the protocol",
            Box::new(|c| c.upload_batch_size = 1001),
            "protocol allows",
        ),
        (
            "batch bytes",
            Box::new(|c| c.upload_batch_bytes = 10),
            "upload_batch_bytes",
        ),
        (
            "page 0",
            Box::new(|c| c.download_page_size = 0),
            "download_page_size",
        ),
        (
            "timeout 0",
            Box::new(|c| c.request_timeout_ms = 0),
            "request_timeout_ms",
        ),
        (
            "negative tie",
            Box::new(|c| c.conflict_tie_window_ms = -5),
            "conflict_tie_window_ms",
        ),
        (
            "retention 0",
            Box::new(|c| c.retention_days = 0),
            "retention_days",
        ),
        (
            "empty store",
            Box::new(|c| c.store_id = String::new()),
            "store_id",
        ),
        (
            "control register",
            Box::new(|c| c.register_id = "R\n1".into()),
            "control characters",
        ),
        (
            "long device",
            Box::new(|c| c.device_id = "d".repeat(500)),
            "longer than 128",
        ),
        (
            "plain http",
            Box::new(|c| c.server_url = Some("http://sync.example.com".into())),
            "plain http",
        ),
        (
            "plain http to a LAN",
            Box::new(|c| c.server_url = Some("http://192.168.1.10:8080".into())),
            "plain http",
        ),
        (
            "ftp",
            Box::new(|c| c.server_url = Some("ftp://sync.example.com".into())),
            "https://",
        ),
        (
            "not a url",
            Box::new(|c| c.server_url = Some("sync example com".into())),
            "not a valid URL",
        ),
    ];
    for (what, change, needle) in cases {
        let mut config = base();
        change(&mut config);
        match SyncEngine::open(config) {
            Err(PosSyncError::InvalidInput { reason: m, .. }) => {
                assert!(m.contains(needle), "{what}: {m}")
            }
            Err(e) => panic!("{what}: {e:?}"),
            Ok(_) => panic!("{what}: accepted"),
        }
    }
    let mut missing_dir = base();
    missing_dir.database_path = dir
        .path()
        .join("no/such/dir/till.db")
        .to_str()
        .unwrap()
        .into();
    assert!(
        matches!(SyncEngine::open(missing_dir), Err(PosSyncError::InvalidInput { reason: m, .. }) if m.contains("does not exist"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_merged_resolution_is_refused_and_changes_nothing() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let mut config = rig.config(dir.path().join("till.db").to_str().unwrap(), &rig.url());
    config.conflict_tie_window_ms = 600_000;
    let till = SyncEngine::open(config).unwrap();
    till.create_customer(json!({"id":"c1","name":"Ana","phone":"1"}).to_string())
        .unwrap();
    till.sync_now().await;
    rig.put(
        "customer",
        json!([{"id":"c1","name":"Ana","phone":"server"}]),
    )
    .await;
    till.update_customer(json!({"id":"c1","name":"Ana","phone":"till"}).to_string())
        .unwrap();
    assert_eq!(till.sync_now().await.conflicts, 1);
    let conflict = till.conflicts().unwrap().remove(0);
    let before = rig::dump(&till);
    use pos_sync::protocol::Resolution::*;
    for (what, resolution, merged, expect) in [
        (
            "no merged json",
            Merged,
            None,
            Expect::Invalid("needs the merged"),
        ),
        (
            "garbage",
            Merged,
            Some("{".to_owned()),
            Expect::Invalid("not valid JSON"),
        ),
        (
            "array",
            Merged,
            Some("[]".to_owned()),
            Expect::Invalid("must be a JSON object"),
        ),
        (
            "other id",
            Merged,
            Some(json!({"id":"c2","name":"Ana"}).to_string()),
            Expect::Invalid("the conflict is about"),
        ),
        (
            "no name",
            Merged,
            Some(json!({"id":"c1"}).to_string()),
            Expect::Invalid("no 'name'"),
        ),
        (
            "huge",
            Merged,
            Some(json!({"id":"c1","name":"x".repeat(300_000)}).to_string()),
            Expect::TooLarge,
        ),
    ] {
        let result = till
            .resolve_conflict(conflict.conflict_id.clone(), resolution, merged)
            .await;
        check(
            &format!("resolve_conflict {what}"),
            result.map(|_| ()),
            expect,
        );
    }
    check(
        "resolve_conflict unknown id",
        till.resolve_conflict("'; DROP TABLE conflicts; --".into(), KeepServer, None)
            .await
            .map(|_| ()),
        Expect::NotFound,
    );
    assert_eq!(
        rig::dump(&till),
        before,
        "a refused resolution changed the database"
    );
    let kept = till
        .resolve_conflict(conflict.conflict_id, KeepLocal, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.phone.as_deref(), Some("till"));
}

// ------------------------------------------------------------------ property runs

/// Valid answers of every kind, to mutate.
fn sample_answers() -> Vec<(&'static str, Vec<u8>)> {
    let record = |id: &str, name: &str| {
        let payload = json!({"id": id, "name": name, "price": 120});
        ServerRecord {
            entity_type: pos_sync::model::EntityType::Product,
            entity_id: id.into(),
            version: 3,
            deleted: false,
            updated_hlc: 1_700_000_000_000 << 16,
            checksum: payload_checksum(&payload),
            payload,
        }
    };
    let records = vec![record("p1", "Cola"), record("p2", "Água 1,5 l"), {
        let mut r = record("p3", "");
        r.deleted = true;
        r.payload = Value::Null;
        r.checksum = payload_checksum(&Value::Null);
        r
    }];
    let page = DownloadResponse {
        entity_type: pos_sync::model::EntityType::Product,
        checksum: batch_checksum(&records),
        records,
        next_token: "v1.42".into(),
        has_more: true,
        server_time: 1_700_000_000_000,
    };
    let upload = UploadResponse {
        results: vec![
            ChangeResult {
                change_id: "c-1".into(),
                status: ChangeStatus::Applied,
                version: Some(1),
                code: None,
                reason: None,
                conflict_id: None,
                server_record: None,
            },
            ChangeResult {
                change_id: "c-2".into(),
                status: ChangeStatus::Conflict,
                version: None,
                code: None,
                reason: Some("stale".into()),
                conflict_id: Some("k-1".into()),
                server_record: Some(record("c9", "Ana")),
            },
        ],
        server_time: 1_700_000_000_000,
    };
    let status: StatusResponse = serde_json::from_value(json!({
        "protocol_version": 1, "server_time": 1_700_000_000_000i64, "store_id": "S1",
        "device_id": "till-1", "open_conflicts": 0,
        "entities": [{"entity_type": "sale", "count": 3, "checksum": 4_000_000_000u32}],
        "rate_limit": {"limit": 600, "remaining": 599, "reset_seconds": 60}
    }))
    .unwrap();
    let resolve = ResolveResponse {
        conflict_id: "k-1".into(),
        record: record("c9", "Ana"),
        server_time: 1_700_000_000_000,
    };
    vec![
        ("/api/sync/download", serde_json::to_vec(&page).unwrap()),
        ("/api/sync/upload", serde_json::to_vec(&upload).unwrap()),
        ("/api/sync/status", serde_json::to_vec(&status).unwrap()),
        ("/api/sync/resolve", serde_json::to_vec(&resolve).unwrap()),
        (
            "error",
            serde_json::to_vec(&ErrorBody::new(ErrorCode::ChecksumMismatch, "bad")).unwrap(),
        ),
    ]
}

/// One random mutation: flip, insert, delete, duplicate a slice, truncate, or splice in a
/// JSON-ish token.
pub fn mutate(rng: &mut impl Rng, bytes: &mut Vec<u8>) {
    const TOKENS: &[&[u8]] = &[
        b"null",
        b"true",
        b"-1",
        b"1e999",
        b"9223372036854775808",
        b"\"\"",
        b"{}",
        b"[]",
        b"\"\\u0000\"",
        b"\"\\ud800\"",
        b"0.1",
        b"\"v1.\"",
        b"[[[[[[[[",
        b"\xff\xfe",
    ];
    if bytes.is_empty() {
        bytes.extend_from_slice(TOKENS[rng.random_range(0..TOKENS.len())]);
        return;
    }
    let at = rng.random_range(0..bytes.len());
    match rng.random_range(0..6) {
        0 => bytes[at] ^= rng.random_range(1..=255u8),
        1 => bytes.insert(at, rng.random()),
        2 => {
            bytes.remove(at);
        }
        3 => {
            let end = (at + rng.random_range(1..64)).min(bytes.len());
            let slice = bytes[at..end].to_vec();
            let to = rng.random_range(0..bytes.len());
            bytes.splice(to..to, slice);
        }
        4 => bytes.truncate(at),
        _ => {
            let token = TOKENS[rng.random_range(0..TOKENS.len())];
            let end = (at + rng.random_range(0..8)).min(bytes.len());
            bytes.splice(at..end, token.iter().copied());
        }
    }
}

#[test]
fn mutated_server_answers_never_panic_and_never_verify_when_changed() {
    let iterations = rig::size("FUZZ_ANSWERS", 3_000, 200_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xf022_0009);
    let samples = sample_answers();
    let (mut parsed, mut verified_changed) = (0usize, 0usize);
    for _ in 0..iterations {
        let (path, original) = &samples[rng.random_range(0..samples.len())];
        let mut bytes = original.clone();
        for _ in 0..rng.random_range(1..=4) {
            mutate(&mut rng, &mut bytes);
        }
        let status = [200u16, 200, 200, 400, 401, 429, 500, 503][rng.random_range(0..8)];
        let declared = rng
            .random_bool(0.5)
            .then(|| pos_sync::protocol::body_checksum(original));
        if pos_sync::untrusted::decode_answer(path, status, declared.as_deref(), &bytes).is_ok() {
            parsed += 1;
        }
        if let Ok(page) = serde_json::from_slice::<DownloadResponse>(&bytes) {
            if pos_sync::untrusted::verify_download_page(&page, page.entity_type, 5000).is_ok() {
                let before: DownloadResponse = serde_json::from_slice(original).unwrap();
                if page.records != before.records {
                    verified_changed += 1;
                }
            }
        }
    }
    assert_eq!(
        verified_changed, 0,
        "a page whose records changed passed verification"
    );
    rig::report(
        "fuzz answers (property run)",
        &format!("{iterations} mutated answers: 0 panics, {parsed} still decoded, 0 changed pages verified"),
    );
}

/// A random JSON value of bounded size, biased towards the fields the validators read.
fn random_json(rng: &mut impl Rng, depth: u32) -> Value {
    const KEYS: &[&str] = &[
        "id",
        "lines",
        "product_id",
        "quantity",
        "total",
        "customer_id",
        "quantity_delta",
        "name",
        "phone",
        "email",
        "sku",
        "barcode",
        "amount",
        "currency",
        "valid_from",
        "",
    ];
    let leaf = |rng: &mut dyn rand::RngCore| -> Value {
        match rng.random_range(0..8) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => json!(rng.random::<i64>()),
            3 => json!(rng.random::<f64>() * 1e6),
            4 => json!(""),
            5 => json!("   "),
            6 => json!(String::from_utf8_lossy(
                &(0..rng.random_range(0..200))
                    .map(|_| rng.random::<u8>())
                    .collect::<Vec<u8>>()
            )),
            _ => json!(format!("k{}", rng.random_range(0..5))),
        }
    };
    if depth == 0 || rng.random_bool(0.3) {
        return leaf(rng);
    }
    if rng.random_bool(0.3) {
        Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        )
    } else {
        Value::Object(
            (0..rng.random_range(0..7))
                .map(|_| {
                    (
                        KEYS[rng.random_range(0..KEYS.len())].to_owned(),
                        random_json(rng, depth - 1),
                    )
                })
                .collect(),
        )
    }
}

#[test]
fn random_app_documents_get_a_typed_answer_and_never_panic() {
    use pos_sync::documents;
    let iterations = rig::size("FUZZ_DOCUMENTS", 5_000, 300_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(0xd0c5_0009);
    let mut accepted = 0usize;
    for _ in 0..iterations {
        let mut text = serde_json::to_vec(&random_json(&mut rng, 4)).unwrap();
        if rng.random_bool(0.3) {
            mutate(&mut rng, &mut text);
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        let results = [
            documents::sale(&text).map(|_| ()),
            documents::stock_adjustment(&text).map(|_| ()),
            documents::parse_object("customer", &text)
                .and_then(|d| documents::customer_fields(&d).map(|_| ())),
            documents::parse_object("product", &text)
                .and_then(|d| documents::product_fields(&d).map(|_| ())),
            documents::parse_object("price", &text)
                .and_then(|d| documents::price_fields(&d).map(|_| ())),
        ];
        for result in results {
            match result {
                Ok(()) => accepted += 1,
                Err(pos_sync::error::Error::InvalidInput { .. })
                | Err(pos_sync::error::Error::PayloadTooLarge(_)) => {}
                Err(other) => panic!("{text}: untyped answer {other:?}"),
            }
        }
    }
    rig::report(
        "fuzz documents (property run)",
        &format!("{iterations} random documents x 5 validators: 0 panics, every refusal InvalidInput/PayloadTooLarge, {accepted} accepted"),
    );
}
