//! A node that was away (stopped with SIGSTOP while the other changed the
//! store) catches up from its last log entry, or reads the store again
//! whole when the log was trimmed past it; `--stores` limits a node to
//! some stores.

use std::process::Command;
use std::time::Duration;

use crate::helpers::{http_as_at, ADMIN};
use crate::process::Server;
use crate::redis_servers::RedisServer;
use crate::{create_store, node, rows, upload, within};

const SECOND: Duration = Duration::from_secs(1);

fn signal(server: &Server, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Whether the node at `addr` holds every product `{prefix}-0..n`.
async fn holds(server: &Server, key: &str, prefix: &str, n: usize) -> bool {
    for i in 0..n {
        let path = format!("/v1/stores/shop/products/{prefix}-{i}");
        if http_as_at(server.addr, key, "GET", &path, None).await.0 != 200 {
            return false;
        }
    }
    true
}

#[tokio::test]
async fn a_node_that_was_away_catches_up_from_its_last_entry_or_reloads_when_the_log_was_trimmed() {
    // Small stream nodes so the capped log really drops old entries.
    let redis = RedisServer::start_with(&[
        "--save",
        "",
        "--appendonly",
        "no",
        "--stream-node-max-entries",
        "4",
    ]);
    let (_a_dir, a) = node(&redis.url(), &["--redis-log-len", "8"]);
    let (_b_dir, b) = node(&redis.url(), &["--redis-log-len", "8"]);
    let (secret, publishable) = create_store(a.addr, "shop").await;
    upload(a.addr, "shop", &secret, &rows("p", 40)).await;
    within(SECOND, "B serves the store", || {
        holds(&b, &publishable, "p", 40)
    })
    .await;

    // Away for a few changes: the log still holds them.
    signal(&b, "-STOP");
    for i in 0..3 {
        upload(a.addr, "shop", &secret, &rows(&format!("few{i}"), 1)).await;
    }
    signal(&b, "-CONT");
    within(SECOND, "B applies the changes it missed", || async {
        holds(&b, &publishable, "few0", 1).await
            && holds(&b, &publishable, "few1", 1).await
            && holds(&b, &publishable, "few2", 1).await
    })
    .await;

    // Away for many: the log is trimmed past B's last entry.
    signal(&b, "-STOP");
    for i in 0..30 {
        upload(a.addr, "shop", &secret, &rows(&format!("many{i}"), 1)).await;
    }
    let (status, deleted) = http_as_at(
        a.addr,
        &secret,
        "DELETE",
        "/v1/stores/shop/products/p-7",
        None,
    )
    .await;
    assert_eq!(status, 204, "{deleted}");
    let length = redis.command("XLEN ml:{shop}:log");
    let kept: usize = length.trim().trim_start_matches(':').parse().unwrap();
    assert!(kept < 31, "the log was trimmed: {kept} entries");
    signal(&b, "-CONT");
    within(SECOND, "B reads the store again whole", || async {
        let (gone, _) = http_as_at(
            b.addr,
            &publishable,
            "GET",
            "/v1/stores/shop/products/p-7",
            None,
        )
        .await;
        gone == 404 && holds(&b, &publishable, "many0", 1).await
    })
    .await;
    for i in 0..30 {
        assert!(
            holds(&b, &publishable, &format!("many{i}"), 1).await,
            "many{i}-0"
        );
    }
}

#[tokio::test]
async fn a_node_limited_to_some_stores_serves_only_those() {
    let redis = RedisServer::start();
    let (_a_dir, a) = node(&redis.url(), &[]);
    let (_big_dir, big) = node(&redis.url(), &["--stores", "big-*,vip"]);
    let (small_secret, small_key) = create_store(a.addr, "shop").await;
    let (big_secret, big_key) = create_store(a.addr, "big-1").await;
    upload(a.addr, "shop", &small_secret, &rows("p", 20)).await;
    upload(a.addr, "big-1", &big_secret, &rows("p", 20)).await;
    within(SECOND, "the big store's node serves it", || {
        let big_key = big_key.clone();
        let big = &big;
        async move {
            http_as_at(
                big.addr,
                &big_key,
                "GET",
                "/v1/stores/big-1/products/p-19",
                None,
            )
            .await
            .0 == 200
        }
    })
    .await;
    let (status, refused) = http_as_at(
        big.addr,
        &small_key,
        "GET",
        "/v1/stores/shop/products/p-1",
        None,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (404, Some("unknown_store")),
        "{refused}"
    );
    let (_, listed) = http_as_at(big.addr, ADMIN, "GET", "/v1/stores", None).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["big-1"]);
}
