//! Who may call what: every HTTP operation in the OpenAPI document and every
//! WebSocket message, under every kind of credential, answers the expected
//! status and code; no answer about one store ever holds another store's
//! product. The operations are read from the document, so a new route
//! without a row here fails this test.

use std::collections::BTreeSet;

use morelike::server::limits::Limits;
use morelike::server::Config;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{config, TestApp, ADMIN};

/// The store under test and the other store.
const ALPHA: &str = "alpha";
const BRAVO: &str = "bravo";
const ALPHA_ORIGIN: &str = "https://alpha.example";
const EVIL_ORIGIN: &str = "https://evil.example";
/// What no answer about alpha may contain: bravo's products are all zebras.
const BRAVO_MARK: &str = "zebra";

const MAPPING: &str = "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n";

/// Who a call needs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    Nobody,
    Shopper,
    Merchant,
    Operator,
}

/// The credentials each call is tried with.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cred {
    NoKey,
    UnknownKey,
    OtherSecret,
    OtherPublishable,
    OwnPublishable,
    RotatedOut,
    WrongOrigin,
    Right,
}

const CREDS: [Cred; 8] = [
    Cred::NoKey,
    Cred::UnknownKey,
    Cred::OtherSecret,
    Cred::OtherPublishable,
    Cred::OwnPublishable,
    Cred::RotatedOut,
    Cred::WrongOrigin,
    Cred::Right,
];

