//! Many stores on one node: a store loads on its first call, the least
//! recently used leave memory past `memory_budget` and load again when
//! called, a store whose writer is busy is never evicted, and sessions of
//! an evicted store go on; the stores in memory stay within the budget, by
//! their sizes as counted again after each change. And the CPU pool: past `max_queued_jobs`, pages
//! are refused with `overloaded`.

use std::collections::BTreeMap;
use std::path::Path;

use morelike::server::limits::Limits;
use morelike::server::Config;
use serde_json::{json, Value};

use crate::helpers::{config, demo_data_dir, ids, TestApp, ADMIN};

const MAPPING: &str = "format = \"csv\"\n[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\", \"kind\"]\n\n[[views]]\nname = \"colour\"\nkind = \"categorical\"\nfields = [\"colour\"]\n\n[[views]]\nname = \"kind\"\nkind = \"categorical\"\nfields = [\"kind\"]\n";

const COLOURS: [&str; 5] = ["red", "blue", "green", "black", "white"];
const KINDS: [&str; 4] = ["shirt", "shoe", "bag", "hat"];

/// Creates a store of 40 products; answers its secret key.
async fn small_store(app: &TestApp, name: &str) -> String {
    let (secret, _) = app.create_store(name, MAPPING).await;
    let mut csv = String::from("id,name,colour,kind\n");
    for i in 0..40 {
        let (colour, kind) = (COLOURS[i % 5], KINDS[i % 4]);
        csv.push_str(&format!("{name}-{i},{colour} {kind} {i},{colour},{kind}\n"));
    }
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            &format!("/v1/stores/{name}/products"),
            Some(("text/csv", csv)),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], 40);
    secret
}

/// A server over `dir` whose stores may take `budget` bytes together.
async fn with_budget(dir: &Path, budget: Option<u64>) -> TestApp {
    TestApp::start(Config {
        memory_budget: budget,
        ..config(dir)
    })
    .await
}

