//! Relevance feedback after Rocchio: the query is the seed plus the upvotes
//! minus the downvotes, each view normalized, then scored with the store's
//! view weights.

use super::{Context, Strategy};
use crate::index::{Hit, Point};
use crate::session::Vote;

/// Seed + β·Σ up − γ·Σ down, normalized per view.
#[derive(Clone, Debug)]
pub struct Rocchio {
    /// Weight of the seed.
    pub seed: f32,
    /// Weight of each upvote.
    pub up: f32,
    /// Weight of each downvote (subtracted).
    pub down: f32,
}

impl Default for Rocchio {
    fn default() -> Self {
        Rocchio {
            seed: 1.0,
            up: 1.0,
            down: 0.5,
        }
    }
}

impl Rocchio {
    /// The coefficient each example gets: (row, coefficient), seed first.
    pub fn terms(&self, seed: Option<u32>, votes: &[super::VoteAt]) -> Vec<(u32, f32)> {
        seed.map(|s| (s, self.seed))
            .into_iter()
            .chain(votes.iter().map(|v| match v.vote {
                Vote::Up => (v.row, self.up),
                Vote::Down => (v.row, -self.down),
            }))
            .collect()
    }

    /// The session's query point (each view normalized).
    pub fn query(&self, cx: &Context<'_>) -> Point {
        let mut q = Point::zero(cx.index.layout());
        for (row, coef) in self.terms(cx.seed, cx.votes) {
            q.add_scaled(&cx.index.point(row), coef);
        }
        q.normalize_views(cx.index.layout());
        q
    }
}

impl Strategy for Rocchio {
    fn name(&self) -> &str {
        "rocchio"
    }

    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        cx.nearest(&self.query(cx), cx.k)
    }

    fn explain(&self, cx: &Context<'_>, row: u32) -> crate::Explanation {
        let coefs: Vec<f32> = self
            .terms(cx.seed, cx.votes)
            .iter()
            .map(|&(_, c)| c)
            .collect();
        let mut e =
            crate::explain::combination(cx.index, cx.weights, cx.seed, cx.votes, &coefs, true, row);
        e.strategy = self.name().to_owned();
        e
    }
}
