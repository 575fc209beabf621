//! A fault-injecting HTTP proxy on loopback between an engine and the real server. Faults
//! are queued per path prefix and consumed one per matching request (or drawn at random,
//! see `set_random_faults`); everything else is forwarded untouched.
//!
//! It speaks HTTP/1.1 on raw TCP (one request per connection, `connection: close`), so it
//! can do what a well-behaved HTTP server cannot: reset a connection, stall past the
//! client's timeout, cut a body short, or flip bytes of a request or an answer.

use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    /// Reset the connection (TCP RST) before the request reaches the server.
    ResetBeforeForward,
    /// Forward (the server commits), then reset the connection instead of answering.
    ResetAfterForward,
    /// Hold the request `ms` before doing anything (past the client's timeout), then forward
    /// it anyway: a slow request that lands after the client gave up.
    StallBeforeForward { ms: u64 },
    /// Forward (the server commits), then hold the answer `ms` before sending it.
    StallAfterForward { ms: u64 },
    /// Forward, then send the headers and only part of the body, and close.
    TruncateBody,
    /// Flip `count` random bytes of the request body, then forward it.
    FlipRequestBytes { count: usize },
    /// Forward, then flip `count` random bytes of the answer's body.
    FlipResponseBytes { count: usize },
    /// Forward, then rename every record of a download page ("tampered …") leaving every
    /// checksum as it was.
    TamperNames,
    /// Forward, then rewrite the answer's body with this function (a precise, still valid
    /// corruption, e.g. one digit of a sync token).
    EditAnswer(fn(&[u8]) -> Vec<u8>),
}

impl Fault {
    /// A short name for counting faults by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Status { status: 429, .. } => "status 429 + Retry-After",
            Fault::Status { status: 500, .. } => "status 500",
            Fault::Status { status: 503, .. } => "status 503",
            Fault::Status { .. } => "status other",
            Fault::CorruptRecords => "corrupt one record",
            Fault::LoseResponse => "lost answer (504 after commit)",
            Fault::ResetBeforeForward => "reset before forwarding",
            Fault::ResetAfterForward => "reset after forwarding",
            Fault::StallBeforeForward { .. } => "stall before forwarding",
            Fault::StallAfterForward { .. } => "stall after forwarding",
            Fault::TruncateBody => "truncated answer body",
            Fault::FlipRequestBytes { .. } => "flipped request bytes",
            Fault::FlipResponseBytes { .. } => "flipped answer bytes",
            Fault::TamperNames => "tampered names (checksums kept)",
            Fault::EditAnswer(_) => "edited answer",
        }
    }
}

/// Faults drawn at random: each request whose path starts with a kind's prefix gets one of
/// the matching kinds with probability `rate`.
pub struct RandomFaults {
    pub rate: f64,
    pub kinds: Vec<(String, Fault)>,
    pub seed: u64,
}

struct Random {
    rate: f64,
    kinds: Vec<(String, Fault)>,
    rng: rand::rngs::StdRng,
}

