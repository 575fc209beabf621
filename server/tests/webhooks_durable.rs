//! Webhooks survive a crash of the reference server (issue 18, item 3): the server is
//! SIGKILLed while deliveries are in flight and uploads are still arriving; after a restart
//! on the same database every applied change is notified, no notification names a change
//! that was not applied, and a change is only ever repeated under the same event id with the
//! same bytes.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use pos_sync_protocol::model::EntityType;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// A loopback receiver: acknowledges the first `ack_first` deliveries, then holds every later
/// one unanswered (a delivery in flight) until `open` is set; from then on it acknowledges all.
/// With `failing` set it answers every delivery 500 instead.
struct Receiver {
    deliveries: Mutex<Vec<(String, Bytes)>>,
    ack_first: usize,
    open: AtomicBool,
    failing: AtomicBool,
    held: AtomicUsize,
    release: tokio::sync::Notify,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = headers["x-pos-sync-event-id"].to_str().unwrap().to_string();
    let n = {
        let mut d = r.deliveries.lock().unwrap();
        d.push((id, body));
        d.len()
    };
    if r.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if n > r.ack_first && !r.open.load(Ordering::SeqCst) {
        r.held.fetch_add(1, Ordering::SeqCst);
        // Never answered: the server is killed meanwhile and the connection drops.
        r.release.notified().await;
    }
    StatusCode::NO_CONTENT
}

