//! The HTTP API: health, the demo on a fresh directory, the session calls,
//! similar products, stores, and the generated OpenAPI document.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{config, demo_data_dir, ids, TestApp, ADMIN};

#[tokio::test]
async fn a_fresh_data_directory_gets_the_demo_store_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let config = morelike::server::Config {
        demo: true,
        ..config(dir.path())
    };
    let app = TestApp::start(config).await;
    let (status, _, page) = app.http_raw("GET", "/", None).await;
    assert_eq!(status, 200);
    assert!(page.contains("<morelike-recs") && page.contains("/widget/morelike-recs.js"));
    // The page used the demo store, so it is in memory now.
    let (status, mut stores) = app.http_as(ADMIN, "GET", "/v1/stores", None).await;
    assert_eq!(status, 200);
    let bytes = stores[0]["memory_bytes"].take();
    assert!(bytes.as_u64().unwrap() > 10_000_000, "{bytes}");
    assert_eq!(
        stores,
        json!([{"name": "demo", "loaded": true, "products": 44446, "memory_bytes": null,
                "strategy": morelike_core::strategy::DEFAULT}])
    );
    let (status, _, widget) = app.http_raw("GET", "/widget/morelike-recs.js", None).await;
    assert_eq!(status, 200);
    assert!(widget.contains("More Like This") && widget.contains("/ws"));
    assert_eq!(app.http("GET", "/healthz", None).await.0, 200);
    assert_eq!(app.http("GET", "/readyz", None).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn with_no_demo_a_fresh_data_directory_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    assert_eq!(
        app.http_as(ADMIN, "GET", "/v1/stores", None).await.1,
        json!([])
    );
    app.stop().await;
}

