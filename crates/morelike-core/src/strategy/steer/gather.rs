//! Gathering a page's candidates. Each kind of candidate is "the best rows
//! for a prepared query, under the filter and the shown-exclusion":
//! - **near**: the rows most like the anchor: those of its kind first (equal
//!   on more of the weighted categorical views, the *kind views*), then by
//!   similarity (every view weighted);
//! - **vary v**, for each view v that gets slots: the rows that change v and
//!   keep the rest of the kind where they can, then closest on every other
//!   view, ties going to the bigger change of v; for a categorical v also
//!   the values of v among the products that change only v (then only v and
//!   one more view), most common first;
//! - **jump**: the most common kinds that keep the views the shopper kept.
//!
//! Every search leaves out the shown products, the filtered-out ones and
//! the kinds the given [`Bars`] bar (the page passes none at first, and
//! the downvotes' bars when nothing it gathered could go on the page).
//!
//! An approximate index can serve each search on its own: near is the
//! anchor's query with the kind views weighted up; vary v is the same with
//! v's weight set slightly negative and a filter "differs from the anchor on
//! v"; the popular values and jumps are counts over the index's kinds.
//!
//! Here the work is done over the index's kinds (products that share every
//! categorical value: a few thousand where there are tens of thousands of
//! products). A kind's *level* is how many kind views it matches in full;
//! a search that ranks by level first needs no row below the level at which
//! it fills up, and only a fair sample of the rows at that level: the first
//! rows of each kind, which the index keeps in product-key (hash) order.
//! Only rows that a search may still take get the dense part (the text
//! dot). The work is so bounded by the number of kinds plus a few hundred
//! rows, whatever the catalog's size.

use std::cell::Cell;

use super::super::Context;
use super::bars::Bars;
use crate::hash::mix;
use crate::index::{Hit, Index, TopK};
use crate::views::{ViewKind, MISSING};

/// How much more a vary pool prefers a bigger change of its view, between
/// rows that are otherwise equal: far below any weight, it only breaks ties.
pub const TIE_BREAK: f32 = 1e-3;

/// Which kind views a kind matches in full, a bit each.
type Mask = u16;

/// The most kind views a scan tells apart (one bit each); further
/// categorical views still weigh in every score but do not rank by kind.
const MAX_KINDS: usize = 12;

/// The most views varied at once (a bit each in a row's pool set).
const MAX_VARIED: usize = 64;

/// A search ranks at most this many rows per row it keeps at its boundary
/// level (a fair sample of them when there are more); rows above that
/// level always count.
const BOUNDARY_SAMPLE: usize = 8;

/// Kinds kept per varied value list and for jumps, most common first.
const POPULAR: usize = 64;

/// Kinds the per-kind pass takes at a time: its working columns for them
/// stay in the first-level cache while every field is compared.
const BLOCK: usize = 512;

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
    /// Whether to gather jumps: kinds that change the anchor's kind but
    /// keep the `kept` views.
    pub jump: bool,
    /// The categorical views a jump keeps.
    pub kept: &'a [usize],
    /// Breaks ties between equally common kinds (a hash of the kind's
    /// values with this salt), so the order is fair and replays the same.
    pub salt: u64,
}

/// The candidates, each list best first.
pub struct Gathered {
    /// The rows nearest the anchor.
    pub near: Vec<Hit>,
    /// Per view (empty where the view is not varied).
    pub pools: Vec<Vec<Hit>>,
    /// One row per kind of another kind that keeps the kept views, the
    /// most common kinds first.
    pub jumps: Vec<Hit>,
    /// Per categorical view that is varied: one row per value among the
    /// products that change only it of the kind views (then only it and
    /// one more), most common first.
    pub popular: Vec<Vec<Hit>>,
}

/// A page's per-kind working space, kept by each thread from one page to
/// the next: at a million products each of these holds 66k entries, and
/// allocating and freeing them on every page cost more than filling them
/// (BENCHMARKS.md, "Per-kind vectors kept per thread").
#[derive(Default)]
struct Scratch {
    kinds: Kinds,
    /// The kinds at or above the passes' floor, whatever their candidates.
    high: Vec<u32>,
    /// The same with candidates, less the barred kinds.
    upper: Vec<u32>,
    barred: Vec<bool>,
    region: Vec<(u32, u32)>,
    counts: Vec<u32>,
    /// The (anchor, salt) of the gathering whose per-kind pass `kinds`
    /// holds, untouched by bars: gathering the same page again reuses it.
    pristine: Option<(u32, u64)>,
}

thread_local! {
    /// This thread's [`Scratch`]; a page takes it and gives it back (a
    /// nested page, if there ever were one, would start from empty).
    static SCRATCH: Cell<Scratch> = Cell::default();
}

/// A kind as this page sees it.
#[derive(Clone, Copy)]
struct KindState {
    mask: Mask,
    /// How many kind views it matches in full (the bits of `mask`).
    level: u16,
    /// The weighted similarity of its kind views to the anchor's.
    score: f32,
    /// Its products that may go on the page.
    candidates: u32,
}

