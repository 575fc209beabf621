//! Conformance suite of the pos-sync protocol (docs/protocol.md). Drives any server by base
//! URL over real HTTP (see tests/support/mod.rs); by default each test spawns the reference
//! `pos-sync-server`. Every answer is also checked against docs/openapi.yaml.

mod support;

use pos_sync_protocol::limits::{
    MAX_BATCH_CHANGES, MAX_BODY_BYTES, MAX_PAGE_LIMIT, MAX_PAYLOAD_BYTES,
};
use pos_sync_protocol::model::{hlc, Action, EntityType};
use pos_sync_protocol::{
    batch_checksum, drift_checksum, payload_checksum, ChangeStatus, EntityStatus, Resolution,
    ResolveRequest, ServerRecord, UploadResponse, PROTOCOL_HEADER, PROTOCOL_VERSION,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use support::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn status_describes_the_callers_store() {
    let server = Server::start();
    let api = server.api();
    let resp = api.status_resp(&server.a1.token).await;
    assert_eq!(
        resp.header(PROTOCOL_HEADER),
        Some("1"),
        "responses name the protocol version"
    );
    let status: pos_sync_protocol::StatusResponse = resp.ok();
    assert_eq!(status.protocol_version, PROTOCOL_VERSION);
    assert_eq!(status.store_id, server.a1.store_id);
    assert_eq!(status.device_id, server.a1.device_id);
    let types: Vec<EntityType> = status.entities.iter().map(|e| e.entity_type).collect();
    assert_eq!(
        types,
        EntityType::ALL.to_vec(),
        "all six types, in priority order"
    );
    assert!(status.rate_limit.limit > 0 && status.rate_limit.remaining < status.rate_limit.limit);
    assert!(
        status.server_time > 1_600_000_000_000,
        "server_time is in milliseconds"
    );
    let other = api.status(&server.b1.token).await;
    assert_eq!(
        (other.store_id, other.device_id),
        (server.b1.store_id.clone(), server.b1.device_id.clone())
    );
}

#[tokio::test]
async fn a_sale_is_applied_once_and_moves_stock() {
    let server = Server::start();
    let api = server.api();
    let (p1, p2) = (uid("prod"), uid("prod"));
    let sale_id = uid("sale");
    let sale = sale(&sale_id, &[(&p1, 2), (&p2, 1)]);
    let request = batch(vec![sale.clone()]);

    let first: UploadResponse = api.upload_req(&server.a1.token, &request).await.ok();
    assert_eq!(first.results[0].status, ChangeStatus::Applied);
    assert_eq!(first.results[0].version, Some(1));

    // The same batch again (a retry after a lost response): duplicate, applied once.
    let again: UploadResponse = api.upload_req(&server.a1.token, &request).await.ok();
    assert_eq!(again.results[0].status, ChangeStatus::Duplicate);
    assert_eq!(again.results[0].version, Some(1));

    // The same sale under a new change id (a device that lost its queue row): never twice.
    let mut renamed = sale.clone();
    renamed.change_id = uid("chg");
    let results = api.upload(&server.a2.token, vec![renamed]).await;
    assert_eq!(
        (results[0].status, results[0].version),
        (ChangeStatus::Duplicate, Some(1))
    );

    let (sales, _) = api
        .download_all(&server.a1.token, EntityType::Sale, None, MAX_PAGE_LIMIT)
        .await;
    let mine: Vec<&ServerRecord> = sales.iter().filter(|r| r.entity_id == sale_id).collect();
    assert_eq!(mine.len(), 1, "the server holds the sale once");
    assert_eq!(mine[0].payload, sale.payload);
    assert_eq!(
        mine[0].updated_hlc, sale.hlc,
        "updated_hlc is the change's hlc"
    );

    if let Some(admin) = server.admin_token() {
        let store = &server.a1.store_id;
        assert_eq!(api.admin_stock(admin, store, &p1).await, -2.0);
        assert_eq!(api.admin_stock(admin, store, &p2).await, -1.0);
        let held = api.admin_list(admin, store, EntityType::Sale).await;
        assert_eq!(held.iter().filter(|r| r.entity_id == sale_id).count(), 1);
    }
}

#[tokio::test]
async fn a_replayed_change_is_a_duplicate_even_inside_other_batches() {
    let server = Server::start();
    let api = server.api();
    let product = uid("prod");
    let adj = adjustment(&uid("adj"), &product, 10);
    let first = api.upload(&server.a1.token, vec![adj.clone()]).await;
    assert_eq!(first[0].status, ChangeStatus::Applied);

    // Resent inside a new batch, and twice within one batch.
    let other = adjustment(&uid("adj"), &product, 5);
    let results = api
        .upload(
            &server.a1.token,
            vec![adj.clone(), other.clone(), other.clone()],
        )
        .await;
    let statuses: Vec<ChangeStatus> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            ChangeStatus::Duplicate,
            ChangeStatus::Applied,
            ChangeStatus::Duplicate
        ]
    );
    assert_eq!(results[0].version, first[0].version);
    assert_eq!(results[2].version, results[1].version);
    if let Some(admin) = server.admin_token() {
        assert_eq!(
            api.admin_stock(admin, &server.a1.store_id, &product).await,
            15.0
        );
    }
}

#[tokio::test]
async fn customers_are_versioned_with_tombstones() {
    let server = Server::start();
    let api = server.api();
    let t = &server.a1.token;
    let id = uid("cust");

    let r = api.upload(t, vec![customer_create(&id, "Ann")]).await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(1))
    );
    // A repeated create with the same payload is a no-op.
    let r = api.upload(t, vec![customer_create(&id, "Ann")]).await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(1))
    );
    let r = api.upload(t, vec![customer_update(&id, 1, "Ann B")]).await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(2))
    );
    let (_, token_before_delete) = api
        .download_all(t, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    let r = api.upload(t, vec![customer_delete(&id, 2)]).await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(3))
    );

    let (records, _) = api
        .download_all(
            t,
            EntityType::Customer,
            Some(&token_before_delete),
            MAX_PAGE_LIMIT,
        )
        .await;
    let tomb = records
        .iter()
        .find(|r| r.entity_id == id)
        .expect("the tombstone is downloaded");
    assert!(tomb.deleted && tomb.payload.is_null() && tomb.version == 3);
    assert_eq!(tomb.checksum, payload_checksum(&Value::Null));

    // Deleting what is already gone, or what never existed: applied, nothing changes.
    let r = api.upload(t, vec![customer_delete(&id, 1)]).await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(3))
    );
    let r = api.upload(t, vec![customer_delete(&uid("cust"), 0)]).await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(0))
    );
    // Updating a deleted customer is a conflict showing the tombstone.
    let r = api.upload(t, vec![customer_update(&id, 3, "Ghost")]).await;
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    assert!(r[0].server_record.as_ref().unwrap().deleted);
}

