//! One test per finding of the attack on the open server (issue 8), named
//! after it; each checks the node still answers, and the ones that store
//! something that the server restarts cleanly after it.

use std::time::Duration;

use morelike::server::limits::Limits;
use morelike::server::Config;
use morelike::store::{Embedded, Storage, StoreSettings};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{config, demo_data_dir, empty_with_limits, with_limits, TestApp, ADMIN};

const VECTORS: &str =
    "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\nvectors = [\"emb\"]\n\n[[views]]\nname = \"colour\"\nkind = \"categorical\"\nfields = [\"colour\"]\n\n[[views]]\nname = \"emb\"\nkind = \"vector\"\nfields = [\"emb\"]\ndim = 3\n";

/// Restarts the server on the same directory and checks it is ready with
/// every store loaded.
async fn restarts_cleanly(app: TestApp, dir: &TempDir, stores: usize) -> TestApp {
    app.stop().await;
    let app = TestApp::start(config(dir.path())).await;
    assert_eq!(app.http("GET", "/readyz", None).await.0, 200);
    let (_, listed) = app.http_as(ADMIN, "GET", "/v1/stores", None).await;
    assert_eq!(listed.as_array().unwrap().len(), stores, "{listed}");
    app
}

fn json_body(value: Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

#[tokio::test]
async fn a_vector_value_beyond_f32_is_a_rejected_row() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (secret, _) = app.create_store("vec", VECTORS).await;
    let rows = json!([
        {"id": "ok-1", "name": "Fine", "colour": "red", "emb": [1, 2, 3]},
        {"id": "huge", "name": "Huge", "colour": "red", "emb": [1e300, 2, 3]},
        {"id": "ok-2", "name": "Also fine", "colour": "blue", "emb": "0.5 0.25 3e38"}
    ]);
    let (status, report) = app
        .http_as(&secret, "POST", "/v1/stores/vec/products", json_body(rows))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["imported"].clone(), report["rejected"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(report["errors"][0]["field"], "emb");
    assert!(
        report["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("1e300"),
        "{report}"
    );
    let (status, _) = app
        .http_as(&secret, "GET", "/v1/stores/vec/products/huge", None)
        .await;
    assert_eq!(status, 404, "the row was not stored");
    // Later uploads still work, and so does the next start.
    let more = json!([{"id": "ok-3", "name": "Third", "colour": "red", "emb": [0, 0, 1]}]);
    let (status, report) = app
        .http_as(&secret, "POST", "/v1/stores/vec/products", json_body(more))
        .await;
    assert_eq!(
        (status, report["imported"].clone()),
        (200, json!(1)),
        "{report}"
    );
    let app = restarts_cleanly(app, &dir, 1).await;
    let (status, similar) = app
        .http_as(&secret, "GET", "/v1/stores/vec/similar/ok-1?k=2", None)
        .await;
    assert_eq!(status, 200, "{similar}");
    app.stop().await;
}

#[tokio::test]
async fn a_mapping_too_large_is_refused_before_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let mut mapping = String::from("[fields]\nid = \"id\"\nname = \"name\"\ntext = [\"t\"]\n");
    for i in 0..40 {
        mapping.push_str(&format!(
            "[[views]]\nname = \"v{i}\"\nkind = \"text\"\nfields = [\"t\"]\ndim = 4096\n"
        ));
    }
    assert!(mapping.len() < 4_000, "a small request");
    let (status, err) = app
        .http_as(
            ADMIN,
            "PUT",
            "/v1/stores/big",
            Some(("application/toml", mapping)),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("mapping_too_large")),
        "{err}"
    );
    let few_views_wide = "[fields]\nid = \"id\"\nname = \"name\"\ntext = [\"t\"]\n[[views]]\nname = \"t\"\nkind = \"text\"\nfields = [\"t\"]\ndim = 4096\n";
    let (status, err) = app
        .http_as(
            ADMIN,
            "PUT",
            "/v1/stores/big",
            Some(("application/toml", few_views_wide.into())),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("mapping_too_large")),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("max_dense_dims"),
        "{err}"
    );
    let (status, _) = app
        .http_as(ADMIN, "GET", "/v1/stores/big/settings", None)
        .await;
    assert_eq!(status, 404, "nothing was stored");
    let app = restarts_cleanly(app, &dir, 0).await;
    app.stop().await;
}