/// Every kind as this page sees it, a column per part of [`KindState`]:
/// the per-kind pass writes each column where it works on it, and passes
/// over every kind read only the columns they test.
#[derive(Default)]
struct Kinds {
    masks: Vec<Mask>,
    levels: Vec<u16>,
    scores: Vec<f32>,
    candidates: Vec<u32>,
}

impl Kinds {
    fn len(&self) -> usize {
        self.levels.len()
    }

    fn get(&self, kind: usize) -> KindState {
        KindState {
            mask: self.masks[kind],
            level: self.levels[kind],
            score: self.scores[kind],
            candidates: self.candidates[kind],
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
    /// The share of a kind's rows it takes at exactly that level (all of
    /// them when few): the first ones by product key, a fair sample.
    share: f32,
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

/// The share of `count` rows that makes about `wanted` of them (all when
/// `count` is not more than `wanted`).
fn share(count: u32, wanted: usize) -> f32 {
    if count as usize <= wanted {
        1.0
    } else {
        wanted as f32 / count as f32
    }
}

/// How many of a kind's `candidates` a search taking `share` of them
/// visits. A kind with fewer than one row's worth gives one row or none,
/// by a draw on its hash (`draw`, uniform in 0..1): a boundary level of
/// thousands of small kinds is sampled kind by kind, not visited whole.
fn taken(candidates: u32, share: f32, draw: impl FnOnce() -> f32) -> usize {
    let wanted = candidates as f32 * share;
    if wanted >= 1.0 {
        (wanted.ceil() as usize).min(candidates as usize)
    } else {
        usize::from(draw() < wanted)
    }
}

/// The first row of a kind (smallest product key) that may go on the page.
fn first_candidate(cx: &Context<'_>, kind: u32) -> Option<u32> {
    cx.index
        .kind_rows(kind)
        .iter()
        .copied()
        .find(|&row| !cx.exclude.contains(row) && cx.filter.accepts(cx.index, row))
}

/// Per kind, its products that may go on the page: not shown, and passed
/// by the filter. A filter on categorical values passes or fails a kind
/// whole (its shown rows are then taken back); one on stock or price is
/// checked row by row, only in the kinds its values pass.
fn candidates_by_kind(cx: &Context<'_>, counts: &mut Vec<u32>) {
    let index = cx.index;
    let filter = cx.filter;
    counts.clear();
    counts.extend_from_slice(index.kind_sizes());
    let by_kind = filter.is_by_kind();
    if !filter.is_open() {
        for (k, n) in counts.iter_mut().enumerate() {
            if !filter.accepts_codes(index.kind_codes(k as u32)) {
                *n = 0;
            } else if !by_kind {
                *n = index
                    .kind_rows(k as u32)
                    .iter()
                    .filter(|&&row| !cx.exclude.contains(row) && filter.accepts(index, row))
                    .count() as u32;
            }
        }
    }
    if by_kind {
        for word in 0..cx.exclude.words() {
            let mut bits = cx.exclude.word(word) & index.live_rows().word(word);
            while bits != 0 {
                let row = (word * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                if filter.accepts(index, row) {
                    counts[index.kind_of(row) as usize] -= 1;
                }
            }
        }
    }
}

/// A kind's values hashed, for fair tie-breaks that do not depend on the
/// order kinds were first seen in.
fn kind_hash(index: &Index, kind: u32, salt: u64) -> u64 {
    index
        .kind_codes(kind)
        .iter()
        .fold(salt, |h, &c| mix(h ^ u64::from(c)))
}

/// Every kind against the anchor, over the index's columns of kind codes
/// (tens of thousands of kinds at a million products: compares that
/// vectorize, no pointer per kind), a block of kinds at a time: its mask
/// and level over the kind views, its score over the `scored` views (with
/// their field counts and kind bits) and its candidates, into `kinds`; the
/// kinds at or above `floor`, into `high`.
#[inline(never)]
fn kinds_pass(
    cx: &Context<'_>,
    anchor_codes: &[u32],
    scored: &[(usize, f32)],
    fields_of: &[u16],
    bit_of: &[Option<u32>],
    floor: u32,
    scratch: &mut Scratch,
) {
    let index = cx.index;
    let layout = index.layout();
    let kind_count = index.kind_count();
    let Scratch { kinds, high, .. } = scratch;
    candidates_by_kind(cx, &mut kinds.candidates);
    // Per scored view, the columns of its fields the anchor has a value
    // in (a missing value matches nothing), with that value.
    let columns: Vec<Vec<(&[u32], u32)>> = scored
        .iter()
        .map(|&(v, _)| {
            layout.views[v]
                .fields
                .clone()
                .filter(|&f| anchor_codes[f] != MISSING)
                .map(|f| (index.kind_column(f), anchor_codes[f]))
                .filter(|(column, _)| column.len() >= kind_count)
                .collect()
        })
        .collect();
    for column in [&mut kinds.masks, &mut kinds.levels] {
        column.clear();
        column.resize(kind_count, 0);
    }
    kinds.scores.clear();
    kinds.scores.resize(kind_count, 0.0);
    high.clear();
    let mut matched = [0u16; BLOCK];
    for start in (0..kind_count).step_by(BLOCK) {
        let n = BLOCK.min(kind_count - start);
        let block = start..start + n;
        let matched = &mut matched[..n];
        let scores = &mut kinds.scores[block.clone()];
        let masks = &mut kinds.masks[block.clone()];
        let levels = &mut kinds.levels[block.clone()];
        for (i, &(_, factor)) in scored.iter().enumerate() {
            matched.fill(0);
            for &(column, anchor) in &columns[i] {
                for (m, &code) in matched.iter_mut().zip(&column[block.clone()]) {
                    *m += u16::from(code == anchor);
                }
            }
            for (score, &m) in scores.iter_mut().zip(matched.iter()) {
                *score += factor * f32::from(m);
            }
            if let Some(b) = bit_of[i] {
                let full = fields_of[i];
                for ((mask, level), &m) in
                    masks.iter_mut().zip(levels.iter_mut()).zip(matched.iter())
                {
                    let whole = m == full;
                    *mask |= Mask::from(whole) << b;
                    *level += u16::from(whole);
                }
            }
        }
        // Listed without a branch: each kind is written, and kept when
        // it is high enough.
        let mut listed = [0u32; BLOCK];
        let mut kept = 0;
        for (j, &level) in levels.iter().enumerate() {
            listed[kept] = (start + j) as u32;
            kept += usize::from(u32::from(level) >= floor);
        }
        high.extend_from_slice(&listed[..kept]);
    }
}

/// Gathers a plan's candidates.
///
/// `again`: the last gathering on this thread was this page's, without
/// bars; its per-kind pass (which depends on the anchor, the weights, the
/// filter and the shown products, not on the bars) is taken as it was.
pub fn gather(cx: &Context<'_>, plan: &Plan<'_>, bars: &Bars, again: bool) -> Gathered {
    let index = cx.index;
    let layout = index.layout();
    let views = layout.views.len();
    let w = cx.weights;
    let is_categorical = |v: usize| layout.views[v].kind == ViewKind::Categorical;
    // The kind views (weighted categorical ones), a bit each.
    let kind_views: Vec<usize> = (0..views)
        .filter(|&v| w[v] > 0.0 && is_categorical(v))
        .take(MAX_KINDS)
        .collect();
    let bit = |v: usize| kind_views.iter().position(|&k| k == v).map(|b| b as u32);
    let all_bits: Mask = ((1u32 << kind_views.len()) - 1) as Mask;
    let kept_bits: Mask = plan
        .kept
        .iter()
        .filter_map(|&v| bit(v))
        .fold(0, |m: Mask, b| m | 1 << b);
    let dense: Vec<usize> = (0..views)
        .filter(|&v| !is_categorical(v) && (w[v] > 0.0 || plan.varied.contains(&v)))
        .collect();
    // Every weighted categorical view (kind views and any beyond the cap),
    // with what one matching field adds to a score.
    let scored: Vec<(usize, f32)> = (0..views)
        .filter(|&v| w[v] > 0.0 && is_categorical(v))
        .map(|v| (v, w[v] * layout.field_share(v)))
        .collect();
    let anchor_codes = index.codes(plan.anchor).to_vec();
    let matching = |codes: &[u32], v: usize| -> u16 {
        layout.views[v]
            .fields
            .clone()
            .filter(|&f| codes[f] == anchor_codes[f] && codes[f] != MISSING)
            .count() as u16
    };
    // Per scored view: its field count and its kind bit (if a kind view).
    let fields_of: Vec<u16> = scored
        .iter()
        .map(|&(v, _)| layout.views[v].fields.len() as u16)
        .collect();
    let bit_of: Vec<Option<u32>> = scored.iter().map(|&(v, _)| bit(v)).collect();
    let kind_count = index.kind_count();
    // Most kinds share little with the anchor (66k kinds at a million
    // products, a few thousand of them at the levels a search takes): the
    // passes below visit the kinds at or above `floor` (what the popular
    // values need), and all of them only when those do not fill a search.
    let tier = kind_views.len() as u32 - u32::from(!kind_views.is_empty());
    let floor = tier.saturating_sub(1);
    let mut scratch = SCRATCH.with(Cell::take);
    let reuse = again
        && scratch.pristine == Some((plan.anchor, plan.salt))
        && scratch.kinds.len() == kind_count;
    scratch.pristine = None;
    if !reuse {
        kinds_pass(
            cx,
            &anchor_codes,
            &scored,
            &fields_of,
            &bit_of,
            floor,
            &mut scratch,
        );
    }
    let Scratch {
        kinds,
        high,
        upper,
        barred,
        region,
        counts,
        ..
    } = &mut scratch;
    barred.clear();
    // A kind the downvotes bar has no candidates; worked out only for
    // the kinds a pass visits.
    let unbarred = |candidates: &mut u32, i: u32| {
        if *candidates > 0 && !bars.is_empty() && bars.bar(index, index.kind_codes(i)) {
            *candidates = 0;
        }
        *candidates > 0
    };
    let mut varied: Vec<Varied> = plan
        .varied
        .iter()
        .take(MAX_VARIED)
        .map(|&v| Varied {
            view: v,
            weight: w[v],
            gap: plan.gaps[v],
            bit: bit(v),
            level: 0,
            share: 1.0,
        })
        .collect();
    let eligible = |v: &Varied, m: Mask| v.bit.is_none_or(|b| m & (1 << b) == 0);
    // How many rows each search could take, by level.
    let levels = kind_views.len() + 1;
    upper.clear();
    upper.extend(
        high.iter()
            .copied()
            .filter(|&i| unbarred(&mut kinds.candidates[i as usize], i)),
    );
    let upper = &*upper;
    let mut near_histogram = vec![0u32; levels];
    let mut pool_histograms = vec![vec![0u32; levels]; varied.len()];
    let count = |near: &mut [u32], pools: &mut [Vec<u32>], k: &KindState| {
        let level = usize::from(k.level);
        near[level] += k.candidates;
        for (h, v) in pools.iter_mut().zip(&varied) {
            // A dense view's change shows only in the dense part: count
            // every row (a lower level, never a wrong one).
            if eligible(v, k.mask) {
                h[level] += k.candidates;
            }
        }
    };
    for &i in upper {
        count(
            &mut near_histogram,
            &mut pool_histograms,
            &kinds.get(i as usize),
        );
    }
    let filled = |h: &[u32], k: usize| level_for(h, k) >= floor;
    if !filled(&near_histogram, plan.near) || pool_histograms.iter().any(|h| !filled(h, plan.pool))
    {
        if !bars.is_empty() {
            // The kinds at or above the floor were checked already.
            bars.barred_kinds(index, |i| u32::from(kinds.levels[i]) < floor, barred);
        }
        for i in 0..kinds.len() {
            if barred.get(i).copied().unwrap_or(false) {
                kinds.candidates[i] = 0;
            }
            if u32::from(kinds.levels[i]) < floor && kinds.candidates[i] > 0 {
                count(&mut near_histogram, &mut pool_histograms, &kinds.get(i));
            }
        }
    }
    let kinds = &*kinds;
    let near_level = level_for(&near_histogram, plan.near);
    let near_share = share(
        near_histogram[near_level as usize],
        plan.near * BOUNDARY_SAMPLE,
    );
    for (v, h) in varied.iter_mut().zip(&pool_histograms) {
        v.level = level_for(h, plan.pool);
        v.share = share(h[v.level as usize], plan.pool * BOUNDARY_SAMPLE);
    }
    // The values of each varied categorical view: kinds that change only
    // it of the kind views (nearness 0), or it and one more (nearness 1).
    let popular = popular_values(cx, kinds, upper, &varied, tier, plan.salt);
    // Jumps: the most common other kinds that keep the kept views.
    let jumps = if plan.jump {
        region.clear();
        region.extend(
            kinds
                .masks
                .iter()
                .zip(&kinds.candidates)
                .enumerate()
                .filter(|&(_, (&mask, &n))| {
                    n > 0 && mask & kept_bits == kept_bits && mask != all_bits
                })
                .map(|(i, (_, &n))| (n, i as u32)),
        );
        // Only kinds as common as the POPULAR-th can be taken: hash those.
        if region.len() > POPULAR {
            counts.clear();
            counts.extend(region.iter().map(|&(n, _)| n));
            let (_, &mut least, _) = counts.select_nth_unstable_by(POPULAR - 1, |a, b| b.cmp(a));
            region.retain(|&(n, _)| n >= least);
        }
        let mut region: Vec<(u32, u64, u32)> = region
            .iter()
            .map(|&(n, kind)| (n, kind_hash(index, kind, plan.salt), kind))
            .collect();
        region.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        // Kinds below the passes' floor were not checked against the bars.
        region
            .into_iter()
            .filter(|&(_, _, kind)| bars.is_empty() || !bars.bar(index, index.kind_codes(kind)))
            .take(POPULAR)
            .filter_map(|(_, _, kind)| first_candidate(cx, kind))
            .map(|row| Hit { row, score: 0.0 })
            .collect()
    } else {
        Vec::new()
    };
    // Near and vary searches over the rows of kinds at or above their
    // levels (a fair sample at the boundary level).
    let a = index.point(plan.anchor);
    // A dense similarity is at most 1 (a little more after quantization).
    let dense_best: f32 = dense.iter().map(|&v| w[v] * 1.01).sum();
    let bonus = w.iter().sum::<f32>() * 1.01 + 1.0;
    let mut near = TopK::new(plan.near);
    let mut pools: Vec<TopK> = varied.iter().map(|_| TopK::new(plan.pool)).collect();
    let mut s = vec![0.0f32; views];
    let mut own: Vec<f32> = Vec::with_capacity(varied.len());
    let mut limits: Vec<usize> = Vec::with_capacity(varied.len());
    // No search takes a row below the lowest of their levels.
    let lowest = varied.iter().map(|v| v.level).fold(near_level, u32::min);
    // Every kind, or only those at or above the floor.
    let (every, listed): (_, &[u32]) = if lowest < floor {
        (0..kinds.len() as u32, &[])
    } else {
        (0..0, upper)
    };
    let visited = every.chain(listed.iter().copied());
    for i in visited {
        let i = i as usize;
        if kinds.candidates[i] == 0 || u32::from(kinds.levels[i]) < lowest {
            continue;
        }
        let k = &kinds.get(i);
        let level = u32::from(k.level);
        let near_may = level >= near_level;
        let pools_may = varied
            .iter()
            .enumerate()
            .filter(|(_, v)| eligible(v, k.mask) && level >= v.level)
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        if !near_may && pools_may == 0 {
            continue;
        }
        let codes = index.kind_codes(i as u32);
        // A varied categorical view's own similarity (a partial match of
        // its fields; the pool takes only kinds that change it).
        own.clear();
        own.extend(varied.iter().map(|v| match v.bit {
            Some(_) => f32::from(matching(codes, v.view)) * layout.field_share(v.view),
            None => 0.0,
        }));
        let rank = bonus * level as f32;
        let best = k.score + dense_best + rank;
        // No row of the kind scores above its bound: leave it before its
        // rows are read when no search would take that bound now.
        let near_may = near_may && best >= near.threshold();
        let pools_may = (0..varied.len())
            .filter(|&j| pools_may & (1 << j) != 0)
            .filter(|&j| best - varied[j].weight * own[j] >= pools[j].threshold())
            .fold(0u64, |bits, j| bits | 1 << j);
        if !near_may && pools_may == 0 {
            continue;
        }
        // How far into the kind (rows by product key) each search looks:
        // every row above its level, a fair first share at it.
        let mut draw = None;
        let mut reach = |above: bool, share: f32| {
            if above {
                usize::MAX
            } else {
                taken(k.candidates, share, || {
                    *draw.get_or_insert_with(|| {
                        (kind_hash(index, i as u32, plan.salt) >> 40) as f32 / (1u64 << 24) as f32
                    })
                })
            }
        };
        let near_reach = if near_may {
            reach(level > near_level, near_share)
        } else {
            0
        };
        limits.clear();
        limits.extend(varied.iter().enumerate().map(|(j, v)| {
            if pools_may & (1 << j) != 0 {
                reach(level > v.level, v.share)
            } else {
                0
            }
        }));
        let visit = limits.iter().copied().max().unwrap_or(0).max(near_reach);
        if visit == 0 {
            continue;
        }
        let rows = index.kind_rows(i as u32);
        // Rows shown or filtered out do not count toward the sample.
        let mut at = 0;
        for &row in rows {
            if at >= visit {
                break;
            }
            if cx.exclude.contains(row) || !cx.filter.accepts(index, row) {
                continue;
            }
            at += 1;
            let at = at - 1;
            let key = index.key(row);
            let near_takes = at < near_reach && best >= near.threshold();
            let mut takes = 0u64;
            let mut may = pools_may;
            while may != 0 {
                let j = may.trailing_zeros() as usize;
                may &= may - 1;
                let v = &varied[j];
                if at < limits[j] && best - v.weight * own[j] >= pools[j].threshold() {
                    takes |= 1 << j;
                }
            }
            if !near_takes && takes == 0 {
                // Nor will any later row of the kind: `at` only grows, the
                // bound is the kind's, and the thresholds only rise.
                break;
            }
            index.view_sims_in(&a, row, &dense, &mut s);
            let total = k.score + dense.iter().map(|&v| w[v] * s[v]).sum::<f32>();
            if near_takes {
                near.push(row, total + rank, key);
            }
            while takes != 0 {
                let j = takes.trailing_zeros() as usize;
                takes &= takes - 1;
                let v = &varied[j];
                let s_v = if v.bit.is_some() { own[j] } else { s[v.view] };
                if v.bit.is_none() && s_v >= v.gap {
                    continue;
                }
                pools[j].push(row, total - v.weight * s_v - TIE_BREAK * s_v + rank, key);
            }
        }
    }
    let mut pools_by_view = vec![Vec::new(); views];
    for (v, pool) in varied.iter().zip(pools) {
        pools_by_view[v.view] = pool.into_hits();
    }
    scratch.pristine = bars.is_empty().then_some((plan.anchor, plan.salt));
    SCRATCH.with(|cell| cell.set(scratch));
    Gathered {
        near: near.into_hits(),
        pools: pools_by_view,
        jumps,
        popular,
    }
}

/// The last resort when the gathered candidates cannot fill a page: every
/// kind with products, those most like the anchor's first (weighted
/// categorical views), then the others (the page takes each kind's
/// products smallest key first). Lazy: the page takes only as many as it
/// needs.
pub fn kinds_nearest_first<'a>(cx: &'a Context<'a>, anchor: u32) -> impl Iterator<Item = u32> + 'a {
    let index = cx.index;
    let layout = index.layout();
    let anchor_codes = index.codes(anchor).to_vec();
    let factors: Vec<(usize, f32)> = (0..layout.fields.len())
        .map(|f| {
            let v = layout.fields[f].1;
            let w = cx.weights[v];
            let categorical = layout.views[v].kind == ViewKind::Categorical;
            (
                f,
                if categorical {
                    w * layout.field_share(v)
                } else {
                    0.0
                },
            )
        })
        .collect();
    let scores: Vec<f32> = (0..index.kind_count() as u32)
        .map(|k| {
            let codes = index.kind_codes(k);
            factors
                .iter()
                .filter(|&&(f, _)| codes[f] == anchor_codes[f] && codes[f] != MISSING)
                .map(|&(_, x)| x)
                .sum()
        })
        .collect();
    // Kinds by score, best first, ties by their hash. Scores take few
    // distinct values (sums of a few fields' factors): one pass puts the
    // kinds with products in a bucket per score (by its bits: equal bits,
    // equal in `total_cmp`), and a bucket's kinds are hashed and ordered
    // only when the page gets that far.
    let mut buckets: Vec<(f32, Vec<u32>)> = Vec::new();
    let mut bucket_of: hashbrown::HashMap<u32, usize> = hashbrown::HashMap::new();
    let mut last = usize::MAX;
    for (k, &score) in scores.iter().enumerate() {
        if index.kind_rows(k as u32).is_empty() {
            continue;
        }
        if buckets
            .get(last)
            .is_none_or(|b| b.0.to_bits() != score.to_bits())
        {
            last = *bucket_of.entry(score.to_bits()).or_insert_with(|| {
                buckets.push((score, Vec::new()));
                buckets.len() - 1
            });
        }
        buckets[last].1.push(k as u32);
    }
    buckets.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    buckets.into_iter().flat_map(move |(_, kinds)| {
        let mut order: Vec<(u64, u32)> = kinds
            .into_iter()
            .map(|k| (kind_hash(index, k, 0), k))
            .collect();
        order.sort_unstable();
        order.into_iter().map(|(_, k)| k)
    })
}

/// Per varied categorical view, one row per value, most common first:
/// values shown by kinds that change only that view of the kind views,
/// then values shown only by kinds that change one more view. A value's
/// row is the first candidate of its most common kind.
fn popular_values(
    cx: &Context<'_>,
    kinds: &Kinds,
    upper: &[u32],
    varied: &[Varied],
    tier: u32,
    salt: u64,
) -> Vec<Vec<Hit>> {
    let index = cx.index;
    let layout = index.layout();
    let mut popular = vec![Vec::new(); layout.views.len()];
    // Per value and nearness: (products, best kind's products, its hash
    // (worked out only when a tie needs it), kind).
    type Slot = (u32, u32, Option<u64>, u32);
    // Per varied categorical view: its bit, the column of the field that
    // names its values (its finest) and a slot per value and nearness.
    type Table<'c> = (usize, u32, &'c [u32], Vec<[Slot; 2]>);
    let mut tables: Vec<Table> = varied
        .iter()
        .filter_map(|v| {
            let b = v.bit?;
            let field = layout.views[v.view]
                .fields
                .clone()
                .max_by_key(|&f| (index.dictionary(f).len(), f))
                .expect("a categorical view has a field");
            let values = vec![[(0, 0, None, 0); 2]; index.dictionary(field).len()];
            Some((v.view, b, index.kind_column(field), values))
        })
        .collect();
    let wanted = tables.iter().fold(0 as Mask, |m, t| m | 1 << t.1);
    // One pass over the kinds for every view: a kind that changes one or
    // two kind views counts for each of them.
    for &i in upper {
        let i = i as usize;
        let (candidates, level, mask) = (
            kinds.candidates[i],
            u32::from(kinds.levels[i]),
            kinds.masks[i],
        );
        if candidates == 0 || level + 1 < tier || level > tier || (!mask & wanted) == 0 {
            continue;
        }
        let nearness = (tier - level) as usize;
        for (_, b, column, values) in &mut tables {
            if mask & (1 << *b) != 0 {
                continue;
            }
            let code = column[i];
            if code == MISSING {
                continue;
            }
            let Some(value) = values.get_mut(code as usize) else {
                continue;
            };
            let slot = &mut value[nearness];
            slot.0 += candidates;
            // The most products wins; between equals, the smaller hash.
            if candidates > slot.1 {
                *slot = (slot.0, candidates, None, i as u32);
            } else if candidates == slot.1 {
                let best = *slot.2.get_or_insert_with(|| kind_hash(index, slot.3, salt));
                let hash = kind_hash(index, i as u32, salt);
                if hash < best {
                    *slot = (slot.0, candidates, Some(hash), i as u32);
                }
            }
        }
    }
    let hash =
        |(hash, kind): (Option<u64>, u32)| hash.unwrap_or_else(|| kind_hash(index, kind, salt));
    for (view, _, _, values) in tables {
        let mut ranked: Vec<(usize, u32, u64, u32)> = values
            .into_iter()
            .filter_map(|[near, far]| {
                if near.0 > 0 {
                    Some((0, near.0, hash((near.2, near.3)), near.3))
                } else if far.0 > 0 {
                    Some((1, far.0, hash((far.2, far.3)), far.3))
                } else {
                    None
                }
            })
            .collect();
        ranked.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        popular[view] = ranked
            .into_iter()
            .take(POPULAR)
            .filter_map(|(_, _, _, kind)| first_candidate(cx, kind))
            .map(|row| Hit { row, score: 0.0 })
            .collect();
    }
    popular
}

#[cfg(test)]
mod tests {
    use super::{candidates_by_kind, kind_hash, kinds_nearest_first, level_for, share, taken};
    use crate::index::CompiledFilter;
    use crate::index::{Filters, RowSet};
    use crate::mapping::Mapping;
    use crate::product::Product;
    use crate::strategy::Context;
    use crate::views::{ViewKind, MISSING};
    use crate::{Catalog, Precision};

    /// A page's context with no seed, no votes and nothing shown before.
    fn context<'a>(
        catalog: &'a Catalog,
        exclude: &'a RowSet,
        filter: &'a CompiledFilter,
    ) -> Context<'a> {
        Context {
            index: catalog.index(),
            weights: catalog.weights(),
            seed: None,
            votes: &[],
            exclude,
            filter,
            k: 8,
            round: 0,
            rng_seed: 0,
        }
    }

    /// A store of products with a colour, a type and a size.
    fn colour_type_size() -> Mapping {
        Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\", \"type\", \"size\"]\n",
        )
        .unwrap()
    }