#[tokio::test]
async fn the_http_session_calls_mirror_the_websocket_ones() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let body = |v: serde_json::Value| Some(("application/json", v.to_string()));

    let (status, first) = app
        .http(
            "POST",
            "/v1/stores/demo/sessions",
            body(json!({"seed": "15970", "k": 5})),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let session = first["session"].as_str().unwrap().to_owned();
    let base = format!("/v1/stores/demo/sessions/{session}");
    let mut seen: HashSet<String> = ids(&first).into_iter().collect();

    let (status, second) = app
        .http(
            "POST",
            &format!("{base}/votes"),
            body(json!({"product": ids(&first)[0], "vote": "up"})),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    let (_, third) = app
        .http(
            "POST",
            &format!("{base}/votes"),
            body(json!({"votes": [{"product": ids(&second)[0], "vote": "down"}]})),
        )
        .await;
    let (_, fourth) = app.http("POST", &format!("{base}/more"), None).await;
    for page in [&second, &third, &fourth] {
        for id in ids(page) {
            assert!(seen.insert(id.clone()), "{id} repeated");
        }
    }
    assert_eq!(fourth["round"], 4);

    let (status, explained) = app
        .http("GET", &format!("{base}/explain/{}", ids(&fourth)[0]), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        explained["explanation"]["examples"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let (status, undone) = app.http("POST", &format!("{base}/undo"), None).await;
    assert_eq!((status, undone["round"].clone()), (200, json!(5)));
    let (status, resumed) = app.http("GET", &base, None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&resumed), ids(&undone));
    let (_, reset) = app.http("POST", &format!("{base}/reset"), None).await;
    assert_eq!(reset["round"], 1);
    assert_eq!(ids(&reset), ids(&first), "a reset session starts over");

    let (status, err) = app
        .http(
            "POST",
            &format!("{base}/votes"),
            body(json!({"product": "15970"})),
        )
        .await;
    assert_eq!(
        (status, err["code"].clone(), err["field"].clone()),
        (400, json!("bad_field"), json!("vote"))
    );
    let (status, err) = app
        .http("POST", "/v1/stores/demo/sessions/feedface/more", None)
        .await;
    assert_eq!(
        (status, err["code"].clone()),
        (404, json!("unknown_session"))
    );
    let (status, err) = app
        .http(
            "POST",
            "/v1/stores/demo/sessions",
            Some(("application/json", "{".into())),
        )
        .await;
    assert_eq!((status, err["code"].clone()), (400, json!("bad_json")));
    app.stop().await;
}

#[tokio::test]
async fn similar_returns_k_products_like_the_one_asked_about() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let (status, body) = app
        .http("GET", "/v1/stores/demo/similar/15970?k=5", None)
        .await;
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(items
        .iter()
        .all(|i| i["attributes"]["articleType"] == "Shirts" && i["id"] != "15970"));
    let (status, body) = app
        .http("GET", "/v1/stores/demo/similar/15970?k=0", None)
        .await;
    assert_eq!((status, body["field"].clone()), (400, json!("k")));
    let (status, _) = app.http("GET", "/v1/stores/demo/similar/nope", None).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_store_created_over_http_takes_an_upload_and_serves_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let mapping =
        "[fields]\nid = \"sku\"\nname = \"title\"\ncategorical = [\"colour\"]\nprice = \"price\"\n";
    let (secret, publishable) = app.create_store("shop", mapping).await;
    assert!(secret.starts_with("sk_shop_") && publishable.starts_with("pk_shop_"));
    let rows = json!([
        {"sku": "a", "title": "Red Apple", "colour": "red", "price": 1.0},
        {"sku": "b", "title": "Green Apple", "colour": "green", "price": 1.2},
        {"sku": "c", "title": "Red Cherry", "colour": "red", "price": 4.0},
        {"sku": "d", "title": "Yellow Banana", "colour": "yellow", "price": 0.5}
    ]);
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/shop/products",
            Some(("application/json", rows.to_string())),
        )
        .await;
    assert_eq!(
        (status, report["added"].clone()),
        (200, json!(4)),
        "{report}"
    );
    let (status, page) = app
        .http_as(
            &publishable,
            "POST",
            "/v1/stores/shop/sessions",
            Some((
                "application/json",
                json!({"seed": "a", "k": 2, "filters": {"attributes": {"colour": ["red"]}}})
                    .to_string(),
            )),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), ["c"], "only red products, never the seed");
    let (status, err) = app
        .http_as(
            ADMIN,
            "PUT",
            "/v1/stores/bad",
            Some(("application/toml", "[fields]\nid = 1".into())),
        )
        .await;
    assert_eq!((status, err["code"].clone()), (422, json!("bad_mapping")));
    app.stop().await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (_, headers, _) = app.http_raw("GET", "/healthz", None).await;
    let id = headers
        .get("x-request-id")
        .expect("a request id")
        .to_str()
        .unwrap();
    assert_eq!(id.len(), 36, "{id} is a UUID");
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_generated_with_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (status, doc) = app.http("GET", "/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/stores/{store}/sessions",
        "/v1/stores/{store}/sessions/{session}/votes",
        "/v1/stores/{store}/sessions/{session}/more",
        "/v1/stores/{store}/sessions/{session}/undo",
        "/v1/stores/{store}/sessions/{session}/reset",
        "/v1/stores/{store}/sessions/{session}/explain/{product}",
        "/v1/stores/{store}/sessions/{session}",
        "/v1/stores/{store}/products",
        "/v1/stores/{store}/products/{id}",
        "/v1/stores/{store}/similar/{id}",
        "/v1/stores/{store}/ws",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "the document lacks {path}");
    }
    assert!(doc["components"]["schemas"]["PageBody"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn weights_and_strategy_change_live_and_bad_settings_change_nothing() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let (status, before) = app
        .http_as(&secret, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["strategy"], morelike_core::strategy::DEFAULT);
    assert!(before["strategies"]
        .as_array()
        .unwrap()
        .contains(&json!("rocchio")));

    // Only the colour counts: every similar product has the seed's colour.
    let only_colour = json!({"weights": {"name": 0, "gender": 0, "type": 0, "colour": 1, "occasion": 0, "year": 0}, "strategy": "rocchio"});
    let (status, after) = app
        .http_as(
            &secret,
            "PATCH",
            "/v1/stores/demo/settings",
            Some(("application/json", only_colour.to_string())),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["weights"]["colour"], 1.0);
    assert_eq!(after["strategy"], "rocchio");
    let (_, similar) = app
        .http("GET", "/v1/stores/demo/similar/15970?k=8", None)
        .await;
    for item in similar["items"].as_array().unwrap() {
        assert_eq!(item["attributes"]["baseColour"], "Navy Blue", "{item}");
    }

    for (bad, field) in [
        (json!({"weights": {"sparkle": 1}}), "sparkle"),
        (json!({"weights": {"colour": -1}}), "colour"),
        (json!({"strategy": "psychic"}), "psychic"),
    ] {
        let (status, err) = app
            .http_as(
                &secret,
                "PATCH",
                "/v1/stores/demo/settings",
                Some(("application/json", bad.to_string())),
            )
            .await;
        assert_eq!(status, 400, "{err}");
        assert!(err["message"].as_str().unwrap().contains(field), "{err}");
    }
    let (_, unchanged) = app
        .http_as(&secret, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(unchanged["weights"], after["weights"]);
    assert_eq!(unchanged["strategy"], "rocchio");
    app.stop().await;

    // The settings are stored: a restart keeps them.
    let app = TestApp::with_demo(&dir).await;
    let (_, restarted) = app
        .http_as(&secret, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(restarted["weights"], after["weights"]);
    assert_eq!(restarted["strategy"], "rocchio");
    app.stop().await;
}
