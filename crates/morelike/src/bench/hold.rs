//! `morelike bench --hold-sockets N --slowloris M`: the load check of the
//! limits. It opens N idle WebSockets (held, or refused at the server's cap),
//! M slowloris connections (request headers trickled a byte at a time, which
//! the header deadline must cut off), and meanwhile asks `/healthz` every
//! 100 ms on a fresh connection, recording how long each answer takes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_util::sync::CancellationToken;

use super::Percentiles;

/// What to hold.
#[derive(Clone, Debug)]
pub struct HoldPlan {
    /// `host:port` of the server.
    pub address: String,
    /// The WebSocket URL of a store (with its `key` when needed).
    pub ws_url: String,
    /// Idle WebSockets to open.
    pub sockets: usize,
    /// Slowloris connections to open.
    pub slowloris: usize,
    /// How long to hold them, in seconds, after they are open.
    pub seconds: u64,
    /// The server's process id, to read its memory (Linux).
    pub server_pid: Option<u32>,
}

/// What the server did under it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HoldReport {
    /// WebSockets the server accepted.
    pub sockets_held: usize,
    /// WebSockets refused, by HTTP status.
    pub sockets_refused: BTreeMap<u16, usize>,
    /// WebSockets that failed otherwise (connect errors).
    pub sockets_failed: usize,
    /// Accepted WebSockets still open at the end.
    pub sockets_open_at_end: usize,
    /// Seconds to open every WebSocket.
    pub open_seconds: f64,
    /// Slowloris connections the server closed.
    pub slowloris_closed: usize,
    /// Seconds from connect to the server's close, slowloris.
    pub slowloris_close_secs: Percentiles,
    /// `/healthz` answers, µs from connect to the whole answer.
    pub healthz_us: Percentiles,
    /// `/healthz` asks that failed or took over a second.
    pub healthz_failures: usize,
    /// `/healthz` asks made.
    pub healthz_asks: usize,
    /// The server's resident memory (KiB): before, with everything open, at the end.
    pub server_rss_kib: Vec<u64>,
}

/// Raises this process's open-file limit as far as allowed (the client
/// side needs one descriptor per connection too).
fn raise_open_files() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        limit.current = Some(hard);
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn healthz(address: &str) -> Option<Duration> {
    let started = Instant::now();
    let ask = async {
        let mut stream = TcpStream::connect(address).await.ok()?;
        let request =
            format!("GET /healthz HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        answer.starts_with(b"HTTP/1.1 200").then_some(())
    };
    match tokio::time::timeout(Duration::from_secs(1), ask).await {
        Ok(Some(())) => Some(started.elapsed()),
        _ => None,
    }
}

/// One slowloris connection: a header byte every second until the server
/// closes it (or `limit` passes); returns when it was closed.
async fn slowloris(address: String, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&address).await.ok()?;
    let head = format!("GET /healthz HTTP/1.1\r\nhost: {address}\r\nx-slow: ");
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut buf = [0u8; 512];
    while started.elapsed() < limit {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Some(started.elapsed()),
                Ok(_) => {}
            },
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if stream.write_all(b"a").await.is_err() {
                    return Some(started.elapsed());
                }
            }
        }
    }
    None
}

/// Idle WebSockets held open until a token is cancelled (the load check,
/// and `morelike bench --sockets N` beside the pages).
pub struct IdleSockets {
    wanted: usize,
    open: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Result<bool, Option<u16>>>>,
}

/// How the idle WebSockets fared.
#[derive(Clone, Debug, Default, Serialize)]
pub struct HeldSockets {
    /// WebSockets the server accepted.
    pub held: usize,
    /// WebSockets refused, by HTTP status.
    pub refused: BTreeMap<u16, usize>,
    /// WebSockets that failed otherwise (connect errors).
    pub failed: usize,
    /// Accepted WebSockets the server closed before the end.
    pub closed_by_server: usize,
}

