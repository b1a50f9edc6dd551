//! Simulated shoppers: the protocol pinned on a tiny handmade catalog (which
//! product is upvoted and downvoted, success, AT with failures counted as
//! rounds + 1, the pages after a hit, rejected classes, near-copies),
//! scenario draws, and on the real fashion catalog: determinism, results
//! that do not depend on row order, and random pages that cannot see the
//! target.

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
        p("t2", "Men", "Shirt", "Green"),
        p("t3", "Men", "Shirt", "Green"),
        p("g", "Women", "Dress", "Blue"),
        p("h", "Women", "Dress", "Black"),
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
    fn name(&self) -> &str {
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
        .play(
            &strategy,
            Scenario::Browse,
            &start(&catalog, sim.truth()),
            0,
        )
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
        .play(
            &strategy,
            Scenario::Refine,
            &start(&catalog, sim.truth()),
            0,
        )
        .unwrap();
    assert_eq!(outcome.success, None);
    assert_eq!(outcome.rounds, 3);
    assert_eq!((outcome.voted, outcome.could_vote), (1, 3));
    let summary = Summary::of(&[outcome], 3, Scenario::Refine);
    assert_eq!(summary.at, 4.0);
    assert_eq!(summary.sr10, 0.0);
}

#[test]
fn after_a_hit_the_session_goes_on_two_pages_with_the_target_upvoted() {
    let catalog = tiny();
    let sim = Simulator::new(&catalog, protocol(10)).unwrap();
    let strategy = Scripted::new(vec![
        vec!["c", "a", "b", "d"],
        vec!["e", "t", "b"],
        vec!["g", "t2", "h"],
        vec!["t3", "f", "seed", "d"],
        vec!["a"],
    ]);
    let start = start(&catalog, sim.truth());
    let (outcome, turns) = {
        let mut turns = Vec::new();
        let o = sim
            .play_logged(&strategy, Scenario::Explore, &start, 0, &mut |t| {
                turns.push(t)
            })
            .unwrap();
        (o, turns)
    };
    assert_eq!(outcome.success, Some(2));
    assert_eq!(outcome.rounds, 2, "rounds stop counting at the hit");
    assert_eq!(outcome.pages, 4, "two pages are served after the hit");
    assert_eq!(outcome.after_hit, Some(0.25), "one of four on round 4");
    assert_eq!(turns.len(), 4);
    let up_down = |t: usize| -> Vec<(&str, Vote)> {
        turns[t]
            .votes
            .iter()
            .map(|(id, v)| (id.as_str(), *v))
            .collect()
    };
    assert_eq!(up_down(1), [("t", Vote::Up), ("b", Vote::Down)]);
    assert_eq!(up_down(2), [("t2", Vote::Up), ("g", Vote::Down)]);
    let browse = sim.play(&strategy, Scenario::Browse, &start, 0).unwrap();
    assert_eq!(
        (browse.pages, browse.after_hit),
        (2, None),
        "browse stops at the hit"
    );
}

#[test]
fn a_rejecting_shopper_only_downvotes_and_late_pages_count_twice_rejected_classes() {
    let catalog = tiny();
    let sim = Simulator::new(&catalog, protocol(6)).unwrap();
    let strategy = Scripted::new(vec![
        vec!["a", "b"],
        vec!["c", "h"],
        vec!["d", "g", "seed"],
        vec!["e", "c"],
        vec!["f", "g"],
    ]);
    let start = start(&catalog, sim.truth());
    let outcome = sim.play(&strategy, Scenario::Reject, &start, 0).unwrap();
    let seen = strategy.seen.lock().unwrap();
    assert!(
        seen.iter().flatten().all(|v| v.vote == Vote::Down),
        "never an upvote: {seen:?}"
    );
    // Downvoted before round 4: b and h (Women Dress, twice), g (Women
    // Dress again); in round 4 e (Women Shirt) is shown with c.
    assert_eq!(seen[3].len(), 3);
    assert_eq!(
        outcome.late_shown,
        2 + 2,
        "rounds 4 and 5 show four products"
    );
    assert_eq!(
        outcome.downvoted_shown, 1,
        "only the Women Dress of round 5 had its class downvoted twice"
    );
    assert_eq!(outcome.success, None);
}

