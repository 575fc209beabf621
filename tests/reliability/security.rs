//! Security at the engine level. Store scoping is covered at the protocol level by the
//! server's conformance suite (`server/tests/conformance.rs`, `stores_are_isolated`: reads,
//! writes, reused change ids, another store's conflict); here real engines of two stores
//! check the same through the API. Plain http is refused except to this machine (the unit
//! test `plain_http_only_to_loopback` in src/transport.rs checks the URL rule; here through
//! `SyncEngine::open`). Logs: tests/reliability_logs.rs (its own binary).

use crate::rig::{self, products, sale, Rig, OTHER_TOKEN};
use pos_sync::protocol::{Resolution, ResolveRequest};
use pos_sync::transport::{Resolved, StaticToken, Transport, TransportSettings};
use pos_sync::{EngineConfig, PosSyncError, SyncEngine};
use serde_json::json;
use std::sync::Arc;

#[test]
fn plain_http_is_refused_except_to_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (url, allowed)) in [
        ("http://127.0.0.1:8080", true),
        ("http://localhost:8080", true),
        ("http://[::1]:8080", true),
        ("https://sync.example.com", true),
        ("http://sync.example.com", false),
        ("http://localhost.attacker.example", false),
        ("http://127.0.0.1.attacker.example", false),
        ("http://10.0.2.2:8080", false),
        ("http://0.0.0.0:8080", false),
        ("ws://127.0.0.1:8080", false),
        ("file:///etc/passwd", false),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(format!("till-{i}.db"));
        let mut config = EngineConfig::new(path.to_str().unwrap(), "S1", "R1", "till-1");
        config.server_url = Some(url.into());
        match SyncEngine::open(config) {
            Ok(_) => assert!(allowed, "{url} was accepted"),
            Err(PosSyncError::InvalidInput { reason: m, .. }) => {
                assert!(!allowed, "{url}: {m}");
                assert!(m.contains("https"), "{url}: {m}");
            }
            Err(e) => panic!("{url}: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_of_another_store_can_neither_read_nor_write_nor_resolve() {
    let rig = Rig::start(":memory:");
    let dir = tempfile::tempdir().unwrap();
    let mut config = rig.config(dir.path().join("a.db").to_str().unwrap(), &rig.url());
    config.conflict_tie_window_ms = 600_000;
    let store_a = SyncEngine::open(config).unwrap();
    let mut config_b = EngineConfig::new(
        dir.path().join("b.db").to_str().unwrap(),
        "S2",
        "R1",
        "till-s2",
    );
    config_b.server_url = Some(rig.url());
    config_b.auth_token = Some(OTHER_TOKEN.into());
    let store_b = SyncEngine::open(config_b).unwrap();

    rig.put("product", products(0..5, 0)).await;
    store_a
        .create_customer(json!({"id":"c1","name":"Ana","phone":"1"}).to_string())
        .unwrap();
    store_a.record_sale(sale("shared-id", "p1", 2)).unwrap();
    rig::sync_until_converged(&store_a, 10, std::time::Duration::from_secs(20)).await;
    // A conflict in store A.
    rig.put(
        "customer",
        json!([{"id":"c1","name":"Ana","phone":"office"}]),
    )
    .await;
    store_a
        .update_customer(json!({"id":"c1","name":"Ana","phone":"till"}).to_string())
        .unwrap();
    assert_eq!(store_a.sync_now().await.conflicts, 1);
    let conflict = store_a.conflicts().unwrap().remove(0);

    // B reads nothing of A.
    store_b.record_sale(sale("shared-id", "p1", 7)).unwrap();
    store_b
        .create_customer(json!({"id":"c1","name":"Bea"}).to_string())
        .unwrap();
    rig::sync_until_converged(&store_b, 10, std::time::Duration::from_secs(20)).await;
    assert!(store_b.product_by_id("p1".into()).unwrap().is_none());
    assert_eq!(
        store_b.get_customer("c1".into()).unwrap().unwrap().name,
        "Bea"
    );
    // B's writes landed in B only: A's sale and customer are as A left them.
    let a_sales = rig.records("sale").await;
    assert_eq!(a_sales["shared-id"].payload["lines"][0]["quantity"], 2);
    assert_eq!(
        a_sales["shared-id"].payload["receipt_number"],
        "S1-R1-000001"
    );
    let a_customers = rig.records("customer").await;
    assert_eq!(a_customers["c1"].payload["name"], "Ana");
    assert_eq!(rig.stock().await["p1"], -2.0);
    // B cannot resolve A's conflict, even knowing its id.
    let transport = Transport::new(
        &rig.url(),
        Arc::new(StaticToken(OTHER_TOKEN.into())),
        TransportSettings::default(),
    )
    .unwrap();
    let answer = transport
        .resolve(&ResolveRequest {
            conflict_id: conflict.conflict_id.clone(),
            resolution: Resolution::KeepServer,
            payload: None,
            checksum: None,
            hlc: 1,
        })
        .await
        .unwrap();
    let Resolved::Refused(err) = answer else {
        panic!("another store's device must be refused, got {answer:?}");
    };
    assert!(err.to_string().contains("not_found"), "{err}");
    // ... and A still can.
    store_a
        .resolve_conflict(conflict.conflict_id, Resolution::KeepLocal, None)
        .await
        .unwrap();
    assert_eq!(rig.records("customer").await["c1"].payload["phone"], "till");
}

/// A build without SQLCipher must refuse an encryption key instead of writing a plain file
/// the app believes encrypted (with the `encryption` feature, tests/encryption.rs runs).
#[cfg(not(any(feature = "encryption", feature = "encryption-system-openssl")))]
#[test]
fn an_encryption_key_without_sqlcipher_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = EngineConfig::new(
        dir.path().join("till.db").to_str().unwrap(),
        "S1",
        "R1",
        "till-1",
    );
    config.encryption_key = Some("a-key".into());
    match SyncEngine::open(config) {
        Err(PosSyncError::NotConfigured { reason: m, .. }) => {
            assert!(m.contains("encryption"), "{m}")
        }
        other => panic!("{:?}", other.err()),
    }
}
