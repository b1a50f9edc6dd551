//! The limits that are not findings of the attack but bound what grows with
//! input: request rates, socket message rates, sessions per store, votes and
//! pages per session, the size of a request head. Each answers its own code.

use std::time::Duration;

use morelike::server::limits::Limits;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{socket_from, with_limits};

#[tokio::test]
async fn requests_past_the_rate_per_address_are_answered_429_with_retry_after() {
    let (_dir, app) = with_limits(Limits {
        requests_per_sec_per_address: 3,
        ..Limits::default()
    })
    .await;
    let mut limited = None;
    for _ in 0..20 {
        let (status, headers, body) = app
            .request("GET", "/v1/stores/demo/products/15970", &[], None)
            .await;
        if status == 429 {
            limited = Some((headers, body));
            break;
        }
        assert_eq!(status, 200, "{body}");
    }
    let (headers, body) = limited.expect("the rate was enforced");
    assert!(body.contains("rate_limited"), "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(
        app.http("GET", "/healthz", None).await.0,
        200,
        "health checks are not limited"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = app
        .http("GET", "/v1/stores/demo/products/15970", None)
        .await;
    assert_eq!(status, 200, "the rate refills");
    app.stop().await;
}

#[tokio::test]
async fn messages_past_the_socket_rate_are_answered_rate_limited_and_the_socket_goes_on() {
    let (_dir, app) = with_limits(Limits {
        messages_per_sec_per_socket: 2,
        ..Limits::default()
    })
    .await;
    let mut ws = app.socket("demo").await;
    let mut codes = Vec::new();
    for i in 0..8 {
        let reply = ws.send(json!({"type": "ping", "id": i})).await;
        assert_eq!(reply["id"], i, "the id is echoed either way");
        codes.push(reply["code"].as_str().unwrap_or("pong").to_owned());
    }
    assert_eq!(
        &codes[..4],
        ["pong", "pong", "pong", "pong"],
        "a burst of twice the rate"
    );
    assert!(codes.contains(&"rate_limited".to_owned()), "{codes:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = ws.send(json!({"type": "ping"})).await;
    assert_eq!(reply["type"], "pong", "the socket went on");
    app.stop().await;
}

#[tokio::test]
async fn a_session_past_its_vote_or_page_limit_is_full_until_reset() {
    let (_dir, app) = with_limits(Limits {
        max_votes_per_session: 2,
        max_pages_per_session: 4,
        ..Limits::default()
    })
    .await;
    let mut ws = app.socket("demo").await;
    let first = ws.page(json!({"type": "start", "seed": "15970"})).await;
    let items: Vec<String> = crate::helpers::ids(&first);
    ws.page(json!({"type": "vote", "product": items[0], "vote": "up"}))
        .await;
    let full = ws
        .send(json!({"type": "vote", "votes": [
            {"product": items[1], "vote": "up"}, {"product": items[2], "vote": "down"}]}))
        .await;
    assert_eq!(full["code"], "session_full", "{full}");
    ws.page(json!({"type": "more"})).await;
    ws.page(json!({"type": "more"})).await;
    let full = ws.send(json!({"type": "more"})).await;
    assert_eq!(full["code"], "session_full", "{full}");
    assert!(full["message"].as_str().unwrap().contains("reset"));
    let again = ws.page(json!({"type": "reset"})).await;
    assert_eq!(again["round"], 1);
    // The HTTP calls hold to the same limits.
    let session = again["session"].as_str().unwrap();
    let path = format!("/v1/stores/demo/sessions/{session}/votes");
    // One message of more votes than a whole session holds is a wrong
    // message, not a full session (a tester's finding).
    let votes = json!({"votes": [{"product": items[1], "vote": "up"},
        {"product": items[2], "vote": "up"}, {"product": items[3], "vote": "up"}]});
    let (status, err) = app
        .http("POST", &path, Some(("application/json", votes.to_string())))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("bad_field")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("send fewer"),
        "{err}"
    );
    let votes = json!({"votes": [{"product": items[1], "vote": "up"},
        {"product": items[2], "vote": "up"}]});
    let (status, err) = app
        .http("POST", &path, Some(("application/json", votes.to_string())))
        .await;
    assert_eq!(status, 200, "{err}");
    let vote = json!({"votes": [{"product": items[3], "vote": "up"}]});
    let (status, err) = app
        .http("POST", &path, Some(("application/json", vote.to_string())))
        .await;
    assert_eq!((status, err["code"].as_str()), (409, Some("session_full")));
    app.stop().await;
}

#[tokio::test]
async fn sessions_past_the_store_rate_are_refused() {
    let (_dir, app) = with_limits(Limits {
        sessions_per_store: 2,
        ..Limits::default()
    })
    .await;
    let mut ws = app.socket("demo").await;
    ws.page(json!({"type": "start", "seed": "15970"})).await;
    let start = Some(("application/json", json!({"seed": "15970"}).to_string()));
    let (status, _) = app
        .http("POST", "/v1/stores/demo/sessions", start.clone())
        .await;
    assert_eq!(status, 200);
    let refused = ws.send(json!({"type": "start", "seed": "15970"})).await;
    assert_eq!(refused["code"], "too_many_sessions", "{refused}");
    let (status, err) = app.http("POST", "/v1/stores/demo/sessions", start).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (429, Some("too_many_sessions"))
    );
    let more = ws.page(json!({"type": "more"})).await;
    assert_eq!(more["round"], 2, "a started session goes on");
    app.stop().await;
}

