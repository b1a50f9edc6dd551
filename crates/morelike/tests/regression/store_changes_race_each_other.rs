//! Store changes raced each other: an upload sent while a large upload
//! rebuilt the catalog was missing from the live store until restart; two
//! settings PATCHes could lose one; an upload could undo a concurrent
//! mapping change; a client that disconnected mid-upload committed the rows
//! sent so far. Memory and storage could disagree.
//!
//! These tests send many uploads to one store at once, so they lift the
//! limits that would refuse them (one upload per store, the per-socket
//! message rate): what they check is the order of changes, which holds
//! whatever the limits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use morelike::server::limits::Limits;
use morelike::server::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{config, demo_data_dir, ids, TestApp};

const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";

fn row(id: &str, colour: &str, name: &str) -> String {
    format!("{id},Men,Apparel,Topwear,Shirts,{colour},Fall,2011,Casual,{name}")
}

/// A configuration in which many uploads to one store may run at once.
fn racing(dir: &std::path::Path) -> Config {
    Config {
        limits: Limits {
            max_uploads: 200,
            max_uploads_per_store: 200,
            messages_per_sec_per_socket: 0,
            requests_per_sec_per_address: 0,
            session_starts_per_min_per_address: 0,
            ..Limits::default()
        },
        ..config(dir)
    }
}

/// A server on a copy of the demo store, and the demo's secret key.
async fn demo_shop(dir: &tempfile::TempDir) -> (TestApp, String) {
    let app = TestApp::start(racing(dir.path())).await;
    let secret = app.demo_secret().await;
    (app, secret)
}

async fn upload_csv(app: &TestApp, key: &str, rows: &[String]) -> (u16, Value) {
    let csv = format!("{HEADER}\n{}\n", rows.join("\n"));
    app.http_as(
        key,
        "POST",
        "/v1/stores/demo/products",
        Some(("text/csv", csv)),
    )
    .await
}

async fn product_name(app: &TestApp, key: &str, id: &str) -> Option<String> {
    let (status, body) = app
        .http_as(key, "GET", &format!("/v1/stores/demo/products/{id}"), None)
        .await;
    (status == 200).then(|| body["name"].as_str().unwrap().to_owned())
}

/// An upload whose body is sent in pieces over a raw connection.
struct SlowUpload {
    stream: TcpStream,
}

impl SlowUpload {
    async fn begin(app: &TestApp, key: &str, store: &str, content_type: &str) -> SlowUpload {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        let head = format!(
            "POST /v1/stores/{store}/products HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {key}\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        SlowUpload { stream }
    }

    async fn send(&mut self, text: &str) {
        let chunk = format!("{:x}\r\n{text}\r\n", text.len());
        self.stream.write_all(chunk.as_bytes()).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// Ends the body and reads the answer: (status, JSON body).
    async fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(b"0\r\n\r\n").await.unwrap();
        let mut answer = String::new();
        self.stream.read_to_string(&mut answer).await.unwrap();
        let status = answer[9..12].parse().unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn uploads_sent_while_a_large_upload_rebuilds_the_catalog_are_live_at_once() {
    let dir = demo_data_dir();
    let (app, key) = demo_shop(&dir).await;
    // 6,000 new products: over the rebuild threshold.
    let big: Vec<String> = (0..6_000)
        .map(|i| row(&format!("big-{i}"), "Navy Blue", &format!("Big Shirt {i}")))
        .collect();
    let smalls = async {
        let mut statuses = Vec::new();
        for i in 0..12 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let small = [row(
                &format!("small-{i}"),
                "Ultraviolet",
                &format!("Small Shirt {i}"),
            )];
            statuses.push(upload_csv(&app, &key, &small).await.0);
        }
        statuses
    };
    let ((status, report), small_statuses) = tokio::join!(upload_csv(&app, &key, &big), smalls);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], 6_000);
    assert!(
        small_statuses.iter().all(|s| *s == 200),
        "{small_statuses:?}"
    );
    for i in 0..12 {
        assert!(
            product_name(&app, &key, &format!("small-{i}"))
                .await
                .is_some(),
            "small-{i} is missing from the live store"
        );
    }
    assert!(product_name(&app, &key, "big-5999").await.is_some());
    // The live index has every small one: a page filtered to their colour
    // (each has its own name, so one page may hold them all).
    let mut ws = app.socket("demo").await;
    let page = ws
        .page(json!({"type": "start", "seed": "15970", "k": 20,
                     "filters": {"attributes": {"baseColour": ["Ultraviolet"]}}}))
        .await;
    assert_eq!(ids(&page).len(), 12, "{page}");
    app.stop().await;
}

