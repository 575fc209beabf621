//! The support CLI against databases the engine really wrote (after a real sync).

mod support;

use serde_json::Value;
use std::process::{Command, Output};
use support::*;

fn cli(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .args(["--db", db])
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_queue_log_and_check_on_a_synced_database() {
    let world = World::start();
    let till = world.engine(TILL_1);
    for i in 0..3 {
        till.record_sale(sale(&format!("cli-{i}"), "p1", 1))
            .unwrap();
    }
    till.sync_now().await;
    till.record_sale(sale("cli-unsynced", "p1", 1)).unwrap();
    let db = world.config(TILL_1, "http://127.0.0.1:1").database_path;

    let status = cli(&db, &["status"]);
    assert!(status.status.success());
    let text = stdout(&status);
    assert!(text.contains("health: Ok"), "{text}");
    assert!(text.contains("pending 1  syncing 0  synced 3"), "{text}");
    let json: Value = serde_json::from_slice(&cli(&db, &["--json", "status"]).stdout).unwrap();
    assert_eq!(
        (json["pending"].as_i64(), json["health"].as_str()),
        (Some(1), Some("ok"))
    );

    let queue: Value =
        serde_json::from_slice(&cli(&db, &["--json", "queue", "--state", "pending"]).stdout)
            .unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(queue[0]["entity_id"], "cli-unsynced");
    assert!(stdout(&cli(&db, &["log"])).contains("cycle"));
    assert!(stdout(&cli(&db, &["audit"])).contains("uploaded"));
    assert!(stdout(&cli(&db, &["conflicts"])).contains("no conflicts"));
    assert!(stdout(&cli(&db, &["quarantine"])).contains("no downloaded records in quarantine"));

    let check = cli(&db, &["check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(stdout(&check).starts_with("ok:"));

    let export = cli(&db, &["export-unsynced"]);
    let lines: Vec<Value> = stdout(&export)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["payload"]["id"], "cli-unsynced");

    // A price the device cannot use: listed by `quarantine`, named by `status` and `log`.
    world
        .put(
            "price",
            serde_json::json!([{"id": "pr-bad", "product_id": "p1", "amount": "1.50"}]),
        )
        .await;
    till.sync_now().await;
    let listed = stdout(&cli(&db, &["quarantine"]));
    assert!(
        listed.contains("price pr-bad v1 (seen 1x") && listed.contains("'amount'"),
        "{listed}"
    );
    let json: Value = serde_json::from_slice(&cli(&db, &["--json", "quarantine"]).stdout).unwrap();
    assert_eq!(
        json[0]["payload"],
        r#"{"amount":"1.50","id":"pr-bad","product_id":"p1"}"#
    );
    let text = stdout(&cli(&db, &["status"]));
    assert!(
        text.contains("health: Warning — 1 downloaded price record could not be used"),
        "{text}"
    );
    assert!(stdout(&cli(&db, &["log"])).contains("QUARANTINED"));

    // Break an invariant behind the engine's back: check fails and says why.
    till.store()
        .write(|tx| {
            Ok(tx.execute(
                "UPDATE device_state SET next_receipt = next_receipt + 3",
                [],
            )?)
        })
        .unwrap();
    let broken = cli(&db, &["check"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stdout(&broken).contains("receipt numbers are not gapless"),
        "{}",
        stdout(&broken)
    );
}

#[test]
fn import_seeds_a_catalog_and_bad_usage_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("seed.db");
    let db = db.to_str().unwrap();
    let file = dir.path().join("products.json");
    std::fs::write(
        &file,
        r#"[{"id":"a","name":"Apple","barcode":"1"},{"id":"b","name":"Bread","sku":"B-1"}]"#,
    )
    .unwrap();
    let import = cli(db, &["import", "products", file.to_str().unwrap()]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert!(stdout(&import).contains("imported 2 products"));
    std::fs::write(&file, r#"[{"name":"no id"}]"#).unwrap();
    let bad = cli(db, &["import", "products", file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("product #1 in the file"));

    let usage = Command::new(env!("CARGO_BIN_EXE_pos-sync"))
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("missing --db PATH"));
    let missing = cli(dir.path().join("nope.db").to_str().unwrap(), &["status"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no database at"));
    let unknown = cli(db, &["frobnicate"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown command 'frobnicate'"));
}
