//! Redis restarted mid-load (killed with SIGKILL, started again on its
//! append-only file, `appendfsync always`): both nodes say not-ready and
//! refuse writes with `storage_unavailable` while it is down, recover by
//! themselves, and every acknowledged vote is there afterwards.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{http_as_at, http_at, ids};
use crate::redis_servers::RedisServer;
use crate::{body, create_store, node, page_request, rows, upload, within};

/// One shopper voting without pause, on node A and node B in turn; answers
/// the last page acknowledged, and every refusal seen.
async fn shopper(
    nodes: [SocketAddr; 2],
    key: String,
    seed: String,
    stop: Arc<AtomicBool>,
) -> (String, Value, Vec<Value>) {
    let (status, mut last) = http_as_at(
        nodes[0],
        &key,
        "POST",
        "/v1/stores/shop/sessions",
        body(page_request(&seed)),
    )
    .await;
    assert_eq!(status, 200, "{last}");
    let session = last["session"].as_str().unwrap().to_owned();
    let mut refusals = Vec::new();
    let mut turn = 0;
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let product = ids(&last)[turn % ids(&last).len()].clone();
        let (status, answer) = http_as_at(
            nodes[turn % 2],
            &key,
            "POST",
            &format!("/v1/stores/shop/sessions/{session}/votes"),
            body(json!({"product": product, "vote": if turn % 4 == 0 { "down" } else { "up" }})),
        )
        .await;
        if status == 200 {
            last = answer;
        } else {
            refusals.push(json!({"status": status, "body": answer}));
        }
        // Paced so the load spans the restart; below the page cap (250).
        tokio::time::sleep(Duration::from_millis(30)).await;
        if last["round"].as_u64().unwrap() >= 240 || ids(&last).is_empty() {
            break;
        }
    }
    (session, last, refusals)
}

#[tokio::test]
async fn redis_restarted_mid_load_both_nodes_recover_without_restart_and_no_acknowledged_vote_is_lost(
) {
    let mut redis = RedisServer::start_with(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ]);
    let (_a_dir, a) = node(&redis.url(), &[]);
    let (_b_dir, b) = node(&redis.url(), &[]);
    let nodes = [a.addr, b.addr];
    let (secret, publishable) = create_store(a.addr, "shop").await;
    upload(a.addr, "shop", &secret, &rows("p", 2000)).await;
    within(Duration::from_secs(1), "B serves the store", || {
        let publishable = publishable.clone();
        async move {
            let (status, _) = http_as_at(
                b.addr,
                &publishable,
                "GET",
                "/v1/stores/shop/products/p-1999",
                None,
            )
            .await;
            status == 200
        }
    })
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let shoppers: Vec<_> = (0..8)
        .map(|i| {
            tokio::spawn(shopper(
                nodes,
                publishable.clone(),
                format!("p-{}", i * 7),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    redis.kill();
    // Down: both nodes say so, and refuse writes with a clear error.
    for addr in nodes {
        within(
            Duration::from_secs(5),
            "the node says not ready",
            || async move {
                let (status, body) = http_at(addr, "GET", "/readyz", None).await;
                status == 503 && body["code"] == "not_ready"
            },
        )
        .await;
    }
    let (status, refused) = http_as_at(
        a.addr,
        &secret,
        "POST",
        "/v1/stores/shop/products",
        Some((
            "text/csv",
            format!("{}\n{}", crate::HEADER, rows("down", 1)),
        )),
    )
    .await;
    assert_eq!(
        (status, refused["code"].clone()),
        (503, json!("storage_unavailable")),
        "{refused}"
    );
    let (status, page) = http_as_at(
        b.addr,
        &publishable,
        "GET",
        "/v1/stores/shop/products/p-3",
        None,
    )
    .await;
    assert_eq!(
        status, 200,
        "reads are served from memory while Redis is down: {page}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    redis.restart();
    for addr in nodes {
        within(
            Duration::from_secs(10),
            "the node is ready again",
            || async move { http_at(addr, "GET", "/readyz", None).await.0 == 200 },
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);

    let mut refusals_seen: HashMap<String, usize> = HashMap::new();
    for shopper in shoppers {
        let (session, last, refusals) = shopper.await.unwrap();
        for refusal in &refusals {
            let code = refusal["body"]["code"].as_str().unwrap_or("?").to_owned();
            assert!(
                refusal["status"] == 503 && code == "storage_unavailable",
                "a write refused for another reason: {refusal}"
            );
            *refusals_seen.entry(code).or_default() += 1;
        }
        for addr in nodes {
            let (status, resumed) = http_as_at(
                addr,
                &publishable,
                "GET",
                &format!("/v1/stores/shop/sessions/{session}"),
                None,
            )
            .await;
            assert_eq!(status, 200, "{resumed}");
            let (acked, stored) = (
                last["round"].as_u64().unwrap(),
                resumed["round"].as_u64().unwrap(),
            );
            // A vote Redis took whose answer the restart cut off may be there
            // too (refused to the client, not lost); an acknowledged one must.
            assert!(
                stored >= acked,
                "session {session}: acknowledged round {acked}, stored {stored}"
            );
            if stored == acked {
                assert_eq!(ids(&resumed), ids(&last));
            }
        }
    }
    eprintln!("refusals while Redis was down: {refusals_seen:?}");
    assert!(
        !refusals_seen.is_empty(),
        "the restart was seen by the shoppers"
    );
    // Writes succeed again on both nodes without a restart.
    upload(b.addr, "shop", &secret, &rows("after", 1)).await;
    within(
        Duration::from_secs(1),
        "A serves the upload made after the restart",
        || {
            let publishable = publishable.clone();
            async move {
                http_as_at(
                    a.addr,
                    &publishable,
                    "GET",
                    "/v1/stores/shop/products/after-0",
                    None,
                )
                .await
                .0 == 200
            }
        },
    )
    .await;
}
