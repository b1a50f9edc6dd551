//! Simulated shoppers: the protocol pinned on a tiny handmade catalog (which
//! product is upvoted and downvoted, success, AT with failures counted as
//! rounds + 1), scenario draws, and determinism on the real fashion catalog.

use std::sync::Mutex;

use morelike_core::eval::{Protocol, Scenario, Simulator, Start, Summary, Truth};
use morelike_core::index::Hit;
use morelike_core::strategy::{self, Context, Strategy, VoteAt};
use morelike_core::{Catalog, Mapping, Precision, Product, Vote};

use crate::helpers::fashion;

const MAPPING: &str = r#"
[fields]
id = "id"
name = "name"
categorical = ["gender", "type", "colour"]
[eval]
truth = ["gender", "type", "colour"]
"#;

fn tiny() -> Catalog {
    let p = |id: &str, g: &str, t: &str, c: &str| {
        Product::new(id, format!("{g} {t} {c}"))
            .with_attribute("gender", g)
            .with_attribute("type", t)
            .with_attribute("colour", c)
    };
    let products = vec![
        p("seed", "Men", "Shirt", "Blue"),
        p("a", "Men", "Shirt", "Red"),
        p("b", "Women", "Dress", "Red"),
        p("c", "Men", "Trousers", "Blue"),
        p("d", "Men", "Shirt", "Black"),
        p("e", "Women", "Shirt", "Green"),
        p("t", "Men", "Shirt", "Green"),
        p("f", "Men", "Trousers", "Green"),
    ];
    Catalog::build(
        Mapping::from_toml(MAPPING).unwrap(),
        products,
        Precision::F32,
    )
}

/// Serves fixed pages by round and records the votes it was shown.
struct Scripted {
    pages: Vec<Vec<&'static str>>,
    seen: Mutex<Vec<Vec<VoteAt>>>,
}

impl Scripted {
    fn new(pages: Vec<Vec<&'static str>>) -> Self {
        Scripted {
            pages,
            seen: Mutex::new(Vec::new()),
        }
    }
}

impl Strategy for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        self.seen.lock().unwrap().push(cx.votes.to_vec());
        self.pages
            .get(cx.round as usize)
            .map(|ids| {
                ids.iter()
                    .map(|id| Hit {
                        row: cx.index.row(id).unwrap(),
                        score: 0.0,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn start(catalog: &Catalog, truth: &Truth) -> Start {
    let row = |id| catalog.index().row(id).unwrap();
    Start {
        target_row: row("t"),
        target: truth.class(row("t")),
        seed: row("seed"),
        draws: 1,
    }
}

fn protocol(rounds: u32) -> Protocol {
    Protocol {
        rounds,
        k: 4,
        seed: 1,
    }
}

#[test]
fn shopper_upvotes_first_best_downvotes_first_worst_and_stops_at_the_target() {
    let catalog = tiny();
    let sim = Simulator::new(&catalog, protocol(10)).unwrap();
    let strategy = Scripted::new(vec![
        vec!["c", "a", "b", "d"],
        vec!["e", "f"],
        vec!["d", "t"],
    ]);
    let outcome = sim
        .play(&strategy, &start(&catalog, sim.truth()), 0)
        .unwrap();
    assert_eq!(outcome.success, Some(3));
    assert_eq!(outcome.rounds, 3);
    assert_eq!((outcome.voted, outcome.could_vote), (1, 2));
    assert!((outcome.last_precision - 0.5).abs() < 1e-12);
    let seen = strategy.seen.lock().unwrap();
    let row = |id| catalog.index().row(id).unwrap();
    assert!(seen[0].is_empty());
    let votes: Vec<(u32, Vote)> = seen[1].iter().map(|v| (v.row, v.vote)).collect();
    assert_eq!(
        votes,
        [(row("a"), Vote::Up), (row("b"), Vote::Down)],
        "a shares two target attributes (first of the best), b none"
    );
    assert_eq!(seen[2], seen[1], "a page of equals (e, f) brings no vote");
}

#[test]
fn a_failed_session_counts_as_one_round_more_than_allowed() {
    let catalog = tiny();
    let sim = Simulator::new(&catalog, protocol(3)).unwrap();
    let strategy = Scripted::new(vec![vec!["c", "b"], vec!["e"], vec!["f", "a"]]);
    let outcome = sim
        .play(&strategy, &start(&catalog, sim.truth()), 0)
        .unwrap();
    assert_eq!(outcome.success, None);
    assert_eq!(outcome.rounds, 3);
    assert_eq!((outcome.voted, outcome.could_vote), (1, 3));
    let summary = Summary::of(&[outcome], 3);
    assert_eq!(summary.at, 4.0);
    assert_eq!(summary.sr10, 0.0);
}

#[test]
fn refine_seeds_share_two_target_attributes_and_explore_seeds_one() {
    let catalog = tiny();
    let sim = Simulator::new(&catalog, protocol(10)).unwrap();
    for shopper in 0..50 {
        let r = sim.start(Scenario::Refine, shopper).unwrap();
        let (seed, target) = (sim.truth().class(r.seed), r.target);
        assert_eq!(target, sim.truth().class(r.target_row));
        assert!(seed[0] == target[0] && seed[1] == target[1] && seed[2] != target[2]);
        let e = sim.start(Scenario::Explore, shopper).unwrap();
        let (seed, target) = (sim.truth().class(e.seed), e.target);
        assert!(seed[0] == target[0] && seed[1] != target[1]);
    }
}

#[test]
fn the_same_seed_gives_the_same_sessions_and_another_seed_other_ones() {
    let catalog = &fashion().catalog;
    let probe = strategy::by_name(strategy::DEFAULT).unwrap();
    let run = |seed| {
        let sim = Simulator::new(
            catalog,
            Protocol {
                seed,
                ..Protocol::default()
            },
        )
        .unwrap();
        (0..12)
            .map(|i| {
                let start = sim.start(Scenario::Explore, i).unwrap();
                (
                    start,
                    sim.run(probe.as_ref(), Scenario::Explore, i).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(
        run(5).iter().map(|(s, _)| s.seed).collect::<Vec<_>>(),
        run(6).iter().map(|(s, _)| s.seed).collect::<Vec<_>>()
    );
}

#[test]
fn the_default_finds_refine_targets_far_more_often_than_random_pages() {
    let catalog = &fashion().catalog;
    let sim = Simulator::new(catalog, Protocol::default()).unwrap();
    let rate = |s: &dyn Strategy| {
        let outcomes: Vec<_> = (0..40)
            .map(|i| sim.run(s, Scenario::Refine, i).unwrap())
            .collect();
        Summary::of(&outcomes, 10).sr10
    };
    let default = rate(strategy::by_name(strategy::DEFAULT).unwrap().as_ref());
    let random = rate(&strategy::Random);
    assert!(
        default >= random + 0.25,
        "default SR@10 {default} vs random {random}"
    );
}