impl IdleSockets {
    /// Opens `count` WebSockets on `ws_url` (256 handshakes at a time), each
    /// held silent until `done` is cancelled or the server closes it.
    pub fn open(ws_url: &str, count: usize, done: CancellationToken) -> Self {
        raise_open_files();
        let open = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Semaphore::new(256));
        let tasks = (0..count)
            .map(|_| {
                let url = ws_url.to_owned();
                let gate = gate.clone();
                let open = open.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let permit = gate.acquire_owned().await.ok();
                    let connected = tokio_tungstenite::connect_async(&url).await;
                    drop(permit);
                    match connected {
                        Ok((mut ws, _)) => {
                            open.fetch_add(1, Ordering::Relaxed);
                            let closed_by_server = tokio::select! {
                                _ = ws.next() => true,
                                () = done.cancelled() => false,
                            };
                            open.fetch_sub(1, Ordering::Relaxed);
                            Ok(closed_by_server)
                        }
                        Err(WsError::Http(response)) => Err(Some(response.status().as_u16())),
                        Err(_) => Err(None),
                    }
                })
            })
            .collect();
        IdleSockets {
            wanted: count,
            open,
            tasks,
        }
    }

    /// Waits until every socket is open or has failed (at most `limit`).
    pub async fn wait_open(&self, limit: Duration) {
        let started = Instant::now();
        while self.open_now() < self.wanted && started.elapsed() < limit {
            let finished = self.tasks.iter().filter(|t| t.is_finished()).count();
            if self.open_now() + finished >= self.wanted {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many are open now.
    pub fn open_now(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Waits for every socket to end (cancel the token first).
    pub async fn close(self) -> HeldSockets {
        let mut held = HeldSockets::default();
        for task in self.tasks {
            match task.await {
                Ok(Ok(closed_by_server)) => {
                    held.held += 1;
                    held.closed_by_server += usize::from(closed_by_server);
                }
                Ok(Err(Some(status))) => *held.refused.entry(status).or_default() += 1,
                _ => held.failed += 1,
            }
        }
        held
    }
}

/// Asks `/healthz` every 100 ms on a fresh connection until `done`;
/// answers the times (µs) of the answers and how many failed or took over
/// a second.
pub async fn probe_healthz(address: String, done: CancellationToken) -> (Vec<u64>, usize) {
    let mut samples = Vec::new();
    let mut failures = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while !done.is_cancelled() {
        tick.tick().await;
        match healthz(&address).await {
            Some(took) => samples.push(took.as_micros() as u64),
            None => failures += 1,
        }
    }
    (samples, failures)
}

/// Runs the load check.
pub async fn run(plan: HoldPlan) -> HoldReport {
    let mut report = HoldReport::default();
    report.server_rss_kib.extend(rss_kib(plan.server_pid));
    let done = CancellationToken::new();

    let probe = tokio::spawn(probe_healthz(plan.address.clone(), done.clone()));

    let hold_for = Duration::from_secs(plan.seconds);
    let loris: Vec<_> = (0..plan.slowloris)
        .map(|_| {
            tokio::spawn(slowloris(
                plan.address.clone(),
                hold_for + Duration::from_secs(60),
            ))
        })
        .collect();

    let started = Instant::now();
    let idle = IdleSockets::open(&plan.ws_url, plan.sockets, done.clone());
    idle.wait_open(Duration::from_secs(120)).await;
    report.open_seconds = started.elapsed().as_secs_f64();
    report.server_rss_kib.extend(rss_kib(plan.server_pid));
    tokio::time::sleep(hold_for).await;
    report.sockets_open_at_end = idle.open_now();
    report.server_rss_kib.extend(rss_kib(plan.server_pid));
    done.cancel();
    let held = idle.close().await;
    report.sockets_held = held.held;
    report.sockets_refused = held.refused;
    report.sockets_failed = held.failed;
    let mut closes = Vec::new();
    for task in loris {
        if let Ok(Some(took)) = task.await {
            closes.push(took.as_secs());
        }
    }
    report.slowloris_closed = closes.len();
    report.slowloris_close_secs = Percentiles::of(&mut closes);
    let (mut samples, failures) = probe.await.unwrap_or_default();
    report.healthz_asks = samples.len() + failures;
    report.healthz_failures = failures;
    report.healthz_us = Percentiles::of(&mut samples);
    report
}
