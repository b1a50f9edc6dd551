//! Two nodes on loopback sharing one standalone Redis.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{http_as_at, ids, ADMIN};
use crate::redis_servers::RedisServer;
use crate::{body, create_store, node, page_request, rows, upload, within};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_store_created_and_a_catalog_uploaded_through_one_node_are_served_by_the_other_within_a_second(
) {
    let redis = RedisServer::start();
    let (_a_dir, a) = node(&redis.url(), &[]);
    let (_b_dir, b) = node(&redis.url(), &[]);
    let (secret, publishable) = create_store(a.addr, "shop").await;
    upload(a.addr, "shop", &secret, &rows("p", 60)).await;

    let took = within(SECOND, "B serves the catalog uploaded through A", || {
        let publishable = publishable.clone();
        async move {
            let (status, _) = http_as_at(
                b.addr,
                &publishable,
                "GET",
                "/v1/stores/shop/products/p-59",
                None,
            )
            .await;
            status == 200
        }
    })
    .await;
    eprintln!("B served A's upload after {took:?}");
    let (status, page) = http_as_at(
        b.addr,
        &publishable,
        "POST",
        "/v1/stores/shop/sessions",
        body(page_request("p-0")),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page).len(), 6, "{page}");

    // Changes through B reach A: an upsert, a delete, a weight.
    upload(b.addr, "shop", &secret, &rows("new", 1)).await;
    let (status, _) = http_as_at(
        b.addr,
        &secret,
        "DELETE",
        "/v1/stores/shop/products/p-1",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, changed) = http_as_at(
        b.addr,
        &secret,
        "PATCH",
        "/v1/stores/shop/settings",
        body(json!({"weights": {"gender": 3.5}})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    within(SECOND, "A serves B's upsert, delete and weight", || {
        let (publishable, secret) = (publishable.clone(), secret.clone());
        async move {
            let (added, _) = http_as_at(
                a.addr,
                &publishable,
                "GET",
                "/v1/stores/shop/products/new-0",
                None,
            )
            .await;
            let (deleted, _) = http_as_at(
                a.addr,
                &publishable,
                "GET",
                "/v1/stores/shop/products/p-1",
                None,
            )
            .await;
            let (_, settings) =
                http_as_at(a.addr, &secret, "GET", "/v1/stores/shop/settings", None).await;
            added == 200 && deleted == 404 && settings["weights"]["gender"] == json!(3.5)
        }
    })
    .await;

    // A key rotated through A holds on B at once (keys are read from Redis).
    let (status, rotated) = http_as_at(
        a.addr,
        ADMIN,
        "POST",
        "/v1/stores/shop/keys/rotate",
        body(json!({"keys": "secret"})),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let (status, _) = http_as_at(b.addr, &secret, "GET", "/v1/stores/shop/settings", None).await;
    assert_eq!(
        status, 401,
        "the old secret key stops working on every node"
    );

    // A store deleted through A leaves B.
    let (status, _) = http_as_at(a.addr, ADMIN, "DELETE", "/v1/stores/shop", None).await;
    assert_eq!(status, 204);
    within(
        SECOND,
        "B drops the store deleted through A",
        || async move {
            let (_, stores) = http_as_at(b.addr, ADMIN, "GET", "/v1/stores", None).await;
            stores.as_array().is_some_and(Vec::is_empty)
        },
    )
    .await;
}

#[tokio::test]
async fn a_session_started_on_one_node_resumes_on_the_other_after_it_is_killed_with_every_acknowledged_vote(
) {
    let redis = RedisServer::start();
    let (_a_dir, a) = node(&redis.url(), &[]);
    let (_b_dir, b) = node(&redis.url(), &[]);
    let (secret, publishable) = create_store(a.addr, "shop").await;
    upload(a.addr, "shop", &secret, &rows("p", 120)).await;
    within(SECOND, "B serves the store", || {
        let publishable = publishable.clone();
        async move {
            let (status, _) = http_as_at(
                b.addr,
                &publishable,
                "GET",
                "/v1/stores/shop/products/p-119",
                None,
            )
            .await;
            status == 200
        }
    })
    .await;

    let (status, first) = http_as_at(
        a.addr,
        &publishable,
        "POST",
        "/v1/stores/shop/sessions",
        body(page_request("p-0")),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let session = first["session"].as_str().unwrap().to_owned();
    let base = format!("/v1/stores/shop/sessions/{session}");
    let mut seen: HashSet<String> = ids(&first).into_iter().collect();
    let mut last = first;
    for round in 0..8 {
        let vote = if round % 3 == 2 { "down" } else { "up" };
        let (status, page) = http_as_at(
            a.addr,
            &publishable,
            "POST",
            &format!("{base}/votes"),
            body(json!({"product": ids(&last)[round % 6], "vote": vote})),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        for id in ids(&page) {
            assert!(seen.insert(id.clone()), "{id} shown twice");
        }
        last = page;
    }
    a.kill_9();

    let (status, resumed) = http_as_at(b.addr, &publishable, "GET", &base, None).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(
        resumed["round"], last["round"],
        "every acknowledged vote is there"
    );
    assert_eq!(ids(&resumed), ids(&last), "the last page acknowledged on A");
    let (status, next) = http_as_at(
        b.addr,
        &publishable,
        "POST",
        &format!("{base}/votes"),
        body(json!({"product": ids(&last)[0], "vote": "up"})),
    )
    .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["round"], last["round"].as_u64().unwrap() + 1);
    for id in ids(&next) {
        assert!(
            seen.insert(id.clone()),
            "{id} shown twice after moving node"
        );
    }
}
