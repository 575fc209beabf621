//! Harness of the conformance suite: which server to drive, an HTTP client that checks
//! every answer against docs/openapi.yaml, and builders of protocol messages.
//!
//! With `POS_SYNC_SERVER_URL` set, tests drive that server: `POS_SYNC_TEST_TOKENS` lists its
//! devices (a tokens file path, or `TOKEN DEVICE_ID STORE_ID` entries separated by `;` or
//! newlines; at least two stores), `POS_SYNC_ADMIN_TOKEN` its admin token if it has the
//! admin routes. Otherwise each test spawns the `pos-sync-server` binary on 127.0.0.1:0.
#![allow(dead_code)]

pub mod openapi;

use openapi::{short, spec, Op};
use pos_sync_protocol::model::{hlc, Action, EntityType};
use pos_sync_protocol::{
    batch_checksum, payload_checksum, Change, ChangeResult, DownloadResponse, ErrorBody,
    ResolveRequest, ResolveResponse, ServerRecord, StatusResponse, UploadRequest, UploadResponse,
    PROTOCOL_HEADER,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const UPLOAD: Op = ("post", "/api/sync/upload");
pub const DOWNLOAD: Op = ("get", "/api/sync/download");
pub const STATUS: Op = ("get", "/api/sync/status");
pub const RESOLVE: Op = ("post", "/api/sync/resolve");
pub const ADMIN_RECORDS_GET: Op = ("get", "/admin/stores/{store_id}/records/{entity_type}");
pub const ADMIN_RECORDS_PUT: Op = ("put", "/admin/stores/{store_id}/records/{entity_type}");
pub const ADMIN_DELETE: Op = (
    "delete",
    "/admin/stores/{store_id}/records/{entity_type}/{entity_id}",
);
pub const ADMIN_STOCK: Op = ("get", "/admin/stores/{store_id}/stock");

#[derive(Debug, Clone)]
pub struct Device {
    pub token: String,
    pub device_id: String,
    pub store_id: String,
}

/// The server under test.
pub struct Server {
    pub url: String,
    /// Two devices of store A (the same one twice if only one is known) and one of store B.
    pub a1: Device,
    pub a2: Device,
    pub b1: Device,
    pub admin: Option<String>,
    pub external: bool,
    child: Option<Child>,
    _stdout: Option<BufReader<ChildStdout>>,
    _dir: Option<tempfile::TempDir>,
}

fn default_devices() -> Vec<Device> {
    [
        ("tok-a1", "till-a1", "store-a"),
        ("tok-a2", "till-a2", "store-a"),
        ("tok-b1", "till-b1", "store-b"),
    ]
    .iter()
    .map(|(t, d, s)| Device {
        token: t.to_string(),
        device_id: d.to_string(),
        store_id: s.to_string(),
    })
    .collect()
}

fn parse_devices(text: &str) -> Vec<Device> {
    text.split(['\n', ';'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(
                f.len(),
                3,
                "POS_SYNC_TEST_TOKENS entry '{l}' is not 'TOKEN DEVICE_ID STORE_ID'"
            );
            Device {
                token: f[0].into(),
                device_id: f[1].into(),
                store_id: f[2].into(),
            }
        })
        .collect()
}

fn pick(devices: &[Device]) -> (Device, Device, Device) {
    let a1 = devices.first().expect("at least one device").clone();
    let a2 = devices
        .iter()
        .find(|d| d.store_id == a1.store_id && d.token != a1.token)
        .unwrap_or(&a1)
        .clone();
    let b1 = devices
        .iter()
        .find(|d| d.store_id != a1.store_id)
        .expect("the suite needs devices of two different stores")
        .clone();
    (a1, a2, b1)
}

impl Server {
    /// The server every ordinary test drives: the external one, or a fresh reference server.
    pub fn start() -> Server {
        if let Ok(url) = std::env::var("POS_SYNC_SERVER_URL") {
            let tokens = std::env::var("POS_SYNC_TEST_TOKENS")
                .expect("POS_SYNC_TEST_TOKENS must describe the devices of POS_SYNC_SERVER_URL");
            let text = if std::path::Path::new(&tokens).is_file() {
                std::fs::read_to_string(&tokens).expect("tokens file is readable")
            } else {
                tokens
            };
            let (a1, a2, b1) = pick(&parse_devices(&text));
            return Server {
                url: url.trim_end_matches('/').to_string(),
                a1,
                a2,
                b1,
                admin: std::env::var("POS_SYNC_ADMIN_TOKEN")
                    .ok()
                    .filter(|t| !t.is_empty()),
                external: true,
                child: None,
                _stdout: None,
                _dir: None,
            };
        }
        Self::spawn(&[])
    }

    /// A reference server with extra command-line flags, or `None` when the suite drives an
    /// external server (whose configuration the suite cannot choose).
    pub fn special(extra: &[&str]) -> Option<Server> {
        if std::env::var("POS_SYNC_SERVER_URL").is_ok() {
            eprintln!("skipped: needs a reference server started with {extra:?}");
            return None;
        }
        Some(Self::spawn(extra))
    }

    /// Spawns `pos-sync-server` on 127.0.0.1:0 and reads its URL from the first stdout line.
    pub fn spawn(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let devices = default_devices();
        let tokens = dir.path().join("tokens.txt");
        let text: String = devices
            .iter()
            .map(|d| format!("{} {} {}\n", d.token, d.device_id, d.store_id))
            .collect();
        std::fs::write(&tokens, format!("# test devices\n{text}")).unwrap();
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            tokens.to_str().unwrap(),
            "--admin-token",
            "admin-secret",
        ];
        if !extra.contains(&"--db") {
            args.extend(["--db", ":memory:"]);
        }
        args.extend_from_slice(extra);
        let log = std::env::var("POS_SYNC_TEST_SERVER_LOG").is_ok();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pos-sync-server"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if log { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("pos-sync-server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("first stdout line");
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "first stdout line is the base URL, got {line:?}"
        );
        let (a1, a2, b1) = pick(&devices);
        Server {
            url,
            a1,
            a2,
            b1,
            admin: Some("admin-secret".into()),
            external: false,
            child: Some(child),
            _stdout: Some(stdout),
            _dir: Some(dir),
        }
    }

    pub fn api(&self) -> Api {
        Api {
            http: reqwest::Client::builder()
                .no_gzip()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            url: self.url.clone(),
        }
    }

    /// SIGTERM, then wait (at most 10 s) for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("a spawned server");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the process dies at once, whatever it was doing (no shutdown code runs).
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("a spawned server");
        child.kill().expect("SIGKILL is sent");
        child.wait().expect("the killed server is reaped");
    }

    /// Skips (returns `None`) when the server has no admin routes configured.
    pub fn admin_token(&self) -> Option<&str> {
        if self.admin.is_none() {
            eprintln!("skipped part: no POS_SYNC_ADMIN_TOKEN");
        }
        self.admin.as_deref()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One answer, its JSON body decoded (gzip included) and already checked against openapi.yaml.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn ok<T: serde::de::DeserializeOwned>(self) -> T {
        assert_eq!(
            self.status,
            200,
            "expected 200, got {}: {}",
            self.status,
            short(&self.json)
        );
        serde_json::from_value(self.json.clone())
            .unwrap_or_else(|e| panic!("200 body does not parse: {e}: {}", short(&self.json)))
    }

    /// The `error.code` of an error answer (the body is a valid ErrorBody).
    pub fn code(&self) -> String {
        let body: ErrorBody = serde_json::from_value(self.json.clone())
            .unwrap_or_else(|e| panic!("not an ErrorBody ({e}): {}", short(&self.json)));
        body.error.code.as_str().to_string()
    }

    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code().as_str()),
            (status, code),
            "body: {}",
            short(&self.json)
        );
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Api {
    pub http: reqwest::Client,
    pub url: String,
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

impl Api {
    pub fn request(&self, method: Method, path_and_query: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.url, path_and_query))
    }

    /// Sends, decodes the body (gzip if so encoded), requires JSON, checks it against the
    /// response schema of `op` (or `ErrorBody` for `None`).
    pub async fn send(&self, op: Option<Op>, rb: RequestBuilder) -> Resp {
        let response = rb.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await.expect("a body");
        let bytes = if headers.get("content-encoding").is_some_and(|v| v == "gzip") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .expect("valid gzip");
            out
        } else {
            raw.to_vec()
        };
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            ct.starts_with("application/json"),
            "{op:?} answered {status} with Content-Type '{ct}': {}",
            String::from_utf8_lossy(&bytes)
        );
        let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("{op:?} answered {status} with a body that is not JSON ({e})")
        });
        spec().check_response(op, status, &json);
        Resp {
            status,
            headers,
            json,
        }
    }

    pub async fn post_json(&self, op: Op, path: &str, token: &str, body: &Value) -> Resp {
        spec().check_request(op, body);
        let rb = self
            .request(Method::POST, path)
            .header("authorization", bearer(token))
            .header(PROTOCOL_HEADER, "1")
            .json(body);
        self.send(Some(op), rb).await
    }

    pub async fn upload_req(&self, token: &str, request: &UploadRequest) -> Resp {
        self.post_json(
            UPLOAD,
            "/api/sync/upload",
            token,
            &serde_json::to_value(request).unwrap(),
        )
        .await
    }

    /// Uploads and returns the results, asserting 200 and one result per change, in order.
    pub async fn upload(&self, token: &str, changes: Vec<Change>) -> Vec<ChangeResult> {
        let request = batch(changes);
        let response: UploadResponse = self.upload_req(token, &request).await.ok();
        let sent: Vec<&str> = request
            .changes
            .iter()
            .map(|c| c.change_id.as_str())
            .collect();
        let got: Vec<&str> = response
            .results
            .iter()
            .map(|r| r.change_id.as_str())
            .collect();
        assert_eq!(got, sent, "one result per change, in request order");
        response.results
    }

    pub async fn download_resp(&self, token: &str, query: &str) -> Resp {
        let rb = self
            .request(Method::GET, &format!("/api/sync/download?{query}"))
            .header("authorization", bearer(token));
        self.send(Some(DOWNLOAD), rb).await
    }

    /// One page; checks the page checksum and every record checksum.
    pub async fn download(
        &self,
        token: &str,
        t: EntityType,
        since: Option<&str>,
        limit: Option<usize>,
    ) -> DownloadResponse {
        let mut query = format!("entity_type={t}");
        if let Some(s) = since {
            query.push_str(&format!("&since={}", urlencode(s)));
        }
        if let Some(l) = limit {
            query.push_str(&format!("&limit={l}"));
        }
        let page: DownloadResponse = self.download_resp(token, &query).await.ok();
        assert_eq!(page.entity_type, t);
        assert_eq!(
            page.checksum,
            batch_checksum(&page.records),
            "page checksum"
        );
        for r in &page.records {
            assert_eq!(r.entity_type, t);
            assert_eq!(
                r.checksum,
                payload_checksum(&r.payload),
                "record checksum of {}",
                r.entity_id
            );
            assert_eq!(
                r.deleted,
                r.payload.is_null(),
                "tombstones, and only they, have a null payload"
            );
        }
        page
    }

    /// Every page from `since` until `has_more` is false; returns the records and the last token.
    pub async fn download_all(
        &self,
        token: &str,
        t: EntityType,
        since: Option<&str>,
        limit: usize,
    ) -> (Vec<ServerRecord>, String) {
        let mut records = Vec::new();
        let mut since = since.map(str::to_string);
        for _ in 0..100_000 {
            let page = self.download(token, t, since.as_deref(), Some(limit)).await;
            assert!(page.records.len() <= limit);
            records.extend(page.records);
            since = Some(page.next_token);
            if !page.has_more {
                return (records, since.unwrap());
            }
        }
        panic!("download never ended")
    }

    pub async fn status_resp(&self, token: &str) -> Resp {
        let rb = self
            .request(Method::GET, "/api/sync/status")
            .header("authorization", bearer(token));
        self.send(Some(STATUS), rb).await
    }

    pub async fn status(&self, token: &str) -> StatusResponse {
        self.status_resp(token).await.ok()
    }

    pub async fn resolve_resp(&self, token: &str, request: &ResolveRequest) -> Resp {
        self.post_json(
            RESOLVE,
            "/api/sync/resolve",
            token,
            &serde_json::to_value(request).unwrap(),
        )
        .await
    }

    pub async fn resolve(&self, token: &str, request: &ResolveRequest) -> ResolveResponse {
        self.resolve_resp(token, request).await.ok()
    }

    pub async fn admin_put(
        &self,
        admin: &str,
        store: &str,
        t: EntityType,
        items: &[Value],
    ) -> Vec<ServerRecord> {
        let body = Value::Array(items.to_vec());
        spec().check_request(ADMIN_RECORDS_PUT, &body);
        let rb = self
            .request(Method::PUT, &format!("/admin/stores/{store}/records/{t}"))
            .header("authorization", bearer(admin))
            .json(&body);
        self.send(Some(ADMIN_RECORDS_PUT), rb).await.ok()
    }

    pub async fn admin_delete(&self, admin: &str, store: &str, t: EntityType, id: &str) -> Resp {
        let rb = self
            .request(
                Method::DELETE,
                &format!("/admin/stores/{store}/records/{t}/{id}"),
            )
            .header("authorization", bearer(admin));
        self.send(Some(ADMIN_DELETE), rb).await
    }

    pub async fn admin_list(&self, admin: &str, store: &str, t: EntityType) -> Vec<ServerRecord> {
        let rb = self
            .request(Method::GET, &format!("/admin/stores/{store}/records/{t}"))
            .header("authorization", bearer(admin));
        self.send(Some(ADMIN_RECORDS_GET), rb).await.ok()
    }

    /// Server-side stock of `product` (0 if it never moved).
    pub async fn admin_stock(&self, admin: &str, store: &str, product: &str) -> f64 {
        let rb = self
            .request(Method::GET, &format!("/admin/stores/{store}/stock"))
            .header("authorization", bearer(admin));
        let levels: Vec<Value> = self.send(Some(ADMIN_STOCK), rb).await.ok();
        levels
            .iter()
            .find(|l| l["product_id"] == product)
            .map_or(0.0, |l| l["quantity"].as_f64().expect("a number"))
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A unique id with a readable prefix.
pub fn uid(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub fn now_hlc() -> i64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    hlc::pack(ms, 0)
}

pub fn change(
    t: EntityType,
    id: &str,
    action: Action,
    base_version: Option<i64>,
    payload: Value,
) -> Change {
    Change {
        change_id: uid("chg"),
        entity_type: t,
        entity_id: id.to_string(),
        action,
        hlc: now_hlc(),
        base_version,
        checksum: payload_checksum(&payload),
        payload,
    }
}

pub fn sale(id: &str, lines: &[(&str, i64)]) -> Change {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q, "unit_price": 150}))
        .collect();
    change(
        EntityType::Sale,
        id,
        Action::Create,
        None,
        json!({"id": id, "receipt_no": "S1-R1-000001", "lines": lines, "total": 300}),
    )
}

pub fn adjustment(id: &str, product: &str, delta: i64) -> Change {
    change(
        EntityType::StockAdjustment,
        id,
        Action::Create,
        None,
        json!({"id": id, "product_id": product, "quantity_delta": delta, "reason": "delivery"}),
    )
}

pub fn customer(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "phone": "+1 555 0100"})
}

pub fn customer_create(id: &str, name: &str) -> Change {
    change(
        EntityType::Customer,
        id,
        Action::Create,
        None,
        customer(id, name),
    )
}

pub fn customer_update(id: &str, base: i64, name: &str) -> Change {
    change(
        EntityType::Customer,
        id,
        Action::Update,
        Some(base),
        customer(id, name),
    )
}

pub fn customer_delete(id: &str, base: i64) -> Change {
    change(
        EntityType::Customer,
        id,
        Action::Delete,
        Some(base),
        Value::Null,
    )
}

pub fn batch(changes: Vec<Change>) -> UploadRequest {
    UploadRequest {
        batch_id: uid("batch"),
        checksum: batch_checksum(&changes),
        changes,
    }
}

pub fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap(),
    )
}
