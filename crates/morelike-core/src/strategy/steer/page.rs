//! Building one page from the gathered candidates: first the anchor's
//! nearest, as many as the evidence allows, then jumps, then one varied
//! product per slot (slots go to views by share, D'Hondt order; a view with
//! nothing left gives its slots away), then whatever is left. A candidate
//! is skipped when it repeats a rejection, is mostly made of values
//! downvoted twice, changes a kept view, has the name of a product already
//! shown or on the page, or (a varied one) shows nothing new. The page is
//! ordered best first: by likeness to the anchor. When every candidate
//! repeats a rejection (after many downvotes), they are gathered again
//! without the kinds the downvotes bar, then taken kind by kind, nearest
//! first. A page is never short while unshown products remain: when the
//! shopper's downvotes bar nearly every kind, the last resort ignores
//! them for that page.

use super::bars::Bars;
use super::evidence::Evidence;
use super::gather::{gather, kinds_nearest_first, Plan};
use super::Steer;
use crate::index::{Hit, Index, Point};
use crate::strategy::Context;
use crate::views::ViewKind;

/// Which views get the varying slots, in order (largest share first, then
/// by highest averages, as in D'Hondt seat allocation).
#[cfg(test)]
fn allocate(shares: &[f32], slots: usize) -> Vec<usize> {
    let mut given = vec![0u32; shares.len()];
    let mut order = Vec::with_capacity(slots);
    for _ in 0..slots {
        let Some(v) = allocate_next(shares, &given) else {
            break;
        };
        given[v] += 1;
        order.push(v);
    }
    order
}

/// The view that gets the next slot, given the slots each already has.
fn allocate_next(shares: &[f32], given: &[u32]) -> Option<usize> {
    (0..shares.len())
        .filter(|&v| shares[v] > 0.0)
        .max_by(|&a, &b| {
            let qa = shares[a] / (given[a] + 1) as f32;
            let qb = shares[b] / (given[b] + 1) as f32;
            qa.total_cmp(&qb).then(b.cmp(&a))
        })
}

/// What a candidate varies around the anchor.
#[derive(Clone, Copy, Debug)]
enum Varying {
    /// One view.
    View(usize),
    /// The kind (a jump).
    Kind,
}

/// Decides which candidates may go on the page.
struct Picker<'a> {
    index: &'a Index,
    /// The weighted categorical views, with their fields.
    kinds: Vec<std::ops::Range<usize>>,
    /// What the downvotes bar.
    bars: &'a Bars,
    /// Names of the products shown (the first `shown_names`) and on the page.
    names: Vec<u64>,
    /// How many of `names` belong to products shown on earlier pages (0:
    /// only the page's own names count).
    shown_names: usize,
    shown: Vec<(u32, Option<Point>)>,
    sames: &'a [f32],
    sims: Vec<f32>,
    page: Vec<Hit>,
    novel_kind: bool,
    /// Fields of the views the shopper rejected changes of at least
    /// twice, with the anchor's codes: a variation keeps them.
    kept: Vec<(usize, usize, u32)>,
    /// Whether rejections bar a product (false only for the last resort
    /// of a page that would otherwise be short).
    obey_rejections: bool,
    /// Per kind met so far, whether the rejections bar it.
    barred_kinds: hashbrown::HashMap<u32, bool>,
}

impl<'a> Picker<'a> {
    fn new(cx: &'a Context<'_>, bars: &'a Bars, sames: &'a [f32]) -> Self {
        let index = cx.index;
        let layout = index.layout();
        let kinds = (0..layout.views.len())
            .filter(|&v| layout.views[v].kind == ViewKind::Categorical && cx.weights[v] > 0.0)
            .map(|v| layout.views[v].fields.clone())
            .collect();
        let shown: Vec<u32> = cx.exclude.rows().filter(|&r| index.is_live(r)).collect();
        Picker {
            index,
            kinds,
            bars,
            names: shown.iter().map(|&r| index.name_key(r)).collect(),
            shown_names: shown.len(),
            shown: shown.into_iter().map(|r| (r, None)).collect(),
            sames,
            sims: vec![0.0; layout.views.len()],
            page: Vec::with_capacity(cx.k),
            novel_kind: false,
            kept: Vec::new(),
            obey_rejections: true,
            barred_kinds: hashbrown::HashMap::new(),
        }
    }

