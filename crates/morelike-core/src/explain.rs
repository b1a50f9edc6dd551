//! Why a product scores as it does in a session: its score against the
//! session's preference (the seed plus the upvotes minus the downvotes, each
//! view normalized), split exactly by view and by vote.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::index::Point;
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
    /// Its score against the session's preference.
    pub score: f32,
    /// Per view, in layout order.
    pub views: Vec<ViewShare>,
    /// Per example: the seed first, then the votes in order.
    pub examples: Vec<ExampleShare>,
}

/// Explains `row` against the preference built from `seed` and `votes`.
pub fn explain(catalog: &Catalog, seed: Option<u32>, votes: &[VoteAt], row: u32) -> Explanation {
    let index = catalog.index();
    let layout = index.layout();
    let weights = catalog.weights();
    let terms = Rocchio::default().terms(seed, votes);
    let points: Vec<Point> = terms.iter().map(|&(r, _)| index.point(r)).collect();
    let mut raw = Point::zero(layout);
    for (p, &(_, coef)) in points.iter().zip(&terms) {
        raw.add_scaled(p, coef);
    }
    let norms: Vec<f32> = (0..layout.views.len())
        .map(|v| raw.view_norm(layout, v))
        .collect();
    let target = index.point(row);
    let inv = |v: usize| {
        if norms[v] > 1e-12 {
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
    let examples = terms
        .iter()
        .zip(&points)
        .enumerate()
        .map(|(i, (&(r, coef), p))| ExampleShare {
            product: index.id(r).to_owned(),
            vote: if seed.is_some() && i == 0 {
                None
            } else {
                Some(if coef >= 0.0 { Vote::Up } else { Vote::Down })
            },
            contribution: (0..layout.views.len())
                .map(|v| weights[v] * coef * p.view_dot(&target, layout, v) * inv(v))
                .sum(),
        })
        .collect();
    Explanation {
        product: index.id(row).to_owned(),
        score: views.iter().map(|v| v.contribution).sum(),
        views,
        examples,
    }
}
