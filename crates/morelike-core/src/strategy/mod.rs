//! Strategies: how the next page is chosen from the seed, the votes and what
//! was shown. All of them sit behind one trait so `morelike eval` can compare
//! them side by side on the same vectors.

mod baselines;
mod matches;
mod probe;
mod rocchio;
mod steer;

use crate::explain::{self, Explanation};
use crate::index::{CompiledFilter, Hit, Index, Point, RowSet};
use crate::session::Vote;

pub use baselines::{AverageVector, BestScore, Mmr, Random, SeedOnly, SumScores};
pub use probe::{Evidence, Probe};
pub use rocchio::Rocchio;
pub use steer::Steer;

/// A vote resolved to an index row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VoteAt {
    /// The product's row.
    pub row: u32,
    /// Up or down.
    pub vote: Vote,
    /// The round it was cast in.
    pub round: u32,
}

/// Everything a strategy may look at to choose a page.
pub struct Context<'a> {
    /// The store's index.
    pub index: &'a Index,
    /// The store's view weights.
    pub weights: &'a [f32],
    /// The seed's row (None if it was deleted).
    pub seed: Option<u32>,
    /// The votes, in order.
    pub votes: &'a [VoteAt],
    /// Rows already shown.
    pub exclude: &'a RowSet,
    /// The page's filter.
    pub filter: &'a CompiledFilter,
    /// Products per page.
    pub k: usize,
    /// Pages served before this one.
    pub round: u32,
    /// Seed for any randomness (deterministic per session and round).
    pub rng_seed: u64,
}

impl Context<'_> {
    /// Rows the shopper liked: the seed, then every upvote.
    pub fn positives(&self) -> Vec<u32> {
        self.seed
            .into_iter()
            .chain(
                self.votes
                    .iter()
                    .filter(|v| v.vote == Vote::Up)
                    .map(|v| v.row),
            )
            .collect()
    }

    /// Rows the shopper rejected.
    pub fn negatives(&self) -> Vec<u32> {
        self.votes
            .iter()
            .filter(|v| v.vote == Vote::Down)
            .map(|v| v.row)
            .collect()
    }

    /// The mean of some rows' points (the zero point for none).
    pub fn mean(&self, rows: &[u32]) -> Point {
        let mut sum = Point::zero(self.index.layout());
        for &row in rows {
            sum.add_scaled(&self.index.point(row), 1.0 / rows.len() as f32);
        }
        sum
    }

    /// The `k` nearest unshown, filtered rows to a query point (weighted).
    pub fn nearest(&self, query: &Point, k: usize) -> Vec<Hit> {
        let prepared = self.index.prepare(query, self.weights);
        self.index.search(&prepared, k, self.exclude, self.filter)
    }
}

/// A way of choosing the next page.
pub trait Strategy: Send + Sync {
    /// The name used in reports and settings.
    fn name(&self) -> &str;
    /// The next page: at most `cx.k` rows, none excluded, all passing the filter.
    fn page(&self, cx: &Context<'_>) -> Vec<Hit>;
    /// Why `row` scores as it does on the page this strategy serves for
    /// `cx`: the score `page` gives it, split by view and by example. A
    /// strategy whose score is no sum over views (best_score, mmr, probe)
    /// explains the row against the session's Rocchio preference instead,
    /// and says so in `strategy`.
    fn explain(&self, cx: &Context<'_>, row: u32) -> Explanation {
        explain::rocchio(cx.index, cx.weights, cx.seed, cx.votes, row)
    }
}

/// The strategy served when none is named.
pub const DEFAULT: &str = "steer";

/// Every strategy, the default first.
pub fn all() -> Vec<Box<dyn Strategy>> {
    vec![
        Box::new(Steer::default()),
        Box::new(Probe::default()),
        Box::new(Rocchio::default()),
        Box::new(Random),
        Box::new(SeedOnly),
        Box::new(AverageVector),
        Box::new(BestScore),
        Box::new(SumScores),
        Box::new(Mmr::default()),
    ]
}

/// A strategy by name.
pub fn by_name(name: &str) -> Option<Box<dyn Strategy>> {
    all().into_iter().find(|s| s.name() == name)
}

/// A strategy named in an evaluation: a name, or `steer:` and knobs to
/// try (`steer:first_near=6/pool=64`), to compare variants side by side.
pub fn parse(spec: &str) -> Result<Box<dyn Strategy>, String> {
    match spec.split_once(':') {
        Some(("steer", knobs)) => Ok(Box::new(Steer::with_knobs(knobs)?)),
        Some((name, _)) => Err(format!(
            "strategy '{name}' takes no knobs; only steer does (steer:pool=64/first_near=6)"
        )),
        None => {
            by_name(spec).ok_or_else(|| format!("no strategy '{spec}'; choose from {:?}", names()))
        }
    }
}

/// The names of every strategy, in the order of [`all`].
pub fn names() -> Vec<&'static str> {
    vec![
        "steer",
        "probe",
        "rocchio",
        "random",
        "seed_only",
        "average_vector",
        "best_score",
        "sum_scores",
        "mmr",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_list_every_strategy_in_order() {
        let built: Vec<String> = all().iter().map(|s| s.name().to_owned()).collect();
        assert_eq!(built, names());
    }

    #[test]
    fn a_variant_of_the_default_is_named_by_its_knobs() {
        let s = parse("steer:first_near=6/pool=64").unwrap();
        assert_eq!(s.name(), "steer:first_near=6/pool=64");
        let error = |spec: &str| parse(spec).err().unwrap_or_default();
        assert!(error("steer:nope=1").contains("no knob 'nope'"));
        assert!(error("steer:pool=many").contains("not NAME=NUMBER"));
        assert!(error("rocchio:up=2").contains("takes no knobs"));
        assert!(error("nothing").contains("no strategy 'nothing'"));
    }
}
