//! SIGTERM with many sockets open, some of which never read. Promises
//! checked: the process exits 0 within its shutdown deadline, and every
//! session change acknowledged before SIGTERM resumes after a restart.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{demo_data_dir, ids, socket_at, Socket, ADMIN};
use crate::process::Server;

#[tokio::test]
async fn sigterm_with_100_open_sockets_10_never_reading_exits_0_within_the_deadline_and_every_session_resumes(
) {
    let dir = demo_data_dir();
    // A hundred sockets from one address in a moment: no rate per address.
    let server = Server::start(
        dir.path(),
        &[
            "--shutdown-timeout-secs",
            "5",
            "--requests-per-sec-per-address",
            "0",
            "--session-starts-per-min-per-address",
            "0",
        ],
    );
    let mut acknowledged: Vec<(String, Value)> = Vec::new();
    let mut readers: Vec<Socket> = Vec::new();
    let mut stuck: Vec<Socket> = Vec::new();
    for i in 0..100 {
        let mut ws = socket_at(server.addr, "demo").await;
        let page = ws
            .page(json!({"type": "start", "seed": "15970", "k": 4}))
            .await;
        let voted = ws
            .page(json!({"type": "vote", "product": ids(&page)[i % 4], "vote": "up"}))
            .await;
        acknowledged.push((voted["session"].as_str().unwrap().to_owned(), voted));
        if i % 10 == 0 {
            stuck.push(ws);
        } else {
            readers.push(ws);
        }
    }
    // Ten clients send and never read, until the buffers are full.
    let padding = "x".repeat(60_000);
    for ws in &mut stuck {
        let flood = async {
            for i in 0..1_000 {
                let ping = json!({"v": 1, "id": format!("{i}{padding}"), "type": "ping"});
                if ws.ws.send(Message::text(ping.to_string())).await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(300), flood).await;
    }

    // And an upload whose client stalls halfway through its body.
    let mut stalled = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!("POST /v1/stores/demo/products HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {ADMIN}\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n");
    let half = "id,productDisplayName\nstalled-1,Never Finished\n";
    tokio::io::AsyncWriteExt::write_all(
        &mut stalled,
        format!("{head}{:x}\r\n{half}\r\n", half.len()).as_bytes(),
    )
    .await
    .unwrap();

    let (status, took) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");

    // The readers got a close frame saying why.
    for ws in &mut readers {
        match tokio::time::timeout(
            Duration::from_secs(5),
            futures_util::StreamExt::next(&mut ws.ws),
        )
        .await
        {
            Ok(Some(Ok(Message::Close(Some(frame))))) => assert_eq!(u16::from(frame.code), 1001),
            other => panic!("expected a 1001 close frame, got {other:?}"),
        }
    }

    let server = Server::start(
        dir.path(),
        &[
            "--requests-per-sec-per-address",
            "0",
            "--session-starts-per-min-per-address",
            "0",
        ],
    );
    for (session, page) in &acknowledged {
        let mut ws = socket_at(server.addr, "demo").await;
        let resumed = ws.page(json!({"type": "resume", "session": session})).await;
        assert_eq!(resumed["round"], page["round"]);
        assert_eq!(resumed["items"], page["items"]);
    }
    let (status, _) = crate::helpers::http_at(
        server.addr,
        "GET",
        "/v1/stores/demo/products/stalled-1",
        None,
    )
    .await;
    assert_eq!(status, 404, "the stalled upload imported nothing");
    drop((stuck, stalled));
}