/// Makes customer `id` at version 2 on the server while the device still holds version 1,
/// then uploads the device's stale edit. Returns (conflict result, stale change).
async fn stale_edit(
    api: &Api,
    token: &str,
    other_token: &str,
    id: &str,
) -> (pos_sync_protocol::ChangeResult, pos_sync_protocol::Change) {
    let r = api.upload(token, vec![customer_create(id, "Bob")]).await;
    assert_eq!(r[0].status, ChangeStatus::Applied);
    let r = api
        .upload(other_token, vec![customer_update(id, 1, "Bob (till 2)")])
        .await;
    assert_eq!(
        (r[0].status, r[0].version),
        (ChangeStatus::Applied, Some(2))
    );
    let stale = customer_update(id, 1, "Bob (till 1)");
    let r = api.upload(token, vec![stale.clone()]).await;
    (r[0].clone(), stale)
}

#[tokio::test]
async fn a_stale_customer_edit_conflicts_and_keep_local_resolves_it() {
    let server = Server::start();
    let api = server.api();
    let (t, t2) = (&server.a1.token, &server.a2.token);
    let id = uid("cust");
    let open_before = api.status(t).await.open_conflicts;
    let (result, stale) = stale_edit(&api, t, t2, &id).await;

    assert_eq!(result.status, ChangeStatus::Conflict);
    assert!(result.reason.as_deref().is_some_and(|r| !r.is_empty()));
    let server_record = result
        .server_record
        .clone()
        .expect("the server's current record");
    assert_eq!(server_record.version, 2);
    assert_eq!(server_record.payload, customer(&id, "Bob (till 2)"));
    let conflict_id = result.conflict_id.clone().expect("a conflict id");
    assert!(api.status(t).await.open_conflicts > open_before);

    // Sending the same change again reports the same conflict, no second one.
    let again = api.upload(t, vec![stale.clone()]).await;
    assert_eq!(again[0].status, ChangeStatus::Conflict);
    assert_eq!(again[0].conflict_id.as_deref(), Some(conflict_id.as_str()));

    let resolve_hlc = now_hlc();
    let payload = stale.payload.clone();
    let request = ResolveRequest {
        conflict_id: conflict_id.clone(),
        resolution: Resolution::KeepLocal,
        checksum: Some(payload_checksum(&payload)),
        payload: Some(payload.clone()),
        hlc: resolve_hlc,
    };
    let resolved = api.resolve(t, &request).await;
    assert_eq!(resolved.conflict_id, conflict_id);
    assert_eq!(
        (resolved.record.version, resolved.record.updated_hlc),
        (3, resolve_hlc)
    );
    assert_eq!(resolved.record.payload, payload);
    assert_eq!(resolved.record.checksum, payload_checksum(&payload));
    assert_eq!(api.status(t).await.open_conflicts, open_before);

    // A second resolve of the same conflict: 409, nothing written.
    api.resolve_resp(t, &request)
        .await
        .expect_error(409, "conflict_closed");
    let (records, _) = api
        .download_all(t2, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    let latest: Vec<&ServerRecord> = records.iter().filter(|r| r.entity_id == id).collect();
    assert_eq!(latest.last().unwrap().version, 3);
    assert_eq!(latest.last().unwrap().payload, payload);
}

#[tokio::test]
async fn keep_server_writes_nothing_and_merged_writes_the_merge() {
    let server = Server::start();
    let api = server.api();
    let (t, t2) = (&server.a1.token, &server.a2.token);

    let id = uid("cust");
    let (result, _) = stale_edit(&api, t, t2, &id).await;
    let (_, token) = api
        .download_all(t, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    let keep_server = ResolveRequest {
        conflict_id: result.conflict_id.clone().unwrap(),
        resolution: Resolution::KeepServer,
        payload: None,
        checksum: None,
        hlc: now_hlc(),
    };
    let resolved = api.resolve(t, &keep_server).await;
    assert_eq!(Some(resolved.record.clone()), result.server_record);
    let page = api
        .download(t, EntityType::Customer, Some(&token), None)
        .await;
    assert!(
        page.records.iter().all(|r| r.entity_id != id),
        "keep_server changes nothing, so there is nothing new to download"
    );
    api.resolve_resp(t, &keep_server)
        .await
        .expect_error(409, "conflict_closed");

    let id = uid("cust");
    let (result, _) = stale_edit(&api, t, t2, &id).await;
    let merged = json!({"id": id, "name": "Bob (merged)", "phone": "+1 555 0199"});
    let mut request = ResolveRequest {
        conflict_id: result.conflict_id.clone().unwrap(),
        resolution: Resolution::Merged,
        payload: Some(merged.clone()),
        checksum: Some(payload_checksum(&json!({"something": "else"}))),
        hlc: now_hlc(),
    };
    api.resolve_resp(t, &request)
        .await
        .expect_error(400, "checksum_mismatch");
    request.checksum = Some(payload_checksum(&merged));
    let resolved = api.resolve(t, &request).await;
    assert_eq!(
        (resolved.record.version, &resolved.record.payload),
        (3, &merged)
    );
}

#[tokio::test]
async fn a_conflict_over_a_missing_record_shows_a_version_0_tombstone() {
    let server = Server::start();
    let api = server.api();
    let id = uid("cust");
    let r = api
        .upload(&server.a1.token, vec![customer_update(&id, 4, "Nobody")])
        .await;
    assert_eq!(r[0].status, ChangeStatus::Conflict);
    let record = r[0].server_record.clone().unwrap();
    assert_eq!(
        (record.version, record.deleted, &record.payload),
        (0, true, &Value::Null)
    );
    assert_eq!(record.entity_id, id);
}

#[tokio::test]
async fn rejections_are_per_change_and_never_block_the_rest() {
    let server = Server::start();
    let api = server.api();
    let t = &server.a1.token;
    let product = uid("prod");

    let mut bad_checksum = sale(&uid("sale"), &[(&product, 1)]);
    bad_checksum.checksum = payload_checksum(&json!({"tampered": true}));
    let product_upload = change(
        EntityType::Product,
        "p1",
        Action::Create,
        None,
        json!({"id": "p1", "price": 1}),
    );
    let no_lines_id = uid("sale");
    let no_lines = change(
        EntityType::Sale,
        &no_lines_id,
        Action::Create,
        None,
        json!({"id": no_lines_id, "lines": []}),
    );
    let wrong_id = change(
        EntityType::Sale,
        &uid("sale"),
        Action::Create,
        None,
        json!({"id": "other", "lines": [{"product_id": "p", "quantity": 1}]}),
    );
    let bad_line_id = uid("sale");
    let bad_line = change(
        EntityType::Sale,
        &bad_line_id,
        Action::Create,
        None,
        json!({"id": bad_line_id, "lines": [{"product_id": "p", "quantity": "two"}]}),
    );
    let sale_update = {
        let mut c = sale(&uid("sale"), &[(&product, 1)]);
        c.action = Action::Update;
        c
    };
    let bad_adj_id = uid("adj");
    let bad_adj = change(
        EntityType::StockAdjustment,
        &bad_adj_id,
        Action::Create,
        None,
        json!({"id": bad_adj_id, "product_id": product}),
    );
    let huge_id = uid("cust");
    let huge = change(
        EntityType::Customer,
        &huge_id,
        Action::Create,
        None,
        json!({"id": huge_id, "notes": "x".repeat(MAX_PAYLOAD_BYTES)}),
    );
    let customer_no_base = change(
        EntityType::Customer,
        &uid("cust"),
        Action::Update,
        None,
        json!({}),
    );
    let good = sale(&uid("sale"), &[(&product, 3)]);

    let changes = vec![
        bad_checksum,
        product_upload,
        no_lines,
        wrong_id,
        bad_line,
        sale_update,
        bad_adj,
        huge,
        customer_no_base,
        good.clone(),
    ];
    let results = api.upload(t, changes.clone()).await;
    let got: Vec<(ChangeStatus, Option<&str>)> = results
        .iter()
        .map(|r| (r.status, r.code.as_deref()))
        .collect();
    use ChangeStatus::*;
    assert_eq!(
        got,
        vec![
            (Rejected, Some("checksum_mismatch")),
            (Rejected, Some("invalid_action")),
            (Rejected, Some("invalid_payload")),
            (Rejected, Some("invalid_payload")),
            (Rejected, Some("invalid_payload")),
            (Rejected, Some("invalid_action")),
            (Rejected, Some("invalid_payload")),
            (Rejected, Some("payload_too_large")),
            (Rejected, Some("invalid_payload")),
            (Applied, None),
        ]
    );
    assert!(results
        .iter()
        .filter(|r| r.status == Rejected)
        .all(|r| r.reason.is_some()));
    // Rejections are not remembered as applied: the same changes are judged the same again.
    let again = api.upload(t, changes[..2].to_vec()).await;
    assert!(again.iter().all(|r| r.status == Rejected));
    if let Some(admin) = server.admin_token() {
        assert_eq!(
            api.admin_stock(admin, &server.a1.store_id, &product).await,
            -3.0
        );
    }
}

#[tokio::test]
async fn downloads_page_through_changes_with_tombstones() {
    let server = Server::start();
    let api = server.api();
    let t = &server.a1.token;
    let (_, start) = api
        .download_all(t, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    let ids: Vec<String> = (0..7).map(|_| uid("cust")).collect();
    let creates = ids.iter().map(|id| customer_create(id, "C")).collect();
    api.upload(t, creates).await;

    let mut pages = Vec::new();
    let mut since = start.clone();
    loop {
        let page = api
            .download(t, EntityType::Customer, Some(&since), Some(3))
            .await;
        assert!(page.records.len() <= 3);
        assert_ne!(page.next_token, "");
        since = page.next_token.clone();
        let more = page.has_more;
        pages.push(page);
        if !more {
            break;
        }
    }
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(|r| r.entity_id.clone()))
        .collect();
    if !server.external {
        assert_eq!(seen, ids, "oldest change first, each once");
        let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
        assert_eq!(sizes, vec![3, 3, 1]);
    }
    for id in &ids {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1);
    }
    // Nothing new: an empty page that keeps the token.
    let empty = api
        .download(t, EntityType::Customer, Some(&since), Some(3))
        .await;
    if !server.external {
        assert!(empty.records.is_empty() && !empty.has_more);
        assert_eq!(empty.next_token, since);
    }

    // An update and a delete come after, in that order, as the latest state.
    api.upload(
        t,
        vec![
            customer_update(&ids[0], 1, "C2"),
            customer_delete(&ids[1], 1),
        ],
    )
    .await;
    let (after, _) = api
        .download_all(t, EntityType::Customer, Some(&since), 2)
        .await;
    let mine: Vec<(&str, i64, bool)> = after
        .iter()
        .filter(|r| ids.contains(&r.entity_id))
        .map(|r| (r.entity_id.as_str(), r.version, r.deleted))
        .collect();
    assert_eq!(
        mine,
        vec![(ids[0].as_str(), 2, false), (ids[1].as_str(), 2, true)]
    );

    // Without a token: everything from the beginning, each record once at its latest version.
    let (all, _) = api.download_all(t, EntityType::Customer, None, 4).await;
    let latest: Vec<&ServerRecord> = all.iter().filter(|r| ids.contains(&r.entity_id)).collect();
    assert_eq!(latest.len(), 7);
    // A limit above the maximum is capped, not refused.
    let capped = api
        .download(t, EntityType::Customer, None, Some(MAX_PAGE_LIMIT * 10))
        .await;
    assert!(capped.records.len() <= MAX_PAGE_LIMIT);
}

#[tokio::test]
async fn master_data_edited_on_the_server_reaches_devices() {
    let server = Server::start();
    let Some(admin) = server.admin_token() else {
        return;
    };
    let api = server.api();
    let t = &server.a1.token;
    let store = &server.a1.store_id;
    let (_, start) = api
        .download_all(t, EntityType::Product, None, MAX_PAGE_LIMIT)
        .await;
    let id = uid("prod");
    let cola = json!({"id": id, "name": "Cola", "price": 150});
    let put = api
        .admin_put(
            admin,
            store,
            EntityType::Product,
            std::slice::from_ref(&cola),
        )
        .await;
    assert_eq!(put[0].version, 1);
    // The same payload again changes nothing; a new price is version 2.
    assert_eq!(
        api.admin_put(
            admin,
            store,
            EntityType::Product,
            std::slice::from_ref(&cola)
        )
        .await[0]
            .version,
        1
    );
    let cola2 = json!({"id": id, "name": "Cola", "price": 160});
    let put2 = api
        .admin_put(
            admin,
            store,
            EntityType::Product,
            std::slice::from_ref(&cola2),
        )
        .await;
    assert_eq!(put2[0].version, 2);
    assert!(
        put2[0].updated_hlc > put[0].updated_hlc,
        "server edits carry increasing HLCs"
    );
    let (records, token) = api
        .download_all(t, EntityType::Product, Some(&start), 100)
        .await;
    let mine: Vec<&ServerRecord> = records.iter().filter(|r| r.entity_id == id).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].version, &mine[0].payload), (2, &cola2));

    let tomb: ServerRecord = api
        .admin_delete(admin, store, EntityType::Product, &id)
        .await
        .ok();
    assert!(tomb.deleted && tomb.version == 3);
    let (records, _) = api
        .download_all(t, EntityType::Product, Some(&token), 100)
        .await;
    assert!(records.iter().any(|r| r.entity_id == id && r.deleted));
    api.admin_delete(admin, store, EntityType::Product, &uid("prod"))
        .await
        .expect_error(404, "not_found");
    // Another store does not see it.
    let (b_records, _) = api
        .download_all(&server.b1.token, EntityType::Product, None, MAX_PAGE_LIMIT)
        .await;
    assert!(b_records.iter().all(|r| r.entity_id != id));
    // Admin routes need the admin token.
    let rb = api
        .request(Method::GET, &format!("/admin/stores/{store}/stock"))
        .header("authorization", bearer(t));
    api.send(Some(ADMIN_STOCK), rb)
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_under_concurrent_writes_loses_nothing() {
    let server = Server::start();
    let api = std::sync::Arc::new(server.api());
    let writer_token = server.a2.token.clone();
    let reader_token = server.a1.token.clone();
    let (_, start) = api
        .download_all(&reader_token, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    let prefix = uid("race");
    const CUSTOMERS: usize = 40;

    // Writer: creates customers in small batches and updates every third one, while the
    // reader pages. Remembers the final version of each.
    let writer = {
        let api = api.clone();
        let prefix = prefix.clone();
        tokio::spawn(async move {
            let mut versions: BTreeMap<String, i64> = BTreeMap::new();
            for round in 0..CUSTOMERS / 4 {
                let ids: Vec<String> = (0..4)
                    .map(|i| format!("{prefix}-{}", round * 4 + i))
                    .collect();
                let results = api
                    .upload(
                        &writer_token,
                        ids.iter().map(|id| customer_create(id, "new")).collect(),
                    )
                    .await;
                for (id, r) in ids.iter().zip(results) {
                    assert_eq!(r.status, ChangeStatus::Applied);
                    versions.insert(id.clone(), r.version.unwrap());
                }
                let id = &ids[round % 4];
                let base = versions[id];
                let r = api
                    .upload(
                        &writer_token,
                        vec![customer_update(id, base, &format!("edit {round}"))],
                    )
                    .await;
                assert_eq!(r[0].status, ChangeStatus::Applied);
                versions.insert(id.clone(), r[0].version.unwrap());
            }
            versions
        })
    };

    // Reader: small pages from the start token until the writer is done and caught up.
    let mut since = start;
    let mut seen: HashMap<String, Vec<i64>> = HashMap::new();
    let mut pages = 0;
    loop {
        let done = writer.is_finished();
        let page = api
            .download(&reader_token, EntityType::Customer, Some(&since), Some(3))
            .await;
        pages += 1;
        for r in page
            .records
            .iter()
            .filter(|r| r.entity_id.starts_with(&prefix))
        {
            seen.entry(r.entity_id.clone()).or_default().push(r.version);
        }
        since = page.next_token;
        if done && !page.has_more {
            break;
        }
        assert!(pages < 10_000, "the reader never caught up");
    }
    let versions = writer.await.unwrap();
    assert_eq!(versions.len(), CUSTOMERS);
    for (id, final_version) in &versions {
        let got = seen
            .get(id)
            .unwrap_or_else(|| panic!("{id} was never downloaded"));
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "{id}: versions out of order or repeated: {got:?}"
        );
        assert_eq!(
            got.last(),
            Some(final_version),
            "{id}: the final version was seen"
        );
    }
    assert_eq!(seen.len(), CUSTOMERS);
}

