//! A TCP proxy on loopback that emulates a wide-area link: every chunk is delivered
//! `one_way` later than it arrived (so a request–response round trip takes twice that
//! longer), optionally no faster than `bits_per_second`, and every byte is counted in
//! each direction. It forwards bytes untouched, so it measures exactly what goes on the wire.
//!
//! Connection set-up is not delayed (the engine keeps its connection alive, so a real link's
//! handshake is paid once per run, not per request).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub one_way: Duration,
    /// `None`: as fast as loopback.
    pub bits_per_second: Option<u64>,
}

impl Link {
    pub const LOOPBACK: Link = Link {
        one_way: Duration::ZERO,
        bits_per_second: None,
    };

    pub fn rtt_ms(rtt: u64) -> Link {
        Link {
            one_way: Duration::from_millis(rtt / 2),
            bits_per_second: None,
        }
    }
}

pub struct Proxy {
    pub url: String,
    /// Bytes from the client to the server (requests) and back (responses).
    pub up: Arc<AtomicU64>,
    pub down: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) on `rt`.
    pub fn start(rt: &tokio::runtime::Runtime, upstream: &str, link: Link) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("upstream is http://IP:PORT");
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("proxy binds on loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (u, d) = (up.clone(), down.clone());
        let task = rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (u, d) = (u.clone(), d.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::spawn(pump(cr, sw, link, u));
                    tokio::spawn(pump(sr, cw, link, d));
                });
            }
        });
        Proxy {
            url,
            up,
            down,
            task,
        }
    }

    pub fn bytes(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::Relaxed),
            self.down.load(Ordering::Relaxed),
        )
    }

    pub fn reset(&self) {
        self.up.store(0, Ordering::Relaxed);
        self.down.store(0, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads chunks as they arrive and hands them to a writer that releases each one when the
/// emulated link would deliver it: arrival + one-way delay, after the previous chunk has
/// finished serialising at the link's bandwidth.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Link,
    counter: Arc<AtomicU64>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        let mut link_free_at = Instant::now();
        while let Some((arrived, chunk)) = rx.recv().await {
            let mut due = arrived + link.one_way;
            if let Some(bps) = link.bits_per_second {
                let wire = Duration::from_nanos(chunk.len() as u64 * 8 * 1_000_000_000 / bps);
                let start = link_free_at.max(arrived);
                link_free_at = start + wire;
                due = due.max(link_free_at + link.one_way);
            }
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::Relaxed);
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}
