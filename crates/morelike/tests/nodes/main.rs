//! Several nodes sharing one Redis: real `morelike serve --redis`
//! processes on loopback and a real `redis-server` started by the test.
//! What one node changes, the other serves within a second; a session
//! outlives the node it started on (`kill -9`); a Redis restart mid-load
//! loses no acknowledged write (`redis_restart.rs`).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "../faults/process.rs"]
mod process;
#[allow(dead_code)]
#[path = "../support/redis.rs"]
mod redis_servers;

mod credentials;
mod follow;
mod redis_restart;
mod two_nodes;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use helpers::{http_as_at, ADMIN};
use process::Server;

/// The fashion mapping of `examples/`.
pub const MAPPING: &str = include_str!("../../../../examples/fashion.toml");

/// The header of the fashion CSV.
pub const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";

/// `n` fashion rows with ids `{prefix}-{i}`, varied enough for pages.
pub fn rows(prefix: &str, n: usize) -> String {
    let colours = ["Navy Blue", "Black", "White", "Red", "Green", "Grey"];
    let types = [
        ("Topwear", "Shirts"),
        ("Topwear", "Tshirts"),
        ("Bottomwear", "Jeans"),
        ("Bottomwear", "Trousers"),
    ];
    (0..n)
        .map(|i| {
            let colour = colours[i % colours.len()];
            let (sub, article) = types[(i / colours.len()) % types.len()];
            let gender = if i % 2 == 0 { "Men" } else { "Women" };
            format!(
                "{prefix}-{i},{gender},Apparel,{sub},{article},{colour},Fall,{},Casual,{colour} {article} number {i}\n",
                2010 + i % 8
            )
        })
        .collect()
}

/// A node on the Redis at `url`, with extra flags.
pub fn node(url: &str, flags: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![
        "--redis",
        url,
        "--messages-per-sec-per-socket",
        "0",
        "--requests-per-sec-per-address",
        "0",
        "--session-starts-per-min-per-address",
        "0",
    ];
    all.extend_from_slice(flags);
    let server = Server::start(dir.path(), &all);
    (dir, server)
}

/// Creates a store through a node; answers (secret, publishable) keys.
pub async fn create_store(addr: SocketAddr, store: &str) -> (String, String) {
    let (status, body) = http_as_at(
        addr,
        ADMIN,
        "PUT",
        &format!("/v1/stores/{store}"),
        Some(("application/toml", MAPPING.into())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["secret_key"].as_str().unwrap().to_owned(),
        body["publishable_key"].as_str().unwrap().to_owned(),
    )
}

/// Uploads CSV rows through a node with the store's secret key.
pub async fn upload(addr: SocketAddr, store: &str, secret: &str, rows: &str) -> Value {
    let (status, report) = http_as_at(
        addr,
        secret,
        "POST",
        &format!("/v1/stores/{store}/products"),
        Some(("text/csv", format!("{HEADER}\n{rows}"))),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    report
}

/// Asks `check` every 10 ms until it holds; answers how long it took, or
/// panics with `what` after `limit`.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A JSON body.
pub fn body(value: Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

/// `json!` re-exported for the modules.
pub fn page_request(seed: &str) -> Value {
    json!({"seed": seed, "k": 6})
}