/// docs/protocol.md §8, "A token ahead of the server": a position the store never reached
/// answers `409 sync_token_ahead`, whatever the type; the store's own positions, and no
/// token at all, page as usual, and a token that cannot be parsed stays `400`. Another
/// store's newer position stands in for a token from before a restore, so this runs
/// against any server.
#[tokio::test]
async fn a_token_ahead_of_the_store_answers_409_sync_token_ahead() {
    let server = Server::start();
    let api = server.api();
    let (a, b) = (&server.a1.token, &server.b1.token);
    let (_, b_position) = api
        .download_all(b, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    let mut ahead = None;
    for _ in 0..5 {
        // Move store A's sequence on and take its newest position.
        let creates = (0..200)
            .map(|_| customer_create(&uid("cust"), "moves A ahead"))
            .collect();
        api.upload(a, creates).await;
        let (_, a_position) = api
            .download_all(a, EntityType::Customer, None, MAX_PAGE_LIMIT)
            .await;
        let query = format!("entity_type=customer&since={}", urlencode(&a_position));
        let answer = api.download_resp(b, &query).await;
        if answer.status == 409 {
            ahead = Some((a_position, answer));
            break;
        }
        // Store B of an external server has written past it: move A further on.
        assert_eq!(answer.status, 200, "body: {}", answer.json);
    }
    let (token, answer) = ahead.expect("a position store B never reached answers 409");
    answer.expect_error(409, "sync_token_ahead");
    for t in [EntityType::Product, EntityType::Price, EntityType::Report] {
        api.download_resp(b, &format!("entity_type={t}&since={}", urlencode(&token)))
            .await
            .expect_error(409, "sync_token_ahead");
    }
    // From the beginning, and from B's own position, B pages as usual.
    let (_, again) = api
        .download_all(b, EntityType::Customer, None, MAX_PAGE_LIMIT)
        .await;
    api.download(b, EntityType::Customer, Some(&b_position), None)
        .await;
    api.download(b, EntityType::Customer, Some(&again), None)
        .await;
    api.download_resp(b, "entity_type=customer&since=not-a-token")
        .await
        .expect_error(400, "invalid_request");
}

#[tokio::test]
async fn stores_are_isolated() {
    let server = Server::start();
    let api = server.api();
    let (a, b) = (&server.a1, &server.b1);
    let product = uid("prod");
    let sale_id = uid("sale");
    let sale = sale(&sale_id, &[(&product, 4)]);
    assert_eq!(
        api.upload(&a.token, vec![sale.clone()]).await[0].status,
        ChangeStatus::Applied
    );
    let cust = uid("cust");
    api.upload(&a.token, vec![customer_create(&cust, "Only in A")])
        .await;

    for t in [EntityType::Sale, EntityType::Customer] {
        let (records, _) = api.download_all(&b.token, t, None, MAX_PAGE_LIMIT).await;
        assert!(
            records
                .iter()
                .all(|r| r.entity_id != sale_id && r.entity_id != cust),
            "B sees nothing of A"
        );
    }
    // Store B may hold a sale with the same id: its own record, not a duplicate of A's.
    let mut b_sale = sale.clone();
    b_sale.change_id = uid("chg");
    assert_eq!(
        api.upload(&b.token, vec![b_sale]).await[0].status,
        ChangeStatus::Applied
    );
    // A change id already used by store A is refused in store B without revealing anything.
    let mut reused = customer_create(&uid("cust"), "B");
    reused.change_id = sale.change_id.clone();
    let r = api.upload(&b.token, vec![reused]).await;
    assert_eq!(
        (r[0].status, r[0].code.as_deref()),
        (ChangeStatus::Rejected, Some("invalid_request"))
    );
    assert!(r[0].version.is_none() && r[0].server_record.is_none());

    // B cannot resolve A's conflict: it looks exactly like a missing one.
    let id = uid("cust");
    let (conflict, _) = stale_edit(&api, &a.token, &server.a2.token, &id).await;
    let request = |conflict_id: String| ResolveRequest {
        conflict_id,
        resolution: Resolution::KeepServer,
        payload: None,
        checksum: None,
        hlc: now_hlc(),
    };
    let theirs = api
        .resolve_resp(&b.token, &request(conflict.conflict_id.clone().unwrap()))
        .await;
    let missing = api
        .resolve_resp(&b.token, &request(uid("no-such-conflict")))
        .await;
    theirs.expect_error(404, "not_found");
    missing.expect_error(404, "not_found");
    assert_eq!(
        theirs.json, missing.json,
        "nothing tells another store's conflict from a missing one"
    );
    // ... and A still can.
    api.resolve(&a.token, &request(conflict.conflict_id.unwrap()))
        .await;

    if let Some(admin) = server.admin_token() {
        assert_eq!(api.admin_stock(admin, &a.store_id, &product).await, -4.0);
        assert_eq!(api.admin_stock(admin, &b.store_id, &product).await, -4.0);
        let b_customers = api
            .admin_list(admin, &b.store_id, EntityType::Customer)
            .await;
        assert!(b_customers.iter().all(|r| r.entity_id != cust));
    }
}

/// Sends raw bytes to the upload endpoint.
async fn raw_upload(
    api: &Api,
    token: &str,
    body: Vec<u8>,
    headers: &[(&'static str, &str)],
) -> Resp {
    let mut rb = api
        .request(Method::POST, "/api/sync/upload")
        .header("authorization", bearer(token))
        .body(body);
    if !headers.iter().any(|(k, _)| *k == "content-type") {
        rb = rb.header("content-type", "application/json");
    }
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    api.send(Some(UPLOAD), rb).await
}

#[tokio::test]
async fn oversized_bodies_and_batches_are_refused_whole() {
    let server = Server::start();
    let api = server.api();
    let t = &server.a1.token;

    let marker = uid("sale");
    let mut big = sale(&marker, &[("p", 1)]);
    big.payload["padding"] = Value::String("x".repeat(MAX_BODY_BYTES));
    big.checksum = payload_checksum(&big.payload);
    let body = serde_json::to_vec(&batch(vec![big])).unwrap();
    assert!(body.len() > MAX_BODY_BYTES);
    raw_upload(&api, t, body.clone(), &[])
        .await
        .expect_error(413, "payload_too_large");
    // The limit applies after gzip decoding: a small gzip body that inflates past it.
    let bomb = gzip(&body);
    assert!(bomb.len() < MAX_BODY_BYTES / 10);
    raw_upload(&api, t, bomb, &[("content-encoding", "gzip")])
        .await
        .expect_error(413, "payload_too_large");

    let ids: Vec<String> = (0..=MAX_BATCH_CHANGES).map(|_| uid("sale")).collect();
    let changes = ids.iter().map(|id| sale(id, &[("p", 1)])).collect();
    let too_many = serde_json::to_vec(&batch(changes)).unwrap();
    raw_upload(&api, t, too_many, &[])
        .await
        .expect_error(413, "payload_too_large");

    let (sales, _) = api
        .download_all(t, EntityType::Sale, None, MAX_PAGE_LIMIT)
        .await;
    assert!(
        sales
            .iter()
            .all(|r| r.entity_id != marker && !ids.contains(&r.entity_id)),
        "nothing applied"
    );
    // Still serving.
    let r = api.upload(t, vec![sale(&uid("sale"), &[("p", 1)])]).await;
    assert_eq!(r[0].status, ChangeStatus::Applied);
}

#[tokio::test]
async fn over_the_rate_limit_answers_429_with_retry_after() {
    let Some(server) = Server::special(&["--rate-limit", "3", "--rate-window-secs", "30"]) else {
        return;
    };
    let api = server.api();
    let remaining: Vec<u32> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(api.status(&server.a1.token).await.rate_limit.remaining);
        }
        v
    };
    assert_eq!(remaining, vec![2, 1, 0]);
    let limited = api.status_resp(&server.a1.token).await;
    limited.expect_error(429, "rate_limited");
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After is whole seconds");
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    // Every endpoint is limited, and only for this device.
    let r = api
        .download_resp(&server.a1.token, "entity_type=product")
        .await;
    r.expect_error(429, "rate_limited");
    assert_eq!(api.status(&server.a2.token).await.rate_limit.remaining, 2);
}

#[tokio::test]
async fn malformed_requests_get_json_errors_and_change_nothing() {
    let server = Server::start();
    let api = server.api();
    let t = server.a1.token.as_str();
    let marker = uid("sale");
    let good = sale(&marker, &[("p", 1)]);
    let good_json = serde_json::to_value(batch(vec![good.clone()])).unwrap();
    let with = |pointer: &str, value: Value| {
        let mut v = good_json.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        serde_json::to_vec(&v).unwrap()
    };

    type Case<'a> = (&'a str, Vec<u8>, Vec<(&'static str, &'a str)>, u16, &'a str);
    let uploads: Vec<Case> = vec![
        (
            "truncated JSON",
            br#"{"batch_id":"#.to_vec(),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "not an object",
            b"[1,2,3]".to_vec(),
            vec![],
            400,
            "invalid_request",
        ),
        ("empty body", Vec::new(), vec![], 400, "invalid_request"),
        (
            "hlc is a string",
            with("/changes/0/hlc", json!("yesterday")),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "changes is an object",
            with("/changes", json!({})),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "unknown action",
            with("/changes/0/action", json!("upsert")),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "unknown entity type",
            with("/changes/0/entity_type", json!("invoice")),
            vec![],
            400,
            "unknown_entity_type",
        ),
        (
            "bad batch checksum",
            with("/checksum", json!(payload_checksum(&json!(1)))),
            vec![],
            400,
            "checksum_mismatch",
        ),
        (
            "huge change id",
            with("/changes/0/change_id", json!("c".repeat(100_000))),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "huge entity id",
            with("/changes/0/entity_id", json!("e".repeat(1_000_000))),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "empty change id",
            with("/changes/0/change_id", json!("")),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "protocol version 2",
            serde_json::to_vec(&good_json).unwrap(),
            vec![("x-pos-sync-protocol", "2")],
            400,
            "unsupported_protocol_version",
        ),
        (
            "text/plain",
            serde_json::to_vec(&good_json).unwrap(),
            vec![("content-type", "text/plain")],
            415,
            "invalid_request",
        ),
        (
            "brotli",
            serde_json::to_vec(&good_json).unwrap(),
            vec![("content-encoding", "br")],
            415,
            "invalid_request",
        ),
        (
            "gzip header, plain body",
            serde_json::to_vec(&good_json).unwrap(),
            vec![("content-encoding", "gzip")],
            400,
            "invalid_request",
        ),
    ];
    for (what, body, headers, status, code) in uploads {
        let r = raw_upload(&api, t, body, &headers).await;
        assert_eq!(r.status, status, "{what}: {}", openapi::short(&r.json));
        assert_eq!(r.code(), code, "{what}");
    }

    for (what, token) in [
        ("unknown token", "Bearer nope"),
        ("no scheme", t),
        ("basic auth", "Basic dXNlcjpwYXNz"),
    ] {
        let rb = api
            .request(Method::POST, "/api/sync/upload")
            .header("authorization", token)
            .json(&good_json);
        let r = api.send(Some(UPLOAD), rb).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (401, "unauthorized"),
            "{what}"
        );
    }
    let rb = api.request(Method::GET, "/api/sync/status");
    api.send(Some(STATUS), rb)
        .await
        .expect_error(401, "unauthorized");

    for (query, code) in [
        ("", "invalid_request"),
        ("entity_type=invoice", "unknown_entity_type"),
        ("entity_type=product&since=garbage", "invalid_request"),
        ("entity_type=product&since=v1.-1", "invalid_request"),
        ("entity_type=product&limit=0", "invalid_request"),
        ("entity_type=product&limit=-5", "invalid_request"),
        ("entity_type=product&limit=lots", "invalid_request"),
    ] {
        let r = api.download_resp(t, query).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, code),
            "download?{query}"
        );
    }

    let resolve = |body: Vec<u8>| {
        api.request(Method::POST, "/api/sync/resolve")
            .header("authorization", bearer(t))
            .header("content-type", "application/json")
            .body(body)
    };
    for (what, body, status, code) in [
        ("not JSON", b"resolve it".to_vec(), 400, "invalid_request"),
        (
            "unknown resolution",
            br#"{"conflict_id":"x","resolution":"keep_both","hlc":1}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "keep_local without payload",
            br#"{"conflict_id":"x","resolution":"keep_local","hlc":1}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            "unknown conflict",
            br#"{"conflict_id":"nope","resolution":"keep_server","hlc":1}"#.to_vec(),
            404,
            "not_found",
        ),
    ] {
        let r = api.send(Some(RESOLVE), resolve(body)).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "resolve: {what}"
        );
    }

    // Unknown paths and methods answer JSON too.
    let r = api
        .send(
            None,
            api.request(Method::GET, "/api/sync/nothing")
                .header("authorization", bearer(t)),
        )
        .await;
    r.expect_error(404, "not_found");
    let r = api.send(None, api.request(Method::GET, "/")).await;
    r.expect_error(404, "not_found");
    let r = api
        .send(
            None,
            api.request(Method::GET, "/api/sync/upload")
                .header("authorization", bearer(t)),
        )
        .await;
    assert_eq!(r.status, 405);
    r.code();

    // Nothing was applied, and the server still serves.
    let (sales, _) = api
        .download_all(t, EntityType::Sale, None, MAX_PAGE_LIMIT)
        .await;
    assert!(sales.iter().all(|r| r.entity_id != marker));
    let r = api.upload(t, vec![good]).await;
    assert_eq!(r[0].status, ChangeStatus::Applied);
}

