//! `make demo`: a day in a shop with two tills, played against the real reference server on
//! an embedded SQLite database. Every step prints what happened; the run exits 0 only if
//! the tills and the server converge with every sale exactly once.
//!
//! To play the same day against another server (`make demo SERVER=laravel`), set
//! `POS_SYNC_DEMO_SERVER_URL`, `POS_SYNC_DEMO_ADMIN_TOKEN` and `POS_SYNC_DEMO_TOKENS` (the
//! tokens of till R1 and R2 of store LISBON-01, separated by a space).

use pos_sync::protocol::Resolution;
use pos_sync::sync::SyncReport;
use pos_sync::{EngineConfig, SyncEngine};
use pos_sync_server::testing::spawn_with;
use pos_sync_server::{Config, DeviceToken};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const ADMIN: &str = "demo-admin-token";
const STORE: &str = "LISBON-01";

type Outcome<T = ()> = Result<T, Box<dyn std::error::Error>>;

struct BackOffice {
    url: String,
    admin: String,
    http: reqwest::Client,
}

impl BackOffice {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Outcome<Value> {
        let mut request = self
            .http
            .request(method, format!("{}/admin/stores/{STORE}{path}", self.url))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            return Err(
                format!("back office call {path} failed: {}", response.text().await?).into(),
            );
        }
        Ok(response.json().await?)
    }

    async fn publish(&self, entity_type: &str, docs: Value) -> Outcome {
        self.call(
            reqwest::Method::PUT,
            &format!("/records/{entity_type}"),
            Some(docs),
        )
        .await?;
        Ok(())
    }

    async fn records(&self, entity_type: &str) -> Outcome<Vec<Value>> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/records/{entity_type}"),
                None,
            )
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }
}

fn step(title: &str) {
    println!("\n== {title}");
}

fn summary(till: &str, r: &SyncReport) {
    println!(
        "   {till}: {:?} — {} uploaded, {} downloaded, {} decided automatically, {} for review, {} still queued",
        r.outcome, r.uploaded, r.downloaded, r.auto_resolved, r.conflicts, r.remaining
    );
}

fn sale(id: &str, lines: &[(&str, i64, i64)], customer: Option<&str>) -> String {
    let total: i64 = lines.iter().map(|(_, q, p)| q * p).sum();
    json!({
        "id": id,
        "lines": lines.iter().map(|(p, q, price)| json!({"product_id": p, "quantity": q, "unit_price": price})).collect::<Vec<_>>(),
        "payments": [{"method": "card", "amount": total}],
        "total": total,
        "customer_id": customer,
    })
    .to_string()
}

