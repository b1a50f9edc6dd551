//! Simulated shoppers (the quality yardstick of the design brief): each
//! shopper secretly wants a target class, starts from a seed, and reacts to
//! every page served by the same session code the server uses. Everything is
//! a pure function of the catalog, the strategy and a seed — never of the
//! order the catalog was loaded in; threads, clocks, tables and plots belong
//! to the caller.
//!
//! Random streams are kept apart: the shopper's draws (target and seed), and
//! each strategy's randomness in each session, come from different seeds, so
//! no strategy can see the target.

mod metrics;
mod scenario;
mod shopper;
mod truth;

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::SeedableRng;

pub use metrics::{Outcome, Summary};
pub use scenario::{NoSeed, Sampler, Scenario, Start};
pub use shopper::{choose, react, Reaction};
pub use truth::{last_word, shared, Attribute, Class, Truth, TruthError, NONE};

use crate::catalog::Catalog;
use crate::hash::{fnv1a, mix};
use crate::index::Filters;
use crate::product::{normalized_name, ProductId};
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

/// Pages served after the first hit, in scenarios that go on after it.
pub const PAGES_AFTER_HIT: u32 = 2;

/// Rounds whose pages `downvoted_share` leaves out (a shopper needs a few
/// rounds to downvote anything twice).
pub const REJECT_GRACE: u32 = 3;

/// One page of a session as the shopper met it.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    /// The products shown, in page order.
    pub items: Vec<ProductId>,
    /// The votes the shopper cast on them (none: the shopper asked for more).
    pub votes: Vec<(ProductId, Vote)>,
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

    /// Shopper number `shopper`'s own stream in a scenario.
    fn stream(&self, scenario: Scenario, shopper: u64) -> u64 {
        mix(mix(mix(self.protocol.seed) ^ scenario.tag()) ^ shopper)
    }

    /// The seed of the shopper's own draws (target and seed product).
    fn start_seed(&self, scenario: Scenario, shopper: u64) -> u64 {
        mix(self.stream(scenario, shopper) ^ 0x0073_686f_7070_6572)
    }

    /// The randomness a strategy gets in one shopper's session: apart from
    /// the shopper's draws, from other sessions and from other strategies.
    pub fn strategy_seed(&self, strategy: &str, scenario: Scenario, shopper: u64) -> u64 {
        mix(self.stream(scenario, shopper) ^ mix(fnv1a(strategy.as_bytes()) ^ 0x0073_7472_6174))
    }

    /// Shopper number `shopper`'s target and seed (the same for every strategy).
    pub fn start(&self, scenario: Scenario, shopper: u64) -> Result<Start, NoSeed> {
        let mut rng = StdRng::seed_from_u64(self.start_seed(scenario, shopper));
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
        let rng_seed = self.strategy_seed(strategy.name(), scenario, shopper);
        self.play(strategy, scenario, &start, rng_seed)
    }

    /// Plays a session from a given start; `rng_seed` feeds the strategy.
    pub fn play(
        &self,
        strategy: &dyn Strategy,
        scenario: Scenario,
        start: &Start,
        rng_seed: u64,
    ) -> Result<Outcome, EvalError> {
        self.play_logged(strategy, scenario, start, rng_seed, &mut |_| {})
    }

    /// Plays shopper number `shopper` and returns every page and vote, to
    /// replay the session elsewhere (a running server) and compare.
    pub fn transcript(
        &self,
        strategy: &dyn Strategy,
        scenario: Scenario,
        shopper: u64,
    ) -> Result<(Start, Outcome, Vec<Turn>), EvalError> {
        let start = self.start(scenario, shopper)?;
        let rng_seed = self.strategy_seed(strategy.name(), scenario, shopper);
        let mut turns = Vec::new();
        let outcome =
            self.play_logged(strategy, scenario, &start, rng_seed, &mut |t| turns.push(t))?;
        Ok((start, outcome, turns))
    }

    /// Plays a session and hands every page and its votes to `log`.
    pub fn play_logged(
        &self,
        strategy: &dyn Strategy,
        scenario: Scenario,
        start: &Start,
        rng_seed: u64,
        log: &mut dyn FnMut(Turn),
    ) -> Result<Outcome, EvalError> {
        let catalog = self.catalog;
        let index = catalog.index();
        let seed_id = index.id(start.seed).to_owned();
        let mut session = Session::start(catalog, &seed_id, self.protocol.k, Filters::default())?;
        let mut outcome = Outcome::default();
        let mut downvoted: HashMap<(u32, u32), u32> = HashMap::new();
        let mut hit: Option<u32> = None;
        for round in 1.. {
            match hit {
                None if round > self.protocol.rounds => break,
                Some(h) if round > h + PAGES_AFTER_HIT => break,
                _ => {}
            }
            let page = session.next_page(catalog, strategy, rng_seed)?;
            outcome.pages += 1;
            let rows: Vec<u32> = page
                .items
                .iter()
                .filter_map(|(id, _)| index.row(id))
                .collect();
            let classes: Vec<Class> = rows.iter().map(|&r| self.truth.class(r)).collect();
            let precision = share(&classes, |c| c == start.target);
            let mut names: Vec<String> = rows
                .iter()
                .map(|&r| normalized_name(&catalog.at(r).name))
                .collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                outcome.dup_pages += 1;
            }
            if round > REJECT_GRACE {
                outcome.late_shown += classes.len() as u32;
                outcome.downvoted_shown += classes
                    .iter()
                    .filter(|c| downvoted.get(&(c[0], c[1])).is_some_and(|&n| n >= 2))
                    .count() as u32;
            }
            if round == 1 {
                outcome.first_precision = precision;
            }
            if hit.is_none() {
                outcome.rounds = round;
                outcome.last_precision = precision;
            }
            if hit.is_some_and(|h| round == h + PAGES_AFTER_HIT) {
                outcome.after_hit = Some(precision);
            }
            let found = classes.contains(&start.target);
            if hit.is_none() {
                if found {
                    outcome.success = Some(round);
                    hit = Some(round);
                } else {
                    outcome.could_vote += 1;
                }
            }
            let choice = if scenario == Scenario::Reject {
                choose(&classes, start.target).map(|(_, down)| vec![(down, Vote::Down)])
            } else {
                choose(&classes, start.target)
                    .map(|(up, down)| vec![(up, Vote::Up), (down, Vote::Down)])
            };
            let votes: Vec<(ProductId, Vote)> = choice
                .unwrap_or_default()
                .into_iter()
                .map(|(at, vote)| (page.items[at].0.clone(), vote))
                .collect();
            log(Turn {
                items: page.items.iter().map(|(id, _)| id.clone()).collect(),
                votes: votes.clone(),
            });
            if hit == Some(round) && !scenario.goes_on_after_hit() {
                break;
            }
            if page.items.is_empty() {
                break;
            }
            if !votes.is_empty() {
                if hit.is_none() {
                    outcome.voted += 1;
                }
                for (id, vote) in &votes {
                    if *vote == Vote::Down {
                        if let Some(r) = index.row(id) {
                            let c = self.truth.class(r);
                            *downvoted.entry((c[0], c[1])).or_default() += 1;
                        }
                    }
                }
                session.vote(catalog, &votes);
            }
        }
        Ok(outcome)
    }
}

/// The share of a page's classes for which `keep` holds (0 for an empty page).
fn share(classes: &[Class], keep: impl Fn(Class) -> bool) -> f64 {
    if classes.is_empty() {
        0.0
    } else {
        classes.iter().filter(|&&c| keep(c)).count() as f64 / classes.len() as f64
    }
}
