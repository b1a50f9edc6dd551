//! Gathering a page's candidates in one pass over the catalog. Two kinds of
//! search around the anchor, each "the best rows for a prepared query, under
//! the filter and the shown-exclusion":
//! - **near**: the rows most similar to the anchor (every view weighted);
//! - **vary v**, for each view v that gets slots: the rows that change v
//!   (per-view similarity below the view's gap) and stay closest on every
//!   other view, ties going to the bigger change of v.
//!
//! - **jump**: rows of another kind than the anchor's that keep the views
//!   whose changes the shopper rejected, drawn fairly among equals (when
//!   the shopper rejected the anchor's own kind).
//!
//! Here they share one exact scan: per-view similarities are computed once
//! per row (categorical views from match counts, dense views only for rows
//! that could still enter some pool). An approximate index can serve each
//! search on its own: the near search is a plain query, and a vary search
//! is the anchor's query with v's weight set to a small negative number and
//! a filter "differs from the anchor on v".

use super::super::{matches, Context};
use crate::index::{Hit, TopK};
use crate::views::ViewKind;

/// How much more a vary pool prefers a bigger change of its view, between
/// rows that are otherwise equal: far below any weight, it only breaks ties.
pub const TIE_BREAK: f32 = 1e-3;

/// What to gather.
pub struct Plan<'a> {
    /// The row pages are built around.
    pub anchor: u32,
    /// How many near rows to keep.
    pub near: usize,
    /// How many rows to keep per varied view.
    pub pool: usize,
    /// The views that get varying slots.
    pub varied: &'a [usize],
    /// Per view, below which similarity to the anchor it counts as changed.
    pub gaps: &'a [f32],
    /// How many rows to keep that change the anchor's kind but keep the
    /// `kept` views (0: none).
    pub jump: usize,
    /// The views a jump keeps.
    pub kept: &'a [usize],
    /// Whether near rows of the anchor's kind (equal on more weighted
    /// categorical views) come before closer rows of another kind.
    pub kind_first: bool,
    /// Whether to count the values of each varied categorical view.
    pub tally: bool,
    /// Orders jump rows that tie (most do): a hash of the product's key
    /// with this salt, so ties are a fair draw, the same for every replay.
    pub salt: u64,
}

/// The candidates: near rows and, per view, the rows that vary it (best first).
pub struct Gathered {
    /// The rows nearest the anchor.
    pub near: Vec<Hit>,
    /// Per view (empty where the view is not varied).
    pub pools: Vec<Vec<Hit>>,
    /// Rows of another kind that keep the kept views.
    pub jumps: Vec<Hit>,
    /// Per categorical view that is varied, its values among the rows that
    /// change only it (of the kind views): most common first, each with
    /// the closest such row.
    pub popular: Vec<Vec<Hit>>,
}

/// One value of a varied view: how many rows show it, and the closest.
#[derive(Clone, Copy)]
struct Tally {
    count: u32,
    best: Hit,
    key: u64,
}

impl Tally {
    const NONE: Tally = Tally {
        count: 0,
        best: Hit {
            row: u32::MAX,
            score: f32::NEG_INFINITY,
        },
        key: u64::MAX,
    };
}