/// Which stores the listing says are in memory.
async fn loaded(app: &TestApp) -> Vec<String> {
    let (status, listed) = app.http_as(ADMIN, "GET", "/v1/stores", None).await;
    assert_eq!(status, 200, "{listed}");
    listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["loaded"] == true)
        .map(|s| {
            assert!(s["memory_bytes"].as_u64().unwrap() > 0, "{s}");
            assert_eq!(s["products"], 40, "{s}");
            s["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The stores in memory with the memory each takes, by the listing.
async fn held(app: &TestApp) -> BTreeMap<String, u64> {
    let (status, listed) = app.http_as(ADMIN, "GET", "/v1/stores", None).await;
    assert_eq!(status, 200, "{listed}");
    listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["loaded"] == true)
        .map(|s| {
            let name = s["name"].as_str().unwrap().to_owned();
            (name, s["memory_bytes"].as_u64().unwrap())
        })
        .collect()
}

async fn similar(app: &TestApp, store: &str, secret: &str) -> Value {
    let (status, body) = app
        .http_as(
            secret,
            "GET",
            &format!("/v1/stores/{store}/similar/{store}-0?k=5"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_cold_store_loads_on_first_use_and_answers_as_it_did_warm() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_budget(dir.path(), None).await;
    let secret_a = small_store(&app, "a").await;
    let secret_b = small_store(&app, "b").await;
    let warm = similar(&app, "a", &secret_a).await;
    app.stop().await;

    // A budget of one byte holds one store at a time: nothing warms up
    // past the first store, and every call loads what it needs.
    let app = with_budget(dir.path(), Some(1)).await;
    let cold = similar(&app, "a", &secret_a).await;
    assert_eq!(cold, warm, "a cold store answers as it did warm");
    assert_eq!(loaded(&app).await, ["a"]);
    let (status, listed) = app.http_as(ADMIN, "GET", "/v1/stores", None).await;
    assert_eq!(status, 200);
    let b = listed.as_array().unwrap().iter().find(|s| s["name"] == "b");
    let b = b.expect("a store not in memory is listed");
    assert_eq!(b["loaded"], false, "{b}");
    assert!(
        b["products"].is_null() && b["memory_bytes"].is_null(),
        "{b}"
    );

    // Each call loads its store and evicts the other; both keep answering.
    for _ in 0..2 {
        similar(&app, "b", &secret_b).await;
        assert_eq!(loaded(&app).await, ["b"]);
        assert_eq!(similar(&app, "a", &secret_a).await, warm);
        assert_eq!(loaded(&app).await, ["a"]);
    }
    app.stop().await;
}

#[tokio::test]
async fn the_stores_in_memory_stay_within_the_budget_as_each_is_called_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_budget(dir.path(), None).await;
    let mut secrets = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        secrets.push((name, small_store(&app, name).await));
    }
    let sizes = held(&app).await;
    assert_eq!(sizes.len(), 5, "{sizes:?}");
    app.stop().await;

    // Room for two stores, not three.
    let one = *sizes.values().max().unwrap();
    let budget = one * 5 / 2;
    let app = with_budget(dir.path(), Some(budget)).await;
    // The warm-up fills the budget (two stores) and stops.
    while held(&app).await.len() < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for (name, secret) in secrets.iter().chain(&secrets) {
        similar(&app, name, secret).await;
        let now = held(&app).await;
        let total: u64 = now.values().sum();
        assert!(
            total <= budget,
            "{total} B held for a budget of {budget} B: {now:?}"
        );
        assert!(now.contains_key(*name), "{name} was just called: {now:?}");
        assert_eq!(now.len(), 2, "{now:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_store_counts_its_memory_again_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_budget(dir.path(), None).await;
    let secret = small_store(&app, "a").await;
    let before = held(&app).await["a"];
    // Ten products more: upserted in place (not a rebuild).
    let mut csv = String::from("id,name,colour,kind\n");
    for i in 40..50 {
        csv.push_str(&format!(
            "a-{i},a longer name than the others {i},red,shirt\n"
        ));
    }
    let (status, report) = app
        .http_as(
            &secret,
            "POST",
            "/v1/stores/a/products",
            Some(("text/csv", csv)),
        )
        .await;
    assert_eq!((status, &report["added"]), (200, &json!(10)), "{report}");
    let after = held(&app).await["a"];
    assert!(
        after > before,
        "{before} B before, {after} B after ten more products"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_a_budget_every_store_stays_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_budget(dir.path(), None).await;
    let secret_a = small_store(&app, "a").await;
    let secret_b = small_store(&app, "b").await;
    similar(&app, "a", &secret_a).await;
    similar(&app, "b", &secret_b).await;
    assert_eq!(loaded(&app).await, ["a", "b"]);
    app.stop().await;
}

#[tokio::test]
async fn a_store_whose_writer_is_busy_is_never_evicted() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_budget(dir.path(), Some(1)).await;
    let secret_a = small_store(&app, "a").await;
    let secret_b = small_store(&app, "b").await;
    similar(&app, "a", &secret_a).await;
    // A change of `a` in progress holds its writer: loading `b` must not
    // take `a` out of memory under it.
    let writer = app.state.writer("a").await;
    similar(&app, "b", &secret_b).await;
    assert_eq!(
        loaded(&app).await,
        ["a", "b"],
        "over budget, but a is mid-write"
    );
    drop(writer);
    similar(&app, "b", &secret_b).await;
    let evicted = app.state.evict_over_budget("b");
    assert_eq!(evicted, ["a"], "once its change is done, a may go");
    assert_eq!(loaded(&app).await, ["b"]);
    app.stop().await;
}

#[tokio::test]
async fn a_session_of_an_evicted_store_goes_on_after_it_loads_again() {
    let dir = tempfile::tempdir().unwrap();
    let app = with_budget(dir.path(), Some(1)).await;
    let _ = small_store(&app, "a").await;
    let secret_b = small_store(&app, "b").await;
    let mut ws = app
        .socket_with("a", "", &[("authorization", &format!("Bearer {ADMIN}"))])
        .await
        .unwrap();
    let first = ws
        .page(json!({"type": "start", "seed": "a-0", "k": 4}))
        .await;
    let shown = ids(&first);
    assert_eq!(shown.len(), 4, "{first}");
    similar(&app, "b", &secret_b).await;
    assert_eq!(loaded(&app).await, ["b"], "a was evicted");
    let next = ws
        .page(json!({"type": "vote", "product": shown[1], "vote": "up"}))
        .await;
    assert_eq!(next["round"], 2, "the session went on: {next}");
    let again = ids(&next);
    assert!(!again.is_empty());
    assert!(
        again.iter().all(|id| !shown.contains(id)),
        "nothing shown twice: {shown:?} then {again:?}"
    );
    assert_eq!(loaded(&app).await, ["a"]);
    app.stop().await;
}

#[tokio::test]
async fn pages_past_the_compute_queue_are_refused_as_overloaded_and_healthz_still_answers() {
    let dir = demo_data_dir();
    let app = TestApp::start(Config {
        compute_threads: 1,
        pool_pages_from: 0,
        limits: Limits {
            max_queued_jobs: 1,
            ..Limits::default()
        },
        ..config(dir.path())
    })
    .await;
    let mut ws = app.socket("demo").await;
    let first = ws.page(json!({"type": "start", "seed": "15970"})).await;
    assert_eq!(first["type"], "page");
    // The one place in the queue is taken by a long job.
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let compute = app.state.compute.clone();
    let busy = tokio::spawn(async move { compute.run(move || hold.recv().unwrap()).await });
    while app.state.compute.waiting() == 0 {
        tokio::task::yield_now().await;
    }
    let refused = ws.send(json!({"type": "more", "id": 7})).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "overloaded", "{refused}");
    assert_eq!(refused["id"], 7);
    let (status, head, body) = app
        .http_raw(
            "POST",
            "/v1/stores/demo/sessions",
            Some(("application/json", r#"{"seed":"15970"}"#.into())),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"code\":\"overloaded\""), "{body}");
    assert_eq!(head.get("retry-after").unwrap(), "1");
    let (status, _) = app.http("GET", "/healthz", None).await;
    assert_eq!(
        status, 200,
        "the async workers are free while the pool is full"
    );
    release.send(()).unwrap();
    busy.await.unwrap().unwrap();
    let next = ws.page(json!({"type": "more"})).await;
    assert_eq!(next["round"], 2, "nothing changed while refused: {next}");
    app.stop().await;
}
