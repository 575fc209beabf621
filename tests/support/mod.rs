//! Shared pieces of the end-to-end tests: a real reference server on loopback, an admin
//! client for server-side edits, engines on real database files, and a fault-injecting
//! proxy between engine and server.

#![allow(dead_code)] // each test file uses a different subset

pub mod proxy;

use pos_sync::protocol::ServerRecord;
use pos_sync::{EngineConfig, SyncEngine};
use pos_sync_server::testing::{spawn, TestServer};
use serde_json::Value;
use std::sync::Arc;

pub const ADMIN: &str = "admin-secret";
pub const STORE: &str = "S1";

/// A reference server with two tills of store S1 and one till of store S2.
pub struct World {
    pub server: TestServer,
    pub dir: tempfile::TempDir,
    pub admin: Admin,
}

pub const TILL_1: (&str, &str) = ("token-till-1", "till-1");
pub const TILL_2: (&str, &str) = ("token-till-2", "till-2");
pub const OTHER_STORE_TILL: (&str, &str) = ("token-s2", "till-s2");

impl World {
    pub fn start() -> World {
        let server = spawn(
            &[
                (TILL_1.0, TILL_1.1, STORE),
                (TILL_2.0, TILL_2.1, STORE),
                (OTHER_STORE_TILL.0, OTHER_STORE_TILL.1, "S2"),
            ],
            Some(ADMIN),
        );
        World {
            admin: Admin::new(server.url(), STORE, ADMIN),
            server,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn url(&self) -> String {
        self.server.url().to_owned()
    }

    /// A config for `till` (token, device id) of store S1 against `url`, on its own file.
    pub fn config(&self, till: (&str, &str), url: &str) -> EngineConfig {
        let path = self.dir.path().join(format!("{}.db", till.1));
        let mut config = EngineConfig::new(
            path.to_str().unwrap(),
            STORE,
            &till.1.replace("till-", "R"),
            till.1,
        );
        config.server_url = Some(url.to_owned());
        config.auth_token = Some(till.0.to_owned());
        config.durability = Some(pos_sync::store::Durability::Normal);
        config.retry_base_ms = 50;
        config.retry_max_ms = 200;
        config.network_debounce_ms = 20;
        config
    }

    pub fn engine(&self, till: (&str, &str)) -> Arc<SyncEngine> {
        SyncEngine::open(self.config(till, &self.url())).unwrap()
    }

    /// Server-side upsert of downloaded data (products, prices, reports, customers).
    pub async fn put(&self, entity_type: &str, docs: Value) {
        self.admin.put(entity_type, docs).await;
    }

    pub async fn delete(&self, entity_type: &str, id: &str) {
        self.admin.delete(entity_type, id).await;
    }

    /// Live records of a type as the server holds them.
    pub async fn records(&self, entity_type: &str) -> Vec<ServerRecord> {
        self.admin.records(entity_type).await
    }

    /// Server-side stock level of a product (0 if it never moved).
    pub async fn stock(&self, product_id: &str) -> f64 {
        self.admin
            .stock()
            .await
            .get(product_id)
            .copied()
            .unwrap_or(0.0)
    }
}

/// The reference server's admin routes for one store: server-side edits and read-outs.
pub struct Admin {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Admin {
    pub fn new(server_url: &str, store: &str, token: &str) -> Admin {
        Admin {
            base: format!("{server_url}/admin/stores/{store}"),
            token: token.to_owned(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(std::time::Duration::from_secs(60))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "admin {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Server-side upsert of downloaded data (products, prices, reports, customers).
    pub async fn put(&self, entity_type: &str, docs: Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/records/{entity_type}"),
            Some(docs),
        )
        .await;
    }

    pub async fn delete(&self, entity_type: &str, id: &str) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/records/{entity_type}/{id}"),
            None,
        )
        .await;
    }

    /// Live records of a type as the server holds them.
    pub async fn records(&self, entity_type: &str) -> Vec<ServerRecord> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/records/{entity_type}"),
                None,
            )
            .await;
        serde_json::from_value(v).unwrap()
    }

    /// Server-side stock levels of every product that moved.
    pub async fn stock(&self) -> std::collections::BTreeMap<String, f64> {
        let v = self.call(reqwest::Method::GET, "/stock", None).await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["product_id"].as_str().unwrap().to_owned(),
                    l["quantity"].as_f64().unwrap(),
                )
            })
            .collect()
    }
}

/// A sale of `quantity` units of `product`.
pub fn sale(id: &str, product: &str, quantity: i64) -> String {
    serde_json::json!({
        "id": id,
        "lines": [{"product_id": product, "quantity": quantity, "unit_price": 250}],
        "payments": [{"method": "card", "amount": 250 * quantity}],
        "total": 250 * quantity,
    })
    .to_string()
}

/// Waits (up to 10 s) until `check` holds, polling.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}