/// Scans the catalog once for a plan.
pub fn gather(cx: &Context<'_>, plan: &Plan<'_>) -> Gathered {
    let index = cx.index;
    let layout = index.layout();
    let views = layout.views.len();
    let w = cx.weights;
    let a = index.point(plan.anchor);
    let active: Vec<usize> = (0..views)
        .filter(|&v| w[v] > 0.0 || plan.varied.contains(&v))
        .collect();
    let dense: Vec<usize> = active
        .iter()
        .copied()
        .filter(|&v| layout.views[v].kind != ViewKind::Categorical)
        .collect();
    let categorical = matches::count(index, plan.anchor, &active);
    // A dense similarity is at most 1 (a little more after quantization).
    let dense_best: f32 = dense.iter().map(|&v| w[v] * 1.01).sum();
    let varied: Vec<(usize, f32, f32, bool)> = plan
        .varied
        .iter()
        .map(|&v| {
            let categorical = layout.views[v].kind == ViewKind::Categorical;
            (v, w[v], plan.gaps[v], categorical)
        })
        .collect();
    let mut near = TopK::new(plan.near);
    let mut pools: Vec<TopK> = (0..views)
        .map(|v| {
            TopK::new(if plan.varied.contains(&v) {
                plan.pool
            } else {
                0
            })
        })
        .collect();
    let kinds: Vec<usize> = (0..views)
        .filter(|&v| w[v] > 0.0 && layout.views[v].kind == ViewKind::Categorical)
        .collect();
    let kept_dense_best: f32 = plan
        .kept
        .iter()
        .filter(|&&v| layout.views[v].kind != ViewKind::Categorical)
        .map(|&v| w[v] * 1.01)
        .sum();
    // Near rows, and the rows of a vary pool, rank by the weighted
    // categorical views they match in full first, then by similarity (when
    // `kind_first`): this bonus outweighs any similarity. A variation then
    // changes its view and keeps the rest of the kind where it can.
    let kind_bonus: f32 = if plan.kind_first {
        w.iter().sum::<f32>() * 1.01 + 1.0
    } else {
        0.0
    };
    // The field that names a categorical view's value (its finest field).
    let value_field = |v: usize| -> usize {
        layout.views[v]
            .fields
            .clone()
            .max_by_key(|&f| (index.dictionary(f).len(), f))
            .expect("a categorical view has a field")
    };
    let tallied: Vec<(usize, usize)> = varied
        .iter()
        .filter(|(v, _, _, categorical)| *categorical && w[*v] > 0.0 && plan.tally)
        .map(|&(v, ..)| (v, value_field(v)))
        .collect();
    let mut tallies: Vec<Vec<Tally>> = tallied
        .iter()
        .map(|&(_, f)| vec![Tally::NONE; index.dictionary(f).len()])
        .collect();
    let mut in_tier = vec![false; tallied.len()];
    let mut jumps = TopK::new(plan.jump);
    let mut jump_threshold = jumps.threshold();
    let mut near_threshold = near.threshold();
    let mut thresholds: Vec<f32> = pools.iter().map(TopK::threshold).collect();
    let mut s = vec![0.0f32; views];
    index.each_candidate(cx.exclude, cx.filter, |row| {
        for m in &categorical {
            s[m.view] = f32::from(m.counts[row as usize]) * m.share;
        }
        let known: f32 = categorical.iter().map(|m| w[m.view] * s[m.view]).sum();
        let matched = categorical
            .iter()
            .filter(|m| w[m.view] > 0.0 && s[m.view] >= 0.999)
            .count() as f32;
        let bonus = kind_bonus * matched;
        let best = known + dense_best;
        // What the row could score in each pool, at most (branch-free: `|`
        // and `&` on bools). A vary pool leaves its view out and takes only
        // rows that changed it.
        let other_kind = kinds.iter().any(|&v| s[v] < plan.gaps[v]);
        let kept_known: f32 = plan
            .kept
            .iter()
            .filter(|&&v| layout.views[v].kind == ViewKind::Categorical)
            .map(|&v| w[v] * s[v])
            .sum();
        // A row that changes only view v of the kind counts for v's values.
        let mut tally = false;
        for (t, &(v, _)) in in_tier.iter_mut().zip(&tallied) {
            *t = s[v] < plan.gaps[v] && matched as usize + 1 == kinds.len();
            tally |= *t;
        }
        let mut could_enter = tally | (best + bonus >= near_threshold);
        could_enter |= other_kind & (kept_known + kept_dense_best >= jump_threshold);
        for &(v, wv, gap, categorical) in &varied {
            let (eligible, drop) = if categorical {
                (s[v] < gap, wv * s[v])
            } else {
                (true, wv * 1.01)
            };
            could_enter |= eligible & (best - drop + bonus >= thresholds[v]);
        }
        if !could_enter {
            return;
        }
        if !dense.is_empty() {
            index.view_sims_in(&a, row, &dense, &mut s);
        }
        let total: f32 = active.iter().map(|&v| w[v] * s[v]).sum();
        let key = index.key(row);
        for ((&t, &(v, f)), values) in in_tier.iter().zip(&tallied).zip(&mut tallies) {
            if !t {
                continue;
            }
            let code = index.code(row, f);
            let Some(slot) = values.get_mut(code as usize) else {
                continue;
            };
            slot.count += 1;
            let score = total - w[v] * s[v];
            if score > slot.best.score || (score == slot.best.score && key < slot.key) {
                slot.best = Hit { row, score };
                slot.key = key;
            }
        }
        near.push(row, total + bonus, key);
        near_threshold = near.threshold();
        if other_kind && plan.jump > 0 {
            let kept: f32 = plan.kept.iter().map(|&v| w[v] * s[v]).sum();
            jumps.push(row, kept, crate::hash::mix(key ^ plan.salt));
            jump_threshold = jumps.threshold();
        }
        for &(v, wv, gap, _) in &varied {
            if s[v] < gap {
                pools[v].push(row, total - wv * s[v] - TIE_BREAK * s[v] + bonus, key);
                thresholds[v] = pools[v].threshold();
            }
        }
    });
    Gathered {
        near: near.into_hits(),
        pools: pools.into_iter().map(TopK::into_hits).collect(),
        jumps: jumps.into_hits(),
        popular: (0..views)
            .map(|v| match tallied.iter().position(|&(t, _)| t == v) {
                Some(i) => {
                    let mut values: Vec<Tally> =
                        tallies[i].iter().copied().filter(|t| t.count > 0).collect();
                    values.sort_by(|a, b| {
                        b.count
                            .cmp(&a.count)
                            .then(b.best.score.total_cmp(&a.best.score))
                            .then(a.key.cmp(&b.key))
                    });
                    values.into_iter().map(|t| t.best).collect()
                }
                None => Vec::new(),
            })
            .collect(),
    }
}
