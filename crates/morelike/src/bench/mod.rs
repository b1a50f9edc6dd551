//! `morelike bench`: a load generator that drives a running server over real
//! WebSockets and reports the round trip seen by the client and the
//! server's own `took_us` (HDR histograms). Closed loop: N sessions, M
//! interactions each, each waiting for its answer. Open loop (`--rate`):
//! pages scheduled at fixed intervals whatever the answers, each timed from
//! the moment it was due, so a slow server cannot hide its queue
//! (no coordinated omission). Beside either: idle sockets held open
//! (`--sockets`) and `/healthz` asked every 100 ms. And the load check of
//! the server's limits ([`hold`]).

pub mod hold;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use hold::{HeldSockets, IdleSockets};

/// What to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The servers' WebSocket URLs for a store
    /// (`ws://host:port/v1/stores/demo/ws`); client `i` takes URL `i` mod
    /// their number (several nodes behind no load balancer).
    pub urls: Vec<String>,
    /// Concurrent sessions (one socket each).
    pub clients: usize,
    /// Interactions per session, after `start`.
    pub interactions: usize,
    /// Products per page.
    pub k: usize,
    /// Interactions before a session starts over with a fresh `start`
    /// (shoppers' sessions are short; a session's cost grows with its votes).
    pub session_length: usize,
    /// Seed products, one per session in turn.
    pub seeds: Vec<String>,
    /// Open loop: pages per second, all sessions together (`None`: closed loop).
    pub rate: Option<f64>,
    /// Open loop: seconds of scheduled pages.
    pub seconds: f64,
    /// Idle WebSockets held open on the first server during the run.
    pub idle_sockets: usize,
    /// `host:port` of the first server, asked `/healthz` during the run.
    pub address: Option<String>,
}

/// A run that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The socket failed.
    #[error("WebSocket to {url}: {reason}")]
    Socket {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server's rate limits refuse the load.
    #[error("the server's rate limits refuse this load ({0}): start it with MORELIKE_MESSAGES_PER_SEC_PER_SOCKET=0 MORELIKE_REQUESTS_PER_SEC_PER_KEY=0 MORELIKE_REQUESTS_PER_SEC_PER_ADDRESS=0 MORELIKE_SESSION_STARTS_PER_MIN_PER_ADDRESS=0 (or higher limits) to benchmark it")]
    RateLimited(String),
    /// The server answered with an error.
    #[error("the server refused {request}: {reply}")]
    Refused {
        /// What was sent.
        request: String,
        /// What came back.
        reply: String,
    },
}

/// Percentiles of a set of durations, in microseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest.
    pub max: u64,
}

impl Percentiles {
    /// From samples (sorted here).
    pub fn of(samples: &mut [u64]) -> Self {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: samples[samples.len() - 1],
        }
    }

    /// From an HDR histogram.
    pub fn of_histogram(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        }
    }
}

/// A histogram of microseconds from 1 µs to 10 minutes, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `closed` (each session waits for its answer) or `open` (`--rate`).
    pub mode: &'static str,
    /// Concurrent sessions.
    pub clients: usize,
    /// Open loop: the pages per second asked for.
    pub rate: Option<f64>,
    /// Open loop: pages scheduled (rate × seconds).
    pub scheduled: usize,
    /// Interactions timed (answered with a page).
    pub interactions: usize,
    /// Interactions answered with an error, by its code.
    pub errors: BTreeMap<String, usize>,
    /// Wall time of the timed part, in seconds.
    pub seconds: f64,
    /// Interactions per second, all sessions together.
    pub throughput: f64,
    /// Round trip seen by the client, µs: from sending (closed loop), or
    /// from the moment the page was due (open loop), to the reply.
    pub round_trip_us: Percentiles,
    /// Server time per interaction (`took_us`), µs.
    pub server_us: Percentiles,
    /// The idle WebSockets held during the run (`--sockets`).
    pub idle_sockets: Option<HeldSockets>,
    /// `/healthz` during the run, µs from connect to the whole answer.
    pub healthz_us: Percentiles,
    /// `/healthz` asks that failed or took over a second.
    pub healthz_failures: usize,
    /// `/healthz` asks made.
    pub healthz_asks: usize,
}

/// What one session measured.
struct Samples {
    round_trip: Histogram<u64>,
    server: Histogram<u64>,
    errors: BTreeMap<String, usize>,
}

impl Samples {
    fn new() -> Self {
        Samples {
            round_trip: histogram(),
            server: histogram(),
            errors: BTreeMap::new(),
        }
    }

    fn add(&mut self, other: Samples) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.round_trip.add(&other.round_trip);
        let _ = self.server.add(&other.server);
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }
}

fn socket_error(url: &str) -> impl Fn(tokio_tungstenite::tungstenite::Error) -> BenchError + '_ {
    move |e| {
        match e {
        tokio_tungstenite::tungstenite::Error::Http(response) if response.status() == 429 => {
            BenchError::RateLimited(format!(
                "{}; also lift MORELIKE_REQUESTS_PER_SEC_PER_ADDRESS, MORELIKE_SESSION_STARTS_PER_MIN_PER_ADDRESS and MORELIKE_MAX_SOCKETS_PER_ADDRESS for many clients from one address",
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
            ))
        }
        e => BenchError::Socket {
            url: url.to_owned(),
            reason: e.to_string(),
        },
    }
    }
}

