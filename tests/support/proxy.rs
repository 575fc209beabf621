//! A fault-injecting HTTP proxy on loopback between an engine and the real server. Faults
//! are queued per path prefix and consumed one per matching request; everything else is
//! forwarded untouched.

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (and `Retry-After` seconds) without reaching the server.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// Forward, then change one record of the answer so its checksums no longer match.
    CorruptRecords,
    /// Forward (the server commits), then answer 504: the device never hears the result.
    LoseResponse,
}

struct ProxyState {
    upstream: String,
    faults: Mutex<VecDeque<(String, Fault)>>,
    requests: Mutex<HashMap<String, usize>>,
    client: reqwest::Client,
}

pub struct Proxy {
    pub url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        let state = Arc::new(ProxyState {
            upstream: upstream.to_owned(),
            faults: Mutex::new(VecDeque::new()),
            requests: Mutex::new(HashMap::new()),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Proxy { url, state, task }
    }

    /// The next request whose path starts with `path_prefix` gets `fault`.
    pub fn inject(&self, path_prefix: &str, fault: Fault) {
        self.state
            .faults
            .lock()
            .unwrap()
            .push_back((path_prefix.to_owned(), fault));
    }

    /// Faults not consumed yet.
    pub fn pending_faults(&self) -> usize {
        self.state.faults.lock().unwrap().len()
    }

    /// Requests seen for a path (faulted or not).
    pub fn requests(&self, path: &str) -> usize {
        self.state
            .requests
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn take_fault(state: &ProxyState, path: &str) -> Option<Fault> {
    let mut faults = state.faults.lock().unwrap();
    let index = faults
        .iter()
        .position(|(prefix, _)| path.starts_with(prefix.as_str()))?;
    faults.remove(index).map(|(_, f)| f)
}

async fn forward(State(state): State<Arc<ProxyState>>, request: Request<Body>) -> Response {
    let path = request.uri().path().to_owned();
    *state
        .requests
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default() += 1;
    let fault = take_fault(&state, &path);
    if let Some(Fault::Status {
        status,
        retry_after,
    }) = &fault
    {
        let mut response = Response::new(Body::from(format!(
            r#"{{"error":{{"code":"{}","message":"injected by the test proxy"}}}}"#,
            if *status == 429 {
                "rate_limited"
            } else {
                "internal"
            }
        )));
        *response.status_mut() = StatusCode::from_u16(*status).unwrap();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                "retry-after",
                HeaderValue::from_str(&seconds.to_string()).unwrap(),
            );
        }
        return response;
    }
    let method = request.method().clone();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = request.headers().clone();
    let body = to_bytes(request.into_body(), usize::MAX).await.unwrap();
    let mut upstream = state
        .client
        .request(method, format!("{}{path_and_query}", state.upstream))
        .body(body);
    for name in [
        "authorization",
        "content-type",
        "content-encoding",
        "x-pos-sync-protocol",
    ] {
        if let Some(v) = headers.get(name) {
            upstream = upstream.header(name, v.to_str().unwrap());
        }
    }
    let answer = upstream.send().await.unwrap();
    let status = answer.status().as_u16();
    let mut out_headers = HeaderMap::new();
    for name in ["content-type", "retry-after"] {
        if let Some(v) = answer.headers().get(name) {
            out_headers.insert(name, v.clone());
        }
    }
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    match fault {
        Some(Fault::LoseResponse) => {
            let mut response = Response::new(Body::from("gateway timeout"));
            *response.status_mut() = StatusCode::GATEWAY_TIMEOUT;
            return response;
        }
        Some(Fault::CorruptRecords) => bytes = corrupt_first_record(&bytes),
        _ => {}
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    *response.headers_mut() = out_headers;
    response
}

/// Changes the first record's payload (still valid JSON), leaving every checksum as it was.
fn corrupt_first_record(bytes: &[u8]) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(bytes).expect("the server answers JSON");
    if let Some(record) = value["records"].get_mut(0) {
        if let Some(payload) = record["payload"].as_object_mut() {
            payload.insert("name".into(), Value::String("tampered in transit".into()));
        }
    }
    serde_json::to_vec(&value).unwrap()
}
