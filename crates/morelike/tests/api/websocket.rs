//! Sessions over the WebSocket, on the real fashion catalog.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{demo_data_dir, ids, TestApp};

/// A men's black T-shirt (Puma), the seed.
const BLACK_TSHIRT: &str = "15528";

/// A men's blue shirt.
const BLUE_SHIRT: &str = "22395";

fn count(page: &Value, field: &str, wanted: impl Fn(&str) -> bool) -> usize {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["attributes"][field].as_str().is_some_and(&wanted))
        .count()
}

#[tokio::test]
async fn start_then_up_then_down_serves_pages_that_never_repeat() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;

    let first = ws
        .page(json!({"type": "start", "id": "a1", "seed": BLACK_TSHIRT, "k": 8}))
        .await;
    assert_eq!(first["id"], "a1");
    assert_eq!(first["v"], 1);
    assert_eq!(first["round"], 1);
    assert_eq!(ids(&first).len(), 8);
    let item = &first["items"][0];
    for field in ["id", "name", "price", "image", "attributes", "score"] {
        assert!(item.get(field).is_some(), "a page item has {field}: {item}");
    }
    let session = first["session"].as_str().unwrap().to_owned();
    assert_eq!(session.len(), 32);

    let liked = ids(&first)[0].clone();
    let second = ws
        .page(json!({"type": "vote", "id": 2, "product": liked, "vote": "up"}))
        .await;
    assert_eq!(second["id"], 2);
    assert_eq!(second["round"], 2);
    assert_eq!(second["session"], session.as_str());

    let disliked = ids(&second)[7].clone();
    let third = ws
        .page(json!({"type": "vote", "product": disliked, "vote": "down"}))
        .await;
    let fourth = ws
        .page(json!({"type": "vote", "votes": [
            {"product": ids(&third)[0], "vote": "up"},
            {"product": ids(&third)[1], "vote": "down"}]}))
        .await;
    let fifth = ws.page(json!({"type": "more"})).await;
    assert_eq!(fifth["round"], 5);

    let mut seen: HashSet<String> = HashSet::from([BLACK_TSHIRT.to_owned()]);
    for page in [&first, &second, &third, &fourth, &fifth] {
        for id in ids(page) {
            assert!(seen.insert(id.clone()), "{id} was shown twice");
        }
    }
    assert_eq!(seen.len(), 1 + 5 * 8);
    app.stop().await;
}

