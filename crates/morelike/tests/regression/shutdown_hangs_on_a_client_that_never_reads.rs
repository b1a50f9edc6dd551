//! Shutdown hung: the receive loop never saw the shutdown signal while its
//! reply queue was full, and shutdown waited for every socket with no
//! timeout before the pending sessions were written: a client that never
//! read kept the server alive for more than 30 s after SIGTERM. (The same on
//! a real process, with SIGTERM: `tests/faults/`.)

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use morelike::server::Config;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{demo_data_dir, ids, TestApp};

#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_the_shutdown_and_sessions_are_written() {
    let dir = demo_data_dir();
    let mut config = Config::for_tests(dir.path());
    config.shutdown_timeout = Duration::from_secs(4);
    let app = TestApp::start(config).await;
    let mut shopper = app.socket("demo").await;
    let page = shopper
        .page(json!({"type": "start", "seed": "15970"}))
        .await;
    let session = page["session"].as_str().unwrap().to_owned();
    let voted = shopper
        .page(json!({"type": "vote", "product": ids(&page)[0], "vote": "up"}))
        .await;

    // A client that sends requests and never reads an answer.
    let url = format!("ws://{}/v1/stores/demo/ws", app.addr);
    let (mut stuck, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let padding = "x".repeat(60_000);
    let flood = async {
        for i in 0..2_000 {
            let ping = json!({"v": 1, "id": format!("{i}{padding}"), "type": "ping"}).to_string();
            if stuck.send(Message::text(ping)).await.is_err() {
                break;
            }
        }
    };
    // The flood stalls once both directions' buffers are full.
    let _ = tokio::time::timeout(Duration::from_secs(3), flood).await;

    let asked = Instant::now();
    app.stop().await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");

    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    let resumed = ws.page(json!({"type": "resume", "session": session})).await;
    assert_eq!(
        resumed["items"], voted["items"],
        "the voted page was written"
    );
    app.stop().await;
    drop(stuck);
}