#[tokio::test]
async fn a_huge_product_name_is_a_rejected_row() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (secret, publishable) = app
        .create_store(
            "names",
            "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n",
        )
        .await;
    let huge = "n".repeat(100_000);
    let csv = format!(
        "id,name,colour\nok,Fine Shirt,red\nbig,{huge},red\nlong-{},Long Id,red\n",
        "i".repeat(300)
    );
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/names/products",
            Some(("text/csv", csv)),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rejected"], 2, "{report}");
    let fields: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "id"]);
    let (_, page) = app
        .http_as(
            &publishable,
            "POST",
            "/v1/stores/names/sessions",
            json_body(json!({"seed": "ok"})),
        )
        .await;
    assert!(page.to_string().len() < 10_000, "pages stay small");
    let app = restarts_cleanly(app, &dir, 1).await;
    app.stop().await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_body_too_large() {
    let dir = demo_data_dir();
    let app = TestApp::start(Config {
        max_upload_bytes: 64 * 1024,
        ..config(dir.path())
    })
    .await;
    let secret = app.demo_secret().await;
    let header = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n";
    let mut csv = String::from(header);
    for i in 0..3_000 {
        csv.push_str(&format!(
            "big-{i},Men,Apparel,Topwear,Shirts,Blue,Fall,2012,Casual,Big Shirt {i}\n"
        ));
    }
    assert!(csv.len() > 128 * 1024);
    let (status, err) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", csv)),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (413, Some("body_too_large")),
        "{err}"
    );
    assert_eq!(app.http("GET", "/healthz", None).await.0, 200);
    let app = restarts_cleanly(app, &dir, 1).await;
    app.stop().await;
}

/// Opens an upload that sends its head and one chunk, then stalls.
async fn stalled_upload(app: &TestApp, secret: &str) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /v1/stores/demo/products HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {secret}\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n";
    stream
        .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
        .await
        .unwrap();
    stream
}

async fn read_status(stream: &mut TcpStream) -> String {
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer))
        .await
        .expect("an answer within the deadline")
        .unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn concurrent_slow_uploads_are_capped_and_a_stalled_one_times_out() {
    let (_dir, app) = with_limits(Limits {
        upload_timeout_secs: 2,
        ..Limits::default()
    })
    .await;
    let secret = app.demo_secret().await;
    // Loaded first, so the stalled upload holds its place at once.
    app.load_demo().await;
    let mut first = stalled_upload(&app, &secret).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, err) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", "id\n".into())),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (429, Some("too_many_uploads")),
        "{err}"
    );
    let answer = read_status(&mut first).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    drop(first);
    // The stalled upload gave its place back.
    let mut freed = false;
    for _ in 0..50 {
        let (status, _) = app
            .http_as(
                &secret,
                "POST",
                "/v1/stores/demo/products",
                Some(("text/csv", "id,productDisplayName\nx-1,A Shirt\n".into())),
            )
            .await;
        if status != 429 {
            assert!(status == 200 || status == 422, "{status}");
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the upload place was given back");
    app.stop().await;
}

#[tokio::test]
async fn a_long_search_query_is_refused() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let words = "shirt ".repeat(2_000);
    let (status, err) = app
        .http(
            "GET",
            &format!("/v1/stores/demo/products?q={}", words.replace(' ', "+")),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("query_too_long")),
        "{err}"
    );
    let (status, found) = app
        .http("GET", "/v1/stores/demo/products?q=navy+shirt&limit=3", None)
        .await;
    assert_eq!((status, found.as_array().map(Vec::len)), (200, Some(3)));
    app.stop().await;
}

