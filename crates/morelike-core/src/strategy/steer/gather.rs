//! Gathering a page's candidates. Each kind of candidate is "the best rows
//! for a prepared query, under the filter and the shown-exclusion":
//! - **near**: the rows most like the anchor: those of its kind first (equal
//!   on more of the weighted categorical views, the kind views), then by
//!   similarity (every view weighted);
//! - **vary v**, for each view v that gets slots: the rows that change v and
//!   keep the rest of the kind where they can, then closest on every other
//!   view, ties going to the bigger change of v; for a categorical v also
//!   the values of v among the rows that change only v, most common first;
//! - **jump**: a fair draw of rows of another kind that keep the views the
//!   shopper kept (the rows' order is a hash of their id with a salt).
//!
//! An approximate index can serve each search on its own: near is the
//! anchor's query with the kind views weighted up; vary v is the same with
//! v's weight set slightly negative and a filter "differs from the anchor on
//! v"; jump is a filter on the kept values and a random order.
//!
//! Here they share an exact scan in two passes. The first counts, per
//! number of kind views matched (a row's *level*), the rows each search
//! could take; a search then needs no row below the level at which it
//! fills up, since the kind comes first. The second pass computes dense
//! similarities (the text dot, the costly part) only for rows at or above
//! some search's level.

use super::super::{matches, Context};
use crate::hash::mix;
use crate::index::{Hit, TopK};
use crate::views::{ViewKind, MISSING};

/// How much more a vary pool prefers a bigger change of its view, between
/// rows that are otherwise equal: far below any weight, it only breaks ties.
pub const TIE_BREAK: f32 = 1e-3;

/// Which kind views a row matches in full, a bit each.
type Mask = u16;

/// The most kind views a scan tells apart (one bit each); further
/// categorical views still weigh in every score but do not rank by kind.
const MAX_KINDS: usize = 12;

/// How a row matches the anchor on the kind views.
struct KindMatches<'a> {
    /// Per kind view: what one matching field adds to the score (weight ×
    /// field share), its fields, and per row how many of them match (for a
    /// view of one field, the column and the anchor's code instead).
    views: Vec<(f32, usize, Matched<'a>)>,
}

enum Matched<'a> {
    One { column: &'a [u32], code: u32 },
    Many(Vec<u16>),
}

impl<'a> KindMatches<'a> {
    fn new(index: &'a crate::index::Index, anchor: u32, kinds: &[usize], w: &[f32]) -> Self {
        let layout = index.layout();
        let views = kinds
            .iter()
            .map(|&v| {
                let fields = layout.views[v].fields.clone();
                let factor = w[v] * layout.field_share(v);
                let matched = if fields.len() == 1 {
                    Matched::One {
                        column: index.column(fields.start),
                        code: index.code(anchor, fields.start),
                    }
                } else {
                    Matched::Many(
                        matches::count(index, anchor, &[v])
                            .pop()
                            .expect("a categorical view")
                            .counts,
                    )
                };
                (factor, fields.len(), matched)
            })
            .collect();
        KindMatches { views }
    }

    /// Every row's mask (one pass per kind view, vectorizable).
    fn mask(&self, rows: usize) -> Vec<Mask> {
        let mut mask = vec![0 as Mask; rows];
        for (b, (_, fields, matched)) in self.views.iter().enumerate() {
            match matched {
                Matched::One { column, code } => {
                    for (m, &c) in mask.iter_mut().zip(column.iter()) {
                        *m |= Mask::from(c == *code && c != MISSING) << b;
                    }
                }
                Matched::Many(counts) => {
                    let full = *fields as u16;
                    for (m, &c) in mask.iter_mut().zip(counts) {
                        *m |= Mask::from(c == full) << b;
                    }
                }
            }
        }
        mask
    }

    /// How many fields of kind view `b` row `r` shares with the anchor.
    #[inline]
    fn count(&self, b: usize, r: usize) -> u16 {
        match &self.views[b].2 {
            Matched::One { column, code } => u16::from(column[r] == *code && *code != MISSING),
            Matched::Many(counts) => counts[r],
        }
    }

