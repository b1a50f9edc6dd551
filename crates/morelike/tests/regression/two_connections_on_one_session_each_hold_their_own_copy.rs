//! Two connections on one session (two tabs, or a reconnect racing the old
//! socket) each held their own copy: products were shown twice and votes
//! from one copy were overwritten by the other.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{demo_data_dir, ids, Socket, TestApp};

const SEED: &str = "15970";

/// The session's votes as the server now holds them: `explain` lists every
/// vote after the seed, in order.
async fn votes_held(ws: &mut Socket, about: &str) -> Vec<(String, String)> {
    let reply = ws.send(json!({"type": "explain", "product": about})).await;
    assert_eq!(reply["type"], "explanation", "{reply}");
    reply["explanation"]["examples"]
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
        .collect()
}

fn record(seen: &mut HashSet<String>, page: &Value) {
    for id in ids(page) {
        assert!(seen.insert(id.clone()), "{id} was shown twice: {page}");
    }
}

#[tokio::test]
async fn two_sockets_resuming_one_session_and_voting_in_turn_for_20_rounds_never_repeat_a_product_and_keep_every_vote(
) {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut first = app.socket("demo").await;
    let start = first
        .page(json!({"type": "start", "seed": SEED, "k": 8}))
        .await;
    let session = start["session"].as_str().unwrap().to_owned();
    let mut second = app.socket("demo").await;
    let resumed = second
        .page(json!({"type": "resume", "session": session}))
        .await;
    assert_eq!(ids(&resumed), ids(&start));

    let mut seen: HashSet<String> = HashSet::from([SEED.to_owned()]);
    record(&mut seen, &start);
    let mut last = [ids(&start), ids(&start)];
    let mut sent: Vec<(String, String)> = Vec::new();
    for round in 0..20 {
        let turn = round % 2;
        let ws = if turn == 0 { &mut first } else { &mut second };
        // Each socket votes on the last page it saw itself.
        let (product, vote) = if round % 3 == 2 {
            (last[turn].last().unwrap().clone(), "down")
        } else {
            (last[turn][0].clone(), "up")
        };
        let page = ws
            .page(json!({"type": "vote", "product": product, "vote": vote}))
            .await;
        assert_eq!(page["round"], round + 2, "one history, one round count");
        assert_eq!(page["session"], session.as_str());
        record(&mut seen, &page);
        sent.push((product, vote.to_owned()));
        last[turn] = ids(&page);
        assert_eq!(ids(&page).len(), 8, "{page}");
    }
    assert_eq!(votes_held(&mut first, SEED).await, sent);
    assert_eq!(votes_held(&mut second, SEED).await, sent);
    first.close().await;
    second.close().await;
    app.stop().await;

    // And after a restart, from storage.
    let app = TestApp::with_demo(&dir).await;
    let mut ws = app.socket("demo").await;
    ws.page(json!({"type": "resume", "session": session})).await;
    assert_eq!(votes_held(&mut ws, SEED).await, sent);
    app.stop().await;
}

#[tokio::test]
async fn two_sockets_voting_at_the_same_moment_on_one_session_lose_no_vote_and_repeat_no_product() {
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut first = app.socket("demo").await;
    let start = first
        .page(json!({"type": "start", "seed": SEED, "k": 4}))
        .await;
    let session = start["session"].as_str().unwrap().to_owned();
    let mut second = app.socket("demo").await;
    second
        .page(json!({"type": "resume", "session": session}))
        .await;
    let mut seen: HashSet<String> = HashSet::from([SEED.to_owned()]);
    record(&mut seen, &start);
    let mut candidates = ids(&start);
    let mut sent: HashSet<(String, String)> = HashSet::new();
    for _ in 0..10 {
        let a = candidates[0].clone();
        let b = candidates[1].clone();
        let (pa, pb) = tokio::join!(
            first.page(json!({"type": "vote", "product": a, "vote": "up"})),
            second.page(json!({"type": "vote", "product": b, "vote": "down"})),
        );
        record(&mut seen, &pa);
        record(&mut seen, &pb);
        sent.insert((a, "up".into()));
        sent.insert((b, "down".into()));
        assert_ne!(pa["round"], pb["round"], "each vote is its own round");
        candidates = ids(&pa).into_iter().chain(ids(&pb)).collect();
    }
    let held: HashSet<(String, String)> = votes_held(&mut first, SEED).await.into_iter().collect();
    assert_eq!(held, sent);
    app.stop().await;
}
