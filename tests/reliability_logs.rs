//! Security: no secret and no customer data in any log line. A capturing logger at Trace
//! level (every crate: the engine, the reference server in this process, reqwest, hyper)
//! records a full sync with customers, sales, conflicts decided automatically and by a
//! person, a token refresh and a few failures; then no line may hold the device token, the
//! admin token, a customer's name, phone or e-mail, or anything of a sale's payload.
//! Its own test binary: the logger is process-wide.

#[path = "support/log_capture.rs"]
mod log_capture;

use pos_sync::protocol::Resolution;
use pos_sync::transport::TokenProvider;
use pos_sync::{EngineConfig, SyncEngine};
use pos_sync_server::testing::spawn_with;
use pos_sync_server::{Config, DeviceToken};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const TOKEN: &str = "tok-Sekr1t-7f3a9c";
const STALE_TOKEN: &str = "tok-Expired-55e1b0";
const ADMIN: &str = "admin-Sekr1t-91d2";
const NAME: &str = "Zelda Quixotic-Marchbanks";
const NAME_2: &str = "Yolanda Vexworth";
const PHONE: &str = "+351 917 654 321";
const PHONE_DIGITS: &str = "917654321";
const EMAIL: &str = "zelda.q@privacy-check.example";
const NOTE: &str = "gift-wrap-for-Xyzzy-Plugh";

/// Answers a stale token first, the real one when asked to refresh.
struct Rotating(AtomicUsize);

#[async_trait::async_trait]
impl TokenProvider for Rotating {
    async fn token(&self, refresh: bool) -> Result<String, pos_sync::transport::TokenError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(if refresh { TOKEN } else { STALE_TOKEN }.to_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_and_no_customer_data_in_any_log_line() {
    log_capture::install();

    let server = spawn_with(Config {
        devices: vec![DeviceToken::new(TOKEN, "till-1", "S1")],
        admin_token: Some(ADMIN.into()),
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(
        dir.path().join("till.db").to_str().unwrap(),
        "S1",
        "R1",
        "till-1",
    );
    config.server_url = Some(server.url().to_owned());
    config.auth_token = Some(TOKEN.into());
    config.conflict_tie_window_ms = 600_000;
    let till = SyncEngine::open(config).unwrap();
    let http = reqwest::Client::new();
    let admin_put = |docs: serde_json::Value| {
        let request = http
            .put(format!("{}/admin/stores/S1/records/customer", server.url()))
            .bearer_auth(ADMIN)
            .json(&docs);
        async move { assert!(request.send().await.unwrap().status().is_success()) }
    };

    till.create_customer(json!({"id":"c1","name":NAME,"phone":PHONE,"email":EMAIL}).to_string())
        .unwrap();
    till.create_customer(json!({"id":"c2","name":NAME_2}).to_string())
        .unwrap();
    for i in 0..30 {
        till.record_sale(
            json!({"id": format!("s{i}"), "customer_id": "c1", "note": NOTE,
                   "lines": [{"product_id": "p1", "quantity": 1}]})
            .to_string(),
        )
        .unwrap();
    }
    assert_eq!(till.sync_now().await.remaining, 0);
    // A conflict decided by a person, one merged automatically.
    admin_put(
        json!([{"id":"c1","name":NAME,"phone":"+351 900 000 000","email":EMAIL},
                      {"id":"c2","name":NAME_2,"email":"office@privacy-check.example"}]),
    )
    .await;
    till.update_customer(
        json!({"id":"c1","name":NAME,"phone":"+351 911 111 111","email":EMAIL}).to_string(),
    )
    .unwrap();
    till.update_customer(
        json!({"id":"c2","name":format!("{NAME_2} Jr"),"phone":PHONE}).to_string(),
    )
    .unwrap();
    let report = till.sync_now().await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let conflict = till.conflicts().unwrap().remove(0);
    till.resolve_conflict(conflict.conflict_id, Resolution::KeepLocal, None)
        .await
        .unwrap();
    // A refused merged resolution, a search, a token refresh, failures.
    let _ = till
        .resolve_conflict(
            "nope".into(),
            Resolution::Merged,
            Some(format!("{{\"id\":\"c1\",\"name\":\"{NAME}\"")),
        )
        .await;
    let _ = till.search_customers(NAME.into(), 5);
    let _ = till.record_sale(format!("{{\"id\":\"bad\",\"note\":\"{NOTE}\""));
    till.set_token_provider(Arc::new(Rotating(AtomicUsize::new(0))))
        .unwrap();
    till.record_sale(
        json!({"id":"s-last","note":NOTE,"lines":[{"product_id":"p1","quantity":1}]}).to_string(),
    )
    .unwrap();
    let report = till.sync_now().await;
    assert_eq!(report.remaining, 0, "{report:?}");
    let _ = till.check_consistency().await;
    drop(server);
    let offline = till.sync_now().await;
    assert!(offline.error.is_some());

    let lines = log_capture::lines();
    let mut targets: Vec<&str> = lines.iter().filter_map(|l| l.split(' ').nth(1)).collect();
    targets.sort();
    targets.dedup();
    assert!(
        lines.len() > 20,
        "the capture saw the run: {} lines",
        lines.len()
    );
    let secrets = [
        TOKEN,
        STALE_TOKEN,
        ADMIN,
        NAME,
        NAME_2,
        "Quixotic",
        "Vexworth",
        PHONE,
        PHONE_DIGITS,
        "911 111",
        "911111111",
        EMAIL,
        "privacy-check",
        NOTE,
        "Xyzzy",
    ];
    let leaks: Vec<(&str, &String)> = lines
        .iter()
        .flat_map(|l| {
            secrets
                .iter()
                .filter(|s| l.contains(**s))
                .map(move |s| (*s, l))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} leaking lines, e.g. {:?}",
        leaks.len(),
        &leaks[..leaks.len().min(5)]
    );
    println!(
        "RESULT logs: {} log lines at Trace from {targets:?} during a full sync with customers, conflicts, a token refresh and failures; 0 contain a token or customer data",
        lines.len()
    );
}