    /// Whether `row` makes a change the shopper rejected (or, for a
    /// rejected product that changed nothing, is of its kind).
    fn rejected(&mut self, row: u32) -> bool {
        if !self.obey_rejections {
            return false;
        }
        // The same for every product of a kind (it reads categorical values
        // only): worked out once per kind.
        let kind = self.index.kind_of(row);
        if let Some(&barred) = self.barred_kinds.get(&kind) {
            return barred;
        }
        let barred = self.bars.bar(self.index, self.index.codes(row));
        self.barred_kinds.insert(kind, barred);
        barred
    }

    /// Whether `row`, varying view `v` (or jumping to another kind, `None`),
    /// shows nothing new: a product shown or on the page has its kind and
    /// (for a dense `v`) its value of `v`.
    fn repeats(&mut self, row: u32, v: Option<usize>) -> bool {
        let index = self.index;
        let Some(v) = v else {
            return self
                .page
                .iter()
                .map(|h| h.row)
                .chain(self.shown.iter().map(|s| s.0))
                .any(|s| {
                    self.kinds
                        .iter()
                        .all(|f| f.clone().all(|f| index.code(row, f) == index.code(s, f)))
                });
        };
        let dense = index.layout().views[v].kind != ViewKind::Categorical;
        let kinds = &self.kinds;
        let same_kind = |s: u32| {
            kinds
                .iter()
                .all(|f| f.clone().all(|f| index.code(row, f) == index.code(s, f)))
        };
        if self.novel_kind && dense && self.page.iter().any(|h| same_kind(h.row)) {
            return true;
        }
        for s in self.page.iter().map(|h| h.row) {
            if same_kind(s) {
                if !dense {
                    return true;
                }
                index.view_sims_in(&index.point(s), row, &[v], &mut self.sims);
                if self.sims[v] >= self.sames[v] {
                    return true;
                }
            }
        }
        for (s, point) in &mut self.shown {
            if !same_kind(*s) {
                continue;
            }
            if !dense {
                return true;
            }
            let p = point.get_or_insert_with(|| index.point(*s));
            index.view_sims_in(p, row, &[v], &mut self.sims);
            if self.sims[v] >= self.sames[v] {
                return true;
            }
        }
        false
    }

    /// Whether `row`, varying view `v`, also changes a view the shopper
    /// kept (rejected changes of twice).
    fn breaks_kept(&self, row: u32, v: usize) -> bool {
        self.kept
            .iter()
            .any(|&(view, f, code)| view != v && self.index.code(row, f) != code)
    }

    /// Offers the products of every kind, nearest kinds first, until the
    /// page is full. A rejection depends only on a product's categorical
    /// values, which a kind's products share: a kind it bars is passed over
    /// whole (at a million products a barred kind can hold thousands).
    fn fill_from_kinds(&mut self, cx: &Context<'_>, anchor: u32) {
        let index = cx.index;
        for kind in kinds_nearest_first(cx, anchor) {
            if self.page.len() >= cx.k {
                break;
            }
            let rows = index.kind_rows(kind);
            if rows.first().is_some_and(|&row| self.rejected(row)) {
                continue;
            }
            for &row in rows {
                if self.page.len() >= cx.k {
                    break;
                }
                if !cx.exclude.contains(row) && cx.filter.accepts(index, row) {
                    self.offer(Hit { row, score: 0.0 }, None);
                }
            }
        }
    }

