//! Events and analytics: a scripted shopper (on a WebSocket and over HTTP)
//! and what `GET /v1/stores/{store}/stats` and `GET /metrics` then count;
//! who may read them; a click on a product never shown is refused and not
//! counted.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{config, ids, TestApp, ADMIN};

const MAPPING: &str = "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n";

/// A store of 12 shirts and skirts; answers its (secret, publishable) keys.
async fn shop(app: &TestApp, name: &str) -> (String, String) {
    let (secret, publishable) = app.create_store(name, MAPPING).await;
    let colours = ["red", "blue", "green"];
    let rows: String = (0..12)
        .map(|i| {
            let kind = if i % 2 == 0 { "Shirt" } else { "Skirt" };
            format!("p{i},{} {kind} {i},{}\n", colours[i % 3], colours[i % 3])
        })
        .collect();
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            &format!("/v1/stores/{name}/products"),
            Some(("text/csv", format!("id,name,colour\n{rows}"))),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");
    (secret, publishable)
}

fn sum(minutes: &Value, field: &str) -> u64 {
    minutes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[field].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn the_stats_count_what_a_scripted_shopper_did() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (secret, publishable) = shop(&app, "shop").await;
    let mut impressions = 0;
    let mut shown = BTreeSet::new();

    // On a socket: a session, three pages, one upvote, one downvote (and a
    // vote on a product the store lacks), one click.
    let mut ws = app
        .socket_with("shop", &format!("?key={publishable}"), &[])
        .await
        .unwrap();
    let first = ws
        .page(json!({"type": "start", "seed": "p0", "k": 2}))
        .await;
    let session = first["session"].as_str().unwrap().to_owned();
    let second = ws
        .page(json!({"type": "vote", "product": ids(&first)[0], "vote": "up"}))
        .await;
    let third = ws
        .page(json!({"type": "vote", "votes": [
            {"product": ids(&second)[0], "vote": "down"},
            {"product": "no-such-product", "vote": "up"},
        ]}))
        .await;
    assert_eq!(third["skipped"], json!(["no-such-product"]));
    for page in [&first, &second, &third] {
        impressions += ids(page).len() as u64;
        shown.extend(ids(page));
    }
    let clicked = ws
        .send(json!({"type": "click", "product": ids(&first)[1]}))
        .await;
    assert_eq!(clicked["type"], "clicked", "{clicked}");
    assert_eq!(clicked["product"], ids(&first)[1].as_str());

    // A click on a product this session never showed: refused, not counted.
    let never_shown = (1..12)
        .map(|i| format!("p{i}"))
        .find(|id| !shown.contains(id))
        .unwrap();
    for product in [never_shown.as_str(), "no-such-product"] {
        let refused = ws.send(json!({"type": "click", "product": product})).await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["code"], "not_shown", "{refused}");
        assert!(
            refused["message"].as_str().unwrap().contains(product),
            "the message names the product: {refused}"
        );
    }
    ws.close().await;

    // Resuming shows the last page again: not a new page.
    let mut again = app
        .socket_with("shop", &format!("?key={publishable}"), &[])
        .await
        .unwrap();
    let resumed = again
        .page(json!({"type": "resume", "session": session}))
        .await;
    assert_eq!(resumed["resumed"], true);
    again.close().await;

    // Over HTTP: a second session, a click, a page more.
    let (status, page) = app
        .http_as(
            &publishable,
            "POST",
            "/v1/stores/shop/sessions",
            Some((
                "application/json",
                json!({"seed": "p3", "k": 3}).to_string(),
            )),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    impressions += ids(&page).len() as u64;
    let base = format!(
        "/v1/stores/shop/sessions/{}",
        page["session"].as_str().unwrap()
    );
    let click = |product: String| {
        Some((
            "application/json",
            json!({ "product": product }).to_string(),
        ))
    };
    let (status, body) = app
        .http_as(
            &publishable,
            "POST",
            &format!("{base}/clicks"),
            click(ids(&page)[2].clone()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .http_as(
            &publishable,
            "POST",
            &format!("{base}/clicks"),
            click(
                (0..12)
                    .map(|i| format!("p{i}"))
                    .find(|id| id != "p3" && !ids(&page).contains(id))
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("not_shown")),
        "{body}"
    );
    let (status, more) = app
        .http_as(&publishable, "POST", &format!("{base}/more"), None)
        .await;
    assert_eq!(status, 200, "{more}");
    impressions += ids(&more).len() as u64;

    let (status, stats) = app
        .http_as(&secret, "GET", "/v1/stores/shop/stats", None)
        .await;
    assert_eq!(status, 200, "{stats}");
    let totals = &stats["totals"];
    assert_eq!(stats["store"], "shop");
    assert_eq!(totals["sessions"], 2, "{stats}");
    assert_eq!(totals["pages"], 5, "{stats}");
    assert_eq!(totals["impressions"], impressions, "{stats}");
    assert_eq!(totals["upvotes"], 1, "{stats}");
    assert_eq!(totals["downvotes"], 1, "{stats}");
    assert_eq!(totals["clicks"], 2, "{stats}");
    assert_eq!(totals["upvote_rate"], 0.5);
    assert_eq!(totals["click_through_rate"], 2.0 / impressions as f64);
    let latency = &stats["latency"];
    assert_eq!(latency["pages"], 5);
    let (p50, p99) = (
        latency["p50_us"].as_u64().unwrap(),
        latency["p99_us"].as_u64().unwrap(),
    );
    assert!(p50 <= p99, "{latency}");
    let bars: u64 = latency["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["pages"].as_u64().unwrap())
        .sum();
    assert_eq!(bars, 5);

    // The series: 60 minutes by default, each event in one of them.
    let minutes = &stats["minutes"];
    assert_eq!(minutes.as_array().unwrap().len(), 60);
    let starts: Vec<u64> = minutes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["start"].as_u64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[1] == w[0] + 60), "{starts:?}");
    for (field, total) in [
        ("sessions", 2),
        ("pages", 5),
        ("impressions", impressions),
        ("upvotes", 1),
        ("downvotes", 1),
        ("clicks", 2),
    ] {
        assert_eq!(sum(minutes, field), total, "{field}");
    }
    let (status, short) = app
        .http_as(&secret, "GET", "/v1/stores/shop/stats?minutes=3", None)
        .await;
    assert_eq!(status, 200, "{short}");
    assert_eq!(short["minutes"].as_array().unwrap().len(), 3);

    // The same counts in Prometheus' text, beside the node's gauges.
    let (status, headers, text) = app
        .request(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {ADMIN}"))],
            None,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for line in [
        "morelike_sessions_started_total{store=\"shop\"} 2".to_owned(),
        "morelike_pages_total{store=\"shop\"} 5".to_owned(),
        format!("morelike_impressions_total{{store=\"shop\"}} {impressions}"),
        "morelike_votes_total{store=\"shop\",vote=\"up\"} 1".to_owned(),
        "morelike_votes_total{store=\"shop\",vote=\"down\"} 1".to_owned(),
        "morelike_clicks_total{store=\"shop\"} 2".to_owned(),
        "morelike_page_seconds_count{store=\"shop\"} 5".to_owned(),
        "morelike_page_seconds_bucket{store=\"shop\",le=\"+Inf\"} 5".to_owned(),
        "morelike_stores_in_memory 1".to_owned(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    assert!(text
        .lines()
        .any(|l| l.starts_with("morelike_open_sockets ")));
    assert!(text.lines().any(|l| l.starts_with("morelike_held_bytes ")));
    app.stop().await;
}

#[tokio::test]
async fn only_the_stores_secret_key_or_the_admin_key_reads_its_stats() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (secret, publishable) = shop(&app, "shop").await;
    let (other_secret, _) = shop(&app, "other").await;
    let path = "/v1/stores/shop/stats";

    let (status, body) = app.http("GET", path, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let unknown = format!("sk_shop_{}", "0f".repeat(20));
    for (key, want, code) in [
        (unknown.as_str(), 401, "unauthorized"),
        (publishable.as_str(), 403, "forbidden"),
        (other_secret.as_str(), 403, "forbidden"),
    ] {
        let (status, body) = app.http_as(key, "GET", path, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (want, Some(code)),
            "{body}"
        );
        assert!(body["message"].as_str().unwrap().contains("key"), "{body}");
    }
    for key in [secret.as_str(), ADMIN] {
        let (status, body) = app.http_as(key, "GET", path, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["totals"]["pages"], 0, "nothing happened yet: {body}");
        assert_eq!(body["totals"]["upvote_rate"], Value::Null);
    }
    let (status, body) = app
        .http_as(&secret, "GET", &format!("{path}?minutes=0"), None)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("minutes")),
        "{body}"
    );
    let (status, body) = app
        .http_as(ADMIN, "GET", "/v1/stores/nowhere/stats", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_store")),
        "{body}"
    );

    let (status, body) = app.http("GET", "/metrics", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let (status, body) = app.http_as(&secret, "GET", "/metrics", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    app.stop().await;
}
