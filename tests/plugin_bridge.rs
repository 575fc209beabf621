//! The plugin bridge (src/bridge/) end to end: JSON calls as the Capacitor plugin classes
//! make them, against real engines on real database files and the reference server on
//! loopback, with a host that records events and keeps secrets in memory (the platforms'
//! Keystore/Keychain stores are tested on the JVM and on Linux Swift).

mod support;

use pos_sync::bridge::{BridgeError, BridgeHost, HostError, PluginBridge};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use support::*;

/// A platform stand-in: events recorded, secrets in memory, background sync counted. When
/// `answer_tokens` is set it answers `tokenRequested` with `setToken`, from another thread,
/// as a web app would.
#[derive(Default)]
struct TestHost {
    dir: String,
    events: Mutex<Vec<(String, Value)>>,
    secrets: Mutex<HashMap<String, String>>,
    scheduled: Mutex<Vec<i64>>,
    listening: bool,
    answer_tokens: Option<String>,
    bridge: OnceLock<Weak<PluginBridge>>,
}

impl TestHost {
    fn new(dir: &std::path::Path) -> TestHost {
        TestHost {
            dir: dir.to_str().unwrap().to_owned(),
            listening: true,
            ..TestHost::default()
        }
    }

    fn events(&self, name: &str) -> Vec<Value> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl BridgeHost for TestHost {
    fn emit(&self, event: String, data_json: String) {
        let data: Value = serde_json::from_str(&data_json).expect("events are JSON");
        if event == "tokenRequested" {
            if let (Some(token), Some(bridge)) = (
                self.answer_tokens.clone(),
                self.bridge.get().and_then(Weak::upgrade),
            ) {
                std::thread::spawn(move || {
                    let args = json!({ "token": token }).to_string();
                    bridge.call_blocking("setToken".into(), args).unwrap();
                });
            }
        }
        self.events.lock().unwrap().push((event, data));
    }
    fn has_listeners(&self, _event: String) -> bool {
        self.listening
    }
    fn data_dir(&self) -> String {
        self.dir.clone()
    }
    fn load_secret(&self, name: String) -> Result<Option<String>, HostError> {
        Ok(self.secrets.lock().unwrap().get(&name).cloned())
    }
    fn save_secret(&self, name: String, value: String) -> Result<(), HostError> {
        self.secrets.lock().unwrap().insert(name, value);
        Ok(())
    }
    fn delete_secret(&self, name: String) -> Result<(), HostError> {
        self.secrets.lock().unwrap().remove(&name);
        Ok(())
    }
    fn schedule_background_sync(&self, interval_minutes: i64) -> Result<i64, HostError> {
        self.scheduled.lock().unwrap().push(interval_minutes);
        Ok(interval_minutes.max(15))
    }
    fn cancel_background_sync(&self) -> Result<(), HostError> {
        self.scheduled.lock().unwrap().clear();
        Ok(())
    }
    fn engine_opened(&self) {}
    fn engine_closed(&self) {}
}

fn bridge_on(host: &Arc<TestHost>) -> Arc<PluginBridge> {
    let bridge = PluginBridge::with_token_timeout(host.clone(), Duration::from_secs(5));
    host.bridge.set(Arc::downgrade(&bridge)).unwrap();
    bridge
}

async fn call(bridge: &PluginBridge, method: &str, args: Value) -> Result<Value, BridgeError> {
    let text = bridge.call(method.into(), args.to_string()).await?;
    Ok(serde_json::from_str(&text).expect("results are JSON"))
}

fn open_args(world: &World, database: &str) -> Value {
    json!({
        "databasePath": database,
        "storeId": STORE,
        "registerId": "R1",
        "deviceId": TILL_1.1,
        "serverUrl": world.url(),
        "durability": "normal",
    })
}

/// Every file under `dir` (recursively), as text, for "no secret in a plain file" checks.
fn files_text(dir: &std::path::Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all += &files_text(&path);
        } else {
            all += &String::from_utf8_lossy(&std::fs::read(&path).unwrap());
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_goes_in_as_the_app_wrote_it_and_syncs_with_a_token_the_app_gives_on_request() {
    let world = World::start();
    let host = Arc::new(TestHost {
        answer_tokens: Some(TILL_1.0.into()),
        ..TestHost::new(world.dir.path())
    });
    let bridge = bridge_on(&host);

    let opened = call(&bridge, "open", open_args(&world, "till.db"))
        .await
        .unwrap();
    let path = world.dir.path().join("till.db");
    assert_eq!(opened["databasePath"], path.to_str().unwrap());
    assert_eq!(opened["version"], env!("CARGO_PKG_VERSION"));
    // The listener gets the current status at once, in the TypeScript shape.
    let status = &host.events("syncStatus")[0];
    assert_eq!(status["phase"], "idle");
    assert_eq!(status["queue"]["pending"], 0);
    assert!(status["queue"]["byEntity"].is_array(), "{status}");

    // Documents cross as JSON objects both ways (no JSON text inside JSON).
    let sale = r#"{"id":"s1","lines":[{"product_id":"p1","quantity":2}],"total":12.50}"#;
    let args = format!(r#"{{"sale":{sale}}}"#);
    let receipt: Value =
        serde_json::from_str(&bridge.call("recordSale".into(), args).await.unwrap()).unwrap();
    assert_eq!(receipt["saleId"], "s1");
    assert_eq!(receipt["receiptNumber"], "S1-R1-000001");
    assert!(
        receipt["hlc"].as_str().unwrap().parse::<i64>().unwrap() > 0,
        "{receipt}"
    );
    let got = call(&bridge, "getSale", json!({"saleId": "s1"}))
        .await
        .unwrap();
    assert_eq!(got["sale"]["json"]["total"], 12.5, "{got}");
    assert_eq!(got["sale"]["json"]["receipt_number"], "S1-R1-000001");

    // No token yet: the engine asks the app, the app answers, the sale goes up.
    let report = call(&bridge, "syncNow", json!({})).await.unwrap();
    assert_eq!(report["outcome"], "completed", "{report}");
    assert_eq!(report["uploaded"], 1);
    assert_eq!(
        host.events("tokenRequested")[0],
        json!({"refresh": false, "timeoutMs": 5000})
    );
    assert_eq!(world.records("sale").await.len(), 1);
    let stats = call(&bridge, "getQueueStats", json!({})).await.unwrap();
    assert_eq!(stats["synced"], 1);
    assert!(stats["oldestUnsyncedAgeMs"].is_null(), "{stats}");
}

/// Kotlin's forwarder path: `call_blocking` from threads of their own (as `Dispatchers.IO`
/// gives them), a sync that waits for the app's token included; on a thread of an async
/// runtime it refuses instead of stalling that runtime.
#[test]
fn the_blocking_call_answers_like_the_async_one_on_a_thread_of_its_own() {
    let world = World::start();
    let host = Arc::new(TestHost {
        answer_tokens: Some(TILL_1.0.into()),
        ..TestHost::new(world.dir.path())
    });
    let bridge = bridge_on(&host);
    let blocking = |method: &str, args: Value| -> Result<Value, BridgeError> {
        let text = bridge.call_blocking(method.into(), args.to_string())?;
        Ok(serde_json::from_str(&text).expect("results are JSON"))
    };

    blocking("open", open_args(&world, "till.db")).unwrap();
    let sale = json!({"id": "s1", "lines": [{"product_id": "p1", "quantity": 1}]});
    let receipt = blocking("recordSale", json!({ "sale": sale })).unwrap();
    assert_eq!(receipt["receiptNumber"], "S1-R1-000001");
    let bad = blocking("getSale", json!({})).unwrap_err();
    assert_eq!(bad.code, "INVALID_INPUT", "{bad:?}");

    // The engine asks for a token while this thread blocks; the app answers from another.
    let report = blocking("syncNow", json!({})).unwrap();
    assert_eq!(report["outcome"], "completed", "{report}");
    assert_eq!(report["uploaded"], 1);

    let on_runtime = pos_sync::runtime::runtime()
        .block_on(async { bridge.call_blocking("getStatus".into(), "{}".into()) })
        .unwrap_err();
    assert_eq!(on_runtime.code, "INTERNAL", "{on_runtime:?}");
    assert!(
        on_runtime.message.contains("await `call`"),
        "{on_runtime:?}"
    );
    let server = pos_sync::runtime::runtime().block_on(world.records("sale"));
    assert_eq!(server.len(), 1, "the sale is on the server once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_calls_get_typed_errors_naming_the_problem_and_change_nothing() {
    let world = World::start();
    let host = Arc::new(TestHost::new(world.dir.path()));
    let bridge = bridge_on(&host);

    let before_open = call(&bridge, "getStatus", json!({})).await.unwrap_err();
    assert_eq!(before_open.code, "NOT_OPEN");
    let unknown = call(&bridge, "frobnicate", json!({})).await.unwrap_err();
    assert_eq!(unknown.code, "UNIMPLEMENTED");
    assert!(unknown.message.contains("frobnicate"), "{unknown}");

    let mut args = open_args(&world, "till.db");
    args["uploadBatchSize"] = json!("many");
    let bad = call(&bridge, "open", args).await.unwrap_err();
    assert_eq!(bad.code, "INVALID_INPUT");
    assert!(bad.message.contains("'uploadBatchSize'"), "{bad}");
    let missing = call(
        &bridge,
        "open",
        json!({"storeId": "S1", "registerId": "R1"}),
    )
    .await
    .unwrap_err();
    assert!(
        missing.message.contains("'deviceId' is required"),
        "{missing}"
    );
    let typo = call(
        &bridge,
        "open",
        json!({"storeId": "S1", "registerId": "R1", "deviceId": "d", "serverURL": "x"}),
    )
    .await
    .unwrap_err();
    assert!(typo.message.contains("serverURL"), "{typo}");

    call(&bridge, "open", open_args(&world, "till.db"))
        .await
        .unwrap();
    for (method, args, expected) in [
        (
            "recordSale",
            json!({"sale": [1, 2]}),
            "'sale' must be an object",
        ),
        ("recordSale", json!({"sale": {"id": "s1"}}), "lines"),
        (
            "searchProducts",
            json!({"query": "co", "limit": 5000}),
            "from 1 to 1000",
        ),
        (
            "searchProducts",
            json!({"query": "co", "limit": 2.5}),
            "'limit'",
        ),
        ("getSale", json!({"saleID": "s1"}), "saleID"),
        (
            "resolveConflict",
            json!({"conflictId": "c", "resolution": "merged"}),
            "needs the merged customer",
        ),
        (
            "resolveConflict",
            json!({"conflictId": "c", "resolution": "mine"}),
            "keep_local",
        ),
        ("startAutoSync", json!({"intervalMs": 10}), "'intervalMs'"),
    ] {
        let err = call(&bridge, method, args.clone()).await.unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT", "{method} {args}: {err}");
        assert!(err.message.contains(expected), "{method} {args}: {err}");
    }
    let stats = call(&bridge, "getQueueStats", json!({})).await.unwrap();
    assert_eq!(stats["pending"], 0, "nothing was queued by a refused call");
    // Defaults: a search without a limit, background sync without an interval.
    assert_eq!(
        call(&bridge, "searchProducts", json!({"query": "x"}))
            .await
            .unwrap(),
        json!({"products": []})
    );
    let info = call(&bridge, "enableBackgroundSync", json!({}))
        .await
        .unwrap();
    assert_eq!(info, json!({"enabled": true, "intervalMinutes": 30}));
    assert_eq!(*host.scheduled.lock().unwrap(), vec![30]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saved_state_holds_no_secret_and_a_background_worker_opens_the_same_engine_from_it() {
    let world = World::start();
    let host = Arc::new(TestHost::new(world.dir.path()));
    let bridge = bridge_on(&host);
    let mut args = open_args(&world, "till.db");
    args["authToken"] = json!(TILL_1.0);
    call(&bridge, "open", args).await.unwrap();
    call(
        &bridge,
        "recordSale",
        json!({"sale": {"id": "s1", "lines": [{"product_id": "p", "quantity": 1}]}}),
    )
    .await
    .unwrap();
    call(
        &bridge,
        "setToken",
        json!({"token": "token-rotated-secret"}),
    )
    .await
    .unwrap();

    let files = files_text(world.dir.path());
    assert!(
        files.contains("\"storeId\":\"S1\""),
        "the state file is written"
    );
    assert!(
        !files.contains(TILL_1.0) && !files.contains("token-rotated-secret"),
        "{files}"
    );
    assert_eq!(
        host.secrets.lock().unwrap()["authToken"],
        "token-rotated-secret"
    );

    // A background worker in the same process: its bridge reads the saved configuration,
    // and the engine registry hands it the very engine the app opened.
    let worker = PluginBridge::new(host.clone());
    let config = worker.saved_config().unwrap().expect("saved by open");
    assert_eq!(config.auth_token, None);
    let engine = pos_sync::SyncEngine::open(config).unwrap();
    assert_eq!(engine.queue_stats().unwrap().pending, 1, "the app's engine");
    call(&bridge, "setToken", json!({"token": TILL_1.0}))
        .await
        .unwrap();
    worker.serve_tokens(&engine).unwrap();
    assert_eq!(engine.run_batch_sync(10_000).await.uploaded, 1);

    call(&bridge, "close", json!({})).await.unwrap();
    assert!(host.secrets.lock().unwrap().is_empty());
    assert!(
        worker.saved_config().unwrap().is_none(),
        "close forgets the state"
    );
    assert_eq!(
        call(&bridge, "getStatus", json!({}))
            .await
            .unwrap_err()
            .code,
        "NOT_OPEN"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_state_file_of_plugin_0_1_is_moved_into_the_secret_store_and_deleted() {
    let world = World::start();
    let dir = world.dir.path();
    let legacy = dir.join("pos-sync-plugin.json");
    let old = json!({
        "config": {"storeId": "S1", "registerId": "R1", "deviceId": "d1", "databasePath": "old.db",
                   "serverUrl": world.url(), "encryptionKey": "key-very-secret"},
        "token": "token-very-secret",
        "backgroundIntervalMinutes": 45,
    });
    std::fs::write(&legacy, old.to_string()).unwrap();
    let host = Arc::new(TestHost::new(dir));
    let bridge = bridge_on(&host);

    let config = bridge.saved_config().unwrap().expect("migrated");
    assert_eq!(config.encryption_key.as_deref(), Some("key-very-secret"));
    assert_eq!(config.database_path, dir.join("old.db").to_str().unwrap());
    assert!(!legacy.exists(), "the plain file is deleted");
    let files = files_text(dir);
    assert!(!files.contains("very-secret"), "{files}");
    let secrets = host.secrets.lock().unwrap().clone();
    assert_eq!(secrets["authToken"], "token-very-secret");
    assert_eq!(secrets["encryptionKey"], "key-very-secret");
    let worker = PluginBridge::new(host.clone());
    assert!(
        worker.saved_config().unwrap().is_some(),
        "the new file is read back"
    );
}