#[tokio::test]
async fn settings_patches_sent_at_once_all_stick_in_memory_and_in_storage() {
    let dir = demo_data_dir();
    let (app, key) = demo_shop(&dir).await;
    let views = ["name", "gender", "type", "colour", "occasion", "year"];
    let patches = views.iter().enumerate().map(|(i, view)| {
        let body = json!({"weights": {*view: i as f32 + 1.5}}).to_string();
        let (app, key) = (&app, &key);
        async move {
            app.http_as(
                key,
                "PATCH",
                "/v1/stores/demo/settings",
                Some(("application/json", body)),
            )
            .await
        }
    });
    for (status, body) in futures_util::future::join_all(patches).await {
        assert_eq!(status, 200, "{body}");
    }
    let expected: BTreeMap<String, f64> = views
        .iter()
        .enumerate()
        .map(|(i, v)| ((*v).to_owned(), i as f64 + 1.5))
        .collect();
    let weights = |settings: &Value| -> BTreeMap<String, f64> {
        serde_json::from_value(settings["weights"].clone()).unwrap()
    };
    let (_, live) = app
        .http_as(&key, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(weights(&live), expected, "in memory");
    app.stop().await;
    let app = TestApp::start(racing(dir.path())).await;
    let (_, stored) = app
        .http_as(&key, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(weights(&stored), expected, "in storage");
    app.stop().await;
}

#[tokio::test]
async fn an_upload_never_undoes_a_mapping_change_made_while_it_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(racing(dir.path())).await;
    let before = "[fields]\nid = \"sku\"\nname = \"title\"\ncategorical = [\"colour\"]\n";
    let after = "[fields]\nid = \"sku\"\nname = \"title\"\ncategorical = [\"colour\", \"size\"]\n";
    let (key, _) = app.create_store("shop", before).await;
    let line = |i: usize| {
        json!({"sku": format!("p{i}"), "title": format!("Thing {i}"), "colour": "red", "size": "M"})
            .to_string()
            + "\n"
    };
    let mut upload = SlowUpload::begin(&app, &key, "shop", "application/x-ndjson").await;
    upload.send(&(0..50).map(line).collect::<String>()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The mapping changes while the upload is being read.
    let (status, changed) = app
        .http_as(
            &key,
            "PUT",
            "/v1/stores/shop",
            Some(("application/toml", after.into())),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    upload.send(&(50..100).map(line).collect::<String>()).await;
    let (status, answer) = upload.finish().await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("conflict")),
        "rows read with the old mapping are not imported under the new one: {answer}"
    );
    let has_size = |settings: &Value| settings["weights"].get("size").is_some();
    let (_, live) = app
        .http_as(&key, "GET", "/v1/stores/shop/settings", None)
        .await;
    assert!(has_size(&live), "the new mapping's size view: {live}");
    let (status, _) = app
        .http_as(&key, "GET", "/v1/stores/shop/products/p1", None)
        .await;
    assert_eq!(status, 404, "nothing of the refused upload was stored");
    app.stop().await;
    let app = TestApp::start(racing(dir.path())).await;
    let (_, stored) = app
        .http_as(&key, "GET", "/v1/stores/shop/settings", None)
        .await;
    assert!(has_size(&stored), "the new mapping is stored: {stored}");
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_disconnects_mid_upload_commits_none_of_its_rows() {
    let dir = demo_data_dir();
    let (app, key) = demo_shop(&dir).await;
    let mut upload = SlowUpload::begin(&app, &key, "demo", "text/csv").await;
    let rows: Vec<String> = (0..200)
        .map(|i| row(&format!("gone-{i}"), "Navy Blue", "Half Sent Shirt"))
        .collect();
    upload
        .send(&format!("{HEADER}\n{}\n", rows.join("\n")))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(upload);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in ["gone-0", "gone-199"] {
        assert_eq!(
            product_name(&app, &key, id).await,
            None,
            "{id} was committed"
        );
    }
    // The store takes the next upload as usual.
    let (status, report) = upload_csv(&app, &key, &[row("after", "Navy Blue", "Whole")]).await;
    assert_eq!(
        (status, report["added"].clone()),
        (200, json!(1)),
        "{report}"
    );
    app.stop().await;
    let app = TestApp::start(racing(dir.path())).await;
    assert_eq!(
        product_name(&app, &key, "gone-0").await,
        None,
        "not in storage either"
    );
    app.stop().await;
}

/// One write: what it set, when it was sent and when it was answered.
struct Write {
    key: String,
    value: String,
    sent: Instant,
    answered: Instant,
}

/// The final value of a key must come from a write that no other write of
/// the key followed in real time (one sent after it was answered).
fn assert_last_write_wins(writes: &[Write], key: &str, last: &str) {
    let of_key: Vec<&Write> = writes.iter().filter(|w| w.key == key).collect();
    let winner = of_key
        .iter()
        .find(|w| w.value == last)
        .unwrap_or_else(|| panic!("{key} = {last} was never written"));
    assert!(
        of_key.iter().all(|w| w.sent <= winner.answered),
        "{key} = {last}, but a later write of it was sent after that one was answered"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_uploads_and_settings_changes_leave_memory_and_storage_equal_to_the_last_writes(
) {
    let dir = demo_data_dir();
    let (app, key) = demo_shop(&dir).await;
    let app = Arc::new(app);
    let views = ["name", "gender", "type", "colour", "occasion", "year"];
    let stop_paging = tokio_util::sync::CancellationToken::new();
    let paging = {
        let app = app.clone();
        let stop = stop_paging.clone();
        tokio::spawn(async move {
            let mut ws = app.socket("demo").await;
            ws.page(json!({"type": "start", "seed": "15970"})).await;
            let mut pages = 0;
            while !stop.is_cancelled() {
                let page = ws.send(json!({"type": "more"})).await;
                assert_eq!(page["type"], "page", "a page failed: {page}");
                pages += 1;
                if pages % 50 == 0 {
                    ws.page(json!({"type": "start", "seed": "15970"})).await;
                }
            }
            pages
        })
    };
    let tasks = (0..100).map(|i| {
        let app = app.clone();
        let key = key.clone();
        tokio::spawn(async move {
            // Spread over time, so the order of writes is partly known.
            tokio::time::sleep(Duration::from_millis((i * 37 % 100) as u64 * 8)).await;
            let sent = Instant::now();
            let mut writes = Vec::new();
            if i % 2 == 0 {
                let shared = format!("shared-{}", i % 5);
                let value = format!("Shared Shirt v{i}");
                let rows = [
                    row(&format!("own-{i}"), "Navy Blue", &format!("Own Shirt {i}")),
                    row(&shared, "Navy Blue", &value),
                ];
                let (status, report) = upload_csv(&app, &key, &rows).await;
                assert_eq!(status, 200, "{report}");
                writes.push(Write {
                    key: shared,
                    value,
                    sent,
                    answered: Instant::now(),
                });
            } else {
                let view = views[(i / 2) % views.len()];
                let weight = f64::from(i as u32) / 10.0;
                let body = json!({"weights": {view: weight}}).to_string();
                let (status, answer) = app
                    .http_as(
                        &key,
                        "PATCH",
                        "/v1/stores/demo/settings",
                        Some(("application/json", body)),
                    )
                    .await;
                assert_eq!(status, 200, "{answer}");
                writes.push(Write {
                    key: view.to_owned(),
                    value: format!("{weight:.1}"),
                    sent,
                    answered: Instant::now(),
                });
            }
            writes
        })
    });
    let mut writes: Vec<Write> = Vec::new();
    for task in futures_util::future::join_all(tasks).await {
        writes.extend(task.unwrap());
    }
    stop_paging.cancel();
    let pages = paging.await.unwrap();
    assert!(pages > 10, "pages were served throughout ({pages})");

    let snapshot = |app: Arc<TestApp>, key: String| async move {
        let mut products = BTreeMap::new();
        for id in (0..100)
            .step_by(2)
            .map(|i| format!("own-{i}"))
            .chain((0..5).map(|i| format!("shared-{i}")))
        {
            products.insert(id.clone(), product_name(&app, &key, &id).await);
        }
        let (_, settings) = app
            .http_as(&key, "GET", "/v1/stores/demo/settings", None)
            .await;
        (products, settings["weights"].clone())
    };
    let (live_products, live_weights) = snapshot(app.clone(), key.clone()).await;
    for i in (0..100).step_by(2) {
        assert_eq!(
            live_products[&format!("own-{i}")].as_deref(),
            Some(format!("Own Shirt {i}").as_str())
        );
    }
    for i in 0..5 {
        let key = format!("shared-{i}");
        let name = live_products[&key].clone().expect("written");
        assert_last_write_wins(&writes, &key, &name);
    }
    for view in views {
        let weight = format!("{:.1}", live_weights[view].as_f64().unwrap());
        assert_last_write_wins(&writes, view, &weight);
    }
    Arc::try_unwrap(app).ok().unwrap().stop().await;
    let app = Arc::new(TestApp::start(racing(dir.path())).await);
    let (stored_products, stored_weights) = snapshot(app.clone(), key).await;
    assert_eq!(stored_products, live_products, "storage equals memory");
    assert_eq!(stored_weights, live_weights, "storage equals memory");
    Arc::try_unwrap(app).ok().unwrap().stop().await;
}