#[tokio::test]
async fn gzip_works_both_ways() {
    let server = Server::start();
    let api = server.api();
    let t = &server.a1.token;
    let id = uid("cust");
    let request = batch(vec![customer_create(&id, "Zipped")]);
    let body = gzip(&serde_json::to_vec(&request).unwrap());
    let resp = raw_upload(&api, t, body, &[("content-encoding", "gzip")]).await;
    let response: UploadResponse = resp.ok();
    assert_eq!(response.results[0].status, ChangeStatus::Applied);

    let rb = api
        .request(Method::GET, "/api/sync/download?entity_type=customer")
        .header("authorization", bearer(t))
        .header("accept-encoding", "gzip");
    let resp = api.send(Some(DOWNLOAD), rb).await;
    assert_eq!(
        resp.header("content-encoding"),
        Some("gzip"),
        "compressed for a client that accepts gzip"
    );
    let page: pos_sync_protocol::DownloadResponse = resp.ok();
    assert!(page.records.iter().any(|r| r.entity_id == id) || page.has_more);
    let rb = api
        .request(Method::GET, "/api/sync/status")
        .header("authorization", bearer(t));
    let resp = api.send(Some(STATUS), rb).await;
    assert_eq!(
        resp.header("content-encoding"),
        None,
        "not compressed for a client that does not ask"
    );
}