    /// Puts `hit` on the page unless it is there, repeats a name or a
    /// rejection, or (varying) shows nothing new.
    fn offer(&mut self, hit: Hit, varying: Option<Varying>) -> bool {
        let name = self.index.name_key(hit.row);
        if self.page.iter().any(|h| h.row == hit.row)
            || self.names[self.names.len() - self.page.len() - self.shown_names..].contains(&name)
            || self.rejected(hit.row)
            || matches!(varying, Some(Varying::View(v)) if self.breaks_kept(hit.row, v))
            || varying.is_some_and(|v| {
                self.repeats(
                    hit.row,
                    match v {
                        Varying::View(v) => Some(v),
                        Varying::Kind => None,
                    },
                )
            })
        {
            return false;
        }
        self.names.push(name);
        self.page.push(hit);
        true
    }
}

/// The views a jump keeps: those whose changes the shopper rejected more
/// often than not among the products shown that changed them (a view
/// changed on every page and rejected once is not kept); with none, the
/// coarsest weighted categorical view (the store's broadest section: a
/// gender, a department), so that a jump stays in the anchor's section.
fn kept_views(
    steer: &Steer,
    cx: &Context<'_>,
    anchor: u32,
    evidence: &Evidence,
    gaps: &[f32],
) -> Vec<usize> {
    let index = cx.index;
    let views = index.layout().views.len();
    let mut changed = vec![0u32; views];
    let a = index.point(anchor);
    let mut sims = vec![0.0; views];
    for row in cx.exclude.rows() {
        if row == anchor || !index.is_live(row) {
            continue;
        }
        index.view_sims(&a, row, &mut sims);
        for (c, (s, g)) in changed.iter_mut().zip(sims.iter().zip(gaps)) {
            *c += u32::from(s < g);
        }
    }
    let kept: Vec<usize> = (0..views)
        .filter(|&v| {
            let r = evidence.rejected[v];
            cx.weights[v] > 0.0 && r > 0 && r as f32 >= steer.keep_ratio * changed[v].max(r) as f32
        })
        .collect();
    if !kept.is_empty() || !steer.keep_coarsest {
        return kept;
    }
    let all = vec![true; views];
    super::evidence::blamed(cx, &all).into_iter().collect()
}

/// How many products of the anchor's kind the shopper has seen.
fn seen_of_kind(cx: &Context<'_>, anchor: u32) -> usize {
    cx.exclude
        .rows()
        .filter(|&row| {
            row != anchor && cx.index.is_live(row) && super::evidence::same_kind(cx, anchor, row)
        })
        .count()
}

/// The page size whose nearest-product sample smaller pages share.
const SAMPLED_AS_K: usize = 8;

