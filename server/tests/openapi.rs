//! docs/openapi.yaml is a well-formed OpenAPI 3.1 document, its schemas are exactly the
//! serde wire types of `pos_sync_protocol`, and it lists exactly the routes the server
//! serves. (The conformance suite also checks every real response against it.)

mod support;

use pos_sync_protocol::model::{Action, EntityType};
use pos_sync_protocol::{
    batch_checksum, payload_checksum, ChangeResult, ChangeStatus, DownloadResponse, EntityStatus,
    ErrorBody, ErrorCode, RateLimitStatus, Resolution, ResolveRequest, ResolveResponse,
    ServerRecord, StatusResponse, UploadResponse, PROTOCOL_VERSION,
};
use reqwest::Method;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use support::openapi::{spec, Spec};
use support::*;

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn walk<'a>(node: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    out.push((path.clone(), node));
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                walk(v, format!("{path}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_well_formed_openapi_3_1() {
    let doc = &spec().doc;
    let version = doc["openapi"].as_str().expect("openapi version string");
    assert!(version.starts_with("3.1."), "OpenAPI 3.1, got {version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));

    // Every $ref points at something.
    let mut nodes = Vec::new();
    walk(doc, String::new(), &mut nodes);
    for (at, node) in &nodes {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{at}: only local refs, got {r}"));
            assert!(
                doc.pointer(pointer).is_some(),
                "{at}: $ref {r} points nowhere"
            );
        }
    }

    // Every component schema is a valid JSON Schema 2020-12 and compiles.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        let mut standalone = schema.clone();
        standalone["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        if let Err(e) = jsonschema::meta::validate(&standalone) {
            panic!("components.schemas.{name} is not valid JSON Schema 2020-12: {e}");
        }
        spec().component(name);
    }

    // Operations: unique ids, described responses, declared path parameters, known schemes.
    let schemes: HashSet<&String> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let wanted: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        for (key, op) in item.as_object().unwrap() {
            if key == "parameters" {
                continue;
            }
            assert!(
                HTTP_METHODS.contains(&key.as_str()),
                "{path}: '{key}' is not an HTTP method"
            );
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{key} {path}: operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty());
            for (status, response) in responses {
                assert!(
                    status.len() == 3 && status.parse::<u16>().is_ok(),
                    "{id}: status {status}"
                );
                let response = spec().resolve(response);
                assert!(
                    response["description"].is_string(),
                    "{id} {status}: description"
                );
            }
            let params: Vec<&Value> = item["parameters"]
                .as_array()
                .into_iter()
                .chain(op["parameters"].as_array())
                .flatten()
                .map(|p| spec().resolve(p))
                .collect();
            let mut declared = BTreeSet::new();
            for p in &params {
                let name = p["name"].as_str().expect("parameter name");
                let place = p["in"].as_str().expect("parameter in");
                assert!(
                    ["query", "header", "path", "cookie"].contains(&place),
                    "{id}: {name} in {place}"
                );
                assert!(p["schema"].is_object(), "{id}: {name} has a schema");
                if place == "path" {
                    assert_eq!(
                        p["required"],
                        json!(true),
                        "{id}: path parameter {name} is required"
                    );
                    declared.insert(name.to_string());
                }
            }
            assert_eq!(declared, wanted, "{id}: path parameters");
            for requirement in op["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(
                        schemes.contains(scheme),
                        "{id}: unknown security scheme {scheme}"
                    );
                }
            }
        }
    }
    for requirement in doc["security"].as_array().unwrap() {
        for scheme in requirement.as_object().unwrap().keys() {
            assert!(schemes.contains(scheme));
        }
    }
}