    #[test]
    fn candidates_per_kind_equal_a_count_row_by_row_under_every_filter() {
        let mapping = Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\nprice = \"price\"\nin_stock = \"stock\"\ncategorical = [\"colour\", \"type\"]\n",
        )
        .unwrap();
        let colours = ["red", "blue", "green"];
        let types = ["shirt", "shoe"];
        let products: Vec<Product> = (0..300)
            .map(|i| {
                let mut p = Product::new(i.to_string(), format!("p{i}"))
                    .with_attribute("colour", colours[i % 3])
                    .with_attribute("type", types[(i / 3) % 2]);
                p.price = Some(i as f64);
                p.in_stock = i % 7 != 0;
                p
            })
            .collect();
        let mut catalog = Catalog::build(mapping, products, Precision::I8);
        catalog.delete("5");
        catalog.delete("6");
        let index = catalog.index();
        let exclude: RowSet = (0..300)
            .step_by(4)
            .filter_map(|i| index.row(&i.to_string()))
            .collect();
        let red_shirts = Filters {
            attributes: [("colour".into(), vec!["red".into(), "green".into()])].into(),
            ..Filters::default()
        };
        let stocked_red = Filters {
            in_stock: true,
            ..red_shirts.clone()
        };
        let priced = Filters {
            price_min: Some(50.0),
            price_max: Some(120.0),
            ..Filters::default()
        };
        for filters in [Filters::default(), red_shirts, stocked_red, priced] {
            let filter = catalog.filter(&filters).unwrap();
            let cx = context(&catalog, &exclude, &filter);
            let mut expected = vec![0u32; index.kind_count()];
            index.each_candidate(&exclude, &filter, |row| {
                expected[index.kind_of(row) as usize] += 1
            });
            let mut counts = vec![7; 3];
            candidates_by_kind(&cx, &mut counts);
            assert_eq!(counts, expected, "{filters:?}");
            assert!(expected.iter().sum::<u32>() > 0, "{filters:?} leaves some");
        }
    }

    #[test]
    fn the_last_resort_lists_every_kind_once_by_likeness_to_the_anchor_then_hash() {
        let mapping = colour_type_size();
        let products: Vec<Product> = (0..300)
            .map(|i| {
                Product::new(i.to_string(), format!("p{i}"))
                    .with_attribute("colour", ["red", "blue", "green"][i % 3])
                    .with_attribute("type", ["shirt", "shoe"][(i / 3) % 2])
                    .with_attribute("size", ["s", "m", "l", "xl"][(i / 7) % 4])
            })
            .collect();
        let mut catalog = Catalog::build(mapping, products, Precision::I8);
        // One kind loses its only products: it must not be listed.
        for i in (0..300).filter(|i| i % 3 == 2 && (i / 3) % 2 == 1 && (i / 7) % 4 == 3) {
            catalog.delete(&i.to_string());
        }
        let index = catalog.index();
        let (exclude, filter) = (
            RowSet::default(),
            catalog.filter(&Filters::default()).unwrap(),
        );
        let cx = context(&catalog, &exclude, &filter);
        let anchor = index.row("0").unwrap();
        let listed: Vec<u32> = kinds_nearest_first(&cx, anchor).collect();
        // The reference: every kind with products, sorted whole.
        let layout = index.layout();
        let score = |k: u32| -> f32 {
            (0..layout.fields.len())
                .filter(|&f| {
                    let v = layout.fields[f].1;
                    let code = index.kind_codes(k)[f];
                    layout.views[v].kind == ViewKind::Categorical
                        && code != MISSING
                        && code == index.code(anchor, f)
                })
                .map(|f| {
                    let v = layout.fields[f].1;
                    cx.weights[v] * layout.field_share(v)
                })
                .sum()
        };
        let mut expected: Vec<u32> = (0..index.kind_count() as u32)
            .filter(|&k| !index.kind_rows(k).is_empty())
            .collect();
        expected.sort_by(|&a, &b| {
            score(b)
                .total_cmp(&score(a))
                .then(kind_hash(index, a, 0).cmp(&kind_hash(index, b, 0)))
        });
        assert_eq!(expected.len(), 23, "24 kinds, one emptied");
        assert_eq!(listed, expected);
        assert_eq!(listed[0], index.kind_of(anchor));
    }

    #[test]
    fn nothing_gathered_is_of_a_kind_the_downvotes_bar_and_the_column_pass_agrees() {
        use super::super::bars::Bars;
        use super::super::evidence::Evidence;
        use super::{gather, Plan};
        use crate::session::Vote;
        use crate::strategy::VoteAt;
        let mapping = colour_type_size();
        let colours = ["red", "blue", "green", "black", "white"];
        let types = ["shirt", "shoe", "hat"];
        let products: Vec<Product> = (0..1200)
            .map(|i| {
                Product::new(i.to_string(), format!("p{i}"))
                    .with_attribute("colour", colours[i % 5])
                    .with_attribute("type", types[(i / 5) % 3])
                    .with_attribute("size", ["s", "m", "l", "xl"][(i / 15) % 4])
            })
            .collect();
        let catalog = Catalog::build(mapping, products, Precision::I8);
        let index = catalog.index();
        let row = |i: usize| index.row(&i.to_string()).unwrap();
        // The seed, a blue shirt in S; downvoted: a red shirt in S (a
        // change of colour), a blue shoe in S (of type) and a green shirt
        // in S (of colour): S and shirt are values downvoted twice.
        let seed = row(1);
        let down = [row(0), row(6), row(2)];
        let votes: Vec<VoteAt> = down
            .iter()
            .map(|&row| VoteAt {
                row,
                vote: Vote::Down,
                round: 1,
            })
            .collect();
        let (exclude, filter) = (
            RowSet::default(),
            catalog.filter(&Filters::default()).unwrap(),
        );
        let cx = Context {
            seed: Some(seed),
            votes: &votes,
            round: 2,
            ..context(&catalog, &exclude, &filter)
        };
        let steer = super::super::Steer::default();
        let gaps = steer.gaps(&cx);
        let evidence = Evidence::read(&cx, &gaps, steer.blame_coarsest);
        let bars = Bars::new(&cx, &evidence, steer.rejected_share);
        let barred = |row: u32| bars.bar(index, index.codes(row));
        assert!(barred(row(10)), "a red hat repeats a rejected change");
        assert!(
            barred(row(21)),
            "a blue shoe in M repeats a rejected change"
        );
        assert!(
            barred(row(3)),
            "a black shirt in S is mostly rejected values"
        );
        assert!(!barred(row(28)), "a black hat in M shows nothing rejected");
        // The column pass over every kind agrees with the kind-by-kind one.
        let mut by_columns = Vec::new();
        bars.barred_kinds(index, |_| true, &mut by_columns);
        for kind in 0..index.kind_count() as u32 {
            assert_eq!(
                by_columns[kind as usize],
                bars.bar(index, index.kind_codes(kind)),
                "kind {kind}"
            );
        }
        assert!(by_columns.iter().any(|&b| b) && !by_columns.iter().all(|&b| b));
        let varied: Vec<usize> = (0..cx.weights.len())
            .filter(|&v| cx.weights[v] > 0.0)
            .collect();
        let plan = Plan {
            anchor: seed,
            near: 32,
            pool: 16,
            varied: &varied,
            gaps: &gaps,
            jump: true,
            kept: &[],
            salt: 7,
        };
        let gathered = gather(&cx, &plan, &bars, false);
        let lists = std::iter::once(&gathered.near)
            .chain(&gathered.pools)
            .chain(std::iter::once(&gathered.jumps))
            .chain(&gathered.popular);
        let rows: Vec<u32> = lists.flatten().map(|h| h.row).collect();
        assert!(rows.len() >= 32, "the searches still fill: {}", rows.len());
        for &r in &rows {
            assert!(!barred(r), "row {r} of a barred kind was gathered");
        }
        // Gathering again after a gathering without bars reuses its
        // per-kind pass, and finds exactly the same.
        let plain = gather(&cx, &plan, &Bars::default(), false);
        assert!(
            plain.near.iter().any(|h| barred(h.row)),
            "without bars, barred kinds come back"
        );
        let again = gather(&cx, &plan, &bars, true);
        let listed = |g: &super::Gathered| -> Vec<(u32, u32)> {
            std::iter::once(&g.near)
                .chain(&g.pools)
                .chain(std::iter::once(&g.jumps))
                .chain(&g.popular)
                .flatten()
                .map(|h| (h.row, h.score.to_bits()))
                .collect()
        };
        assert_eq!(listed(&again), listed(&gathered));
    }

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

    #[test]
    fn a_search_takes_every_row_when_few_and_a_share_when_many() {
        assert_eq!(share(10, 16), 1.0);
        assert!((share(1000, 100) - 0.1).abs() < 1e-6);
        let never = || panic!("no draw is needed");
        assert_eq!(taken(95, 0.1, never), 10);
        assert_eq!(taken(40, 1.0, never), 40);
        assert_eq!(taken(1, 1.0, never), 1);
        // Less than a row's worth: one row when the kind's draw falls under it.
        assert_eq!(taken(3, 0.1, || 0.29), 1);
        assert_eq!(taken(3, 0.1, || 0.31), 0);
        assert_eq!(taken(0, 1.0, || 0.0), 0);
    }
}
