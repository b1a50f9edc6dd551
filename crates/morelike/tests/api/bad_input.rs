//! Bad input is answered, not fatal: each case has its own code, and the
//! connection and the session go on.

use serde_json::{json, Value};

use crate::helpers::{demo_data_dir, Socket, TestApp, ADMIN};

const SEED: &str = "15970";

/// Asserts an error answer with this code (and field), then that the
/// session still serves its next page.
async fn refused(ws: &mut Socket, reply: Value, code: &str, round_before: &mut u64) {
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["code"], code, "{reply}");
    assert!(!reply["message"].as_str().unwrap().is_empty());
    let page = ws.page(json!({"type": "more"})).await;
    *round_before += 1;
    assert_eq!(page["round"], *round_before, "the session survived {code}");
}

#[tokio::test]
async fn each_kind_of_bad_input_is_answered_with_its_own_code_and_the_session_survives() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;

    let before = ws
        .send(json!({"type": "vote", "id": "early", "product": SEED, "vote": "up"}))
        .await;
    assert_eq!(before["code"], "no_session");
    assert_eq!(before["id"], "early");

    ws.page(json!({"type": "start", "seed": SEED})).await;
    let mut round = 1;

    let reply = ws.send_text("{not json".into()).await;
    refused(&mut ws, reply, "bad_json", &mut round).await;

    let reply = ws.send(json!({"type": "dance", "id": 1})).await;
    assert_eq!(reply["id"], 1);
    refused(&mut ws, reply, "unknown_type", &mut round).await;

    let reply = ws.send(json!({"type": "vote", "vote": "up"})).await;
    assert_eq!(reply["field"], "product");
    refused(&mut ws, reply, "bad_field", &mut round).await;

    let reply = ws
        .send(json!({"type": "vote", "product": SEED, "vote": 5}))
        .await;
    assert_eq!(reply["field"], "vote");
    refused(&mut ws, reply, "bad_field", &mut round).await;

    let reply = ws
        .send(json!({"type": "start", "seed": SEED, "k": "eight"}))
        .await;
    assert_eq!(reply["field"], "k");
    refused(&mut ws, reply, "bad_field", &mut round).await;

    let reply = ws
        .send(json!({"type": "vote", "product": "no-such-product", "vote": "up"}))
        .await;
    assert!(reply["message"]
        .as_str()
        .unwrap()
        .contains("no-such-product"));
    refused(&mut ws, reply, "unknown_product", &mut round).await;

    let reply = ws
        .send(json!({"type": "explain", "product": "no-such-product"}))
        .await;
    refused(&mut ws, reply, "unknown_product", &mut round).await;

    let huge = json!({"v": 1, "type": "more", "padding": "x".repeat(100 * 1024)}).to_string();
    let reply = ws.send_text(huge).await;
    refused(&mut ws, reply, "frame_too_large", &mut round).await;

    let reply = ws
        .send_text(json!({"v": 2, "type": "more"}).to_string())
        .await;
    refused(&mut ws, reply, "unsupported_version", &mut round).await;

    let reply = ws
        .send(
            json!({"type": "start", "seed": SEED, "filters": {"attributes": {"fabric": ["silk"]}}}),
        )
        .await;
    refused(&mut ws, reply, "bad_filter", &mut round).await;

    let reply = ws
        .send(json!({"type": "resume", "session": "0123456789abcdef0123456789abcdef"}))
        .await;
    refused(&mut ws, reply, "unknown_session", &mut round).await;

    let reply = ws.send(json!({"type": "undo"})).await;
    refused(&mut ws, reply, "nothing_to_undo", &mut round).await;

    let partly = ws
        .page(json!({"type": "vote", "votes": [
            {"product": "no-such-product", "vote": "down"},
            {"product": SEED, "vote": "up"}]}))
        .await;
    assert_eq!(partly["skipped"], json!(["no-such-product"]));
    app.stop().await;
}

/// Opens a socket that must be refused before the upgrade; returns the
/// status and the error code.
pub async fn refused_upgrade(url: String) -> (u16, Value) {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            let body: Value = serde_json::from_slice(body).unwrap();
            (response.status().as_u16(), body["code"].clone())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_on_an_unknown_store_is_refused_before_the_upgrade() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let url = format!("ws://{}/v1/stores/nowhere/ws?key={ADMIN}", app.addr);
    assert_eq!(refused_upgrade(url).await, (404, "unknown_store".into()));
    let url = format!("ws://{}/v1/stores/nowhere/ws", app.addr);
    assert_eq!(
        refused_upgrade(url).await,
        (401, "unauthorized".into()),
        "without a key, whether the store exists is not told"
    );
    app.stop().await;
}