/// Live (count, wrapping drift sum) per type, recomputed from a full download.
async fn recompute(api: &Api, token: &str) -> Vec<EntityStatus> {
    let mut out = Vec::new();
    for t in EntityType::ALL {
        let (records, _) = api.download_all(token, t, None, MAX_PAGE_LIMIT).await;
        let mut latest: HashMap<String, ServerRecord> = HashMap::new();
        for r in records {
            latest.insert(r.entity_id.clone(), r);
        }
        let live: Vec<&ServerRecord> = latest.values().filter(|r| !r.deleted).collect();
        out.push(EntityStatus {
            entity_type: t,
            count: live.len() as i64,
            checksum: live
                .iter()
                .fold(0u32, |acc, r| acc.wrapping_add(drift_checksum(&r.checksum))),
        });
    }
    out
}

#[tokio::test]
async fn status_counts_and_checksums_match_the_records() {
    let server = Server::start();
    let api = server.api();
    let t = &server.a1.token;
    let ids: Vec<String> = (0..5).map(|_| uid("cust")).collect();
    api.upload(t, ids.iter().map(|id| customer_create(id, "S")).collect())
        .await;
    api.upload(
        t,
        vec![
            customer_update(&ids[0], 1, "S2"),
            customer_delete(&ids[1], 1),
            sale(&uid("sale"), &[("p", 1)]),
            adjustment(&uid("adj"), "p", 3),
        ],
    )
    .await;
    if let Some(admin) = server.admin_token() {
        let store = &server.a1.store_id;
        let p = uid("prod");
        api.admin_put(
            admin,
            store,
            EntityType::Product,
            &[
                json!({"id": p, "price": 1}),
                json!({"id": uid("prod"), "price": 2}),
            ],
        )
        .await;
        api.admin_put(
            admin,
            store,
            EntityType::Price,
            &[json!({"id": uid("price"), "amount": 99})],
        )
        .await;
        api.admin_delete(admin, store, EntityType::Product, &p)
            .await
            .ok::<ServerRecord>();
    }
    // On a shared server other writers may interleave: retry until two statuses agree.
    for attempt in 0..10 {
        let before = api.status(t).await.entities;
        let computed = recompute(&api, t).await;
        let after = api.status(t).await.entities;
        if before == after {
            assert_eq!(
                after, computed,
                "status equals a recomputation from downloaded records"
            );
            if !server.external {
                let customers = &after[EntityType::ALL
                    .iter()
                    .position(|t| *t == EntityType::Customer)
                    .unwrap()];
                assert_eq!(customers.count, 4);
                assert_eq!((after[0].count, after[1].count), (1, 1));
            }
            return;
        }
        assert!(attempt < 9, "the store never held still");
    }
}

