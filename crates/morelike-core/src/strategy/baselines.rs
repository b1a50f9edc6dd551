//! The baselines of the design brief, on the same vectors: random, seed-only,
//! and the three recommend strategies of the best-known vector database
//! (average_vector, best_score, sum_scores, each with the seed counted as an
//! upvote), plus its diversity option (MMR over average_vector).

use super::{Context, Strategy};
use crate::explain::{self, Explanation};
use crate::index::{Hit, Point, QueryBatch, TopK};

/// A uniformly random page.
pub struct Random;

impl Strategy for Random {
    fn name(&self) -> &str {
        "random"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        cx.index.sample(cx.k, cx.exclude, cx.filter, cx.rng_seed)
    }
    fn explain(&self, cx: &Context<'_>, row: u32) -> Explanation {
        let mut e = explain::nothing(cx.index, cx.weights, cx.seed, cx.votes, row);
        e.strategy = self.name().to_owned();
        e
    }
}

/// The seed's nearest neighbours, page after page; votes are ignored.
pub struct SeedOnly;

impl Strategy for SeedOnly {
    fn name(&self) -> &str {
        "seed_only"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        match cx.seed {
            Some(seed) => cx.nearest(&cx.index.point(seed), cx.k),
            None => Random.page(cx),
        }
    }
    fn explain(&self, cx: &Context<'_>, row: u32) -> Explanation {
        let mut e = match cx.seed {
            Some(seed) => {
                // Votes change nothing: the seed takes the whole score.
                explain::likeness(cx.index, cx.weights, cx.seed, cx.votes, seed, Some(0), row)
            }
            None => explain::nothing(cx.index, cx.weights, cx.seed, cx.votes, row),
        };
        e.strategy = self.name().to_owned();
        e
    }
}

fn average_vector_query(cx: &Context<'_>) -> Point {
    let (up, down) = (cx.positives(), cx.negatives());
    let mut q = Point::zero(cx.index.layout());
    if down.is_empty() {
        q.add_scaled(&cx.mean(&up), 1.0);
    } else {
        q.add_scaled(&cx.mean(&up), 2.0);
        q.add_scaled(&cx.mean(&down), -1.0);
    }
    q
}

/// query = 2·mean(up) − mean(down), nearest first.
pub struct AverageVector;

impl Strategy for AverageVector {
    fn name(&self) -> &str {
        "average_vector"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        cx.nearest(&average_vector_query(cx), cx.k)
    }
    fn explain(&self, cx: &Context<'_>, row: u32) -> Explanation {
        let (up, down) = (cx.positives(), cx.negatives());
        let (up_coef, down_coef) = if down.is_empty() {
            (1.0 / up.len().max(1) as f32, 0.0)
        } else {
            (2.0 / up.len().max(1) as f32, -1.0 / down.len() as f32)
        };
        let coefs = example_coefs(cx, up_coef, down_coef);
        let mut e =
            explain::combination(cx.index, cx.weights, cx.seed, cx.votes, &coefs, false, row);
        e.strategy = self.name().to_owned();
        e
    }
}

/// Each example's coefficient (the seed first, then every vote in order)
/// for a strategy that adds `up` times each positive and `down` times each
/// negative.
fn example_coefs(cx: &Context<'_>, up: f32, down: f32) -> Vec<f32> {
    cx.seed
        .map(|_| up)
        .into_iter()
        .chain(cx.votes.iter().map(|v| match v.vote {
            crate::session::Vote::Up => up,
            crate::session::Vote::Down => down,
        }))
        .collect()
}

/// σ(x) = x/(1+|x|), scaled to (0, 1) as the reference implementation does,
/// so that every "closer to an upvote" score is above every "closer to a
/// downvote" one even when similarities are negative.
fn sigmoid(x: f32) -> f32 {
    0.5 * (x / (1.0 + x.abs()) + 1.0)
}

