//! SIGKILL: the process gets no chance to write anything. Promises checked:
//! a session change acknowledged one write window before the crash (set to
//! 100 ms here)
//! survives it; an upload is stored whole or not at all.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{demo_data_dir, http_as_at, ids, socket_at, ADMIN};
use crate::process::Server;

const HEADER: &str = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";

fn rows(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}-{i},Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Crash Shirt {i}\n"))
        .collect()
}

/// How many products the demo store holds (a store is loaded on first use:
/// a page loads it, the listing then counts it).
async fn products(server: &Server) -> u64 {
    let (status, _) = http_as_at(
        server.addr,
        ADMIN,
        "GET",
        "/v1/stores/demo/similar/15970",
        None,
    )
    .await;
    assert_eq!(status, 200, "the demo store loads");
    let (_, stores) = http_as_at(server.addr, ADMIN, "GET", "/v1/stores", None).await;
    stores[0]["products"].as_u64().unwrap()
}

/// How long before a crash an acknowledged change is certainly written: the
/// write window (100 ms, set below) plus room for a slow fsync on a busy CI
/// machine.
const SAFE: Duration = Duration::from_millis(1_000);

#[tokio::test]
async fn kill_9_mid_session_keeps_every_change_acknowledged_a_write_window_before() {
    let dir = demo_data_dir();
    // Shoppers here vote as fast as the server answers: no message rate
    // (per socket or per address).
    let server = Server::start(
        dir.path(),
        &[
            "--session-write-window-ms",
            "100",
            "--messages-per-sec-per-socket",
            "0",
            "--requests-per-sec-per-address",
            "0",
            "--session-starts-per-min-per-address",
            "0",
        ],
    );
    let addr = server.addr;
    // Twenty shoppers vote without pause; each remembers every page
    // acknowledged to it, and when. Each says when its session has started:
    // the crash comes a while after the last one has (on a busy machine
    // opening twenty sockets and loading the store can take seconds).
    let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
    let shoppers = (0..20).map(|shopper| {
        let started = started.clone();
        tokio::spawn(async move {
            let mut ws = socket_at(addr, "demo").await;
            let mut page = ws
                .page(json!({"type": "start", "seed": "15970", "k": 6}))
                .await;
            let mut acked: Vec<(Instant, Value)> = vec![(Instant::now(), page.clone())];
            let _ = started.send(shopper);
            for round in 0.. {
                let product = ids(&page)[(shopper + round) % 6].clone();
                let vote = if round % 2 == 0 { "up" } else { "down" };
                let message = json!({"v": 1, "type": "vote", "product": product, "vote": vote});
                if ws
                    .ws
                    .send(Message::text(message.to_string()))
                    .await
                    .is_err()
                {
                    break;
                }
                match ws.ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        page = serde_json::from_str(text.as_str()).unwrap();
                        assert_eq!(page["type"], "page", "{page}");
                        acked.push((Instant::now(), page.clone()));
                    }
                    _ => break,
                }
            }
            acked
        })
    });
    let shoppers: Vec<_> = shoppers.collect();
    drop(started);
    for n in 0..shoppers.len() {
        tokio::time::timeout(Duration::from_secs(60), starts.recv())
            .await
            .unwrap_or_else(|_| panic!("only {n} of 20 sessions started within 60 s"))
            .expect("a shopper failed before its session started");
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let crashed = Instant::now();
    server.kill_9();
    let mut histories = Vec::new();
    for shopper in shoppers {
        histories.push(shopper.await.unwrap());
    }

    let server = Server::start(dir.path(), &[]);
    for acked in &histories {
        let session = acked[0].1["session"].as_str().unwrap();
        // The last page acknowledged SAFE before the crash, and every later one.
        let safe = acked
            .iter()
            .rposition(|(at, _)| *at + SAFE <= crashed)
            .expect("pages were acknowledged well before the crash");
        let mut ws = socket_at(server.addr, "demo").await;
        let resumed = ws.page(json!({"type": "resume", "session": session})).await;
        let round = resumed["round"].as_u64().unwrap();
        let safe_round = acked[safe].1["round"].as_u64().unwrap();
        assert!(
            round >= safe_round,
            "round {round} resumed, but round {safe_round} was acknowledged {SAFE:?} before the crash"
        );
        // Whatever survived is a page that was acknowledged, or the one
        // in flight when the process died.
        let last_round = acked.last().unwrap().1["round"].as_u64().unwrap();
        match acked.iter().find(|(_, p)| p["round"] == round) {
            Some((_, page)) => assert_eq!(resumed["items"], page["items"]),
            None => assert_eq!(round, last_round + 1, "a round never served"),
        }
    }
}

#[tokio::test]
async fn kill_9_mid_upload_stores_all_of_the_upload_or_none_of_it() {
    let dir = demo_data_dir();
    let server = Server::start(dir.path(), &[]);
    let before = products(&server).await;

    // Killed while the body is still arriving.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!("POST /v1/stores/demo/products HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {ADMIN}\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let half = format!("{HEADER}\n{}", rows("half", 2_000));
    stream
        .write_all(format!("{:x}\r\n{half}\r\n", half.len()).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill_9();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        products(&server).await,
        before,
        "none of a broken-off upload"
    );

    // Killed while a whole upload is being imported (or just after).
    let whole = format!("{HEADER}\n{}", rows("whole", 20_000));
    let addr = server.addr;
    let upload = tokio::spawn(async move {
        http_as_at(
            addr,
            ADMIN,
            "POST",
            "/v1/stores/demo/products",
            Some(("text/csv", whole)),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill_9();
    let _ = upload.await;
    let server = Server::start(dir.path(), &[]);
    let after = products(&server).await;
    assert!(
        after == before || after == before + 20_000,
        "{after} products: the upload was stored in part ({before} before)"
    );
    drop(server);
}