/// A loopback webhook receiver: records each delivery; the first one waits for `release`
/// and then fails with 500, later ones succeed.
mod receiver {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::{Arc, Mutex};
    use tokio::sync::Notify;

    #[derive(Default)]
    pub struct Receiver {
        pub deliveries: Mutex<Vec<(HeaderMap, Bytes)>>,
        pub release: Notify,
    }

    pub async fn start() -> (String, Arc<Receiver>) {
        let state = Arc::new(Receiver::default());
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(
                    |axum::extract::State(s): axum::extract::State<Arc<Receiver>>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let n = {
                            let mut d = s.deliveries.lock().unwrap();
                            d.push((headers, body));
                            d.len()
                        };
                        if n == 1 {
                            s.release.notified().await;
                            StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            StatusCode::NO_CONTENT
                        }
                    },
                ),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, state)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_and_never_delay_uploads() {
    if std::env::var("POS_SYNC_SERVER_URL").is_ok() {
        eprintln!("skipped: needs a reference server with a webhook pointing into the test");
        return;
    }
    let (url, receiver) = receiver::start().await;
    let secret = "whsec-test";
    let server = Server::special(&[
        "--webhook",
        &url,
        "--webhook-secret",
        secret,
        "--webhook-attempts",
        "4",
        "--webhook-backoff-ms",
        "50",
    ])
    .unwrap();
    let api = server.api();
    let sale = sale(&uid("sale"), &[("p", 1)]);

    // The receiver holds the first delivery until released: the upload answers regardless.
    let results = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        api.upload(&server.a1.token, vec![sale.clone()]),
    )
    .await
    .expect("the upload answered while its webhook was still pending");
    assert_eq!(results[0].status, ChangeStatus::Applied);
    receiver.release.notify_one();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while receiver.deliveries.lock().unwrap().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the webhook was not retried after a 500"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let deliveries = receiver.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 2, "delivered until a 2xx, then no more");
    let (h1, b1) = &deliveries[0];
    let (h2, b2) = &deliveries[1];
    assert_eq!(b1, b2, "a retry sends the same body");
    assert_eq!(
        h1["x-pos-sync-event-id"], h2["x-pos-sync-event-id"],
        "and the same event id"
    );
    let expected = pos_sync_server::webhooks::signature(secret, b1);
    assert_eq!(h1["x-pos-sync-signature"].to_str().unwrap(), expected);
    // Check the signature independently of the server's helper.
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(b1);
    assert_eq!(
        expected,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );

    let event: Value = serde_json::from_slice(b1).unwrap();
    let errors = openapi::Spec::errors(&support::openapi::spec().component("WebhookEvent"), &event);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(event["event"], "changes.applied");
    assert_eq!(
        event["event_id"],
        h1["x-pos-sync-event-id"].to_str().unwrap()
    );
    assert_eq!(event["store_id"], server.a1.store_id.as_str());
    assert_eq!(event["device_id"], server.a1.device_id.as_str());
    assert_eq!(
        event["changes"],
        json!([{"entity_type": "sale", "entity_id": sale.entity_id, "change_id": sale.change_id, "version": 1}])
    );

    // A duplicate applies nothing and sends nothing; an admin edit is sent with no device.
    api.upload(&server.a1.token, vec![sale.clone()]).await;
    let admin = server.admin.clone().unwrap();
    let p = uid("prod");
    api.admin_put(
        &admin,
        &server.a1.store_id,
        EntityType::Product,
        &[json!({"id": p})],
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while receiver.deliveries.lock().unwrap().len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "no webhook for the admin edit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let deliveries = receiver.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 3);
    let event: Value = serde_json::from_slice(&deliveries[2].1).unwrap();
    assert_eq!(event["device_id"], Value::Null);
    assert_eq!(event["changes"][0]["entity_id"], p.as_str());
    assert_eq!(event["changes"][0]["change_id"], Value::Null);
}