#[tokio::test]
async fn anonymous_writes_on_the_demo_store_are_refused() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    for (method, path, body) in [
        ("DELETE", "/v1/stores/demo/products/15970", None),
        (
            "PATCH",
            "/v1/stores/demo/settings",
            json_body(json!({"strategy": "rocchio"})),
        ),
        (
            "POST",
            "/v1/stores/demo/products?format=csv",
            Some(("text/plain", "id\nx\n".to_owned())),
        ),
        (
            "PUT",
            "/v1/stores/demo",
            Some((
                "application/toml",
                "[fields]\nid=\"id\"\nname=\"n\"\n".to_owned(),
            )),
        ),
        ("DELETE", "/v1/stores/demo", None),
        ("POST", "/v1/stores/demo/keys/rotate", None),
    ] {
        let (status, err) = app.http(method, path, body.clone()).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (401, Some("unauthorized")),
            "{method} {path}: {err}"
        );
        let (status, err) = app.http_as("pk_demo", method, path, body).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (403, Some("forbidden")),
            "{method} {path}: {err}"
        );
    }
    let (status, product) = app
        .http("GET", "/v1/stores/demo/products/15970", None)
        .await;
    assert_eq!(
        (status, product["id"].as_str()),
        (200, Some("15970")),
        "reads stay open"
    );
    app.stop().await;
}

#[tokio::test]
async fn stores_cannot_be_created_anonymously_nor_past_max_stores() {
    let (_dir, app) = empty_with_limits(Limits {
        max_stores: 2,
        ..Limits::default()
    })
    .await;
    let mapping = "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n";
    let (status, err) = app
        .http(
            "PUT",
            "/v1/stores/mine",
            Some(("application/toml", mapping.into())),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (401, Some("unauthorized")));
    app.create_store("one", mapping).await;
    let (one_secret, _) = app.create_store("two", mapping).await;
    let (status, err) = app
        .http_as(
            &one_secret,
            "PUT",
            "/v1/stores/three",
            Some(("application/toml", mapping.into())),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("forbidden")),
        "a store key cannot create stores"
    );
    let (status, err) = app
        .http_as(
            ADMIN,
            "PUT",
            "/v1/stores/three",
            Some(("application/toml", mapping.into())),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("too_many_stores")),
        "{err}"
    );
    let (status, _) = app.http_as(ADMIN, "DELETE", "/v1/stores/one", None).await;
    assert_eq!(status, 204);
    app.create_store("three", mapping).await;
    app.stop().await;
}

#[tokio::test]
async fn a_cross_site_text_plain_upload_is_refused() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let auth = format!("Bearer {secret}");
    // Even with the secret key: a page on another site may not write.
    let (status, _, body) = app
        .request(
            "POST",
            "/v1/stores/demo/products?format=csv",
            &[("origin", "https://evil.example"), ("authorization", &auth)],
            Some(("text/plain", "id,productDisplayName\nevil,Evil\n".into())),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("origin_not_allowed"), "{body}");
    let (status, _) = app.http("GET", "/v1/stores/demo/products/evil", None).await;
    assert_eq!(status, 404, "nothing was written");
    app.stop().await;
}