/// Scores every candidate against each example separately, every example
/// in one pass (up to [`QueryBatch::MAX`] at a time): the upvotes' scores
/// first, then the downvotes'. In a clustered store the scan visits the
/// clusters `rank` puts first, given what each example scores against a
/// centre. `bound` says the most `combine` can give when no upvote scores
/// over its argument: a row whose upvotes' categorical parts plus their
/// largest dense parts bound it under what can still enter the page is
/// passed over without reading its vector.
fn per_example(
    cx: &Context<'_>,
    rank: impl Fn(&[f32], &[f32]) -> f32,
    combine: impl Fn(&[f32], &[f32]) -> f32,
    bound: impl Fn(f32) -> f32,
) -> Vec<Hit> {
    let (up, down) = (cx.positives(), cx.negatives());
    let queries: Vec<_> = up
        .iter()
        .chain(&down)
        .map(|&r| cx.index.prepare(&cx.index.point(r), cx.weights))
        .collect();
    let batches: Vec<QueryBatch> = queries
        .iter()
        .collect::<Vec<_>>()
        .chunks(QueryBatch::MAX)
        .map(QueryBatch::new)
        .collect();
    let centres: Vec<Vec<f32>> = queries.iter().map(|q| cx.index.centre_scores(q)).collect();
    let within = cx.index.near_rows(cx.exclude, cx.filter, |c| {
        let at: Vec<f32> = centres.iter().map(|s| s[c]).collect();
        let (up_c, down_c) = at.split_at(up.len());
        rank(up_c, down_c)
    });
    // Each upvote's largest dense part: exactly, and on the i8 copy (give
    // or take its rounding).
    let upvotes = &queries[..up.len()];
    let exact_bounds: Vec<f32> = upvotes.iter().map(|q| cx.index.dense_bound(q)).collect();
    let coarse_bounds: Vec<f32> = upvotes
        .iter()
        .zip(&exact_bounds)
        .map(|(q, b)| b + cx.index.rounding(q))
        .collect();
    let mut scores = vec![0.0; queries.len()];
    let mut cats = vec![0.0; queries.len()];
    // Without categorical fields the bound is the same for every row: no
    // row would be passed over, so the bound is not taken.
    let prune = !up.is_empty() && !cx.index.layout().fields.is_empty();
    // A row's score, on the i8 copy when `coarse`; `None` when its
    // upvotes' categorical parts and largest dense parts cannot reach
    // `threshold`.
    let mut rank = |row: u32, threshold: f32, coarse: bool| -> Option<f32> {
        if threshold > f32::NEG_INFINITY && prune {
            cats.fill(0.0);
            for (batch, out) in batches.iter().zip(cats.chunks_mut(QueryBatch::MAX)) {
                cx.index.add_batch_cats(batch, row, out);
            }
            let dense = if coarse {
                &coarse_bounds
            } else {
                &exact_bounds
            };
            let most = cats
                .iter()
                .zip(dense)
                .map(|(c, d)| c + d)
                .fold(f32::NEG_INFINITY, f32::max);
            if bound(most) < threshold {
                return None;
            }
        }
        if let [only] = queries.as_slice() {
            // One example: the one-query kernel is a little quicker.
            scores[0] = if coarse {
                cx.index.score_coarse(only, row)
            } else {
                cx.index.score(only, row)
            };
        } else {
            for (batch, out) in batches.iter().zip(scores.chunks_mut(QueryBatch::MAX)) {
                if coarse {
                    cx.index.score_batch_coarse(batch, row, out);
                } else {
                    cx.index.score_batch(batch, row, out);
                }
            }
        }
        let (up_s, down_s) = scores.split_at(up.len());
        Some(combine(up_s, down_s))
    };
    let (within, exclude, filter) = (within.as_deref(), cx.exclude, cx.filter);
    if !cx.index.ranks_coarse() {
        return cx
            .index
            .scan_bounded(cx.k, within, exclude, filter, |row, t| rank(row, t, false));
    }
    // At f32: the best REFINE × k rows on the i8 copy, scored again at f32
    // (the examples' rounding adds up, so the bound `search` uses would
    // send most rows to their f32 row).
    let candidates = cx
        .index
        .scan_bounded(cx.k * REFINE, within, exclude, filter, |row, t| {
            rank(row, t, true)
        });
    let mut top = TopK::new(cx.k);
    for hit in candidates {
        let score = rank(hit.row, f32::NEG_INFINITY, false).expect("an exact score");
        top.push(hit.row, score, cx.index.key(hit.row));
    }
    top.into_hits()
}

