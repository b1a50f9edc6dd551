//! A store changed live gets its index snapshot written again once the
//! changes settle (or at a graceful shutdown), so the next start reads the
//! snapshot instead of building the index, and serves the same pages.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use morelike::snapshots::Snapshots;
use morelike_core::catalog::snapshot;
use serde_json::json;

use crate::helpers::{config, demo_data_dir, ids, TestApp};

const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";
const SEED: &str = "15970";
const TWIN: &str =
    "twin-1,Men,Apparel,Topwear,Shirts,Ultraviolet,Fall,2011,Casual,Turtle Check Men Ultraviolet Shirt";

/// The stamp written in a snapshot file's header.
fn stamp_in(path: &Path) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    u64::from_le_bytes(bytes[16..24].try_into().unwrap())
}

/// The stamp of the demo store as storage holds it now.
fn current_stamp(app: &TestApp) -> u64 {
    let storage = app.state.storage.as_ref();
    let settings = storage.settings("demo").unwrap().unwrap();
    let version = storage.products_version("demo").unwrap();
    snapshot::stamp(version, &settings.mapping, settings.precision)
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// Upserts the twin (a new colour) and deletes what the seed's page shows
/// first; answers the seed's page after both.
async fn change_live(app: &TestApp) -> Vec<String> {
    let secret = app.demo_secret().await;
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", format!("{HEADER}\n{TWIN}\n"))),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let mut ws = app.socket("demo").await;
    let first = ids(&ws.page(json!({"type": "start", "seed": SEED})).await)[0].clone();
    let (status, body) = app
        .http_as(
            &secret,
            "DELETE",
            &format!("/v1/stores/demo/products/{first}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    ids(&ws.page(json!({"type": "start", "seed": SEED})).await)
}

fn snapshot_path(dir: &Path) -> PathBuf {
    Snapshots::new(dir.join("snapshots")).path("demo")
}

#[tokio::test]
async fn after_live_changes_settle_the_snapshot_is_written_again_and_the_restart_reads_it() {
    let dir = demo_data_dir();
    let mut config = config(dir.path());
    config.snapshot_delay = Duration::from_millis(300);
    let app = TestApp::start(config.clone()).await;
    app.load_demo().await;
    let path = snapshot_path(dir.path());
    assert_eq!(
        stamp_in(&path),
        current_stamp(&app),
        "written at the first load"
    );

    let page = change_live(&app).await;
    let current = current_stamp(&app);
    let waited = Instant::now();
    // The file is renamed into place, then the rewrite counted.
    while stamp_in(&path) != current || app.state.snapshots_due.written() == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "the snapshot was not written again after the changes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let written_at = modified(&path);
    app.stop().await;

    let app = TestApp::start(config).await;
    app.load_demo().await;
    assert_eq!(
        modified(&path),
        written_at,
        "the restart read the snapshot instead of building and writing one"
    );
    let mut ws = app.socket("demo").await;
    let again = ids(&ws.page(json!({"type": "start", "seed": SEED})).await);
    assert_eq!(again, page, "the same page after the restart");
    let twin = ws
        .page(json!({"type": "start", "seed": SEED, "filters": {"attributes": {"baseColour": ["Ultraviolet"]}}}))
        .await;
    assert_eq!(ids(&twin), ["twin-1"]);
    app.stop().await;
}

#[tokio::test]
async fn a_graceful_shutdown_writes_the_snapshot_of_changes_not_yet_settled() {
    let dir = demo_data_dir();
    let mut config = config(dir.path());
    config.snapshot_delay = Duration::from_secs(3600);
    let app = TestApp::start(config.clone()).await;
    app.load_demo().await;
    let path = snapshot_path(dir.path());
    let page = change_live(&app).await;
    let current = current_stamp(&app);
    assert_ne!(stamp_in(&path), current, "not settled: not written yet");
    app.stop().await;
    assert_eq!(stamp_in(&path), current, "written at the shutdown");
    let written_at = modified(&path);

    let app = TestApp::start(config).await;
    app.load_demo().await;
    assert_eq!(modified(&path), written_at, "the restart read it");
    let mut ws = app.socket("demo").await;
    assert_eq!(
        ids(&ws.page(json!({"type": "start", "seed": SEED})).await),
        page
    );
    app.stop().await;
}