/// One shopper on one socket: start, then vote / more in turn, starting
/// over every `session_length` interactions.
struct Shopper {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    url: String,
    seed: String,
    k: usize,
    session_length: usize,
    done: usize,
    request: Value,
}

impl Shopper {
    async fn connect(plan: &Plan, url: &str, seed: &str) -> Result<Self, BenchError> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(socket_error(url))?;
        Ok(Shopper {
            ws,
            url: url.to_owned(),
            seed: seed.to_owned(),
            k: plan.k,
            session_length: plan.session_length,
            done: 0,
            request: json!({"v": 1, "type": "start", "seed": seed, "k": plan.k}),
        })
    }

    fn start(&self) -> Value {
        json!({"v": 1, "type": "start", "seed": self.seed, "k": self.k})
    }

    /// Sends the next request and reads its reply: a page (with the
    /// server's `took_us`), or the error's code (the next request then
    /// starts a fresh session). A refusal by the rate limits ends the run.
    async fn interact(&mut self) -> Result<Result<u64, String>, BenchError> {
        let text = self.request.to_string();
        self.ws
            .send(Message::text(text.clone()))
            .await
            .map_err(socket_error(&self.url))?;
        let reply: Value = loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    break serde_json::from_str(t.as_str()).unwrap_or(Value::Null)
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(socket_error(&self.url)(e)),
                None => {
                    return Err(BenchError::Socket {
                        url: self.url.clone(),
                        reason: "closed by the server".into(),
                    })
                }
            }
        };
        if reply["code"] == "rate_limited" {
            return Err(BenchError::RateLimited(
                reply["message"].as_str().unwrap_or("").to_owned(),
            ));
        }
        if reply["type"] != "page" {
            self.request = self.start();
            return Ok(Err(match reply["code"].as_str() {
                Some(code) => code.to_owned(),
                None => format!("not a page: {reply}"),
            }));
        }
        let i = self.done;
        self.done += 1;
        let items: Vec<&str> = reply["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|it| it["id"].as_str()).collect())
            .unwrap_or_default();
        let fresh = self.session_length > 0 && (i + 1).is_multiple_of(self.session_length);
        self.request = match (items.as_slice(), i % 3) {
            _ if fresh => self.start(),
            ([], _) => json!({"v": 1, "type": "reset"}),
            (_, 2) => json!({"v": 1, "type": "more"}),
            ([only], _) => json!({"v": 1, "type": "vote", "product": only, "vote": "up"}),
            ([first, .., last], _) => json!({"v": 1, "type": "vote", "votes": [
                {"product": first, "vote": "up"}, {"product": last, "vote": "down"}]}),
        };
        Ok(Ok(reply["took_us"].as_u64().unwrap_or(0)))
    }

    /// The untimed first page; an error here ends the run (a wrong seed,
    /// store or key).
    async fn first_page(&mut self) -> Result<(), BenchError> {
        let request = self.request.to_string();
        match self.interact().await? {
            Ok(_) => Ok(()),
            Err(code) => Err(BenchError::Refused {
                request,
                reply: code,
            }),
        }
    }

    async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Closed loop: `interactions` timed interactions, each sent when the last
/// one was answered. A refusal ends the run.
async fn closed_loop(plan: &Plan, mut shopper: Shopper) -> Result<Samples, BenchError> {
    let mut samples = Samples::new();
    shopper.first_page().await?;
    for _ in 0..plan.interactions {
        let request = shopper.request.to_string();
        let sent = Instant::now();
        match shopper.interact().await? {
            Ok(took_us) => {
                let _ = samples.round_trip.record(micros(sent.elapsed()));
                let _ = samples.server.record(took_us.max(1));
            }
            Err(code) => {
                return Err(BenchError::Refused {
                    request,
                    reply: code,
                })
            }
        }
    }
    shopper.close().await;
    Ok(samples)
}

/// The open loop's timetable: page `j` is due at `start + j / rate`, taken
/// by whichever session is free first.
struct Timetable {
    start: Instant,
    interval: Duration,
    scheduled: usize,
    next: AtomicUsize,
}

impl Timetable {
    /// The moment the next page is due, if any is left.
    fn take(&self) -> Option<Instant> {
        let j = self.next.fetch_add(1, Ordering::Relaxed);
        (j < self.scheduled).then(|| self.start + self.interval.mul_f64(j as f64))
    }
}

