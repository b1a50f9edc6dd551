//! A full disk, then room again (an injected "no space left on device" under
//! the real embedded store: CI cannot always mount a small file system).
//! Promises checked: writes fail with a clear error while the disk is full,
//! `/readyz` says why, writes succeed again without a restart, and nothing
//! acknowledged before (or while) the disk was full is lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use morelike::store::{DiskFaults, Embedded, Storage};
use serde_json::{json, Value};

use crate::helpers::{config, demo_data_dir, ids, Socket, TestApp, ADMIN};

const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";

fn upload(id: &str) -> Option<(&'static str, String)> {
    Some((
        "text/csv",
        format!(
            "{HEADER}\n{id},Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Disk Shirt\n"
        ),
    ))
}

/// Waits until `/readyz` answers `status`; returns its body (the message
/// of a `not_ready`).
async fn readyz_becomes(app: &TestApp, status: u16) -> String {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let (got, body) = app.http("GET", "/readyz", None).await;
        if got == status {
            if got != 200 {
                assert_eq!(body["code"], "not_ready", "{body}");
            }
            return body["message"]
                .as_str()
                .or(body.as_str())
                .unwrap_or_default()
                .to_owned();
        }
        assert!(Instant::now() < until, "/readyz stayed {got}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One vote; the page when acknowledged, else the error.
async fn vote(ws: &mut Socket, page: &Value) -> Value {
    let product = ids(page)[0].clone();
    ws.send(json!({"type": "vote", "product": product, "vote": "up"}))
        .await
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_readyz_says_why_and_writes_succeed_again_without_restart_losing_nothing(
) {
    let dir = demo_data_dir();
    let disk = DiskFaults::default();
    let storage: Arc<dyn Storage> =
        Arc::new(Embedded::open_with_faults(dir.path(), disk.clone()).unwrap());
    let app = TestApp::start_on(config(dir.path()), storage).await;

    // Shoppers with acknowledged pages, and a product, before the disk fills.
    let mut shoppers: Vec<(Socket, Value)> = Vec::new();
    for _ in 0..10 {
        let mut ws = app.socket("demo").await;
        let page = ws.page(json!({"type": "start", "seed": "15970"})).await;
        let page = vote(&mut ws, &page).await;
        assert_eq!(page["type"], "page");
        shoppers.push((ws, page));
    }
    let (status, _) = app
        .http_as(
            ADMIN,
            "POST",
            "/v1/stores/demo/products",
            upload("before-full"),
        )
        .await;
    assert_eq!(status, 200);

    disk.fill();
    // Changes acknowledged in the moment before the writer notices count too.
    for (ws, last) in &mut shoppers {
        let reply = vote(ws, last).await;
        if reply["type"] == "page" {
            *last = reply;
        } else {
            assert_eq!(reply["code"], "storage_unavailable", "{reply}");
        }
    }
    let why = readyz_becomes(&app, 503).await;
    assert!(why.contains("No space left on device"), "{why}");

    // While full: every write is refused with a clear error; reads work.
    let (ws, last) = &mut shoppers[0];
    let refused = vote(ws, last).await;
    assert_eq!(refused["code"], "storage_unavailable", "{refused}");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains("nothing was changed"));
    let (status, body) = app
        .http_as(
            ADMIN,
            "POST",
            "/v1/stores/demo/products",
            upload("while-full"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("storage_unavailable")),
        "{body}"
    );
    let (status, body) = app
        .http_as(
            ADMIN,
            "PATCH",
            "/v1/stores/demo/settings",
            Some((
                "application/json",
                json!({"weights": {"colour": 3}}).to_string(),
            )),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    let (_, settings) = app
        .http_as(ADMIN, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(
        settings["weights"]["colour"], 1.0,
        "the refused change changed nothing (the shipped weight is 1): {settings}"
    );
    let (status, _) = app.http("GET", "/v1/stores/demo/similar/15970", None).await;
    assert_eq!(status, 200, "reads go on");
    let session = last["session"].as_str().unwrap().to_owned();
    let resumed = ws.page(json!({"type": "resume", "session": session})).await;
    assert_eq!(resumed["items"], last["items"]);

    // Room again: ready, and writes succeed without a restart.
    disk.free();
    readyz_becomes(&app, 200).await;
    for (ws, last) in &mut shoppers {
        let page = vote(ws, last).await;
        assert_eq!(page["type"], "page", "{page}");
        *last = page;
    }
    let (status, _) = app
        .http_as(
            ADMIN,
            "POST",
            "/v1/stores/demo/products",
            upload("after-full"),
        )
        .await;
    assert_eq!(status, 200);
    app.stop().await;

    // Everything acknowledged is in storage.
    let app = TestApp::start(config(dir.path())).await;
    for (_, last) in &shoppers {
        let mut ws = app.socket("demo").await;
        let resumed = ws
            .page(json!({"type": "resume", "session": last["session"]}))
            .await;
        assert_eq!(resumed["round"], last["round"]);
        assert_eq!(resumed["items"], last["items"]);
    }
    for (id, status) in [
        ("before-full", 200),
        ("while-full", 404),
        ("after-full", 200),
    ] {
        let (got, _) = app
            .http("GET", &format!("/v1/stores/demo/products/{id}"), None)
            .await;
        assert_eq!(got, status, "{id}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_shutdown_while_the_disk_is_full_says_how_many_session_changes_it_could_not_write() {
    let dir = demo_data_dir();
    let disk = DiskFaults::default();
    let storage: Arc<dyn Storage> =
        Arc::new(Embedded::open_with_faults(dir.path(), disk.clone()).unwrap());
    let mut config = config(dir.path());
    config.shutdown_timeout = Duration::from_secs(2);
    let app = morelike::server::Application::build_on(config, storage)
        .await
        .unwrap();
    let addr = app.address();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    disk.fill();
    // Acknowledged before the writer found the disk full, then unwritable.
    let mut ws = crate::helpers::socket_at(addr, "demo").await;
    let page = ws.send(json!({"type": "start", "seed": "15970"})).await;
    assert_eq!(page["type"], "page", "{page}");
    let asked = Instant::now();
    stop.send(()).unwrap();
    let outcome = running.await.unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "within the deadline"
    );
    match outcome {
        Err(morelike::server::ServerError::Unwritten(n)) => assert_eq!(n, 1),
        other => panic!("expected the unwritten sessions to be reported, got {other:?}"),
    }
}