    /// A row's weighted similarity on the kind views.
    #[inline]
    fn score(&self, r: usize) -> f32 {
        (0..self.views.len())
            .map(|b| self.views[b].0 * f32::from(self.count(b, r)))
            .sum()
    }
}

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
    /// How many rows to draw that change the anchor's kind but keep the
    /// `kept` views (0: none).
    pub jump: usize,
    /// The categorical views a jump keeps.
    pub kept: &'a [usize],
    /// Orders jump rows, which mostly tie: a hash of the product's key with
    /// this salt, so the draw is fair and the same for every replay.
    pub salt: u64,
}

/// The candidates, each list best first.
pub struct Gathered {
    /// The rows nearest the anchor.
    pub near: Vec<Hit>,
    /// Per view (empty where the view is not varied).
    pub pools: Vec<Vec<Hit>>,
    /// Rows of another kind that keep the kept views.
    pub jumps: Vec<Hit>,
    /// Per categorical view that is varied: its values among the rows that
    /// change only it of the kind views, most common first, each as the
    /// closest such row.
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

    fn offer(&mut self, row: u32, score: f32, key: u64) {
        self.count += 1;
        if score > self.best.score || (score == self.best.score && key < self.key) {
            self.best = Hit { row, score };
            self.key = key;
        }
    }
}

/// A varied view and what its search needs.
struct Varied {
    view: usize,
    weight: f32,
    gap: f32,
    /// Its bit among the kind views (None: a dense view).
    bit: Option<u32>,
    /// The rows it may take have at least this level.
    level: u32,
}

/// Calls `visit` for every row below the index's row count that is not a
/// candidate when the filter is open: deleted rows and excluded ones.
fn each_non_candidate(
    index: &crate::index::Index,
    exclude: &crate::index::RowSet,
    mut visit: impl FnMut(u32),
) {
    let rows = index.row_count();
    for w in 0..rows.div_ceil(64) {
        let live = index.live_rows().word(w);
        let valid = if (w + 1) * 64 <= rows {
            u64::MAX
        } else {
            (1u64 << (rows - w * 64)) - 1
        };
        let mut bits = (!live | exclude.word(w)) & valid;
        while bits != 0 {
            let row = (w * 64) as u32 + bits.trailing_zeros();
            bits &= bits - 1;
            visit(row);
        }
    }
}

/// The lowest level at which the rows at or above it number at least `k`
/// (0 when they never do): a top-`k` by level first needs no row below it.
fn level_for(histogram: &[u32], k: usize) -> u32 {
    let mut total = 0usize;
    for level in (0..histogram.len()).rev() {
        total += histogram[level] as usize;
        if total >= k {
            return level as u32;
        }
    }
    0
}

