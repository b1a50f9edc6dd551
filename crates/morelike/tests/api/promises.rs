//! Promises of docs/PROTOCOL.md and docs/SERVER.md that no other test
//! checked: each test names the sentence it holds to.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{config, demo_data_dir, ids, TestApp};

const SEED: &str = "15970";

/// The session's votes, from `explain`: (product, vote) after the seed.
fn votes(explained: &Value) -> Vec<(String, String)> {
    explained["explanation"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|e| {
            (
                e["product"].as_str().unwrap().to_owned(),
                e["vote"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_frame_without_v_is_version_1_unknown_fields_are_ignored_and_missing_prices_are_null() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let page = ws
        .send_text(json!({"type": "start", "seed": SEED, "colour_of_the_day": "teal"}).to_string())
        .await;
    assert_eq!(
        (page["type"].as_str(), page["v"].as_u64()),
        (Some("page"), Some(1))
    );
    assert!(page.get("id").is_none(), "no id sent, none echoed: {page}");
    let item = &page["items"][0];
    assert_eq!(
        (&item["price"], &item["image"]),
        (&Value::Null, &Value::Null)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_start_replaces_the_connections_session_and_the_old_one_can_still_be_resumed() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let old = ws.page(json!({"type": "start", "seed": SEED})).await;
    let new = ws.page(json!({"type": "start", "seed": "15528"})).await;
    assert_ne!(old["session"], new["session"]);
    let more = ws.page(json!({"type": "more"})).await;
    assert_eq!(
        more["session"], new["session"],
        "the connection's session is the new one"
    );
    let resumed = ws
        .page(json!({"type": "resume", "session": old["session"]}))
        .await;
    assert_eq!(resumed["items"], old["items"]);
    app.stop().await;
}

#[tokio::test]
async fn voting_again_on_a_product_in_the_same_round_replaces_the_vote() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let page = ws.page(json!({"type": "start", "seed": SEED})).await;
    let product = ids(&page)[0].clone();
    ws.page(json!({"type": "vote", "votes": [
        {"product": product, "vote": "up"},
        {"product": product, "vote": "down"}]}))
        .await;
    let explained = ws.send(json!({"type": "explain", "product": SEED})).await;
    assert_eq!(votes(&explained), [(product, "down".to_owned())]);
    app.stop().await;
}

#[tokio::test]
async fn resume_leaves_out_products_deleted_since_the_page_was_shown() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let page = ws.page(json!({"type": "start", "seed": SEED})).await;
    let gone = ids(&page)[3].clone();
    let secret = app.demo_secret().await;
    let (status, _) = app
        .http_as(
            &secret,
            "DELETE",
            &format!("/v1/stores/demo/products/{gone}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let resumed = ws
        .page(json!({"type": "resume", "session": page["session"]}))
        .await;
    let expected: Vec<String> = ids(&page).into_iter().filter(|id| *id != gone).collect();
    assert_eq!(ids(&resumed), expected);
    app.stop().await;
}

#[tokio::test]
async fn websocket_pings_are_answered_by_the_transport_and_oversized_frames_close_the_connection() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    ws.ws
        .send(Message::Ping(b"hello".to_vec().into()))
        .await
        .unwrap();
    match ws.ws.next().await {
        Some(Ok(Message::Pong(payload))) => assert_eq!(&payload[..], b"hello"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // Past 16 × the 64 KiB protocol limit (1 MiB), the transport closes.
    let huge = json!({"v": 1, "type": "ping", "padding": "x".repeat(1_100_000)}).to_string();
    let _ = ws.ws.send(Message::text(huge)).await;
    let closed = loop {
        match ws.ws.next().await {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Text(text))) => panic!("answered instead of closed: {text}"),
            other => break other,
        }
    };
    assert!(
        matches!(closed, None | Some(Err(_)) | Some(Ok(Message::Close(_)))),
        "{closed:?}"
    );
    app.stop().await;
}

/// Sends raw HTTP and reads the whole answer: (status, body).
async fn raw_http(app: &TestApp, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer[9..12].parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";

#[tokio::test]
async fn bodies_over_their_limits_are_refused_with_413_and_an_upload_over_its_limit_imports_nothing(
) {
    let dir = demo_data_dir();
    let mut config = config(dir.path());
    config.max_upload_bytes = 20_000;
    let app = TestApp::start(config).await;
    let secret = app.demo_secret().await;
    let rows: String = (0..400)
        .map(|i| {
            format!(
                "big-{i},Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Limit Shirt {i}\n"
            )
        })
        .collect();
    let csv = format!("{HEADER}\n{rows}");
    assert!(csv.len() > 20_000);

    // With a Content-Length: refused at once (by the transport's limit),
    // as the JSON error with its code like every other refusal, naming the
    // limit and the ways around it.
    let (status, body) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", csv.clone())),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body_too_large")),
        "{body}"
    );
    let says = body["message"].as_str().unwrap();
    for part in [
        "20000 bytes",
        "split",
        "max_upload_bytes",
        "morelike import",
    ] {
        assert!(says.contains(part), "{part}: {says}");
    }

    // Chunked: breaks off at the limit, and nothing is imported.
    let mut request = format!("POST /v1/stores/demo/products HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {secret}\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n").into_bytes();
    for piece in csv.as_bytes().chunks(4_000) {
        request.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        request.extend(piece);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    let (status, body) = raw_http(&app, &request).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body_too_large")),
        "{body}"
    );
    let says = body["message"].as_str().unwrap();
    for part in ["nothing was imported", "20000 bytes", "max_upload_bytes"] {
        assert!(says.contains(part), "{part}: {says}");
    }
    let (status, _) = app
        .http("GET", "/v1/stores/demo/products/big-0", None)
        .await;
    assert_eq!(status, 404, "none of the rows before the limit");

    // A JSON call announcing a body over 64 KiB is answered 413 at once,
    // without waiting for the body (a tester's finding: it was held to the
    // request deadline, then 408).
    let head = "POST /v1/stores/demo/sessions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\nconnection: close\r\n\r\n";
    let (status, body) = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        raw_http(&app, head.as_bytes()),
    )
    .await
    .expect("an answer before the body");
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body_too_large")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("at most 65536 bytes"),
        "{body}"
    );

    // A JSON body over 64 KiB.
    let padding = "x".repeat(70 * 1024);
    let (status, body) = app
        .http(
            "POST",
            "/v1/stores/demo/sessions",
            Some((
                "application/json",
                json!({"seed": SEED, "padding": padding}).to_string(),
            )),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body_too_large")),
        "{body}"
    );
    let says = body["message"].as_str().unwrap();
    for part in ["65536 bytes", "max_body_bytes"] {
        assert!(says.contains(part), "{part}: {says}");
    }
    assert!(!says.contains("max_upload_bytes"), "{says}");

    // A mapping (TOML, read by the transport) over the same limit.
    let (status, body) = app
        .http_as(
            &secret,
            "PUT",
            "/v1/stores/demo",
            Some(("application/toml", format!("# {padding}\n"))),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body_too_large")),
        "{body}"
    );
    let says = body["message"].as_str().unwrap();
    assert!(
        says.contains("65536 bytes") && says.contains("max_body_bytes"),
        "{says}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_error_codes_of_the_protocol_table_that_bad_input_does_not_reach() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let reply = ws
        .send(json!({"type": "start", "seed": SEED, "k": 0}))
        .await;
    assert_eq!(
        (reply["code"].as_str(), reply["field"].as_str()),
        (Some("bad_field"), Some("k"))
    );
    let reply = ws
        .send(json!({"type": "start", "seed": SEED, "filters": {"price_min": 50, "price_max": 10}}))
        .await;
    assert_eq!(reply["code"], "bad_filter", "{reply}");
    let reply = ws
        .send(json!({"type": "start", "seed": "no-such-seed"}))
        .await;
    assert_eq!(reply["code"], "unknown_product", "{reply}");
    ws.ws
        .send(Message::Binary(b"{}".to_vec().into()))
        .await
        .unwrap();
    let reply = ws.recv().await;
    assert_eq!(reply["code"], "bad_json", "{reply}");
    assert!(reply.get("id").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_page_has_fewer_than_k_items_and_then_none_when_the_filters_run_out() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    // Nine navy leggings in the catalog, three of them named "Femella Women
    // Navy Blue Leggings": no page holds two of a name, so they come one
    // page at a time once the others are shown.
    let filters = json!({"attributes": {"baseColour": ["Navy Blue"], "articleType": ["Leggings"]}});
    let mut pages = vec![
        ws.page(json!({"type": "start", "seed": SEED, "k": 8, "filters": filters}))
            .await,
    ];
    for _ in 0..3 {
        pages.push(ws.page(json!({"type": "more"})).await);
    }
    let sizes: Vec<usize> = pages.iter().map(|p| ids(p).len()).collect();
    assert_eq!(sizes, [7, 1, 1, 0]);
    assert_eq!(pages[3]["round"], 4);
    let mut shown: Vec<String> = pages.iter().flat_map(ids).collect();
    shown.sort();
    shown.dedup();
    assert_eq!(shown.len(), 9, "every navy legging is shown once");
    for page in &pages {
        let mut names: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        let all = names.len();
        names.dedup();
        assert_eq!(names.len(), all, "a name twice on one page: {page}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_page_item_carries_the_text_and_categorical_fields_but_the_name_field() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let mapping = "[fields]\nid = \"sku\"\nname = \"title\"\ntext = [\"title\", \"notes\"]\ncategorical = [\"colour\"]\nnumeric = [\"weight\"]\n";
    let (secret, publishable) = app.create_store("shop", mapping).await;
    let rows = json!([
        {"sku": "a", "title": "Red Apple", "notes": "crisp", "colour": "red", "weight": 120},
        {"sku": "b", "title": "Red Cherry", "notes": "sweet", "colour": "red", "weight": 8}
    ]);
    let (status, _) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/shop/products",
            Some(("application/json", rows.to_string())),
        )
        .await;
    assert_eq!(status, 200);
    let mut ws = app
        .socket_with("shop", &format!("?key={publishable}"), &[])
        .await
        .expect("the socket opens");
    let page = ws.page(json!({"type": "start", "seed": "a"})).await;
    let item = &page["items"][0];
    assert_eq!(item["name"], "Red Cherry");
    assert_eq!(
        item["attributes"],
        json!({"notes": "sweet", "colour": "red"})
    );
    app.stop().await;
}