#[tokio::test]
async fn a_request_head_over_the_limit_is_refused() {
    let (_dir, app) = with_limits(Limits {
        max_header_bytes: 16 * 1024,
        ..Limits::default()
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: {}\r\n\r\n",
        "p".repeat(40 * 1024)
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    assert_eq!(app.http("GET", "/healthz", None).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn one_address_cannot_use_up_the_rate_a_stores_shoppers_share() {
    // The tester's attack: sockets from one address, each under its own
    // message rate, together used up the publishable key's rate and locked
    // every shopper of the store out. A socket's messages now count against
    // its address too.
    let (_dir, app) = with_limits(Limits {
        requests_per_sec_per_address: 5,
        messages_per_sec_per_socket: 100,
        ..Limits::default()
    })
    .await;
    let attacker: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let mut sockets = [
        socket_from(app.addr, "demo", attacker).await,
        socket_from(app.addr, "demo", attacker).await,
    ];
    let mut refused = Vec::new();
    for i in 0..30 {
        let reply = sockets[i % 2].send(json!({"type": "ping", "id": i})).await;
        if reply["type"] == "error" {
            refused.push(reply);
        }
    }
    assert!(
        refused.len() >= 10,
        "30 pings at once from one address pass a rate of 5/s (bursts of 10): {refused:?}"
    );
    assert!(
        refused.iter().all(|r| r["code"] == "rate_limited"),
        "{refused:?}"
    );
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("your address"),
        "{}",
        refused[0]
    );
    let mut shopper = socket_from(app.addr, "demo", "127.0.0.2".parse().unwrap()).await;
    let page = shopper
        .send(json!({"type": "start", "seed": "15970"}))
        .await;
    assert_eq!(page["type"], "page", "another address shops on: {page}");
    app.stop().await;
}

#[tokio::test]
async fn sessions_started_from_one_address_are_limited_before_the_stores_cap() {
    let (_dir, app) = with_limits(Limits {
        session_starts_per_min_per_address: 2,
        sessions_per_store: 3,
        ..Limits::default()
    })
    .await;
    let start = json!({"type": "start", "seed": "15970"});
    let mut first = socket_from(app.addr, "demo", "127.0.0.1".parse().unwrap()).await;
    for _ in 0..2 {
        let page = first.send(start.clone()).await;
        assert_eq!(page["type"], "page", "{page}");
    }
    let refused = first.send(start.clone()).await;
    assert_eq!(refused["code"], "rate_limited", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("sessions started a minute from your address"),
        "{refused}"
    );
    // The refused start did not count for the store: another address
    // starts the store's third session, and only a fourth meets its cap.
    let mut second = socket_from(app.addr, "demo", "127.0.0.2".parse().unwrap()).await;
    let page = second.send(start.clone()).await;
    assert_eq!(page["type"], "page", "{page}");
    let mut third = socket_from(app.addr, "demo", "127.0.0.3".parse().unwrap()).await;
    let full = third.send(start.clone()).await;
    assert_eq!(full["code"], "too_many_sessions", "{full}");
    // Over HTTP the same address limit holds.
    let (status, err) = app
        .http(
            "POST",
            "/v1/stores/demo/sessions",
            Some(("application/json", json!({"seed": "15970"}).to_string())),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (429, Some("rate_limited")),
        "{err}"
    );
    app.stop().await;
}