use support::openapi;

#[test]
fn sigterm_stops_the_server_cleanly_and_data_survives_a_restart() {
    if std::env::var("POS_SYNC_SERVER_URL").is_ok() {
        eprintln!("skipped: needs a reference server process");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let db = db.to_str().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sale = sale(&uid("sale"), &[("p", 2)]);
    let request = batch(vec![sale.clone()]);

    let mut server = Server::spawn(&["--db", db]);
    let api = server.api();
    runtime.block_on(async {
        let r: UploadResponse = api.upload_req(&server.a1.token, &request).await.ok();
        assert_eq!(r.results[0].status, ChangeStatus::Applied);
    });
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert!(
        runtime
            .block_on(async {
                api.http
                    .get(format!("{}/api/sync/status", server.url))
                    .send()
                    .await
            })
            .is_err(),
        "nothing listens any more"
    );

    let mut server = Server::spawn(&["--db", db]);
    let api = server.api();
    runtime.block_on(async {
        let r: UploadResponse = api.upload_req(&server.a1.token, &request).await.ok();
        assert_eq!(
            r.results[0].status,
            ChangeStatus::Duplicate,
            "idempotency survives a restart"
        );
        let (sales, _) = api
            .download_all(&server.a1.token, EntityType::Sale, None, 10)
            .await;
        assert_eq!(sales.len(), 1);
        assert_eq!(sales[0].payload, sale.payload);
        // New writes continue the sequence after the restart.
        api.upload(
            &server.a1.token,
            vec![customer_create(&uid("cust"), "after restart")],
        )
        .await;
        let (customers, _) = api
            .download_all(&server.a1.token, EntityType::Customer, None, 10)
            .await;
        assert_eq!(customers.len(), 1);
    });
    assert!(server.terminate().success());
}

/// The reference server restored from a backup: a device's token from after the backup
/// answers `409 sync_token_ahead`, and a download from the beginning gives what the backup
/// holds.
/// Copies a stopped server's SQLite database with its write-ahead log, if one was left.
fn copy_database(from: &std::path::Path, to: &std::path::Path) {
    std::fs::copy(from, to).unwrap();
    let wal = |p: &std::path::Path| p.with_extension("db-wal");
    let _ = std::fs::remove_file(wal(to));
    let _ = std::fs::remove_file(to.with_extension("db-shm"));
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to)).unwrap();
    }
}

