//! `morelike bench`: a load generator that drives a running server over real
//! WebSockets — N concurrent sessions, M interactions each — and reports the
//! round trip seen by the client and the server's own `took_us`; and the
//! load check of the server's limits ([`hold`]).

pub mod hold;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

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
    #[error("the server's rate limits refuse this load ({0}): start it with MORELIKE_MESSAGES_PER_SEC_PER_SOCKET=0 MORELIKE_REQUESTS_PER_SEC_PER_KEY=0 (or higher limits) to benchmark it")]
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
            max: samples[samples.len() - 1],
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Concurrent sessions.
    pub clients: usize,
    /// Interactions timed.
    pub interactions: usize,
    /// Wall time of the timed part, in seconds.
    pub seconds: f64,
    /// Interactions per second, all sessions together.
    pub throughput: f64,
    /// Round trip seen by the client (send → reply), µs.
    pub round_trip_us: Percentiles,
    /// Server time per interaction (`took_us`), µs.
    pub server_us: Percentiles,
}

struct Samples {
    round_trip: Vec<u64>,
    server: Vec<u64>,
}

fn socket_error(url: &str) -> impl Fn(tokio_tungstenite::tungstenite::Error) -> BenchError + '_ {
    move |e| {
        match e {
        tokio_tungstenite::tungstenite::Error::Http(response) if response.status() == 429 => {
            BenchError::RateLimited(format!(
                "{}; also lift MORELIKE_REQUESTS_PER_SEC_PER_ADDRESS and MORELIKE_MAX_SOCKETS_PER_ADDRESS for many clients from one address",
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

/// One client: start, then vote / more in turn, starting over every
/// `session_length` interactions, timing each interaction.
async fn session(plan: &Plan, url: &str, seed: &str) -> Result<Samples, BenchError> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(socket_error(url))?;
    let mut samples = Samples {
        round_trip: Vec::with_capacity(plan.interactions),
        server: Vec::with_capacity(plan.interactions),
    };
    let mut request = json!({"v": 1, "type": "start", "seed": seed, "k": plan.k});
    for i in 0..=plan.interactions {
        let text = request.to_string();
        let sent = Instant::now();
        ws.send(Message::text(text.clone()))
            .await
            .map_err(socket_error(url))?;
        let reply: Value = loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    break serde_json::from_str(t.as_str()).unwrap_or(Value::Null)
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(socket_error(url)(e)),
                None => {
                    return Err(BenchError::Socket {
                        url: url.to_owned(),
                        reason: "closed by the server".into(),
                    })
                }
            }
        };
        let elapsed = sent.elapsed();
        if reply["code"] == "rate_limited" {
            return Err(BenchError::RateLimited(
                reply["message"].as_str().unwrap_or("").to_owned(),
            ));
        }
        if reply["type"] != "page" {
            return Err(BenchError::Refused {
                request: text,
                reply: reply.to_string(),
            });
        }
        if i > 0 {
            samples.round_trip.push(elapsed.as_micros() as u64);
            samples.server.push(reply["took_us"].as_u64().unwrap_or(0));
        }
        let items: Vec<&str> = reply["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|it| it["id"].as_str()).collect())
            .unwrap_or_default();
        let fresh = plan.session_length > 0 && (i + 1) % plan.session_length == 0;
        request = match (items.as_slice(), i % 3) {
            _ if fresh => json!({"v": 1, "type": "start", "seed": seed, "k": plan.k}),
            ([], _) => json!({"v": 1, "type": "reset"}),
            (_, 2) => json!({"v": 1, "type": "more"}),
            ([only], _) => json!({"v": 1, "type": "vote", "product": only, "vote": "up"}),
            ([first, .., last], _) => json!({"v": 1, "type": "vote", "votes": [
                {"product": first, "vote": "up"}, {"product": last, "vote": "down"}]}),
        };
    }
    let _ = ws.close(None).await;
    Ok(samples)
}

/// Runs the plan: every session at once, each on its own socket.
pub async fn run(plan: Plan) -> Result<Report, BenchError> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..plan.clients)
        .map(|i| {
            let plan = plan.clone();
            let seed = plan.seeds[i % plan.seeds.len()].clone();
            let url = plan.urls[i % plan.urls.len()].clone();
            tokio::spawn(async move { session(&plan, &url, &seed).await })
        })
        .collect();
    let mut round_trip = Vec::new();
    let mut server = Vec::new();
    for task in tasks {
        let samples = task.await.map_err(|e| BenchError::Socket {
            url: plan.urls.join(", "),
            reason: e.to_string(),
        })??;
        round_trip.extend(samples.round_trip);
        server.extend(samples.server);
    }
    let seconds = started
        .elapsed()
        .max(Duration::from_micros(1))
        .as_secs_f64();
    Ok(Report {
        clients: plan.clients,
        interactions: round_trip.len(),
        seconds,
        throughput: round_trip.len() as f64 / seconds,
        round_trip_us: Percentiles::of(&mut round_trip),
        server_us: Percentiles::of(&mut server),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_taken_by_rank() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        let p = Percentiles::of(&mut samples);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50, 90, 99, 100));
    }
}
