//! Expired sessions were purged only at start, in one transaction that
//! decoded every session: the file grew for as long as the server ran.

use std::time::Duration;

use morelike::server::Config;
use morelike::store::{Embedded, Storage};
use serde_json::json;

use crate::helpers::{demo_data_dir, TestApp};

#[tokio::test]
async fn expired_sessions_are_purged_while_the_server_runs() {
    let dir = demo_data_dir();
    let mut config = Config::for_tests(dir.path());
    config.session_ttl = Duration::from_secs(1);
    let app = TestApp::start(config).await;
    let mut ws = app.socket("demo").await;
    let mut sessions = Vec::new();
    for _ in 0..10 {
        let page = ws.page(json!({"type": "start", "seed": "15970"})).await;
        sessions.push(page["session"].as_str().unwrap().to_owned());
    }
    // Past the TTL (1 s, counted in whole seconds) and a few purge rounds
    // (one a second), with room for a busy machine.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let reply = ws
        .send(json!({"type": "resume", "session": sessions[0]}))
        .await;
    assert_eq!(reply["code"], "unknown_session", "{reply}");
    ws.close().await;
    app.stop().await;
    // Nothing is left for a purge to find: the running server did it.
    let storage = Embedded::open(dir.path()).unwrap();
    assert_eq!(storage.purge_expired_sessions(1_000).unwrap(), 0);
}