fn names<T: Serialize>(values: impl IntoIterator<Item = T>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn schema_enum(name: &str) -> Vec<String> {
    spec().doc["components"]["schemas"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is an enum"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Every error code. The match has no wildcard, so a new variant breaks the build here.
fn all_error_codes() -> Vec<ErrorCode> {
    let all = [
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::InvalidRequest,
        ErrorCode::UnknownEntityType,
        ErrorCode::ChecksumMismatch,
        ErrorCode::UnsupportedProtocolVersion,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::NotFound,
        ErrorCode::ConflictClosed,
        ErrorCode::SyncTokenAhead,
        ErrorCode::InvalidPayload,
        ErrorCode::InvalidAction,
        ErrorCode::Internal,
    ];
    for code in all {
        match code {
            ErrorCode::Unauthorized
            | ErrorCode::Forbidden
            | ErrorCode::InvalidRequest
            | ErrorCode::UnknownEntityType
            | ErrorCode::ChecksumMismatch
            | ErrorCode::UnsupportedProtocolVersion
            | ErrorCode::PayloadTooLarge
            | ErrorCode::RateLimited
            | ErrorCode::NotFound
            | ErrorCode::ConflictClosed
            | ErrorCode::SyncTokenAhead
            | ErrorCode::InvalidPayload
            | ErrorCode::InvalidAction
            | ErrorCode::Internal => {}
        }
    }
    all.to_vec()
}

fn record(deleted: bool) -> ServerRecord {
    let payload = if deleted {
        Value::Null
    } else {
        json!({"id": "c1", "name": "Ann"})
    };
    ServerRecord {
        entity_type: EntityType::Customer,
        entity_id: "c1".into(),
        version: 2,
        deleted,
        updated_hlc: 117_000_000_000_000_000,
        checksum: payload_checksum(&payload),
        payload,
    }
}

fn result(status: ChangeStatus) -> ChangeResult {
    let mut r = ChangeResult {
        change_id: "chg-1".into(),
        status,
        version: None,
        code: None,
        reason: None,
        conflict_id: None,
        server_record: None,
    };
    match status {
        ChangeStatus::Applied | ChangeStatus::Duplicate => r.version = Some(1),
        ChangeStatus::Conflict => {
            r.reason = Some("changed on the server".into());
            r.conflict_id = Some("cf-1".into());
            r.server_record = Some(record(false));
        }
        ChangeStatus::Rejected => {
            r.code = Some("invalid_payload".into());
            r.reason = Some("no lines".into());
        }
    }
    r
}

fn full_result() -> ChangeResult {
    ChangeResult {
        version: Some(3),
        code: Some("invalid_request".into()),
        ..result(ChangeStatus::Conflict)
    }
}

fn status_response() -> StatusResponse {
    StatusResponse {
        protocol_version: PROTOCOL_VERSION,
        server_time: 1_700_000_000_000,
        store_id: "s".into(),
        device_id: "d".into(),
        entities: EntityType::ALL
            .iter()
            .map(|t| EntityStatus {
                entity_type: *t,
                count: 1,
                checksum: u32::MAX,
            })
            .collect(),
        open_conflicts: 0,
        rate_limit: RateLimitStatus {
            limit: 600,
            remaining: 599,
            reset_seconds: 60,
        },
    }
}

fn valid(schema: &str, value: &Value) {
    let errors = Spec::errors(&spec().component(schema), value);
    assert!(
        errors.is_empty(),
        "{schema} should accept {value}: {errors:?}"
    );
}

fn invalid(schema: &str, value: &Value) {
    assert!(
        !spec().component(schema).is_valid(value),
        "{schema} should refuse {value}"
    );
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn schema_keys(schema: &str, field: &str) -> BTreeSet<String> {
    let node = &spec().doc["components"]["schemas"][schema][field];
    match node {
        Value::Object(map) => map.keys().cloned().collect(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The schema's properties are the fields of a fully populated value; its required fields
/// are those of a value with every optional field left out.
fn same_fields(schema: &str, full: &Value, minimal: &Value) {
    assert_eq!(
        schema_keys(schema, "properties"),
        keys(full),
        "{schema}: properties"
    );
    assert_eq!(
        schema_keys(schema, "required"),
        keys(minimal),
        "{schema}: required"
    );
}

#[test]
fn schemas_are_the_rust_wire_types() {
    assert_eq!(schema_enum("EntityType"), names(EntityType::ALL));
    assert_eq!(
        schema_enum("Action"),
        names([Action::Create, Action::Update, Action::Delete])
    );
    assert_eq!(
        schema_enum("ChangeStatus"),
        names([
            ChangeStatus::Applied,
            ChangeStatus::Duplicate,
            ChangeStatus::Conflict,
            ChangeStatus::Rejected
        ])
    );
    assert_eq!(
        schema_enum("Resolution"),
        names([
            Resolution::KeepLocal,
            Resolution::KeepServer,
            Resolution::Merged
        ])
    );
    assert_eq!(schema_enum("ErrorCode"), names(all_error_codes()));
    for code in all_error_codes() {
        valid(
            "ErrorBody",
            &serde_json::to_value(ErrorBody::new(code, "words")).unwrap(),
        );
    }

    // Field sets, exactly.
    let v = |x: &dyn erased::Ser| x.value();
    same_fields(
        "ChangeResult",
        &v(&full_result()),
        &json!({"change_id": "c", "status": "applied"}),
    );
    same_fields("ServerRecord", &v(&record(false)), &v(&record(false)));
    let upload_response = UploadResponse {
        results: vec![result(ChangeStatus::Applied)],
        server_time: 1,
    };
    same_fields("UploadResponse", &v(&upload_response), &v(&upload_response));
    let records = vec![record(false), record(true)];
    let download = DownloadResponse {
        entity_type: EntityType::Customer,
        checksum: batch_checksum(&records),
        records,
        next_token: "v1.9".into(),
        has_more: false,
        server_time: 1,
    };
    same_fields("DownloadResponse", &v(&download), &v(&download));
    same_fields(
        "StatusResponse",
        &v(&status_response()),
        &v(&status_response()),
    );
    let es = &v(&status_response())["entities"][0];
    same_fields("EntityStatus", es, es);
    let rl = &v(&status_response())["rate_limit"];
    same_fields("RateLimitStatus", rl, rl);
    let resolved = ResolveResponse {
        conflict_id: "cf".into(),
        record: record(false),
        server_time: 1,
    };
    same_fields("ResolveResponse", &v(&resolved), &v(&resolved));
    let update = customer_update("c1", 1, "Ann");
    let create = customer_create("c1", "Ann");
    same_fields("Change", &v(&update), &v(&create));
    let request = batch(vec![
        create.clone(),
        update.clone(),
        sale("s1", &[("p", 1)]),
    ]);
    same_fields("UploadRequest", &v(&request), &v(&request));
    let keep_local = ResolveRequest {
        conflict_id: "cf".into(),
        resolution: Resolution::KeepLocal,
        payload: Some(json!({"id": "c1"})),
        checksum: Some(payload_checksum(&json!({"id": "c1"}))),
        hlc: 5,
    };
    let keep_server = ResolveRequest {
        resolution: Resolution::KeepServer,
        payload: None,
        checksum: None,
        ..keep_local.clone()
    };
    same_fields("ResolveRequest", &v(&keep_local), &v(&keep_server));

    // Real values are accepted...
    for status in [
        ChangeStatus::Applied,
        ChangeStatus::Duplicate,
        ChangeStatus::Conflict,
        ChangeStatus::Rejected,
    ] {
        valid("ChangeResult", &v(&result(status)));
    }
    valid("ServerRecord", &v(&record(true)));
    valid("UploadResponse", &v(&upload_response));
    valid("DownloadResponse", &v(&download));
    valid("StatusResponse", &v(&status_response()));
    valid("ResolveResponse", &v(&resolved));
    valid("UploadRequest", &v(&request));
    valid("ResolveRequest", &v(&keep_local));
    valid("ResolveRequest", &v(&keep_server));

    // ... and wrong ones refused, so the schemas are not vacuous.
    let mut bad = v(&result(ChangeStatus::Applied));
    bad["status"] = json!("done");
    invalid("ChangeResult", &bad);
    invalid(
        "ChangeResult",
        &json!({"change_id": "c", "status": "applied"}),
    );
    invalid(
        "ChangeResult",
        &json!({"change_id": "c", "status": "conflict", "reason": "r"}),
    );
    invalid(
        "ChangeResult",
        &json!({"change_id": "c", "status": "rejected", "code": "nonsense", "reason": "r"}),
    );
    let mut extra = v(&result(ChangeStatus::Applied));
    extra["extra"] = json!(1);
    invalid("ChangeResult", &extra);
    let mut bad = v(&record(false));
    bad["deleted"] = json!(true);
    invalid("ServerRecord", &bad);
    let mut bad = v(&record(false));
    bad["checksum"] = json!(bad["checksum"].as_str().unwrap().to_uppercase());
    invalid("ServerRecord", &bad);
    let mut bad = v(&status_response());
    bad["entities"].as_array_mut().unwrap().pop();
    invalid("StatusResponse", &bad);
    let mut bad = v(&status_response());
    bad["entities"][0]["checksum"] = json!(u64::from(u32::MAX) + 1);
    invalid("StatusResponse", &bad);
    invalid(
        "ErrorBody",
        &json!({"error": {"code": "oops", "message": "m"}}),
    );
    invalid("ErrorBody", &json!({"error": "plain text"}));
    let mut bad = v(&request);
    bad.as_object_mut().unwrap().remove("checksum");
    invalid("UploadRequest", &bad);
    let mut bad = v(&request);
    bad["changes"][0]["entity_type"] = json!("invoice");
    invalid("UploadRequest", &bad);
    let mut bad = v(&keep_local);
    bad.as_object_mut().unwrap().remove("payload");
    invalid("ResolveRequest", &bad);
}

/// `&dyn` access to `serde_json::to_value` for the helpers above.
mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_server_serves() {
    let server = Server::start();
    let api = server.api();
    let doc = &spec().doc;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let is_admin = op["security"].to_string().contains("adminToken");
            let token = if is_admin {
                match server.admin_token() {
                    Some(t) => t.to_string(),
                    None => continue,
                }
            } else {
                server.a1.token.clone()
            };
            let path = template
                .replace("{store_id}", &server.a1.store_id)
                .replace("{entity_type}", "product")
                .replace("{entity_id}", &uid("missing"));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut rb = api
                .request(m, &path)
                .header("authorization", bearer(&token));
            if op.get("requestBody").is_some() {
                rb = rb.header("content-type", "application/json").body("{}");
            }
            let op_key: support::openapi::Op = (
                Box::leak(method.clone().into_boxed_str()),
                Box::leak(template.clone().into_boxed_str()),
            );
            // `send` fails on any status the document does not list for this operation.
            let r = api.send(Some(op_key), rb).await;
            assert_ne!(r.status, 405, "{method} {template} is served");
            if r.status == 404 {
                assert_eq!(
                    op_key.0, "delete",
                    "{method} {template} is served: {}",
                    r.json
                );
            }
        }
    }
    // Methods and paths the document does not list are refused with JSON errors.
    let t = &server.a1.token;
    for (m, path, status) in [
        (Method::PATCH, "/api/sync/upload", 405),
        (Method::POST, "/api/sync/status", 405),
        (Method::DELETE, "/api/sync/download", 405),
        (Method::GET, "/api/sync", 404),
        (Method::POST, "/api/sync/uploads", 404),
    ] {
        let r = api
            .send(
                None,
                api.request(m.clone(), path)
                    .header("authorization", bearer(t)),
            )
            .await;
        assert_eq!(r.status, status, "{m} {path}");
    }
}

/// The JSON block that follows `<!-- checked-example: NAME -->` in docs/protocol.md.
fn doc_example(doc: &str, name: &str) -> Value {
    let marker = format!("<!-- checked-example: {name} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("protocol.md has no example {name}"));
    let rest = &doc[start + marker.len()..];
    let body = rest
        .trim_start()
        .strip_prefix("```json")
        .expect("a json block follows the marker");
    let end = body.find("```").expect("the block ends");
    serde_json::from_str(&body[..end]).unwrap_or_else(|e| panic!("example {name} is not JSON: {e}"))
}

#[test]
fn protocol_md_examples_and_test_vectors_are_true() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .unwrap();

    // Examples match the schemas, and their checksums are real.
    for (name, schema) in [
        ("upload-request", "UploadRequest"),
        ("upload-response", "UploadResponse"),
        ("download-response", "DownloadResponse"),
        ("status-response", "StatusResponse"),
        ("resolve-request", "ResolveRequest"),
        ("resolve-response", "ResolveResponse"),
        ("error-body", "ErrorBody"),
        ("token-ahead", "ErrorBody"),
        ("webhook-event", "WebhookEvent"),
    ] {
        valid(schema, &doc_example(&doc, name));
    }
    let upload: pos_sync_protocol::UploadRequest =
        serde_json::from_value(doc_example(&doc, "upload-request")).unwrap();
    assert_eq!(upload.checksum, batch_checksum(&upload.changes));
    for c in &upload.changes {
        assert_eq!(c.checksum, payload_checksum(&c.payload), "{}", c.change_id);
    }
    let download: DownloadResponse =
        serde_json::from_value(doc_example(&doc, "download-response")).unwrap();
    assert_eq!(download.checksum, batch_checksum(&download.records));
    let uploaded: UploadResponse =
        serde_json::from_value(doc_example(&doc, "upload-response")).unwrap();
    let resolved: ResolveResponse =
        serde_json::from_value(doc_example(&doc, "resolve-response")).unwrap();
    let conflict_record = uploaded.results[1].server_record.clone().unwrap();
    for r in download
        .records
        .iter()
        .chain([&conflict_record, &resolved.record])
    {
        assert_eq!(r.checksum, payload_checksum(&r.payload), "{}", r.entity_id);
    }
    let request: ResolveRequest =
        serde_json::from_value(doc_example(&doc, "resolve-request")).unwrap();
    assert_eq!(
        request.checksum,
        request.payload.as_ref().map(payload_checksum)
    );

    // The test-vector table: canonical form, SHA-256 and drift contribution.
    let vectors: Vec<Vec<String>> = doc
        .lines()
        .filter(|l| l.starts_with("| `") && l.matches('`').count() == 4)
        .map(|l| {
            l.split(" | ")
                .map(|c| {
                    c.trim_matches(|ch| ch == '|' || ch == ' ' || ch == '`')
                        .to_string()
                })
                .collect()
        })
        .filter(|cells: &Vec<String>| cells.len() == 3 && cells[1].len() == 64)
        .collect();
    assert_eq!(vectors.len(), 4, "four test vectors");
    for cells in vectors {
        let value: Value = serde_json::from_str(&cells[0]).unwrap();
        assert_eq!(
            pos_sync_protocol::canonical_json(&value),
            cells[0],
            "canonical form"
        );
        assert_eq!(payload_checksum(&value), cells[1], "sha256 of {}", cells[0]);
        assert_eq!(
            pos_sync_protocol::drift_checksum(&cells[1]).to_string(),
            cells[2]
        );
    }
    let shuffled: Value =
        serde_json::from_str(r#"{ "b": [1, {"d": true, "c": null}], "a": "Grüße / \"q\"" }"#)
            .unwrap();
    assert!(doc.contains(&format!(
        "`{}`",
        pos_sync_protocol::canonical_json(&shuffled)
    )));
    let signature =
        pos_sync_server::webhooks::signature("whsec_test", br#"{"event":"changes.applied"}"#);
    assert!(
        doc.contains(&format!("`{signature}`")),
        "webhook signature vector"
    );
}