#[tokio::test]
async fn a_preflight_is_answered_and_allows_only_the_stores_origins() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let preflight = |origin: &'static str| {
        let app = &app;
        async move {
            app.request(
                "OPTIONS",
                "/v1/stores/demo/sessions",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    (
                        "access-control-request-headers",
                        "authorization, content-type",
                    ),
                ],
                None,
            )
            .await
        }
    };
    let (status, headers, _) = preflight("http://localhost:5173").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let allowed = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(allowed.contains("authorization"), "{allowed}");
    let (status, headers, _) = preflight("https://evil.example").await;
    assert_eq!(status, 200);
    assert!(
        headers.get("access-control-allow-origin").is_none(),
        "{headers:?}"
    );
    // The widget script is for every page.
    let (status, headers, _) = app
        .request(
            "GET",
            "/widget/morelike-recs.js",
            &[("origin", "https://shop.example")],
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rebinding_host_is_refused() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let (status, _, body) = app
        .request(
            "GET",
            "/v1/stores/demo/similar/15970",
            &[("host", "attacker.example:7700")],
            None,
        )
        .await;
    assert_eq!(status, 421, "{body}");
    assert!(body.contains("host_not_allowed"), "{body}");
    let (status, _, _) = app
        .request("GET", "/healthz", &[("host", "localhost:7700")], None)
        .await;
    assert_eq!(status, 200, "a loopback name is answered");
    app.stop().await;
}

#[tokio::test]
async fn a_socket_from_another_site_is_refused() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let Ok(mut ws) = app
        .socket_with(
            "demo",
            "?key=pk_demo",
            &[("origin", "https://evil.example")],
        )
        .await
    else {
        panic!("a browser is told in band");
    };
    let text = ws.next_frame().await.unwrap().into_text().unwrap();
    assert!(text.contains("origin_not_allowed"), "{text}");
    assert!(
        matches!(ws.next_frame().await, Some(Message::Close(Some(f))) if u16::from(f.code) == 1008)
    );
    let mut ok = app
        .socket_with(
            "demo",
            "?key=pk_demo",
            &[("origin", "http://localhost:8080")],
        )
        .await
        .expect("a listed origin opens");
    ok.page(json!({"type": "start", "seed": "15970"})).await;
    app.stop().await;
}

