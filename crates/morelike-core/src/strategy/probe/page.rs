//! Building one probe page: a single scan keeps, for every view, the
//! candidates that change that view and stay closest on the others; slots
//! go to views by their share; a candidate that repeats a product already
//! shown (same categories, and the same value of the view it varies) is
//! skipped; the anchor's nearest neighbour closes the page.

use super::{Evidence, Probe};
use crate::index::{Hit, Index, Point, TopK};
use crate::strategy::Context;
use crate::views::{ViewKind, MISSING};

/// Which views get the varying slots, in page order (largest share first,
/// then by highest averages, as in D'Hondt seat allocation).
pub fn allocate(shares: &[f32], slots: usize) -> Vec<usize> {
    let mut given = vec![0u32; shares.len()];
    let mut order = Vec::with_capacity(slots);
    for _ in 0..slots {
        let best = (0..shares.len())
            .filter(|&v| shares[v] > 0.0)
            .max_by(|&a, &b| {
                let qa = shares[a] / (given[a] + 1) as f32;
                let qb = shares[b] / (given[b] + 1) as f32;
                qa.total_cmp(&qb).then(b.cmp(&a))
            });
        let Some(v) = best else { break };
        given[v] += 1;
        order.push(v);
    }
    order
}

/// A cheap upper bound on a row's weighted similarity to the anchor: the
/// categorical views exactly (codes compared), every dense view at its best.
struct Bound {
    /// (field, anchor's code, weight × share of a matching field).
    fields: Vec<(usize, u32, f32)>,
    /// Σ weights of the dense views.
    dense: f32,
    /// Per view: what leaving it out surely takes off the bound (its weight for
    /// a dense view, whose best is counted; nothing for a categorical one).
    drop: Vec<f32>,
}

impl Bound {
    fn new(index: &Index, anchor: u32, w: &[f32]) -> Self {
        let layout = index.layout();
        let mut fields = Vec::new();
        let mut dense = 0.0;
        let mut drop = Vec::with_capacity(layout.views.len());
        for (v, view) in layout.views.iter().enumerate() {
            if view.kind == ViewKind::Categorical {
                for f in view.fields.clone() {
                    let code = index.code(anchor, f);
                    if code != MISSING {
                        fields.push((f, code, w[v] * layout.field_share(v)));
                    }
                }
                drop.push(0.0);
            } else {
                dense += w[v];
                drop.push(w[v]);
            }
        }
        Bound {
            fields,
            dense,
            drop,
        }
    }

    #[inline]
    fn total(&self, index: &Index, row: u32) -> f32 {
        self.dense
            + self
                .fields
                .iter()
                .filter(|&&(f, code, _)| index.code(row, f) == code)
                .map(|&(_, _, x)| x)
                .sum::<f32>()
    }

    /// The bound of a pool that leaves view `v` out.
    fn without(&self, best: f32, v: usize) -> f32 {
        best - self.drop[v]
    }
}

/// Tells whether a candidate repeats a product already on show.
struct Repeats<'a> {
    index: &'a Index,
    cat_fields: Vec<usize>,
    sames: &'a [f32],
    seen: Vec<(u32, Option<Point>)>,
    sims: Vec<f32>,
}

impl<'a> Repeats<'a> {
    fn new(index: &'a Index, weights: &[f32], sames: &'a [f32], seen: Vec<u32>) -> Self {
        let layout = index.layout();
        let cat_fields = layout
            .views
            .iter()
            .enumerate()
            .filter(|(v, view)| view.kind == ViewKind::Categorical && weights[*v] > 0.0)
            .flat_map(|(_, view)| view.fields.clone())
            .collect();
        Repeats {
            index,
            cat_fields,
            sames,
            seen: seen.into_iter().map(|r| (r, None)).collect(),
            sims: vec![0.0; layout.views.len()],
        }
    }

    /// Whether `row`, varying view `v`, matches something seen on every
    /// categorical view and (for a dense `v`) on `v` too.
    fn check(&mut self, row: u32, v: usize) -> bool {
        let index = self.index;
        let dense = index.layout().views[v].kind != ViewKind::Categorical;
        for (s, point) in &mut self.seen {
            if !self
                .cat_fields
                .iter()
                .all(|&f| index.code(row, f) == index.code(*s, f))
            {
                continue;
            }
            if !dense {
                return true;
            }
            let p = point.get_or_insert_with(|| index.point(*s));
            index.view_sims(p, row, &mut self.sims);
            if self.sims[v] >= self.sames[v] {
                return true;
            }
        }
        false
    }

    fn add(&mut self, row: u32) {
        self.seen.push((row, None));
    }
}

/// The page around `anchor`.
pub fn build(
    probe: &Probe,
    cx: &Context<'_>,
    anchor: u32,
    evidence: &Evidence,
    gaps: &[f32],
) -> Vec<Hit> {
    let index = cx.index;
    let views = index.layout().views.len();
    let w = cx.weights;
    let shares = probe.shares(cx, evidence);
    let sames = probe.sames(cx);
    let a = index.point(anchor);
    let mut pools: Vec<TopK> = (0..views).map(|_| TopK::new(probe.pool)).collect();
    let mut near = TopK::new(cx.k);
    let mut shown = Vec::new();
    let mut s = vec![0.0f32; views];
    let bound = Bound::new(index, anchor, w);
    let open = cx.filter.is_open();
    for row in 0..index.row_count() as u32 {
        if !index.is_live(row) {
            continue;
        }
        if cx.exclude.contains(row) {
            shown.push(row);
            continue;
        }
        if !open && !cx.filter.accepts(index, row) {
            continue;
        }
        let best = bound.total(index, row);
        if best <= near.threshold()
            && (0..views)
                .all(|v| shares[v] <= 0.0 || bound.without(best, v) <= pools[v].threshold())
        {
            continue;
        }
        index.view_sims(&a, row, &mut s);
        let total: f32 = s.iter().zip(w).map(|(x, w)| x * w).sum();
        near.push(row, total);
        for v in 0..views {
            if shares[v] > 0.0 && s[v] < gaps[v] {
                pools[v].push(row, total - w[v] * s[v]);
            }
        }
    }
    let control = probe.control && cx.k >= 3;
    let order = allocate(&shares, cx.k - usize::from(control));
    let pools: Vec<Vec<Hit>> = pools.into_iter().map(TopK::into_hits).collect();
    let near = near.into_hits();
    let mut next = vec![0usize; views];
    let mut repeats = Repeats::new(index, w, &sames, shown);
    let mut page: Vec<Hit> = Vec::with_capacity(cx.k);
    for v in order {
        while let Some(&hit) = pools[v].get(next[v]) {
            next[v] += 1;
            if page.iter().any(|h| h.row == hit.row) || repeats.check(hit.row, v) {
                continue;
            }
            repeats.add(hit.row);
            page.push(hit);
            break;
        }
    }
    for hit in near {
        if page.len() >= cx.k {
            break;
        }
        if !page.iter().any(|h| h.row == hit.row) {
            page.push(hit);
        }
    }
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