struct ProxyState {
    upstream: String,
    faults: Mutex<VecDeque<(String, Fault)>>,
    random: Mutex<Option<Random>>,
    requests: Mutex<HashMap<String, usize>>,
    responses: Mutex<HashMap<String, usize>>,
    injected: Mutex<HashMap<&'static str, usize>>,
    in_flight: AtomicUsize,
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
            random: Mutex::new(None),
            requests: Mutex::new(HashMap::new()),
            responses: Mutex::new(HashMap::new()),
            injected: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            client: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accept_state = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let state = accept_state.clone();
                tokio::spawn(async move {
                    state.in_flight.fetch_add(1, Ordering::SeqCst);
                    let _ = serve(&state, socket).await;
                    state.in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
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

    /// Draws faults at random from now on (queued faults still go first).
    pub fn set_random_faults(&self, random: RandomFaults) {
        *self.state.random.lock().unwrap() = Some(Random {
            rate: random.rate,
            kinds: random.kinds,
            rng: rand::rngs::StdRng::seed_from_u64(random.seed),
        });
    }

    /// Stops drawing random faults.
    pub fn clear_random_faults(&self) {
        *self.state.random.lock().unwrap() = None;
    }

    /// Faults not consumed yet.
    pub fn pending_faults(&self) -> usize {
        self.state.faults.lock().unwrap().len()
    }

    /// Requests seen for a path (faulted or not).
    pub fn requests(&self, path: &str) -> usize {
        count(&self.state.requests, path)
    }

    /// Answers written in full to the client for a path (faulted or not).
    pub fn responses(&self, path: &str) -> usize {
        count(&self.state.responses, path)
    }

    /// Connections being served right now.
    pub fn in_flight(&self) -> usize {
        self.state.in_flight.load(Ordering::SeqCst)
    }

    /// Faults injected so far, by kind.
    pub fn injected(&self) -> HashMap<&'static str, usize> {
        self.state.injected.lock().unwrap().clone()
    }
}

fn count(map: &Mutex<HashMap<String, usize>>, path: &str) -> usize {
    map.lock().unwrap().get(path).copied().unwrap_or(0)
}

fn take_fault(state: &ProxyState, path: &str) -> Option<Fault> {
    let queued = {
        let mut faults = state.faults.lock().unwrap();
        faults
            .iter()
            .position(|(prefix, _)| path.starts_with(prefix.as_str()))
            .and_then(|i| faults.remove(i))
            .map(|(_, f)| f)
    };
    let fault = queued.or_else(|| {
        let mut random = state.random.lock().unwrap();
        let random = random.as_mut()?;
        let matching: Vec<Fault> = random
            .kinds
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, f)| f.clone())
            .collect();
        if matching.is_empty() || !random.rng.random_bool(random.rate) {
            return None;
        }
        let i = random.rng.random_range(0..matching.len());
        Some(matching[i].clone())
    })?;
    *state
        .injected
        .lock()
        .unwrap()
        .entry(fault.kind())
        .or_default() += 1;
    Some(fault)
}

struct RawRequest {
    method: String,
    path_and_query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn path(&self) -> &str {
        self.path_and_query
            .split('?')
            .next()
            .unwrap_or(&self.path_and_query)
    }
}

/// Reads one HTTP/1.1 request (headers, then a `content-length` body), bounded in size
/// and time.
async fn read_request(socket: &mut TcpStream) -> Option<RawRequest> {
    let read = async {
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if buf.len() > 64 * 1024 {
                return None;
            }
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next()?.split(' ');
        let method = request_line.next()?.to_owned();
        let path_and_query = request_line.next()?.to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        if length > 64 * 1024 * 1024 {
            return None;
        }
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < length {
            let n = socket.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(length);
        Some(RawRequest {
            method,
            path_and_query,
            headers,
            body,
        })
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .ok()
        .flatten()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn forward(state: &ProxyState, request: &RawRequest) -> Option<Answer> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).ok()?;
    let mut upstream = state
        .client
        .request(
            method,
            format!("{}{}", state.upstream, request.path_and_query),
        )
        .body(request.body.clone());
    for (name, value) in &request.headers {
        if matches!(
            name.as_str(),
            "authorization" | "content-type" | "content-encoding" | "x-pos-sync-protocol"
        ) {
            upstream = upstream.header(name.as_str(), value.as_str());
        }
    }
    let answer = upstream.send().await.ok()?;
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "content-encoding" | "connection"
            )
        })
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = answer.bytes().await.ok()?.to_vec();
    Some(Answer {
        status,
        headers,
        body,
    })
}

async fn write_answer(socket: &mut TcpStream, answer: &Answer, body_len: usize) -> bool {
    let mut head = format!("HTTP/1.1 {} X\r\n", answer.status);
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        answer.body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&answer.body[..body_len.min(answer.body.len())]);
    socket.write_all(&bytes).await.is_ok() && socket.flush().await.is_ok()
}