/// Scans the catalog for a plan.
pub fn gather(cx: &Context<'_>, plan: &Plan<'_>) -> Gathered {
    let index = cx.index;
    let layout = index.layout();
    let views = layout.views.len();
    let w = cx.weights;
    let rows = index.row_count();
    let is_categorical = |v: usize| layout.views[v].kind == ViewKind::Categorical;
    // The kind views (weighted categorical ones), a bit each.
    let kinds: Vec<usize> = (0..views)
        .filter(|&v| w[v] > 0.0 && is_categorical(v))
        .take(MAX_KINDS)
        .collect();
    let bit = |v: usize| kinds.iter().position(|&k| k == v).map(|b| b as u32);
    let dense: Vec<usize> = (0..views)
        .filter(|&v| !is_categorical(v) && (w[v] > 0.0 || plan.varied.contains(&v)))
        .collect();
    // Per row: which kind views it matches in full (a bit each).
    let kind_matches = KindMatches::new(index, plan.anchor, &kinds, w);
    let mask = kind_matches.mask(rows);
    let all_kinds: Mask = ((1u32 << kinds.len()) - 1) as Mask;
    let kept_bits: Mask = plan
        .kept
        .iter()
        .filter_map(|&v| bit(v))
        .fold(0, |m: Mask, b| m | 1 << b);
    let mut varied: Vec<Varied> = plan
        .varied
        .iter()
        .map(|&v| Varied {
            view: v,
            weight: w[v],
            gap: plan.gaps[v],
            bit: bit(v),
            level: 0,
        })
        .collect();
    // Per varied categorical view: the field that names its values (its
    // finest), and their tallies.
    let mut tallies: Vec<Option<(usize, Vec<[Tally; 2]>)>> = varied
        .iter()
        .map(|v| {
            v.bit.map(|_| {
                let field = layout.views[v.view]
                    .fields
                    .clone()
                    .max_by_key(|&f| (index.dictionary(f).len(), f))
                    .expect("a categorical view has a field");
                (field, vec![[Tally::NONE; 2]; index.dictionary(field).len()])
            })
        })
        .collect();
    // First pass: how many rows show each combination of matched kind
    // views; from it, how many each search could take, by level.
    let combinations = 1usize << kinds.len();
    let levels = kinds.len() + 1;
    let eligible = |v: &Varied, m: Mask| v.bit.is_none_or(|b| m & (1 << b) == 0);
    let mut by_mask = vec![0u32; combinations];
    if cx.filter.is_open() {
        // Every row, then take back the rows that are not candidates
        // (deleted or shown: few), in tight loops.
        for &m in &mask {
            by_mask[m as usize] += 1;
        }
        each_non_candidate(index, cx.exclude, |row| {
            by_mask[mask[row as usize] as usize] -= 1;
        });
    } else {
        index.each_candidate(cx.exclude, cx.filter, |row| {
            by_mask[mask[row as usize] as usize] += 1;
        });
    }
    let mut near_histogram = vec![0u32; levels];
    let mut pool_histograms = vec![vec![0u32; levels]; varied.len()];
    for (m, &n) in by_mask.iter().enumerate() {
        let m = m as Mask;
        let level = m.count_ones() as usize;
        near_histogram[level] += n;
        for (h, v) in pool_histograms.iter_mut().zip(&varied) {
            // A dense view's change shows only in the dense part: count
            // every row (a lower level, never a wrong one).
            h[level] += if eligible(v, m) { n } else { 0 };
        }
    }
    let near_level = level_for(&near_histogram, plan.near);
    for (v, h) in varied.iter_mut().zip(&pool_histograms) {
        v.level = level_for(h, plan.pool);
    }
    let tier = kinds.len() as u32 - u32::from(!kinds.is_empty());
    // What a row with a given combination of matched kind views is for.
    const WANTED: u8 = 1;
    const TIER: u8 = 2;
    const JUMP: u8 = 4;
    let has_tallies = tallies.iter().any(Option::is_some);
    let classes: Vec<u8> = (0..combinations)
        .map(|m| {
            let m = m as Mask;
            let level = m.count_ones();
            let wanted =
                level >= near_level || varied.iter().any(|v| eligible(v, m) && level >= v.level);
            let tier = has_tallies && level + 1 >= tier && level <= tier;
            let jump = plan.jump > 0 && m & kept_bits == kept_bits && m != all_kinds;
            (u8::from(wanted) * WANTED) | (u8::from(tier) * TIER) | (u8::from(jump) * JUMP)
        })
        .collect();
    // Second pass: sort the rows into what they are for (a tight loop).
    let mut wanted: Vec<u32> = Vec::new();
    let mut tier_rows: Vec<u32> = Vec::new();
    let mut draw: Vec<(u64, u32)> = Vec::new();
    let mut sort = |row: u32, class: u8| {
        if class & WANTED != 0 {
            wanted.push(row);
        }
        if class & TIER != 0 {
            tier_rows.push(row);
        }
        if class & JUMP != 0 {
            draw.push((mix(index.key(row) ^ plan.salt), row));
        }
    };
    if cx.filter.is_open() {
        // Most rows are for nothing: look at the table first.
        for (r, &m) in mask.iter().enumerate() {
            let class = classes[m as usize];
            let row = r as u32;
            if class != 0 && index.is_live(row) && !cx.exclude.contains(row) {
                sort(row, class);
            }
        }
    } else {
        index.each_candidate(cx.exclude, cx.filter, |row| {
            sort(row, classes[mask[row as usize] as usize]);
        });
    }
    // Jumps: the draw's smallest hashes.
    let jumps: Vec<Hit> = {
        let n = plan.jump.min(draw.len());
        if n > 0 && n < draw.len() {
            draw.select_nth_unstable(n - 1);
        }
        draw.truncate(n);
        draw.sort_unstable();
        draw.iter()
            .map(|&(_, row)| Hit { row, score: 0.0 })
            .collect()
    };
    // A row that changes only view v of the kind counts for v's values (a
    // row that changes one more view counts apart, for values no row of
    // the first kind shows); the closest of a value by the categorical
    // views (no dense part: there can be thousands of such rows).
    for &row in &tier_rows {
        let r = row as usize;
        let m = mask[r];
        let key = index.key(row);
        for (v, tally) in varied.iter().zip(&mut tallies) {
            if let (Some(b), Some((field, tallies))) = (v.bit, tally.as_mut()) {
                if m & (1 << b) == 0 {
                    let s_v =
                        layout.field_share(v.view) * f32::from(kind_matches.count(b as usize, r));
                    let score = kind_matches.score(r) - v.weight * s_v;
                    let nearness = (tier - m.count_ones()) as usize;
                    if let Some(t) = tallies.get_mut(index.code(row, *field) as usize) {
                        t[nearness].offer(row, score, key);
                    }
                }
            }
        }
    }
    // Near and vary searches over the rows at or above their levels.
    let a = index.point(plan.anchor);
    // A dense similarity is at most 1 (a little more after quantization).
    let dense_best: f32 = dense.iter().map(|&v| w[v] * 1.01).sum();
    let mut near = TopK::new(plan.near);
    let mut pools: Vec<TopK> = varied.iter().map(|_| TopK::new(plan.pool)).collect();
    let bonus = w.iter().sum::<f32>() * 1.01 + 1.0;
    let mut s = vec![0.0f32; views];
    for &row in &wanted {
        let r = row as usize;
        let m = mask[r];
        let level = m.count_ones();
        for (b, &v) in kinds.iter().enumerate() {
            s[v] = f32::from(kind_matches.count(b, r)) * layout.field_share(v);
        }
        let categorical = kind_matches.score(r);
        // Rows at a search's boundary level enter only if they can beat it.
        let rank = bonus * level as f32;
        let best = categorical + dense_best + rank;
        let mut could_enter = level > near_level || best >= near.threshold();
        for (v, pool) in varied.iter().zip(&pools) {
            if !eligible(v, m) {
                continue;
            }
            let drop = if v.bit.is_some() {
                v.weight * s[v.view]
            } else {
                0.0
            };
            could_enter |= level >= v.level && best - drop >= pool.threshold();
        }
        if !could_enter {
            continue;
        }
        index.view_sims_in(&a, row, &dense, &mut s);
        let total = categorical + dense.iter().map(|&v| w[v] * s[v]).sum::<f32>();
        let key = index.key(row);
        if level >= near_level {
            near.push(row, total + rank, key);
        }
        for (v, pool) in varied.iter().zip(&mut pools) {
            let changed = match v.bit {
                Some(b) => m & (1 << b) == 0,
                None => s[v.view] < v.gap,
            };
            if changed && level >= v.level {
                let score = total - v.weight * s[v.view];
                pool.push(row, score - TIE_BREAK * s[v.view] + rank, key);
            }
        }
    }
    let mut pools_by_view = vec![Vec::new(); views];
    let mut popular = vec![Vec::new(); views];
    for ((v, pool), tally) in varied.iter().zip(pools).zip(tallies) {
        pools_by_view[v.view] = pool.into_hits();
        if let Some((_, tallies)) = tally {
            // Values that keep the rest of the kind first, then values seen
            // only one view further away.
            let mut values: Vec<(usize, Tally)> = tallies
                .into_iter()
                .filter_map(|[t0, t1]| {
                    if t0.count > 0 {
                        Some((0, t0))
                    } else if t1.count > 0 {
                        Some((1, t1))
                    } else {
                        None
                    }
                })
                .collect();
            values.sort_by(|(ta, a), (tb, b)| {
                ta.cmp(tb)
                    .then(b.count.cmp(&a.count))
                    .then(b.best.score.total_cmp(&a.best.score))
                    .then(a.key.cmp(&b.key))
            });
            popular[v.view] = values.into_iter().map(|(_, t)| t.best).collect();
        }
    }
    Gathered {
        near: near.into_hits(),
        pools: pools_by_view,
        jumps,
        popular,
    }
}

#[cfg(test)]
mod tests {
    use super::level_for;

    #[test]
    fn the_level_is_where_the_rows_above_first_fill_the_search() {
        // 1 row matches nothing, 3 match one view, 5 two, 2 all three.
        let histogram = [1, 3, 5, 2];
        assert_eq!(level_for(&histogram, 2), 3);
        assert_eq!(level_for(&histogram, 3), 2);
        assert_eq!(level_for(&histogram, 7), 2);
        assert_eq!(level_for(&histogram, 8), 1);
        assert_eq!(level_for(&histogram, 100), 0);
    }
}
