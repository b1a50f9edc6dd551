//! Sessions persist: a shopper who reconnects, even after a restart, resumes
//! with every vote and shown product.

use std::collections::HashSet;

use serde_json::json;

use crate::helpers::{demo_data_dir, ids, TestApp};

#[tokio::test]
async fn a_session_resumes_with_its_votes_and_shown_products_after_a_server_restart() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let first = ws
        .page(json!({"type": "start", "seed": "15970", "k": 6}))
        .await;
    let session = first["session"].as_str().unwrap().to_owned();
    let liked = ids(&first)[2].clone();
    let second = ws
        .page(json!({"type": "vote", "product": liked, "vote": "up"}))
        .await;
    let disliked = ids(&second)[0].clone();
    let last = ws
        .page(json!({"type": "vote", "product": disliked, "vote": "down"}))
        .await;
    let mut shown: HashSet<String> = HashSet::from(["15970".to_owned()]);
    for page in [&first, &second, &last] {
        shown.extend(ids(page));
    }
    ws.close().await;
    app.stop().await;

    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let resumed = ws
        .page(json!({"type": "resume", "id": "r", "session": session}))
        .await;
    assert_eq!(resumed["resumed"], true);
    assert_eq!(resumed["round"], 3);
    assert_eq!(
        ids(&resumed),
        ids(&last),
        "resume shows the last page again"
    );

    let explained = ws
        .send(json!({"type": "explain", "product": ids(&last)[0]}))
        .await;
    let votes: Vec<(String, String)> = explained["explanation"]["examples"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|e| {
            (
                e["product"].as_str().unwrap().to_owned(),
                e["vote"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        votes,
        [(liked, "up".to_owned()), (disliked, "down".to_owned())]
    );

    let next = ws.page(json!({"type": "more"})).await;
    assert_eq!(next["round"], 4);
    for id in ids(&next) {
        assert!(!shown.contains(&id), "{id} was shown before the restart");
    }
    let (status, page) = app
        .http("GET", &format!("/v1/stores/demo/sessions/{session}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&page),
        ids(&next),
        "HTTP sees the page the socket was served"
    );
    app.stop().await;
}
