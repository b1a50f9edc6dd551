//! Why a product scores as it does on a page: the score the strategy that
//! served the page gave it, split by view and by example (the seed and each
//! vote). Two ways of scoring are explained here: likeness to one product
//! (the default strategy orders a page by likeness to its anchor, the seed
//! or the latest upvote) and likeness to the session's preference (Rocchio:
//! the seed plus the upvotes minus the downvotes, each view normalized).

use serde::{Deserialize, Serialize};

use crate::index::{Index, Point};
use crate::product::ProductId;
use crate::session::Vote;
use crate::strategy::{Rocchio, VoteAt};

/// One view's share of a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewShare {
    /// The view.
    pub view: String,
    /// The product's similarity to the preference in this view (−1..1).
    pub similarity: f32,
    /// The store's weight for the view.
    pub weight: f32,
    /// weight × similarity.
    pub contribution: f32,
}

/// One example's share of a score (the seed or a vote).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExampleShare {
    /// The product voted on (or the seed).
    pub product: ProductId,
    /// Up, down, or None for the seed.
    pub vote: Option<Vote>,
    /// How much this example adds to the score (negative: it pushes the product away).
    pub contribution: f32,
}

/// A score split by view and by example; both splits add up to `score`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The product explained.
    pub product: ProductId,
    /// The score the page gave it.
    pub score: f32,
    /// The strategy whose score this is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub strategy: String,
    /// When the score is likeness to one product: that product (the seed or
    /// the latest upvote); absent when it is likeness to the whole session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<ProductId>,
    /// Per view, in layout order.
    pub views: Vec<ViewShare>,
    /// Per example: the seed first, then the votes in order.
    pub examples: Vec<ExampleShare>,
}

/// Explains `row` against the session's Rocchio preference, built from
/// `seed` and `votes`.
pub fn rocchio(
    index: &Index,
    weights: &[f32],
    seed: Option<u32>,
    votes: &[VoteAt],
    row: u32,
) -> Explanation {
    let terms = Rocchio::default().terms(seed, votes);
    let coefs: Vec<f32> = terms.iter().map(|&(_, c)| c).collect();
    let mut e = combination(index, weights, seed, votes, &coefs, true, row);
    e.strategy = "rocchio".to_owned();
    e
}

/// Explains `row` against a weighted sum of the examples (the seed first,
/// then every vote, `coefs` in that order), each view normalized when
/// `normalize` (Rocchio) or as it is (a sum of similarities).
pub fn combination(
    index: &Index,
    weights: &[f32],
    seed: Option<u32>,
    votes: &[VoteAt],
    coefs: &[f32],
    normalize: bool,
    row: u32,
) -> Explanation {
    let layout = index.layout();
    let rows: Vec<u32> = seed
        .into_iter()
        .chain(votes.iter().map(|v| v.row))
        .collect();
    let points: Vec<Point> = rows.iter().map(|&r| index.point(r)).collect();
    let mut raw = Point::zero(layout);
    for (p, &coef) in points.iter().zip(coefs) {
        raw.add_scaled(p, coef);
    }
    let norms: Vec<f32> = (0..layout.views.len())
        .map(|v| raw.view_norm(layout, v))
        .collect();
    let target = index.point(row);
    let inv = |v: usize| {
        if !normalize {
            1.0
        } else if norms[v] > 1e-12 {
            1.0 / norms[v]
        } else {
            0.0
        }
    };
    let views: Vec<ViewShare> = layout
        .views
        .iter()
        .enumerate()
        .map(|(v, view)| {
            let similarity = raw.view_dot(&target, layout, v) * inv(v);
            ViewShare {
                view: view.name.clone(),
                similarity,
                weight: weights[v],
                contribution: weights[v] * similarity,
            }
        })
        .collect();
    let votes_of = seed
        .map(|_| None)
        .into_iter()
        .chain(votes.iter().map(|v| Some(v.vote)));
    let examples = rows
        .iter()
        .zip(&points)
        .zip(coefs)
        .zip(votes_of)
        .map(|(((&r, p), &coef), vote)| ExampleShare {
            product: index.id(r).to_owned(),
            vote,
            contribution: (0..layout.views.len())
                .map(|v| weights[v] * coef * p.view_dot(&target, layout, v) * inv(v))
                .sum(),
        })
        .collect();
    Explanation {
        product: index.id(row).to_owned(),
        score: views.iter().map(|v| v.contribution).sum(),
        strategy: String::new(),
        anchor: None,
        views,
        examples,
    }
}

/// Explains a score of nothing: the page was drawn at random.
pub fn nothing(
    index: &Index,
    weights: &[f32],
    seed: Option<u32>,
    votes: &[VoteAt],
    row: u32,
) -> Explanation {
    let coefs = vec![0.0; usize::from(seed.is_some()) + votes.len()];
    combination(index, weights, seed, votes, &coefs, false, row)
}

/// Which example is the anchor: the latest upvote of `anchor`, else the
/// seed (as a position among the examples: the seed first, then the votes).
pub fn anchor_example(seed: Option<u32>, votes: &[VoteAt], anchor: u32) -> Option<usize> {
    let offset = usize::from(seed.is_some());
    votes
        .iter()
        .rposition(|v| v.vote == Vote::Up && v.row == anchor)
        .map(|i| i + offset)
        .or_else(|| (seed == Some(anchor)).then_some(0))
}

/// Explains `row` by its likeness to `anchor` (every view weighted): the
/// views split the score; among the examples (the seed, then every vote in
/// order), the one at `taker` takes all of it and the others none.
pub fn likeness(
    index: &Index,
    weights: &[f32],
    seed: Option<u32>,
    votes: &[VoteAt],
    anchor: u32,
    taker: Option<usize>,
    row: u32,
) -> Explanation {
    let layout = index.layout();
    let mut sims = vec![0.0; layout.views.len()];
    index.view_sims(&index.point(anchor), row, &mut sims);
    let views: Vec<ViewShare> = layout
        .views
        .iter()
        .zip(&sims)
        .zip(weights)
        .map(|((view, &similarity), &weight)| ViewShare {
            view: view.name.clone(),
            similarity,
            weight,
            contribution: weight * similarity,
        })
        .collect();
    let score: f32 = views.iter().map(|v| v.contribution).sum();
    let examples = seed
        .map(|s| (s, None))
        .into_iter()
        .chain(votes.iter().map(|v| (v.row, Some(v.vote))))
        .enumerate()
        .map(|(i, (r, vote))| ExampleShare {
            product: index.id(r).to_owned(),
            vote,
            contribution: if taker == Some(i) { score } else { 0.0 },
        })
        .collect();
    Explanation {
        product: index.id(row).to_owned(),
        score,
        strategy: String::new(),
        anchor: Some(index.id(anchor).to_owned()),
        views,
        examples,
    }
}