/// The page around `anchor`.
pub fn build(
    steer: &Steer,
    cx: &Context<'_>,
    anchor: u32,
    evidence: &Evidence,
    gaps: &[f32],
) -> Vec<Hit> {
    let index = cx.index;
    let shares = steer.shares(cx, evidence);
    let sames = steer.sames(cx);
    let seen_of_kind = seen_of_kind(cx, anchor);
    let wanted_near = steer.near_slots(evidence, seen_of_kind);
    let near_slots = wanted_near.min(cx.k);
    let jump_slots = steer.jump_slots(evidence, cx.k - near_slots);
    let varied: Vec<usize> = (0..shares.len()).filter(|&v| shares[v] > 0.0).collect();
    let kept: Vec<usize> = kept_views(steer, cx, anchor, evidence, gaps)
        .into_iter()
        .filter(|&v| index.layout().views[v].kind == ViewKind::Categorical)
        .collect();
    let plan = Plan {
        anchor,
        // A small page samples the anchor's kind as a page of eight does,
        // so its few products are the best of that page's nearest, not of
        // a smaller sample (a widget showing 1-3 products).
        near: (wanted_near + cx.k.max(SAMPLED_AS_K)) * steer.near_pool,
        pool: steer.pool,
        varied: &varied,
        gaps,
        jump: jump_slots > 0,
        kept: &kept,
        salt: index.key(anchor) ^ u64::from(cx.round),
    };
    let bars = Bars::new(cx, evidence, steer.rejected_share);
    let gathered = gather(cx, &plan, &Bars::default(), false);
    let mut picker = Picker::new(cx, &bars, &sames);
    picker.novel_kind = steer.novel_kind;
    let layout = index.layout();
    picker.kept = (0..layout.views.len())
        .filter(|&v| {
            layout.views[v].kind == ViewKind::Categorical
                && cx.weights[v] > 0.0
                && evidence.rejected[v] >= steer.keep_after
        })
        .flat_map(|v| layout.views[v].fields.clone().map(move |f| (v, f)))
        .map(|(v, f)| (v, f, index.code(anchor, f)))
        .collect();
    let mut near = gathered.near.iter().copied();
    while picker.page.len() < near_slots {
        let Some(hit) = near.next() else { break };
        picker.offer(hit, None);
    }
    let mut jumps = gathered.jumps.iter().copied();
    let jumped = picker.page.len() + jump_slots;
    while picker.page.len() < jumped {
        let Some(hit) = jumps.next() else { break };
        picker.offer(hit, Some(Varying::Kind));
    }
    let pools: Vec<Vec<Hit>> = gathered
        .pools
        .iter()
        .enumerate()
        .map(|(v, pool)| {
            let popular = &gathered.popular[v];
            let rest = pool
                .iter()
                .filter(|h| !popular.iter().any(|p| p.row == h.row));
            popular.iter().chain(rest).copied().collect::<Vec<Hit>>()
        })
        .collect();
    // Slots go to views by share; a view with nothing left to show gives
    // its slots to the others.
    let mut next = vec![0usize; shares.len()];
    let mut open = shares.clone();
    let mut given = vec![0u32; shares.len()];
    while picker.page.len() < cx.k {
        let Some(v) = allocate_next(&open, &given) else {
            break;
        };
        let mut placed = false;
        while let Some(&hit) = pools[v].get(next[v]) {
            next[v] += 1;
            if picker.offer(hit, Some(Varying::View(v))) {
                placed = true;
                break;
            }
        }
        if placed {
            given[v] += 1;
        } else {
            open[v] = 0.0;
        }
    }
    let leftovers = pools
        .iter()
        .zip(&next)
        .flat_map(|(pool, &n)| pool.iter().skip(n).copied());
    for hit in near.chain(jumps).chain(leftovers) {
        if picker.page.len() >= cx.k {
            break;
        }
        picker.offer(hit, None);
    }
    if picker.page.len() < cx.k && !bars.is_empty() {
        // Everything gathered repeats a name or a rejection (after many
        // downvotes): gather again, leaving out the kinds they bar.
        let again = gather(cx, &plan, &bars, true);
        let lists = [&again.near, &again.jumps]
            .into_iter()
            .chain(&again.popular)
            .chain(&again.pools);
        for hit in lists.flatten() {
            if picker.page.len() >= cx.k {
                break;
            }
            picker.offer(*hit, None);
        }
    }
    if picker.page.len() < cx.k {
        // Still short: look further, kind by kind, nearest kinds first.
        picker.fill_from_kinds(cx, anchor);
    }
    if picker.page.len() < cx.k {
        // Still short (a narrow filter): a product named like one shown on
        // an earlier page may come back; never two of a name on one page.
        picker.shown_names = 0;
        picker.fill_from_kinds(cx, anchor);
    }
    if picker.page.len() < cx.k {
        // Still short: the shopper's downvotes have barred nearly every
        // kind. A full page of the products least unlike the anchor beats
        // a short one; the rejections count again on the next page.
        picker.obey_rejections = false;
        picker.fill_from_kinds(cx, anchor);
    }
    let mut page = picker.page;
    // Best first: the most like the anchor (every view weighted).
    let query = index.prepare(&index.point(anchor), cx.weights);
    for hit in &mut page {
        hit.score = index.score(&query, hit.row);
    }
    page.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(index.key(a.row).cmp(&index.key(b.row)))
    });
    page
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn slots_follow_shares_largest_first() {
        assert_eq!(allocate(&[1.0, 2.0, 0.0, 1.0], 5), [1, 0, 1, 3, 1]);
        assert_eq!(allocate(&[0.0, 0.0], 3), Vec::<usize>::new());
    }
}