/// One operation of the document, made concrete.
struct Row {
    need: Need,
    path: String,
    body: Option<(&'static str, String)>,
    /// The status of a call with the right key.
    ok: u16,
}

struct Keys {
    alpha_secret: String,
    alpha_publishable: String,
    alpha_old_secret: String,
    bravo_secret: String,
    bravo_publishable: String,
}

/// Sessions of alpha: one for every call, one with votes for undo alone
/// (a reset on the other would leave undo nothing to take back).
struct Sessions {
    main: String,
    for_undo: String,
    /// A product the main session showed (for a click).
    shown: String,
}

fn rows(method: &str, template: &str, sessions: &Sessions) -> Option<Row> {
    let session = if template.ends_with("/undo") {
        &sessions.for_undo
    } else {
        &sessions.main
    };
    let path = template
        .replace("{store}", ALPHA)
        .replace("{session}", session)
        .replace("{product}", "a-2");
    let json_body = |v: Value| Some(("application/json", v.to_string()));
    let row = |need, path: String, body, ok| {
        Some(Row {
            need,
            path,
            body,
            ok,
        })
    };
    match (method, template) {
        ("get", "/healthz") | ("get", "/readyz") => row(Need::Nobody, path, None, 200),
        ("get", "/v1/stores") => row(Need::Operator, path, None, 200),
        ("put", "/v1/stores/{store}") => row(
            Need::Merchant,
            path,
            Some(("application/toml", MAPPING.to_owned())),
            200,
        ),
        ("delete", "/v1/stores/{store}") => row(Need::Operator, path, None, 204),
        ("post", "/v1/stores/{store}/keys/rotate") => row(
            Need::Merchant,
            path,
            json_body(json!({"keys": "both"})),
            200,
        ),
        ("get", "/v1/stores/{store}/settings") => row(Need::Merchant, path, None, 200),
        ("patch", "/v1/stores/{store}/settings") => row(
            Need::Merchant,
            path,
            json_body(json!({"allowed_origins": [ALPHA_ORIGIN]})),
            200,
        ),
        ("post", "/v1/stores/{store}/products") => row(
            Need::Merchant,
            path,
            Some((
                "text/csv",
                "id,name,colour\na-9,Alpha Blue Hat,blue\n".to_owned(),
            )),
            200,
        ),
        ("get", "/v1/stores/{store}/products") => {
            row(Need::Shopper, format!("{path}?q=alpha"), None, 200)
        }
        ("get", "/v1/stores/{store}/products/{id}") => {
            row(Need::Shopper, path.replace("{id}", "a-1"), None, 200)
        }
        ("delete", "/v1/stores/{store}/products/{id}") => {
            row(Need::Merchant, path.replace("{id}", "a-doomed"), None, 204)
        }
        ("get", "/v1/stores/{store}/similar/{id}") => {
            row(Need::Shopper, path.replace("{id}", "a-1"), None, 200)
        }
        ("post", "/v1/stores/{store}/sessions") => row(
            Need::Shopper,
            path,
            json_body(json!({"seed": "a-1", "k": 2})),
            200,
        ),
        ("get", "/v1/stores/{store}/sessions/{session}")
        | ("post", "/v1/stores/{store}/sessions/{session}/more")
        | ("post", "/v1/stores/{store}/sessions/{session}/undo")
        | ("post", "/v1/stores/{store}/sessions/{session}/reset")
        | ("get", "/v1/stores/{store}/sessions/{session}/explain/{product}") => {
            row(Need::Shopper, path, None, 200)
        }
        ("post", "/v1/stores/{store}/sessions/{session}/votes") => row(
            Need::Shopper,
            path,
            json_body(json!({"product": "a-2", "vote": "up"})),
            200,
        ),
        ("post", "/v1/stores/{store}/sessions/{session}/clicks") => row(
            Need::Shopper,
            path,
            json_body(json!({ "product": sessions.shown })),
            200,
        ),
        ("get", "/v1/stores/{store}/stats") => row(Need::Merchant, path, None, 200),
        ("get", "/metrics") => row(Need::Operator, path, None, 200),
        ("get", "/v1/stores/{store}/ws") => row(Need::Shopper, path, None, 101),
        _ => None,
    }
}

/// The key and origin a credential sends for a call that needs `need`.
fn credential(cred: Cred, need: Need, keys: &Keys) -> (Option<String>, Option<&'static str>) {
    let right = match need {
        Need::Nobody | Need::Shopper => keys.alpha_publishable.clone(),
        Need::Merchant => keys.alpha_secret.clone(),
        Need::Operator => ADMIN.to_owned(),
    };
    match cred {
        Cred::NoKey => (None, None),
        Cred::UnknownKey => (Some(format!("sk_{ALPHA}_{}", "0f".repeat(20))), None),
        Cred::OtherSecret => (Some(keys.bravo_secret.clone()), None),
        Cred::OtherPublishable => (Some(keys.bravo_publishable.clone()), None),
        Cred::OwnPublishable => (Some(keys.alpha_publishable.clone()), None),
        Cred::RotatedOut => (Some(keys.alpha_old_secret.clone()), None),
        Cred::WrongOrigin => (Some(right), Some(EVIL_ORIGIN)),
        // A browser at the allowed origin; the operator calls from no browser.
        Cred::Right if need == Need::Operator => (Some(right), None),
        Cred::Right => (Some(right), Some(ALPHA_ORIGIN)),
    }
}

/// The status and code a call should get.
fn expected(cred: Cred, need: Need, ok: u16) -> (u16, Option<&'static str>) {
    if need == Need::Nobody {
        return (ok, None);
    }
    match cred {
        Cred::NoKey | Cred::UnknownKey | Cred::RotatedOut => (401, Some("unauthorized")),
        Cred::OtherSecret | Cred::OtherPublishable => (403, Some("forbidden")),
        Cred::OwnPublishable if need == Need::Shopper => (ok, None),
        Cred::OwnPublishable => (403, Some("forbidden")),
        Cred::WrongOrigin => (403, Some("origin_not_allowed")),
        Cred::Right => (ok, None),
    }
}

async fn call(
    app: &TestApp,
    method: &str,
    row: &Row,
    key: Option<&str>,
    origin: Option<&str>,
) -> (u16, String) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(auth) = &auth {
        headers.push(("authorization", auth));
    }
    if let Some(origin) = origin {
        headers.push(("origin", origin));
    }
    let (status, _, body) = app
        .request(
            &method.to_uppercase(),
            &row.path,
            &headers,
            row.body.clone(),
        )
        .await;
    (status, body)
}

fn assert_no_other_store(answer: &str, what: &str) {
    assert!(
        !answer.to_lowercase().contains(BRAVO_MARK),
        "{what} answered with another store's product: {answer}"
    );
}