/// How many times k rows best_score keeps on a store's i8 copy before it
/// scores them at f32 (`tests/core/batch.rs` and `refine.rs` check the
/// pages against the f32 scan).
const REFINE: usize = 4;

/// σ(best similarity to an upvote) if it beats the best to a downvote, else −σ(that).
pub struct BestScore;

impl Strategy for BestScore {
    fn name(&self) -> &str {
        "best_score"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        // The best rows are near one upvote: clusters near any upvote first
        // (a centre near an upvote and a downvote may still hold rows
        // nearer the upvote).
        let nearest_up =
            |up: &[f32], _: &[f32]| up.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // A row's score is at most σ of its best upvote score: below 0
        // when a downvote beats it, σ(that) otherwise.
        per_example(
            cx,
            nearest_up,
            |up, down| {
                let pos = up.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let neg = down.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                if pos > neg {
                    sigmoid(pos)
                } else {
                    -sigmoid(neg)
                }
            },
            sigmoid,
        )
    }
}

/// Σ similarity to upvotes − Σ similarity to downvotes.
pub struct SumScores;

impl Strategy for SumScores {
    fn name(&self) -> &str {
        "sum_scores"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        // Every similarity is linear in the query (dot products and table
        // look-ups), so the sum of a row's similarities to the examples is
        // its similarity to the examples' sum: one pruned search, however
        // many examples (equal to scoring each, but for float rounding).
        let mut query = Point::zero(cx.index.layout());
        for row in cx.positives() {
            query.add_scaled(&cx.index.point(row), 1.0);
        }
        for row in cx.negatives() {
            query.add_scaled(&cx.index.point(row), -1.0);
        }
        cx.nearest(&query, cx.k)
    }
    fn explain(&self, cx: &Context<'_>, row: u32) -> Explanation {
        let coefs = example_coefs(cx, 1.0, -1.0);
        let mut e =
            explain::combination(cx.index, cx.weights, cx.seed, cx.votes, &coefs, false, row);
        e.strategy = self.name().to_owned();
        e
    }
}

/// average_vector's nearest, re-ranked by maximal marginal relevance.
pub struct Mmr {
    /// Candidates taken from the nearest.
    pub pool: usize,
    /// Relevance against diversity (1 = relevance only).
    pub lambda: f32,
}

impl Default for Mmr {
    fn default() -> Self {
        Mmr {
            pool: 200,
            lambda: 0.5,
        }
    }
}

impl Strategy for Mmr {
    fn name(&self) -> &str {
        "mmr"
    }
    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        let layout = cx.index.layout();
        let query = average_vector_query(cx);
        let pool = cx.nearest(&query, self.pool);
        let points: Vec<Point> = pool.iter().map(|h| cx.index.point(h.row)).collect();
        let norm = |p: &Point| p.dot(p, layout, cx.weights).sqrt().max(1e-9);
        let norms: Vec<f32> = points.iter().map(norm).collect();
        let qn = norm(&query);
        let relevance: Vec<f32> = pool
            .iter()
            .zip(&norms)
            .map(|(h, n)| h.score / (qn * n))
            .collect();
        let mut chosen: Vec<usize> = Vec::new();
        let mut max_sim = vec![f32::NEG_INFINITY; pool.len()];
        while chosen.len() < cx.k.min(pool.len()) {
            let best = (0..pool.len())
                .filter(|i| !chosen.contains(i))
                .map(|i| {
                    let diversity = if chosen.is_empty() { 0.0 } else { max_sim[i] };
                    (
                        i,
                        self.lambda * relevance[i] - (1.0 - self.lambda) * diversity,
                    )
                })
                .fold((usize::MAX, f32::NEG_INFINITY), |a, b| {
                    if b.1 > a.1 {
                        b
                    } else {
                        a
                    }
                });
            let pick = best.0;
            chosen.push(pick);
            for i in 0..pool.len() {
                let s = points[i].dot(&points[pick], layout, cx.weights) / (norms[i] * norms[pick]);
                max_sim[i] = max_sim[i].max(s);
            }
        }
        chosen
            .into_iter()
            .map(|i| Hit {
                row: pool[i].row,
                score: relevance[i],
            })
            .collect()
    }
}