fn till(dir: &std::path::Path, url: &str, register: &str, token: &str) -> Outcome<Arc<SyncEngine>> {
    let db = dir.join(format!("till-{register}.db"));
    let mut config = EngineConfig::new(
        db.to_str().unwrap(),
        STORE,
        register,
        &format!("till-{register}"),
    );
    config.server_url = Some(url.to_owned());
    config.auth_token = Some(token.to_owned());
    // Edits of the same field closer than this need a person; the demo uses a short window.
    config.conflict_tie_window_ms = 500;
    Ok(SyncEngine::open(config)?)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Outcome {
    // Kept after the run so the databases can be inspected with the CLI.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/demo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let external = std::env::var("POS_SYNC_DEMO_SERVER_URL").ok();
    let (server, url, admin, tokens) = match external {
        Some(url) => {
            step("The back office's sync server is already running");
            println!("   at {url}");
            let tokens = std::env::var("POS_SYNC_DEMO_TOKENS")?;
            let tokens: Vec<String> = tokens.split_whitespace().map(str::to_owned).collect();
            let admin = std::env::var("POS_SYNC_DEMO_ADMIN_TOKEN")?;
            (None, url, admin, tokens)
        }
        None => {
            let server_db = dir.join("server.db");
            step("The back office starts the reference sync server");
            let server = spawn_with(Config {
                db: server_db.to_str().unwrap().to_owned(),
                devices: vec![
                    DeviceToken::new("token-till-1", "till-R1", STORE),
                    DeviceToken::new("token-till-2", "till-R2", STORE),
                ],
                admin_token: Some(ADMIN.to_owned()),
                ..Config::default()
            })?;
            let url = server.url().to_owned();
            println!(
                "   listening on {url}, data in {} (SQLite)",
                server_db.display()
            );
            let tokens = vec!["token-till-1".to_owned(), "token-till-2".to_owned()];
            (Some(server), url, ADMIN.to_owned(), tokens)
        }
    };
    let office = BackOffice {
        url: url.clone(),
        admin,
        http: reqwest::Client::new(),
    };

    step("Morning: the catalog, prices and two regular customers are published");
    office
        .publish(
            "product",
            json!([
                {"id": "espresso", "sku": "COF-ESP", "barcode": "5601234000011", "name": "Espresso", "price": 90},
                {"id": "pastel", "sku": "PAS-NAT", "barcode": "5601234000028", "name": "Pastel de Nata", "price": 130},
                {"id": "water", "sku": "WAT-50", "barcode": "5601234000035", "name": "Mineral Water 50cl", "price": 100},
                {"id": "toast", "sku": "TST-MIX", "barcode": "5601234000042", "name": "Toasted Sandwich", "price": 350}
            ]),
        )
        .await?;
    office
        .publish(
            "customer",
            json!([
                {"id": "maria", "name": "Maria Santos", "phone": "+351 912 000 111", "email": "maria@example.pt"},
                {"id": "joao", "name": "João Pereira", "phone": "+351 913 000 222", "email": "joao@example.pt"}
            ]),
        )
        .await?;
    let till1 = till(&dir, &url, "R1", &tokens[0])?;
    let till2 = till(&dir, &url, "R2", &tokens[1])?;
    summary("till R1", &till1.sync_now().await);
    summary("till R2", &till2.sync_now().await);
    let scanned = till1
        .product_by_barcode("5601234000028".into())?
        .ok_or("catalog missing")?;
    println!(
        "   till R1 scans 5601234000028 → {} ({} cents)",
        scanned.name,
        till1
            .current_price(scanned.id.clone())?
            .map(|p| p.amount)
            .unwrap_or(0)
    );

    step("10:00 — the shop's internet goes down; both tills keep selling");
    for engine in [&till1, &till2] {
        engine.set_network_available(false);
    }
    let sales1 = [
        till1.record_sale(sale(
            "r1-0001",
            &[("espresso", 2, 90), ("pastel", 2, 130)],
            Some("maria"),
        ))?,
        till1.record_sale(sale("r1-0002", &[("water", 1, 100)], None))?,
        till1.record_sale(sale(
            "r1-0003",
            &[("toast", 1, 350), ("espresso", 1, 90)],
            None,
        ))?,
    ];
    let sales2 = [
        till2.record_sale(sale("r2-0001", &[("pastel", 6, 130)], Some("joao")))?,
        till2.record_sale(sale("r2-0002", &[("espresso", 3, 90)], None))?,
    ];
    for receipt in sales1.iter().chain(&sales2) {
        println!(
            "   receipt {} for sale {}",
            receipt.receipt_number, receipt.sale_id
        );
    }
    till2.record_stock_adjustment(json!({"id": "adj-r2-1", "product_id": "pastel", "quantity_delta": 24, "reason": "morning delivery"}).to_string())?;
    println!("   till R2 books a delivery of 24 pastéis (stock adjustment)");
    let hits = till1.search_products("pas".into(), 5)?;
    println!(
        "   till R1 types \"pas\" → {:?}",
        hits.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
    );
    let stats = till1.queue_stats()?;
    println!(
        "   till R1 queue: {} pending, {} bytes, health {:?}; status: {:?}",
        stats.pending,
        stats.bytes_pending,
        stats.health,
        till1.status()?.phase
    );

    step("Meanwhile the back office changes prices and edits customers");
    office.publish("price", json!([{"id": "price-espresso-pm", "product_id": "espresso", "amount": 95, "currency": "EUR"}])).await?;
    office.publish("product", json!([{"id": "bica", "sku": "COF-BIC", "barcode": "5601234000059", "name": "Bica (short espresso)", "price": 85}])).await?;
    // Maria: the office corrects her e-mail first; the till edits the same field later.
    office.publish("customer", json!([{"id": "maria", "name": "Maria Santos", "phone": "+351 912 000 111", "email": "maria.santos@office.pt"}])).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    till1.update_customer(json!({"id": "maria", "name": "Maria Santos", "phone": "+351 912 000 111", "email": "maria@till.pt"}).to_string())?;
    println!("   Maria's e-mail: office edits it, till R1 edits it 0.8 s later");
    // João: till and office change his phone at the same moment.
    till2.update_customer(json!({"id": "joao", "name": "João Pereira", "phone": "+351 966 111 111", "email": "joao@example.pt"}).to_string())?;
    office.publish("customer", json!([{"id": "joao", "name": "João Pereira", "phone": "+351 966 222 222", "email": "joao@example.pt"}])).await?;
    println!("   João's phone: till R2 and the office change it at the same moment");

    step("11:30 — the internet is back; the tills sync (sales first, then catalog, prices, customers)");
    for engine in [&till1, &till2] {
        engine.set_network_available(true);
    }
    let r1 = till1.sync_now().await;
    summary("till R1", &r1);
    let r2 = till2.sync_now().await;
    summary("till R2", &r2);
    let maria = till1.get_customer("maria".into())?.ok_or("maria missing")?;
    println!(
        "   Maria decided by timestamp: e-mail is now {} (the later edit)",
        maria.email.unwrap_or_default()
    );
    println!(
        "   till R1 now charges {} cents for an espresso and knows \"{}\"",
        till1
            .current_price("espresso".into())?
            .map(|p| p.amount)
            .unwrap_or(0),
        till1
            .product_by_barcode("5601234000059".into())?
            .map(|p| p.name)
            .unwrap_or_default()
    );

    step("The manager reviews what the engine could not decide");
    let open = till2.conflicts()?;
    for c in &open {
        println!(
            "   conflict on {} {}: {}",
            c.entity_type, c.entity_id, c.reason
        );
        println!("     till:   {}", c.local_json);
        println!("     office: {}", c.server_json);
    }
    let conflict = open.first().ok_or("expected João to need a person")?;
    let merged = json!({"id": "joao", "name": "João Pereira", "phone": "+351 966 222 222", "email": "joao@example.pt", "note": "mobile confirmed by phone"});
    let joao = till2
        .resolve_conflict(
            conflict.conflict_id.clone(),
            Resolution::Merged,
            Some(merged.to_string()),
        )
        .await?
        .ok_or("joao missing")?;
    println!(
        "   resolved with a merged record: phone {}",
        joao.phone.unwrap_or_default()
    );

    step("Evening: one more round and a consistency check");
    summary("till R1", &till1.sync_now().await);
    summary("till R2", &till2.sync_now().await);
    for (name, engine) in [("R1", &till1), ("R2", &till2)] {
        let check = engine.check_consistency().await?;
        println!(
            "   till {name}: consistent with the server: {}",
            check.consistent
        );
        if !check.consistent {
            return Err(format!("till {name} drifted: {:?}", check.entities).into());
        }
        let local = engine.integrity_check()?;
        if !local.ok {
            return Err(format!("till {name} integrity: {:?}", local.problems).into());
        }
    }

    step("Summary");
    let server_sales = office.records("sale").await?;
    let mut ids: Vec<&str> = server_sales
        .iter()
        .filter_map(|r| r["entity_id"].as_str())
        .collect();
    ids.sort();
    ids.dedup();
    let stock = office.call(reqwest::Method::GET, "/stock", None).await?;
    println!(
        "   sales recorded offline: {} — on the server: {} (each exactly once: {})",
        sales1.len() + sales2.len(),
        server_sales.len(),
        ids.len() == server_sales.len()
    );
    println!("   server stock after the day: {}", stock);
    let joao_server = office
        .records("customer")
        .await?
        .into_iter()
        .find(|r| r["entity_id"] == "joao")
        .ok_or("joao missing on server")?;
    println!("   João on the server: {}", joao_server["payload"]);
    let pending: i64 = [&till1, &till2]
        .iter()
        .map(|t| {
            t.queue_stats()
                .map(|s| s.pending + s.failed + s.conflict)
                .unwrap_or(1)
        })
        .sum();
    println!("   changes left on the tills: {pending}");
    if server_sales.len() != sales1.len() + sales2.len()
        || ids.len() != server_sales.len()
        || pending != 0
    {
        return Err("the tills and the server did not converge".into());
    }
    println!("\nThe tills and the server agree. Inspect a till with:\n   cargo run --bin pos-sync -- --db target/demo/till-R1.db status   (or queue, log, audit, check)");
    drop((till1, till2));
    if let Some(server) = server {
        server.shutdown();
    }
    Ok(())
}