async fn start_receiver(ack_first: usize) -> (String, Arc<Receiver>) {
    let state = Arc::new(Receiver {
        deliveries: Mutex::new(Vec::new()),
        ack_first,
        open: AtomicBool::new(false),
        failing: AtomicBool::new(false),
        held: AtomicUsize::new(0),
        release: tokio::sync::Notify::new(),
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

/// Uploads batches of three sales one after the other until `stop` or until the server stops
/// answering; returns the change ids of the batches that were answered 200.
async fn upload_until_stopped(api: Api, token: String, stop: Arc<AtomicBool>) -> Vec<String> {
    let mut confirmed = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let changes: Vec<_> = (0..3).map(|_| sale(&uid("sale"), &[("p", 1)])).collect();
        let request = batch(changes);
        let sent = api
            .request(reqwest::Method::POST, "/api/sync/upload")
            .header("authorization", bearer(&token))
            .json(&request)
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == 200 => {
                confirmed.extend(request.changes.iter().map(|c| c.change_id.clone()))
            }
            _ => break, // killed mid-request
        }
    }
    confirmed
}

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A directory for the database of a reference server these tests kill and restart, or
/// `None` (skip) when the suite drives an external server.
fn reference_server_dir() -> Option<tempfile::TempDir> {
    if std::env::var("POS_SYNC_SERVER_URL").is_ok() {
        eprintln!("skipped: needs a reference server process to kill and restart");
        return None;
    }
    Some(tempfile::tempdir().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_every_webhook_after_its_restart() {
    let Some(dir) = reference_server_dir() else {
        return;
    };
    let db = dir.path().join("server.db");
    let db = db.to_str().unwrap().to_string();
    let (url, receiver) = start_receiver(5).await;
    let flags = [
        "--db",
        db.as_str(),
        "--webhook",
        url.as_str(),
        "--webhook-secret",
        "whsec-durable",
        "--webhook-backoff-ms",
        "50",
    ];

    // Uploads stream in while the receiver acknowledges five deliveries and then leaves the
    // next ones hanging: the kill lands with deliveries in flight, events queued behind them,
    // and an upload possibly half done.
    let mut server = Server::spawn(&flags);
    let stop = Arc::new(AtomicBool::new(false));
    let uploader = tokio::spawn(upload_until_stopped(
        server.api(),
        server.a1.token.clone(),
        stop.clone(),
    ));
    wait_for("deliveries in flight", Duration::from_secs(30), || {
        receiver.held.load(Ordering::SeqCst) >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await; // more events queue up
    server.kill();
    stop.store(true, Ordering::SeqCst);
    let confirmed = uploader.await.unwrap();
    let held = receiver.held.load(Ordering::SeqCst);
    let before_restart = receiver.deliveries.lock().unwrap().len();

    receiver.open.store(true, Ordering::SeqCst);
    receiver.release.notify_waiters();
    let server = Server::spawn(&flags);
    let api = server.api();
    let (sales, _) = api
        .download_all(&server.a1.token, EntityType::Sale, None, 5000)
        .await;
    let applied: BTreeSet<String> = sales.iter().map(|r| r.entity_id.clone()).collect();
    assert!(
        applied.len() >= confirmed.len() && confirmed.len() >= 15,
        "{} applied, {} confirmed",
        applied.len(),
        confirmed.len()
    );

    // Sale ids notified so far, by event id.
    let notified = |receiver: &Receiver| -> BTreeMap<String, (Bytes, BTreeSet<String>)> {
        let mut events = BTreeMap::new();
        for (id, body) in receiver.deliveries.lock().unwrap().iter() {
            let event: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(event["event_id"], id.as_str(), "header and body ids agree");
            let ids = event["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["entity_id"].as_str().unwrap().to_string())
                .collect();
            let (first, _) = events.entry(id.clone()).or_insert((body.clone(), ids));
            assert_eq!(first, body, "a repeated event carries the same bytes");
        }
        events
    };
    wait_for(
        "every applied sale to be notified",
        Duration::from_secs(30),
        || {
            let seen: BTreeSet<String> = notified(&receiver)
                .into_values()
                .flat_map(|(_, ids)| ids)
                .collect();
            applied.is_subset(&seen)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await; // any straggler repeats

    let events = notified(&receiver);
    let mut event_of: BTreeMap<String, String> = BTreeMap::new();
    for (event_id, (_, ids)) in &events {
        for id in ids {
            assert!(applied.contains(id), "{id} was notified but never applied");
            if let Some(other) = event_of.insert(id.clone(), event_id.clone()) {
                panic!("{id} was notified under two event ids: {other} and {event_id}");
            }
        }
    }
    let deliveries = receiver.deliveries.lock().unwrap().len();
    let repeats = deliveries - events.len();
    assert!(
        repeats >= held,
        "the {held} deliveries cut off by the kill were sent again ({repeats} repeats)"
    );
    println!(
        "RESULT webhooks_durable: SIGKILL with {held} deliveries in flight ({before_restart} received before); after the restart {} of {} applied sales notified in {} events, 0 lost, {repeats} repeats all under their first event id",
        event_of.len(),
        applied.len(),
        events.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_keeps_failing_is_given_up_and_stays_given_up_after_a_restart() {
    let Some(dir) = reference_server_dir() else {
        return;
    };
    let db = dir.path().join("server.db");
    let (url, receiver) = start_receiver(usize::MAX).await;
    receiver.failing.store(true, Ordering::SeqCst);
    let flags = [
        "--db",
        db.to_str().unwrap(),
        "--webhook",
        url.as_str(),
        "--webhook-attempts",
        "3",
        "--webhook-backoff-ms",
        "20",
    ];
    let mut server = Server::spawn(&flags);
    let api = server.api();
    api.upload(&server.a1.token, vec![sale(&uid("sale"), &[("p", 1)])])
        .await;
    let count = || receiver.deliveries.lock().unwrap().len();
    wait_for("three attempts", Duration::from_secs(10), || count() >= 3).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(count(), 3, "no fourth attempt");
    assert!(server.terminate().success());

    // Given up means given up: a restart does not send it again, new events still go out.
    receiver.failing.store(false, Ordering::SeqCst);
    let server = Server::spawn(&flags);
    let api = server.api();
    api.upload(&server.a1.token, vec![sale(&uid("sale"), &[("p", 1)])])
        .await;
    wait_for("the new event", Duration::from_secs(10), || count() >= 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deliveries = receiver.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 4);
    assert_eq!(
        deliveries[0], deliveries[2],
        "the same event on every attempt"
    );
    assert_ne!(
        deliveries[3].0, deliveries[0].0,
        "a new event, not the given-up one"
    );
}