#[tokio::test]
async fn after_upvoting_a_blue_mens_shirt_later_pages_hold_more_blue_and_more_shirts() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let first = ws
        .page(json!({"type": "start", "seed": BLACK_TSHIRT, "k": 8}))
        .await;
    let blue = |c: &str| c.contains("Blue");
    let shirts = |t: &str| t == "Shirts";
    let (blue_first, shirts_first) = (
        count(&first, "baseColour", blue),
        count(&first, "articleType", shirts),
    );

    let mut later = Vec::new();
    later.push(
        ws.page(json!({"type": "vote", "product": BLUE_SHIRT, "vote": "up"}))
            .await,
    );
    later.push(ws.page(json!({"type": "more"})).await);
    for page in &later {
        let (b, s) = (
            count(page, "baseColour", blue),
            count(page, "articleType", shirts),
        );
        assert!(
            b > blue_first,
            "blue: {b} on round {} vs {blue_first} on the first page",
            page["round"]
        );
        assert!(
            s > shirts_first,
            "shirts: {s} on round {} vs {shirts_first} on the first page",
            page["round"]
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn undo_takes_back_the_last_votes_and_explain_names_them() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    ws.page(json!({"type": "start", "seed": BLACK_TSHIRT}))
        .await;
    let page = ws
        .page(json!({"type": "vote", "product": BLUE_SHIRT, "vote": "up"}))
        .await;

    let target = ids(&page)[0].clone();
    let explained = ws
        .send(json!({"type": "explain", "id": "e", "product": target}))
        .await;
    assert_eq!(explained["type"], "explanation");
    assert_eq!(explained["id"], "e");
    let examples: Vec<&str> = explained["explanation"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["product"].as_str().unwrap())
        .collect();
    assert_eq!(examples, [BLACK_TSHIRT, BLUE_SHIRT]);

    let undone = ws.page(json!({"type": "undo"})).await;
    assert_eq!(undone["round"], 3);
    let explained = ws
        .send(json!({"type": "explain", "product": ids(&undone)[0]}))
        .await;
    assert_eq!(
        explained["explanation"]["examples"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let again = ws.send(json!({"type": "undo", "id": 9})).await;
    assert_eq!(again["type"], "error");
    assert_eq!(again["code"], "nothing_to_undo");

    let reset = ws.page(json!({"type": "reset"})).await;
    assert_eq!(reset["round"], 1);
    assert_eq!(
        ws.send(json!({"type": "ping", "id": "p"})).await,
        json!({"v": 1, "id": "p", "type": "pong"})
    );
    app.stop().await;
}

fn examples(explained: &Value) -> Vec<String> {
    explained["explanation"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["product"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn undo_of_one_product_takes_back_its_vote_from_an_earlier_round_and_keeps_the_later_ones() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let first = ws
        .page(json!({"type": "start", "seed": BLACK_TSHIRT}))
        .await;
    let early = ids(&first)[0].clone();
    let second = ws
        .page(json!({"type": "vote", "product": early, "vote": "up"}))
        .await;
    let late = ids(&second)[0].clone();
    ws.page(json!({"type": "vote", "product": late, "vote": "up"}))
        .await;

    let undone = ws
        .page(json!({"type": "undo", "id": "u", "product": early}))
        .await;
    assert_eq!(
        (undone["id"].clone(), undone["round"].clone()),
        (json!("u"), json!(4))
    );
    let explained = ws
        .send(json!({"type": "explain", "product": ids(&undone)[0]}))
        .await;
    assert_eq!(examples(&explained), [BLACK_TSHIRT, late.as_str()]);

    let again = ws
        .send(json!({"type": "undo", "id": 7, "product": early}))
        .await;
    assert_eq!(
        (again["type"].clone(), again["code"].clone()),
        (json!("error"), json!("nothing_to_undo"))
    );
    assert!(
        again["message"].as_str().unwrap().contains(&early),
        "{again}"
    );
    let bad = ws.send(json!({"type": "undo", "product": 12})).await;
    assert_eq!(
        (bad["code"].clone(), bad["field"].clone()),
        (json!("bad_field"), json!("product"))
    );

    // The HTTP twin: POST …/undo?product=…
    let session = undone["session"].as_str().unwrap();
    let base = format!("/v1/stores/demo/sessions/{session}");
    let (status, err) = app
        .http("POST", &format!("{base}/undo?product={early}"), None)
        .await;
    assert_eq!(
        (status, err["code"].clone()),
        (409, json!("nothing_to_undo"))
    );
    let (status, page) = app
        .http("POST", &format!("{base}/undo?product={late}"), None)
        .await;
    assert_eq!((status, page["round"].clone()), (200, json!(5)));
    let explained = ws
        .send(json!({"type": "explain", "product": ids(&page)[0]}))
        .await;
    assert_eq!(examples(&explained), [BLACK_TSHIRT]);
    app.stop().await;
}

#[tokio::test]
async fn explain_gives_the_score_the_page_gave_by_the_strategy_that_served_it() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    ws.page(json!({"type": "start", "seed": BLACK_TSHIRT}))
        .await;
    let page = ws
        .page(json!({"type": "vote", "product": BLUE_SHIRT, "vote": "up"}))
        .await;
    for item in page["items"].as_array().unwrap() {
        let explained = ws
            .send(json!({"type": "explain", "product": item["id"]}))
            .await;
        let e = &explained["explanation"];
        let (served, told) = (
            item["score"].as_f64().unwrap(),
            e["score"].as_f64().unwrap(),
        );
        assert!((served - told).abs() < 1e-4, "{item} explained as {e}");
        assert_eq!(e["strategy"], morelike_core::strategy::DEFAULT);
        assert_eq!(
            e["anchor"], BLUE_SHIRT,
            "the page is ordered by likeness to the upvote"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_filter_value_no_product_has_is_named_in_a_warning_with_values_that_exist() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let typo = json!({"type": "start", "seed": BLACK_TSHIRT,
        "filters": {"attributes": {"gender": ["Wmn"]}}});
    let page = ws.page(typo).await;
    assert!(ids(&page).is_empty(), "{page}");
    let warnings = page["warnings"].as_array().expect("a warning");
    assert_eq!(warnings.len(), 1, "{page}");
    let warning = &warnings[0];
    assert_eq!(warning["code"], "unmatched_filter");
    assert_eq!(warning["field"], "filters.attributes.gender");
    assert_eq!(warning["value"], "Wmn");
    let known: Vec<&str> = warning["known"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        known.contains(&"Men") && known.contains(&"Women"),
        "{known:?}"
    );
    assert!(
        warning["message"].as_str().unwrap().contains("'Wmn'"),
        "{warning}"
    );

    // Beside a value that matches, the page has products and the warning
    // names only the one that matches nothing; a good filter has none.
    let page = ws
        .page(json!({"type": "start", "seed": BLACK_TSHIRT,
            "filters": {"attributes": {"gender": ["Men", "Wmn"]}}}))
        .await;
    assert!(!ids(&page).is_empty(), "{page}");
    assert_eq!(page["warnings"].as_array().unwrap().len(), 1, "{page}");
    let page = ws
        .page(json!({"type": "start", "seed": BLACK_TSHIRT,
            "filters": {"attributes": {"gender": ["Men"]}}}))
        .await;
    assert!(page.get("warnings").is_none(), "{page}");
    // Only the page that answers the filter carries it.
    let more = ws.page(json!({"type": "more"})).await;
    assert!(more.get("warnings").is_none(), "{more}");

    // Over HTTP, the same.
    let (status, body) = app
        .http(
            "POST",
            "/v1/stores/demo/sessions",
            Some((
                "application/json",
                json!({"seed": BLACK_TSHIRT, "filters": {"attributes": {"gender": ["Wmn"]}}})
                    .to_string(),
            )),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["warnings"][0]["value"], "Wmn", "{body}");
    app.stop().await;
}
