//! Deleting a store left the session changes still waiting in the
//! write-behind queue: written after the store was deleted, they outlived
//! it in storage, where a new store of the same name would find them. (The
//! deterministic half, a batch in flight while the store goes, is the
//! session writer's unit test
//! `a_store_shut_out_keeps_none_of_its_sessions_not_even_the_batch_in_flight`.)

use futures_util::future::join_all;
use morelike::store::{Embedded, Storage};
use serde_json::json;

use crate::helpers::{config, ids, TestApp, ADMIN};

const MAPPING: &str = "[fields]\nid = \"sku\"\nname = \"title\"\ncategorical = [\"colour\"]\n";

#[tokio::test]
async fn a_deleted_store_leaves_no_session_behind_not_even_one_not_yet_written() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (secret, publishable) = app.create_store("shop", MAPPING).await;
    let rows: String = (0..40)
        .map(|i| {
            let colour = ["red", "blue", "green", "black"][i % 4];
            json!({"sku": format!("p{i}"), "title": format!("Thing {i}"), "colour": colour})
                .to_string()
                + "\n"
        })
        .collect();
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/shop/products",
            Some(("application/x-ndjson", rows)),
        )
        .await;
    assert_eq!(status, 200, "{report}");

    // Shoppers change their sessions up to the moment the store is deleted,
    // so some changes are still waiting to be written when it goes.
    let shoppers = (0..4).map(|s| {
        let (app, key) = (&app, &publishable);
        async move {
            let mut ws = app
                .socket_with("shop", &format!("?key={key}"), &[])
                .await
                .expect("the socket opens");
            let mut sessions = Vec::new();
            for i in 0..8 {
                let page = ws
                    .page(json!({"type": "start", "seed": format!("p{}", s * 8 + i), "k": 4}))
                    .await;
                let page = ws
                    .page(json!({"type": "vote", "product": ids(&page)[0], "vote": "up"}))
                    .await;
                sessions.push(page["session"].as_str().unwrap().to_owned());
            }
            sessions
        }
    });
    let mut open = app
        .socket_with("shop", &format!("?key={publishable}"), &[])
        .await
        .expect("the socket opens");
    open.page(json!({"type": "start", "seed": "p39"})).await;
    let sessions: Vec<String> = join_all(shoppers).await.into_iter().flatten().collect();
    let (status, body) = app.http_as(ADMIN, "DELETE", "/v1/stores/shop", None).await;
    assert_eq!(status, 204, "{body}");

    // A socket open through the deletion is told (PROTOCOL.md).
    let reply = open.send(json!({"type": "more"})).await;
    assert_eq!(reply["code"], "unknown_store", "{reply}");

    // Its keys went with it.
    let (status, body) = app
        .http_as(&secret, "GET", "/v1/stores/shop/products/p1", None)
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    app.stop().await;

    // Nothing of it is in storage once every pending change was written.
    let storage = Embedded::open(dir.path()).unwrap();
    for id in &sessions {
        assert_eq!(storage.session("shop", id).unwrap(), None, "session {id}");
    }
    assert_eq!(storage.access("shop").unwrap(), None);
    assert!(storage.products("shop").unwrap().is_empty());
    drop(storage);

    // A new store of that name starts empty.
    let app = TestApp::start(config(dir.path())).await;
    let (_, publishable) = app.create_store("shop", MAPPING).await;
    let (status, body) = app
        .http_as(
            &publishable,
            "GET",
            &format!("/v1/stores/shop/sessions/{}", sessions[0]),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_session")),
        "{body}"
    );
    app.stop().await;
}
