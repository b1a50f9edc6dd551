//! `resume` answered the wrong page: when the last page had 2 items it
//! returned 8 (the tail of everything shown, rescored).

use serde_json::json;

use crate::helpers::{demo_data_dir, ids, TestApp};

#[tokio::test]
async fn resume_answers_exactly_the_last_page_shown_even_a_short_one() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    // Nine navy leggings, three of one name: the first page has seven (no
    // name twice on a page), the second one.
    let filters = json!({"attributes": {"baseColour": ["Navy Blue"], "articleType": ["Leggings"]}});
    let first = ws
        .page(json!({"type": "start", "seed": "15970", "k": 8, "filters": filters}))
        .await;
    assert_eq!(ids(&first).len(), 7);
    let last = ws
        .page(json!({"type": "vote", "product": ids(&first)[0], "vote": "up"}))
        .await;
    let shown = ids(&last).len();
    assert!((1..8).contains(&shown), "a short last page: {last}");
    let session = last["session"].as_str().unwrap();

    let mut other = app.socket("demo").await;
    let resumed = other
        .page(json!({"type": "resume", "session": session}))
        .await;
    assert_eq!(resumed["resumed"], true);
    assert_eq!(resumed["round"], last["round"]);
    assert_eq!(
        resumed["items"], last["items"],
        "the same items with the same scores"
    );
    let (status, over_http) = app
        .http("GET", &format!("/v1/stores/demo/sessions/{session}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(over_http["items"], last["items"]);
    app.stop().await;
}