/// Sets up alpha (rotated once, its origin allowed) and bravo, each with
/// products, and alpha's sessions (the one for undo with a vote in each of
/// three rounds: the two undo calls that succeed each take one back).
async fn setup(app: &TestApp) -> (Keys, Sessions) {
    let (old_secret, _) = app.create_store(ALPHA, MAPPING).await;
    let (bravo_secret, bravo_publishable) = app.create_store(BRAVO, MAPPING).await;
    let (status, rotated) = app
        .http_as(
            &old_secret,
            "POST",
            &format!("/v1/stores/{ALPHA}/keys/rotate"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let keys = Keys {
        alpha_secret: rotated["secret_key"].as_str().unwrap().to_owned(),
        alpha_publishable: rotated["publishable_key"].as_str().unwrap().to_owned(),
        alpha_old_secret: old_secret,
        bravo_secret,
        bravo_publishable,
    };
    let upload = |rows: &str| Some(("text/csv", format!("id,name,colour\n{rows}")));
    let alpha_rows = "a-1,Alpha Red Shirt,red\na-2,Alpha Red Skirt,red\na-3,Alpha Blue Shirt,blue\na-4,Alpha Green Shirt,green\na-5,Alpha Red Coat,red\na-doomed,Alpha Old Coat,grey\n";
    let bravo_rows = "b-1,Zebra Red Shirt,red\nb-2,Zebra Red Skirt,red\na-1,Zebra Impostor,red\n";
    for (store, secret, rows) in [
        (ALPHA, &keys.alpha_secret, alpha_rows),
        (BRAVO, &keys.bravo_secret, bravo_rows),
    ] {
        let (status, report) = app
            .http_as(
                secret,
                "POST",
                &format!("/v1/stores/{store}/products"),
                upload(rows),
            )
            .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["rejected"], 0, "{report}");
    }
    let (status, _) = app
        .http_as(
            &keys.alpha_secret,
            "PATCH",
            &format!("/v1/stores/{ALPHA}/settings"),
            Some((
                "application/json",
                json!({"allowed_origins": [ALPHA_ORIGIN]}).to_string(),
            )),
        )
        .await;
    assert_eq!(status, 200);
    let base = format!("/v1/stores/{ALPHA}/sessions");
    let mut ids = Vec::new();
    let mut shown = Vec::new();
    for votes in [1, 3] {
        let start = json!({"seed": "a-1", "k": 1}).to_string();
        let (status, page) = app
            .http_as(
                &keys.alpha_publishable,
                "POST",
                &base,
                Some(("application/json", start)),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let session = page["session"].as_str().unwrap().to_owned();
        shown.push(page["items"][0]["id"].as_str().unwrap().to_owned());
        for _ in 0..votes {
            let vote = json!({"product": "a-3", "vote": "down"}).to_string();
            let (status, page) = app
                .http_as(
                    &keys.alpha_publishable,
                    "POST",
                    &format!("{base}/{session}/votes"),
                    Some(("application/json", vote)),
                )
                .await;
            assert_eq!(status, 200, "{page}");
        }
        ids.push(session);
    }
    let sessions = Sessions {
        for_undo: ids.pop().unwrap(),
        main: ids.pop().unwrap(),
        shown: shown.swap_remove(0),
    };
    (keys, sessions)
}

/// A server whose per-address rate would otherwise stop a test that sends
/// a few hundred requests in a second.
fn unthrottled(dir: &std::path::Path) -> Config {
    Config {
        limits: Limits {
            requests_per_sec_per_address: 0,
            session_starts_per_min_per_address: 0,
            messages_per_sec_per_socket: 0,
            ..Limits::default()
        },
        ..config(dir)
    }
}

/// The calls whose success changes what later calls see run last, in this order.
fn success_order(method: &str, template: &str) -> u8 {
    match (method, template) {
        ("delete", "/v1/stores/{store}/products/{id}") => 1,
        ("post", "/v1/stores/{store}/keys/rotate") => 2,
        ("delete", "/v1/stores/{store}") => 3,
        _ => 0,
    }
}

#[tokio::test]
async fn every_http_operation_answers_each_credential_as_expected() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(unthrottled(dir.path())).await;
    let (mut keys, sessions) = setup(&app).await;

    let (_, doc) = app.http("GET", "/v1/openapi.json", None).await;
    let mut operations: Vec<(String, String)> = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.clone(), template.clone()));
        }
    }
    let missing: Vec<String> = operations
        .iter()
        .filter(|(m, t)| rows(m, t, &sessions).is_none())
        .map(|(m, t)| format!("{} {t}", m.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the matrix: {missing:?}"
    );

    // Every refusal first (they change nothing), then the successes.
    let mut checked = BTreeSet::new();
    for (method, template) in &operations {
        let row = rows(method, template, &sessions).unwrap();
        if template.ends_with("/ws") {
            continue;
        }
        for cred in CREDS.iter().copied().filter(|c| *c != Cred::Right) {
            let (key, origin) = credential(cred, row.need, &keys);
            let (status, body) = call(&app, method, &row, key.as_deref(), origin).await;
            let (want_status, want_code) = expected(cred, row.need, row.ok);
            let what = format!("{} {} with {cred:?}", method.to_uppercase(), row.path);
            assert_eq!(status, want_status, "{what}: {body}");
            if let Some(code) = want_code {
                let body: Value = serde_json::from_str(&body).unwrap_or_default();
                assert_eq!(body["code"], code, "{what}: {body}");
                assert!(
                    body["message"].as_str().unwrap_or("").contains("key")
                        || code == "origin_not_allowed",
                    "{what}: the message says which key is needed: {body}"
                );
            }
            assert_no_other_store(&body, &what);
            checked.insert((method.clone(), template.clone(), format!("{cred:?}")));
        }
    }
    let mut successes: Vec<&(String, String)> = operations
        .iter()
        .filter(|(_, t)| !t.ends_with("/ws"))
        .collect();
    successes.sort_by_key(|(m, t)| success_order(m, t));
    for (method, template) in successes {
        let row = rows(method, template, &sessions).unwrap();
        let (key, origin) = credential(Cred::Right, row.need, &keys);
        let (status, body) = call(&app, method, &row, key.as_deref(), origin).await;
        let what = format!("{} {} with the right key", method.to_uppercase(), row.path);
        assert_eq!(status, row.ok, "{what}: {body}");
        assert_no_other_store(&body, &what);
        if template.ends_with("/keys/rotate") {
            let rotated: Value = serde_json::from_str(&body).unwrap();
            keys.alpha_secret = rotated["secret_key"].as_str().unwrap().to_owned();
            keys.alpha_publishable = rotated["publishable_key"].as_str().unwrap().to_owned();
        }
        checked.insert((method.clone(), template.clone(), "Right".into()));
    }
    assert_eq!(checked.len(), (operations.len() - 1) * CREDS.len());
    let (status, _) = app
        .http_as(ADMIN, "GET", &format!("/v1/stores/{ALPHA}/settings"), None)
        .await;
    assert_eq!(status, 404, "the store was deleted last");
    app.stop().await;
}

