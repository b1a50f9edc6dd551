//! Simulated shoppers (the quality yardstick of the design brief): each
//! shopper secretly wants a target class, starts from a seed, and reacts to
//! every page served by the same session code the server uses. Everything is
//! a pure function of the catalog, the strategy and a seed; threads, clocks,
//! tables and plots belong to the caller.

mod metrics;
mod scenario;
mod shopper;
mod truth;

use rand::rngs::StdRng;
use rand::SeedableRng;

pub use metrics::{Outcome, Summary};
pub use scenario::{NoSeed, Sampler, Scenario, Start};
pub use shopper::{react, Reaction};
pub use truth::{last_word, shared, Attribute, Class, Truth, TruthError, NONE};

use crate::catalog::Catalog;
use crate::hash::mix;
use crate::index::Filters;
use crate::session::{Session, SessionError, Vote};
use crate::strategy::Strategy;

/// The protocol's knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocol {
    /// Pages at most per session.
    pub rounds: u32,
    /// Products per page.
    pub k: usize,
    /// The seed every shopper's draws derive from.
    pub seed: u64,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            rounds: 10,
            k: 8,
            seed: 42,
        }
    }
}

/// A simulation that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The truth attributes do not fit the catalog.
    #[error(transparent)]
    Truth(#[from] TruthError),
    /// No seed for a scenario.
    #[error(transparent)]
    NoSeed(#[from] NoSeed),
    /// The session refused.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Simulated shoppers on one catalog.
pub struct Simulator<'c> {
    catalog: &'c Catalog,
    truth: Truth,
    sampler: Sampler,
    protocol: Protocol,
}

impl<'c> Simulator<'c> {
    /// Reads the truth from the catalog's mapping (`[eval] truth`).
    pub fn new(catalog: &'c Catalog, protocol: Protocol) -> Result<Self, EvalError> {
        Ok(Simulator::with_truth(
            catalog,
            Truth::of_catalog(catalog)?,
            protocol,
        ))
    }

    /// Uses a given truth table.
    pub fn with_truth(catalog: &'c Catalog, truth: Truth, protocol: Protocol) -> Self {
        let sampler = Sampler::new(&truth);
        Simulator {
            catalog,
            truth,
            sampler,
            protocol,
        }
    }

    /// The truth table.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn stream(&self, scenario: Scenario, shopper: u64, salt: u64) -> u64 {
        let tag = match scenario {
            Scenario::Refine => 0x5246,
            Scenario::Explore => 0x4558,
        };
        mix(mix(mix(self.protocol.seed) ^ tag) ^ shopper) ^ salt
    }

    /// Shopper number `shopper`'s target and seed (the same for every strategy).
    pub fn start(&self, scenario: Scenario, shopper: u64) -> Result<Start, NoSeed> {
        let mut rng = StdRng::seed_from_u64(self.stream(scenario, shopper, 0));
        self.sampler.draw(scenario, &mut rng)
    }

    /// Plays shopper number `shopper` against a strategy.
    pub fn run(
        &self,
        strategy: &dyn Strategy,
        scenario: Scenario,
        shopper: u64,
    ) -> Result<Outcome, EvalError> {
        let start = self.start(scenario, shopper)?;
        self.play(strategy, &start, self.stream(scenario, shopper, 1))
    }

    /// Plays a session from a given start; `rng_seed` feeds the strategy.
    pub fn play(
        &self,
        strategy: &dyn Strategy,
        start: &Start,
        rng_seed: u64,
    ) -> Result<Outcome, EvalError> {
        let catalog = self.catalog;
        let index = catalog.index();
        let seed_id = index.id(start.seed).to_owned();
        let mut session = Session::start(catalog, &seed_id, self.protocol.k, Filters::default())?;
        let mut outcome = Outcome {
            success: None,
            rounds: 0,
            voted: 0,
            could_vote: 0,
            last_precision: 0.0,
        };
        for round in 1..=self.protocol.rounds {
            let page = session.next_page(catalog, strategy, rng_seed)?;
            outcome.rounds = round;
            let classes: Vec<Class> = page
                .items
                .iter()
                .map(|(id, _)| index.row(id).map_or([NONE; 3], |r| self.truth.class(r)))
                .collect();
            let hits = classes.iter().filter(|&&c| c == start.target).count();
            outcome.last_precision = if classes.is_empty() {
                0.0
            } else {
                hits as f64 / classes.len() as f64
            };
            match react(&classes, start.target) {
                Reaction::Found(_) => {
                    outcome.success = Some(round);
                    break;
                }
                Reaction::Vote { up, down } => {
                    outcome.could_vote += 1;
                    outcome.voted += 1;
                    session.vote(
                        catalog,
                        &[
                            (page.items[up].0.clone(), Vote::Up),
                            (page.items[down].0.clone(), Vote::Down),
                        ],
                    );
                }
                Reaction::Pass => outcome.could_vote += 1,
            }
            if page.items.is_empty() {
                break;
            }
        }
        Ok(outcome)
    }
}