#[test]
fn a_server_restored_from_a_backup_answers_newer_tokens_with_409() {
    if std::env::var("POS_SYNC_SERVER_URL").is_ok() {
        eprintln!("skipped: needs a reference server process");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let backup = dir.path().join("backup.db");
    let db = db.to_str().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ids: Vec<String> = (0..5).map(|_| uid("cust")).collect();
    let upload = |server: &Server, ids: &[String]| {
        let api = server.api();
        let creates = ids.iter().map(|id| customer_create(id, "C")).collect();
        runtime.block_on(api.upload(&server.a1.token, creates));
    };

    let mut server = Server::spawn(&["--db", db]);
    upload(&server, &ids[..3]);
    assert!(server.terminate().success());
    copy_database(db.as_ref(), &backup);
    let mut server = Server::spawn(&["--db", db]);
    upload(&server, &ids[3..]);
    let (_, newest) = runtime.block_on(server.api().download_all(
        &server.a1.token,
        EntityType::Customer,
        None,
        10,
    ));
    assert!(server.terminate().success());

    copy_database(&backup, db.as_ref());
    let server = Server::spawn(&["--db", db]);
    let api = server.api();
    runtime.block_on(async {
        let query = format!("entity_type=customer&since={}", urlencode(&newest));
        api.download_resp(&server.a1.token, &query)
            .await
            .expect_error(409, "sync_token_ahead");
        let (records, _) = api
            .download_all(&server.a1.token, EntityType::Customer, None, 10)
            .await;
        let restored: Vec<&str> = records.iter().map(|r| r.entity_id.as_str()).collect();
        assert_eq!(
            restored,
            ids[..3].iter().map(String::as_str).collect::<Vec<_>>()
        );
    });
}

#[test]
fn hlc_helper_matches_the_documented_layout() {
    // protocol.md: hlc = (milliseconds << 16) | counter.
    assert_eq!(hlc::pack(1, 2), (1 << 16) | 2);
    assert_eq!(batch_checksum::<Value>(&[]), payload_checksum(&json!([])));
}
