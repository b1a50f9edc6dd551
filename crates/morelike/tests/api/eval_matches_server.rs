//! One source of truth: simulated shoppers played through `morelike eval`'s
//! path (the catalog file read in file order, sessions in process) and the
//! same shoppers replayed against a running server (the demo store, loaded
//! from storage in id order, over a real WebSocket) see identical pages.

use std::path::PathBuf;

use morelike::catalogs;
use morelike_core::eval::{Protocol, Scenario, Simulator};
use morelike_core::{strategy, Vote};
use serde_json::json;

use crate::helpers::{demo_data_dir, ids, TestApp};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test]
async fn shoppers_replayed_against_the_server_see_the_pages_eval_scored() {
    let catalog = catalogs::from_file(
        &repo().join("../shared/data/fashion/styles.csv"),
        &repo().join("examples/fashion.toml"),
    )
    .unwrap();
    let sim = Simulator::new(&catalog, Protocol::default()).unwrap();
    let default = strategy::by_name(strategy::DEFAULT).unwrap();
    let dir = demo_data_dir();
    let app = TestApp::with_demo(&dir).await;
    let mut pages = 0;
    for scenario in Scenario::ALL {
        for shopper in 0..3 {
            let (start, _, turns) = sim.transcript(default.as_ref(), scenario, shopper).unwrap();
            let seed = catalog.index().id(start.seed);
            let mut ws = app.socket("demo").await;
            let mut page = ws
                .page(json!({"type": "start", "seed": seed, "k": 8}))
                .await;
            for (round, turn) in turns.iter().enumerate() {
                assert_eq!(
                    ids(&page),
                    turn.items,
                    "{} shopper {shopper} (seed {seed}), round {}",
                    scenario.name(),
                    round + 1
                );
                pages += 1;
                if round + 1 == turns.len() {
                    break;
                }
                let message = if turn.votes.is_empty() {
                    json!({"type": "more"})
                } else {
                    let votes: Vec<_> = turn
                        .votes
                        .iter()
                        .map(|(id, vote)| {
                            let vote = if *vote == Vote::Up { "up" } else { "down" };
                            json!({"product": id, "vote": vote})
                        })
                        .collect();
                    json!({"type": "vote", "votes": votes})
                };
                page = ws.page(message).await;
            }
            ws.close().await;
        }
    }
    assert!(pages >= 24, "only {pages} pages compared");
    app.stop().await;
}