#[test]
fn two_products_with_one_normalized_name_on_a_page_count_as_a_copy() {
    let p = |id: &str, name: &str, c: &str| {
        Product::new(id, name)
            .with_attribute("gender", "Men")
            .with_attribute("type", "Shirt")
            .with_attribute("colour", c)
    };
    let catalog = Catalog::build(
        Mapping::from_toml(MAPPING).unwrap(),
        vec![
            p("seed", "Navy Shirt", "Navy"),
            p("x", "Blue  shirt", "Blue"),
            p("y", "blue-shirt", "Blue"),
            p("z", "Red Shirt", "Red"),
            p("t", "Green Shirt", "Green"),
        ],
        Precision::F32,
    );
    let sim = Simulator::new(&catalog, protocol(3)).unwrap();
    let row = |id| catalog.index().row(id).unwrap();
    let start = Start {
        target_row: row("t"),
        target: sim.truth().class(row("t")),
        seed: row("seed"),
        draws: 1,
    };
    let strategy = Scripted::new(vec![vec!["x", "z"], vec!["x", "y"], vec!["z", "y"]]);
    let outcome = sim.play(&strategy, Scenario::Refine, &start, 0).unwrap();
    assert_eq!((outcome.pages, outcome.dup_pages), (3, 1));
}

#[test]
fn scenario_draws_keep_their_promises() {
    let catalog = tiny();
    let sim = Simulator::new(&catalog, protocol(10)).unwrap();
    for shopper in 0..50 {
        let r = sim.start(Scenario::Refine, shopper).unwrap();
        let (seed, target) = (sim.truth().class(r.seed), r.target);
        assert_eq!(target, sim.truth().class(r.target_row));
        assert!(seed[0] == target[0] && seed[1] == target[1] && seed[2] != target[2]);
        for scenario in [Scenario::Explore, Scenario::Reject] {
            let e = sim.start(scenario, shopper).unwrap();
            let (seed, target) = (sim.truth().class(e.seed), e.target);
            assert!(seed[0] == target[0] && seed[1] != target[1]);
        }
        let b = sim.start(Scenario::Browse, shopper).unwrap();
        assert_eq!(
            b.seed, b.target_row,
            "browse: the seed is the target's product"
        );
        let twins = (0..catalog.index().row_count() as u32)
            .filter(|&r| sim.truth().class(r) == b.target)
            .count();
        assert!(twins >= 2, "a browse target class has another product");
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
        Summary::of(&outcomes, 10, Scenario::Refine).sr10
    };
    let default = rate(strategy::by_name(strategy::DEFAULT).unwrap().as_ref());
    let random = rate(&strategy::Random);
    assert!(
        default >= random + 0.25,
        "default SR@10 {default} vs random {random}"
    );
}

#[test]
fn random_pages_cannot_see_the_target_so_their_success_per_round_is_flat() {
    let catalog = &fashion().catalog;
    let sim = Simulator::new(catalog, Protocol::default()).unwrap();
    let mut at_risk = [0u32; 10];
    let mut found = [0u32; 10];
    for scenario in [Scenario::Refine, Scenario::Explore] {
        for shopper in 0..300 {
            let outcome = sim.run(&strategy::Random, scenario, shopper).unwrap();
            for n in at_risk.iter_mut().take(outcome.rounds as usize) {
                *n += 1;
            }
            if let Some(s) = outcome.success {
                found[s as usize - 1] += 1;
            }
        }
    }
    let hazard: Vec<f64> = found
        .iter()
        .zip(&at_risk)
        .map(|(&f, &n)| f64::from(f) / f64::from(n))
        .collect();
    let mean = hazard.iter().sum::<f64>() / hazard.len() as f64;
    for (round, h) in hazard.iter().enumerate() {
        assert!(
            *h < 2.0 * mean,
            "round {}: success rate {h:.3} against {mean:.3} on average: {hazard:?}",
            round + 1
        );
    }
}