/// Every message of the protocol, one after another on an open socket.
fn messages() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "start",
            json!({"type": "start", "seed": "a-1", "k": 2}),
            "page",
        ),
        (
            "vote",
            json!({"type": "vote", "product": "a-2", "vote": "up"}),
            "page",
        ),
        (
            "click",
            json!({"type": "click", "product": "SHOWN"}),
            "clicked",
        ),
        ("more", json!({"type": "more"}), "page"),
        ("undo", json!({"type": "undo"}), "page"),
        (
            "explain",
            json!({"type": "explain", "product": "a-3"}),
            "explanation",
        ),
        ("reset", json!({"type": "reset"}), "page"),
        (
            "resume",
            json!({"type": "resume", "session": "SESSION"}),
            "page",
        ),
        ("ping", json!({"type": "ping"}), "pong"),
    ]
}

#[tokio::test]
async fn every_websocket_message_answers_each_credential_as_expected() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(unthrottled(dir.path())).await;
    let (keys, _) = setup(&app).await;
    for cred in CREDS {
        let (key, origin) = credential(cred, Need::Shopper, &keys);
        let query = key.as_ref().map_or(String::new(), |k| format!("?key={k}"));
        let headers: Vec<(&str, &str)> = origin.iter().map(|o| ("origin", *o)).collect();
        let (want_status, want_code) = expected(cred, Need::Shopper, 101);
        let opened = app.socket_with(ALPHA, &query, &headers).await;
        match (opened, want_code) {
            (Err((status, body)), Some(code)) => {
                assert_eq!(
                    (status, body["code"].as_str()),
                    (want_status, Some(code)),
                    "{cred:?}"
                );
            }
            (Ok(mut ws), Some(code)) => {
                // A browser (it sent an Origin) is told inside the socket.
                assert!(
                    origin.is_some(),
                    "{cred:?}: only browsers are refused in band"
                );
                let first = ws.next_frame().await;
                let text = first.as_ref().and_then(|m| m.to_text().ok()).unwrap_or("");
                let error: Value = serde_json::from_str(text).unwrap_or_default();
                assert_eq!(error["code"], code, "{cred:?}: {text}");
                match ws.next_frame().await {
                    Some(Message::Close(Some(frame))) => {
                        assert_eq!(u16::from(frame.code), 1008);
                        assert_eq!(frame.reason.as_str(), code);
                    }
                    other => panic!("{cred:?}: expected a 1008 close, got {other:?}"),
                }
                for (name, message, _) in messages() {
                    ws.push(message.to_string()).await;
                    assert!(
                        !matches!(ws.next_frame().await, Some(Message::Text(_))),
                        "{cred:?}: {name} was answered on a refused socket"
                    );
                }
            }
            (Ok(mut ws), None) => {
                let mut session = String::new();
                let mut shown = String::new();
                for (name, mut message, reply_type) in messages() {
                    if name == "resume" {
                        message["session"] = json!(session);
                    }
                    if name == "click" {
                        message["product"] = json!(shown);
                    }
                    let reply = ws.send(message).await;
                    assert_eq!(reply["type"], reply_type, "{cred:?} {name}: {reply}");
                    assert_no_other_store(&reply.to_string(), name);
                    if name == "start" {
                        session = reply["session"].as_str().unwrap().to_owned();
                    }
                    if reply["type"] == "page" {
                        shown = reply["items"][0]["id"].as_str().unwrap_or("").to_owned();
                    }
                }
                ws.close().await;
            }
            (Err((status, body)), None) => panic!("{cred:?} was refused: {status} {body}"),
        }
    }
    // Without an Origin a missing key is plain HTTP (above); a browser is
    // told in band.
    let Ok(mut ws) = app
        .socket_with(ALPHA, "", &[("origin", ALPHA_ORIGIN)])
        .await
    else {
        panic!("a browser without a key is told in band");
    };
    let text = ws.next_frame().await.unwrap().into_text().unwrap();
    let error: Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(error["code"], "unauthorized");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("publishable key"),
        "{error}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_widget_with_a_wrong_key_is_told_what_its_embed_must_change() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::start(unthrottled(dir.path())).await;
    setup(&app).await;
    let query = "?key=pk_alpha_mistyped";
    // A browser (the widget) is told in band; a socket without an Origin
    // by the HTTP refusal: the same words, to the merchant who embeds it.
    let Ok(mut ws) = app
        .socket_with(ALPHA, query, &[("origin", ALPHA_ORIGIN)])
        .await
    else {
        panic!("a browser with a wrong key is told in band");
    };
    let text = ws.next_frame().await.unwrap().into_text().unwrap();
    let in_band: Value = serde_json::from_str(text.as_str()).unwrap();
    let Err((status, plain)) = app.socket_with(ALPHA, query, &[]).await else {
        panic!("a wrong key opened a socket");
    };
    assert_eq!(status, 401);
    for error in [&in_band, &plain] {
        assert_eq!(error["code"], "unauthorized", "{error}");
        let says = error["message"].as_str().unwrap();
        assert!(
            says.contains("`key` attribute") && says.contains("<morelike-recs"),
            "{says}"
        );
        assert!(!says.contains("Authorization: Bearer"), "{says}");
    }
    // A server-side client that sent the header is told about the header.
    let Err((status, header)) = app
        .socket_with(ALPHA, "", &[("authorization", "Bearer pk_alpha_mistyped")])
        .await
    else {
        panic!("a wrong key opened a socket");
    };
    assert_eq!(status, 401);
    assert!(
        header["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{header}"
    );
    app.stop().await;
}
