//! Running simulated shoppers for one strategy on two threads: shopper i
//! runs on thread i mod 2 and outcomes are put back in shopper order, so the
//! result does not depend on scheduling.

use morelike_core::eval::{Outcome, Scenario, Simulator, Summary};
use morelike_core::strategy::Strategy;
use serde::Serialize;

use super::timed::Timed;

/// Threads the shoppers are spread over.
pub const THREADS: usize = 2;

/// One strategy in one scenario for one seed.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// The strategy.
    pub strategy: String,
    /// The scenario.
    pub scenario: Scenario,
    /// The protocol seed.
    pub seed: u64,
    /// The metrics.
    #[serde(flatten)]
    pub summary: Summary,
    /// Mean compute time of one page, in milliseconds.
    pub compute_ms: f64,
}

/// Plays `shoppers` sessions of a strategy in a scenario.
pub fn run(
    sim: &Simulator<'_>,
    strategy: &dyn Strategy,
    scenario: Scenario,
    shoppers: u64,
) -> anyhow::Result<Run> {
    let timed = Timed::new(strategy);
    let parts: Vec<anyhow::Result<Vec<(u64, Outcome)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS as u64)
            .map(|t| {
                let timed = &timed;
                s.spawn(move || {
                    (t..shoppers)
                        .step_by(THREADS)
                        .map(|i| Ok((i, sim.run(timed, scenario, i)?)))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a shopper thread panicked"))
            .collect()
    });
    let mut outcomes = Vec::with_capacity(shoppers as usize);
    for part in parts {
        outcomes.extend(part?);
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    Ok(Run {
        strategy: strategy.name().to_owned(),
        scenario,
        seed: sim.protocol().seed,
        summary: Summary::of(&outcomes, sim.protocol().rounds, scenario),
        compute_ms: timed.mean_ms(),
    })
}