fn reset(socket: TcpStream) {
    let _ = socket.set_zero_linger();
    drop(socket);
}

fn flip_bytes(bytes: &mut [u8], count: usize) {
    if bytes.is_empty() {
        return;
    }
    let mut rng = rand::rng();
    for _ in 0..count {
        let i = rng.random_range(0..bytes.len());
        bytes[i] ^= rng.random_range(1..=255u8);
    }
}

async fn serve(state: &ProxyState, mut socket: TcpStream) -> Option<()> {
    let mut request = read_request(&mut socket).await?;
    let path = request.path().to_owned();
    *state
        .requests
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default() += 1;
    let fault = take_fault(state, &path);
    let answer = match &fault {
        Some(Fault::Status {
            status,
            retry_after,
        }) => Answer {
            status: *status,
            headers: [("content-type".to_owned(), "application/json".to_owned())]
                .into_iter()
                .chain(retry_after.map(|s| ("retry-after".to_owned(), s.to_string())))
                .collect(),
            body: format!(
                r#"{{"error":{{"code":"{}","message":"injected by the test proxy"}}}}"#,
                if *status == 429 {
                    "rate_limited"
                } else {
                    "internal"
                }
            )
            .into_bytes(),
        },
        Some(Fault::ResetBeforeForward) => {
            reset(socket);
            return Some(());
        }
        other => {
            if let Some(Fault::StallBeforeForward { ms }) = other {
                tokio::time::sleep(Duration::from_millis((*ms).min(30_000))).await;
            }
            if let Some(Fault::FlipRequestBytes { count }) = other {
                flip_bytes(&mut request.body, *count);
            }
            let Some(mut answer) = forward(state, &request).await else {
                reset(socket);
                return Some(());
            };
            match other {
                Some(Fault::LoseResponse) => {
                    answer = Answer {
                        status: 504,
                        headers: Vec::new(),
                        body: b"gateway timeout".to_vec(),
                    }
                }
                Some(Fault::ResetAfterForward) => {
                    reset(socket);
                    return Some(());
                }
                Some(Fault::StallAfterForward { ms }) => {
                    tokio::time::sleep(Duration::from_millis((*ms).min(30_000))).await
                }
                Some(Fault::CorruptRecords) => answer.body = corrupt_first_record(&answer.body),
                Some(Fault::TamperNames) => answer.body = tamper_names(&answer.body),
                Some(Fault::EditAnswer(edit)) => answer.body = edit(&answer.body),
                Some(Fault::FlipResponseBytes { count }) => flip_bytes(&mut answer.body, *count),
                Some(Fault::TruncateBody) if answer.body.len() > 1 => {
                    let cut = rand::rng().random_range(0..answer.body.len());
                    write_answer(&mut socket, &answer, cut).await;
                    return Some(());
                }
                _ => {}
            }
            answer
        }
    };
    if write_answer(&mut socket, &answer, answer.body.len()).await {
        *state.responses.lock().unwrap().entry(path).or_default() += 1;
    }
    let _ = socket.shutdown().await;
    Some(())
}

/// Changes the first record's payload (still valid JSON), leaving every checksum as it was.
fn corrupt_first_record(bytes: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.to_vec();
    };
    if let Some(record) = value["records"].get_mut(0) {
        if let Some(payload) = record["payload"].as_object_mut() {
            payload.insert("name".into(), Value::String("tampered in transit".into()));
        }
    }
    serde_json::to_vec(&value).unwrap()
}

/// Renames every record of a page (`"tampered <id>"`), leaving every checksum as it was.
fn tamper_names(bytes: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.to_vec();
    };
    if let Some(records) = value["records"].as_array_mut() {
        for record in records {
            let id = record["entity_id"].as_str().unwrap_or("").to_owned();
            if let Some(payload) = record["payload"].as_object_mut() {
                payload.insert("name".into(), Value::String(format!("tampered {id}")));
            }
        }
    }
    serde_json::to_vec(&value).unwrap()
}
