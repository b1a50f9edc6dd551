//! A store's precision (`i8` or `f32`): chosen at import, changed live by
//! `PATCH …/settings` (the index re-encoded off the request path), shown
//! by `GET …/settings`, kept across a restart.

use std::path::Path;

use morelike::catalogs::{self, Target};
use morelike::server::{access, demo};
use morelike::snapshots::Snapshots;
use morelike::store::{Embedded, Storage};
use morelike_core::catalog::snapshot;
use morelike_core::{Format, Precision};
use serde_json::{json, Value};

use crate::helpers::{demo_data_dir, http_as_at, ids, TestApp};

/// The demo catalog imported again as this store at this precision (with
/// the demo's open access), before any server starts on `dir`.
fn import_demo_as(dir: &Path, store: &str, precision: Precision) {
    let storage = Embedded::open(dir).unwrap();
    let to = Target {
        store,
        precision: Some(precision),
    };
    catalogs::import_and_index(
        &storage,
        to,
        &demo::mapping(),
        &[],
        Format::Csv,
        demo::catalog(),
    )
    .unwrap();
    storage.put_access(store, &access::demo_access()).unwrap();
}

/// What a shopper sees on a store: the seed's similar products, then
/// three pages of a session with votes; each page as (id, score) pairs.
async fn pages(app: &TestApp, store: &str) -> Vec<Vec<(String, f64)>> {
    let items = |page: &Value| -> Vec<(String, f64)> {
        page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("a page: {page}"))
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["score"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let body = |v: Value| Some(("application/json", v.to_string()));
    let (status, similar) = app
        .http(
            "GET",
            &format!("/v1/stores/{store}/similar/15970?k=8"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{similar}");
    let (status, first) = app
        .http(
            "POST",
            &format!("/v1/stores/{store}/sessions"),
            body(json!({"seed": "15970", "k": 8})),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let base = format!(
        "/v1/stores/{store}/sessions/{}",
        first["session"].as_str().unwrap()
    );
    let (_, second) = app
        .http(
            "POST",
            &format!("{base}/votes"),
            body(json!({"votes": [{"product": ids(&first)[0], "vote": "up"},
                                  {"product": ids(&first)[7], "vote": "down"}]})),
        )
        .await;
    let (_, third) = app
        .http(
            "POST",
            &format!("{base}/votes"),
            body(json!({"product": ids(&second)[1], "vote": "up"})),
        )
        .await;
    [&similar, &first, &second, &third]
        .into_iter()
        .map(items)
        .collect()
}

/// Same products in the same order, scores equal but for float rounding.
fn assert_same_pages(a: &[Vec<(String, f64)>], b: &[Vec<(String, f64)>], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (pa, pb) in a.iter().zip(b) {
        let ids_a: Vec<&str> = pa.iter().map(|(id, _)| id.as_str()).collect();
        let ids_b: Vec<&str> = pb.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids_a, ids_b, "{what}");
        for ((id, sa), (_, sb)) in pa.iter().zip(pb) {
            assert!((sa - sb).abs() < 1e-5, "{what}: {id} scores {sa} vs {sb}");
        }
    }
}

async fn settings(app: &TestApp, secret: &str) -> Value {
    let (status, body) = app
        .http_as(secret, "GET", "/v1/stores/demo/settings", None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn patch(app: &TestApp, secret: &str, change: Value) -> (u16, Value) {
    app.http_as(
        secret,
        "PATCH",
        "/v1/stores/demo/settings",
        Some(("application/json", change.to_string())),
    )
    .await
}

/// The stamp in the demo store's snapshot file, and the one its stored
/// settings and products call for.
fn snapshot_stamps(app: &TestApp) -> (u64, u64) {
    let storage = app.state.storage.as_ref();
    let path = Snapshots::new(storage.snapshot_dir().unwrap()).path("demo");
    let bytes = std::fs::read(path).unwrap();
    let written = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    let settings = storage.settings("demo").unwrap().unwrap();
    let version = storage.products_version("demo").unwrap();
    let wanted = snapshot::stamp(version, &settings.mapping, settings.precision);
    (written, wanted)
}

#[tokio::test]
async fn a_new_precision_re_encodes_the_index_with_the_pages_of_a_store_imported_at_it_and_survives_a_restart(
) {
    let dir = demo_data_dir();
    import_demo_as(dir.path(), "demo_f32", Precision::F32);
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    assert_eq!(settings(&app, &secret).await["precision"], "i8");
    let at_i8 = pages(&app, "demo").await;
    let at_f32 = pages(&app, "demo_f32").await;
    assert_ne!(at_i8, at_f32, "i8 rounding shows in the scores");

    // Pages go on while the index is re-encoded (the old one serves).
    let re_encode = tokio::spawn(http_as_at(
        app.addr,
        Box::leak(secret.clone().into_boxed_str()),
        "PATCH",
        "/v1/stores/demo/settings",
        Some(("application/json", json!({"precision": "f32"}).to_string())),
    ));
    let mut served_meanwhile = 0;
    while !re_encode.is_finished() {
        let (status, page) = app
            .http("GET", "/v1/stores/demo/similar/15970?k=8", None)
            .await;
        assert_eq!(status, 200, "{page}");
        served_meanwhile += 1;
        // Under the per-address rate limit.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(served_meanwhile > 0);
    let (status, after) = re_encode.await.unwrap();
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["precision"], "f32");
    assert_eq!(settings(&app, &secret).await["precision"], "f32");
    let held = app.state.held("demo").unwrap();
    assert_eq!(held.read().index().precision(), Precision::F32);
    assert_same_pages(&pages(&app, "demo").await, &at_f32, "re-encoded at f32");
    // The snapshot is written at the new precision.
    let (written, wanted) = snapshot_stamps(&app);
    assert_eq!(written, wanted, "the snapshot is of the f32 index");
    // The same precision again changes nothing (and rebuilds nothing).
    let (status, same) = patch(&app, &secret, json!({"precision": "f32"})).await;
    assert_eq!(status, 200, "{same}");
    assert!(std::sync::Arc::ptr_eq(
        &held.catalog,
        &app.state.held("demo").unwrap().catalog
    ));
    app.stop().await;

    // A restart keeps the precision, and starts from the f32 snapshot.
    let app = TestApp::with_demo(&dir).await;
    assert_eq!(settings(&app, &secret).await["precision"], "f32");
    assert_same_pages(&pages(&app, "demo").await, &at_f32, "f32 after a restart");
    assert_eq!(
        app.state.held("demo").unwrap().read().index().precision(),
        Precision::F32
    );

    // And back: the pages are those of the i8 store again.
    let (status, back) = patch(&app, &secret, json!({"precision": "i8"})).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["precision"], "i8");
    assert_same_pages(&pages(&app, "demo").await, &at_i8, "back at i8");
    app.stop().await;
}

#[tokio::test]
async fn a_bad_precision_is_refused_with_what_to_fix_and_changes_nothing() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let secret = app.demo_secret().await;
    let before = settings(&app, &secret).await;
    let pages_before = pages(&app, "demo").await;
    for (bad, says) in [
        (json!({"precision": "f16", "weights": {"colour": 3}}), "f32"),
        (json!({"precision": "F32"}), "i8"),
        (json!({"precision": 8}), "precision"),
        (json!({"precision": null, "strategy": "psychic"}), "psychic"),
        // A good precision with a bad weight: nothing is re-encoded.
        (
            json!({"precision": "f32", "weights": {"sparkle": 1}}),
            "sparkle",
        ),
        (
            json!({"precision": "f32", "strategy": "psychic"}),
            "psychic",
        ),
    ] {
        let (status, err) = patch(&app, &secret, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {err}");
        assert_eq!(err["code"], "bad_field", "{bad}: {err}");
        let message = err["message"].as_str().unwrap();
        assert!(message.contains(says), "{bad}: {err}");
    }
    assert_eq!(settings(&app, &secret).await, before);
    assert_eq!(
        app.state.held("demo").unwrap().read().index().precision(),
        Precision::I8
    );
    assert_eq!(pages(&app, "demo").await, pages_before);
    // Only the secret key may change it.
    let (status, _) = app
        .http_as(
            "pk_demo",
            "PATCH",
            "/v1/stores/demo/settings",
            Some(("application/json", json!({"precision": "f32"}).to_string())),
        )
        .await;
    assert!(status == 401 || status == 403, "{status}");
    assert_eq!(settings(&app, &secret).await["precision"], "i8");
    app.stop().await;
}