#[tokio::test]
async fn idle_websockets_are_closed_after_the_idle_timeout() {
    let (_dir, app) = with_limits(Limits {
        idle_socket_secs: 1,
        ..Limits::default()
    })
    .await;
    let mut ws = app.socket("demo").await;
    ws.page(json!({"type": "start", "seed": "15970"})).await;
    let frame = tokio::time::timeout(Duration::from_secs(10), ws.next_frame())
        .await
        .expect("closed within the deadline");
    match frame {
        Some(Message::Close(Some(f))) => {
            assert_eq!((u16::from(f.code), f.reason.as_str()), (1000, "idle"));
        }
        other => panic!("expected an idle close, got {other:?}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn websockets_past_the_per_address_cap_are_refused() {
    let (_dir, app) = with_limits(Limits {
        max_sockets_per_address: 2,
        ..Limits::default()
    })
    .await;
    let a = app.socket("demo").await;
    let _b = app.socket("demo").await;
    let refused = app
        .socket_with("demo", "", &[])
        .await
        .err()
        .expect("a third is refused");
    assert_eq!(
        (refused.0, refused.1["code"].as_str()),
        (429, Some("too_many_sockets"))
    );
    a.close().await;
    let mut again = None;
    for _ in 0..50 {
        if let Ok(ws) = app.socket_with("demo", "", &[]).await {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(again.is_some(), "a closed socket gives its place back");
    app.stop().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off_by_the_header_timeout() {
    let (_dir, app) = with_limits(Limits {
        header_timeout_secs: 1,
        ..Limits::default()
    })
    .await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: a")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let mut closed = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let _ = slow.write_all(b"a").await;
        match tokio::time::timeout(Duration::from_millis(10), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "the trickling connection was closed");
    assert_eq!(app.http("GET", "/healthz", None).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn silent_connections_past_the_cap_are_refused_and_the_node_keeps_answering() {
    let (_dir, app) = with_limits(Limits {
        max_connections: 8,
        ..Limits::default()
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    let answer = read_status(&mut extra).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    silent.truncate(4);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.http("GET", "/healthz", None).await.0, 200);
    drop(silent);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_declares_query_parameters_in_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let (_, doc) = app.http("GET", "/v1/openapi.json", None).await;
    for (path, method, name) in [
        ("/v1/stores/{store}/products", "get", "q"),
        ("/v1/stores/{store}/products", "get", "limit"),
        ("/v1/stores/{store}/products", "post", "format"),
        ("/v1/stores/{store}/similar/{id}", "get", "k"),
    ] {
        let params = doc["paths"][path][method]["parameters"].as_array().unwrap();
        let param = params.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(param["in"], "query", "{method} {path} {name}");
        assert_ne!(param["required"], true, "{method} {path} {name}");
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path.starts_with("/v1/") {
                for status in ["400", "401", "403", "429"] {
                    let schema = &op["responses"][status]["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn every_rejection_is_json_with_a_code() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let auth = format!("Bearer {secret}");
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, String)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/v1/stores/demo/products?q=shirt&limit=many",
            None,
            400,
            "bad_field",
        ),
        (
            "GET",
            "/v1/stores/demo/similar/15970?k=-1",
            None,
            400,
            "bad_field",
        ),
        (
            "GET",
            "/v1/stores/demo/products/%FF%FE",
            None,
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/stores/demo/sessions",
            Some(("application/json", "{".into())),
            400,
            "bad_json",
        ),
        ("GET", "/v1/no/such/route", None, 404, "not_found"),
        ("PUT", "/healthz", None, 405, "method_not_allowed"),
        ("GET", "/v1/stores/demo/ws", None, 400, "not_a_websocket"),
        (
            "POST",
            "/v1/stores/demo/sessions",
            Some(("application/json", "x".repeat(100_000))),
            413,
            "body_too_large",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, headers, text) = app
            .request(method, path, &[("authorization", &auth)], body)
            .await;
        let what = format!("{method} {path}");
        assert_eq!(got, status, "{what}: {text}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{what}"
        );
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["code"], code, "{what}: {text}");
        assert!(!error["message"].as_str().unwrap().is_empty(), "{what}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_store_that_cannot_load_does_not_take_the_node_down() {
    let dir = demo_data_dir();
    {
        let storage = Embedded::open(dir.path()).unwrap();
        let mapping =
            morelike_core::Mapping::from_toml("[fields]\nid = \"id\"\nname = \"name\"\n").unwrap();
        let mut broken = StoreSettings::new(mapping);
        broken.strategy = "withdrawn-strategy".into();
        storage.put_settings("broken", &broken).unwrap();
    }
    let app = TestApp::with_demo(&dir).await;
    assert_eq!(app.http("GET", "/readyz", None).await.0, 200);
    let (status, _) = app.http("GET", "/v1/stores/demo/similar/15970", None).await;
    assert_eq!(status, 200, "the other stores serve");
    let (status, err) = app
        .http_as(ADMIN, "GET", "/v1/stores/broken/settings", None)
        .await;
    assert_eq!((status, err["code"].as_str()), (404, Some("unknown_store")));
    let (status, _) = app
        .http_as(ADMIN, "DELETE", "/v1/stores/broken", None)
        .await;
    assert_eq!(status, 204, "the admin can delete it");
    app.stop().await;
}

#[tokio::test]
async fn what_held_still_holds_store_names_and_one_server_per_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(config(dir.path())).await;
    let mapping = "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n";
    for name in [
        "..%2F..%2Fetc",
        "a%00b",
        "x.y",
        "%E2%80%AE",
        &"n".repeat(65),
    ] {
        let (status, err) = app
            .http_as(
                ADMIN,
                "PUT",
                &format!("/v1/stores/{name}"),
                Some(("application/toml", mapping.into())),
            )
            .await;
        assert_eq!(
            (status, err["field"].as_str()),
            (400, Some("store")),
            "{name}: {err}"
        );
    }
    let second = morelike::server::Application::build(config(dir.path())).await;
    let err = second
        .err()
        .expect("a second server on the same directory is refused");
    assert!(
        err.to_string().contains("cannot open the data directory"),
        "{err}"
    );
    app.stop().await;
}