/// Open loop: takes the next due page, waits for its moment, and times it
/// from that moment (so time spent waiting for a free session counts).
/// Refusals are counted by code.
async fn open_loop(timetable: Arc<Timetable>, mut shopper: Shopper) -> Result<Samples, BenchError> {
    let mut samples = Samples::new();
    while let Some(due) = timetable.take() {
        tokio::time::sleep_until(due.into()).await;
        match shopper.interact().await? {
            Ok(took_us) => {
                let _ = samples.round_trip.record(micros(due.elapsed()));
                let _ = samples.server.record(took_us.max(1));
            }
            Err(code) => *samples.errors.entry(code).or_default() += 1,
        }
    }
    shopper.close().await;
    Ok(samples)
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// Runs the plan: every session on its own socket, all connected and past
/// their first (untimed) page before the clock starts.
pub async fn run(plan: Plan) -> Result<Report, BenchError> {
    let done = CancellationToken::new();
    let idle = (plan.idle_sockets > 0)
        .then(|| IdleSockets::open(&plan.urls[0], plan.idle_sockets, done.clone()));
    if let Some(idle) = &idle {
        idle.wait_open(Duration::from_secs(120)).await;
    }
    let mut connecting = Vec::with_capacity(plan.clients);
    for i in 0..plan.clients {
        let plan = plan.clone();
        connecting.push(tokio::spawn(async move {
            let seed = &plan.seeds[i % plan.seeds.len()];
            let url = &plan.urls[i % plan.urls.len()];
            let mut shopper = Shopper::connect(&plan, url, seed).await?;
            if plan.rate.is_some() {
                shopper.first_page().await?;
            }
            Ok::<_, BenchError>(shopper)
        }));
    }
    let joined = |e: tokio::task::JoinError| BenchError::Socket {
        url: plan.urls.join(", "),
        reason: e.to_string(),
    };
    let mut shoppers = Vec::with_capacity(plan.clients);
    for task in connecting {
        shoppers.push(task.await.map_err(joined)??);
    }
    let probe = plan
        .address
        .clone()
        .map(|address| tokio::spawn(hold::probe_healthz(address, done.clone())));
    let started = Instant::now();
    let timetable = plan.rate.map(|rate| {
        Arc::new(Timetable {
            start: started,
            interval: Duration::from_secs_f64(1.0 / rate.max(1e-3)),
            scheduled: (rate * plan.seconds).ceil() as usize,
            next: AtomicUsize::new(0),
        })
    });
    let tasks: Vec<_> = shoppers
        .into_iter()
        .map(|shopper| {
            let plan = plan.clone();
            let timetable = timetable.clone();
            tokio::spawn(async move {
                match timetable {
                    Some(timetable) => open_loop(timetable, shopper).await,
                    None => closed_loop(&plan, shopper).await,
                }
            })
        })
        .collect();
    let mut samples = Samples::new();
    let mut failed = None;
    for task in tasks {
        match task.await.map_err(joined)? {
            Ok(s) => samples.add(s),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    let seconds = started
        .elapsed()
        .max(Duration::from_micros(1))
        .as_secs_f64();
    done.cancel();
    let idle_sockets = match idle {
        Some(idle) => Some(idle.close().await),
        None => None,
    };
    let (mut healthz, healthz_failures) = match probe {
        Some(probe) => probe.await.unwrap_or_default(),
        None => (Vec::new(), 0),
    };
    if let Some(e) = failed {
        return Err(e);
    }
    let interactions = samples.round_trip.len() as usize;
    Ok(Report {
        mode: if plan.rate.is_some() {
            "open"
        } else {
            "closed"
        },
        clients: plan.clients,
        rate: plan.rate,
        scheduled: timetable.map_or(0, |t| t.scheduled),
        interactions,
        errors: samples.errors,
        seconds,
        throughput: interactions as f64 / seconds,
        round_trip_us: Percentiles::of_histogram(&samples.round_trip),
        server_us: Percentiles::of_histogram(&samples.server),
        idle_sockets,
        healthz_asks: healthz.len() + healthz_failures,
        healthz_failures,
        healthz_us: Percentiles::of(&mut healthz),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_by_rank() {
        let mut samples: Vec<u64> = (1..=1000).rev().collect();
        let p = Percentiles::of(&mut samples);
        assert_eq!(
            (p.p50, p.p90, p.p99, p.p999, p.max),
            (500, 900, 990, 999, 1000)
        );
    }

    #[test]
    fn histogram_percentiles_agree_with_ranks_within_its_precision() {
        let mut h = histogram();
        for v in 1..=10_000u64 {
            h.record(v * 10).unwrap();
        }
        let p = Percentiles::of_histogram(&h);
        for (got, want) in [(p.p50, 50_000), (p.p99, 99_000), (p.max, 100_000)] {
            assert!(got.abs_diff(want) * 1000 <= want, "{got} vs {want}");
        }
    }

    #[test]
    fn the_timetable_spaces_pages_evenly_and_ends_after_rate_times_seconds() {
        let start = Instant::now();
        let t = Timetable {
            start,
            interval: Duration::from_millis(10),
            scheduled: 3,
            next: AtomicUsize::new(0),
        };
        let due: Vec<_> = std::iter::from_fn(|| t.take()).collect();
        assert_eq!(
            due,
            vec![
                start,
                start + Duration::from_millis(10),
                start + Duration::from_millis(20)
            ]
        );
        assert_eq!(t.take(), None);
    }
}
