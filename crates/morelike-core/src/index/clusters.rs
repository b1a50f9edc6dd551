//! Clusters of rows, an inverted-file index: in a large store every row
//! belongs to the nearest of a few thousand centres (two-level k-means at
//! unit weights, so any view weights can be served without rebuilding),
//! and a scan visits only the rows of the clusters whose centres score
//! best for its query, scoring every row it visits exactly.

use serde::{Deserialize, Serialize};

use super::{kernels, CompiledFilter, Dense, Index, Prepared, RowSet};
use crate::hash::mix;

/// Stores of this many products or more are clustered when they are built;
/// below it the exact scan costs well under a millisecond.
pub const CLUSTER_FROM: usize = 65_536;

/// Categorical fields with more distinct values than this are left out of
/// the centres (their tables would cost more than they tell apart).
const MAX_CODES: usize = 4_096;

/// Which rows of the store the draws of the initial centres mix keys with.
const SALT: u64 = 0x6d6f_7265_6c69_6b65;

/// How much of a clustered store a scan visits: the best clusters for the
/// query, until the rows the page could show reach both bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// At least this many rows …
    pub min_rows: usize,
    /// … and at least this share of the store's rows.
    pub share: f32,
}

impl Default for Reach {
    fn default() -> Self {
        Reach {
            min_rows: 4_096,
            share: 1.0 / 16.0,
        }
    }
}

impl Reach {
    /// The rows a scan of a store of `rows` rows visits at least.
    pub fn rows(&self, rows: usize) -> usize {
        self.min_rows
            .max((self.share.clamp(0.0, 1.0) * rows as f32) as usize)
    }
}

/// The rows grouped around their centres.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Clusters {
    /// Every centre's dense part in stored units (the mean of its members'
    /// stored values), `dim` floats each: a prepared query dots it directly.
    dense: Vec<f32>,
    /// The centres' categorical parts by code: `cats[field][code][centre]`
    /// is the share of the centre's members with that code (empty for a
    /// code no centre has and for fields left out), so a query's few codes
    /// score every centre in a pass over a column each.
    cats: Vec<Vec<Vec<f32>>>,
    /// Per centre, half its squared length at unit weights.
    half_norms: Vec<f32>,
    /// Per centre, its rows, smallest first.
    members: Vec<Vec<u32>>,
    /// Per row, its centre (`u32::MAX` for none).
    of: Vec<u32>,
}

impl Clusters {
    /// Gives back spare capacity.
    pub(super) fn shrink(&mut self) {
        self.dense.shrink_to_fit();
        self.half_norms.shrink_to_fit();
        self.members.iter_mut().for_each(Vec::shrink_to_fit);
        self.of.shrink_to_fit();
    }

    /// Bytes held on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        use crate::heap::{vec, vecs};
        let cats: usize = self.cats.iter().map(vecs).sum();
        vec(&self.dense)
            + vec(&self.cats)
            + cats
            + vec(&self.half_norms)
            + vecs(&self.members)
            + vec(&self.of)
    }

    /// Groups the index's live rows: `2·√n` clusters, found by k-means on a
    /// sample into `√clusters` groups, then within each group.
    pub(super) fn build(index: &Index) -> Clusters {
        let live: Vec<u32> = (0..index.row_count() as u32)
            .filter(|&r| index.is_live(r))
            .collect();
        let n = live.len();
        let mut clusters = Clusters {
            of: vec![u32::MAX; index.row_count()],
            ..Clusters::default()
        };
        if n == 0 {
            return clusters;
        }
        let leaves = ((2.0 * (n as f64).sqrt()).round() as usize).clamp(1, n);
        let tops = ((leaves as f64).sqrt().ceil() as usize).max(1);
        let drawn = sample(index, &live, tops * 256, SALT);
        let top = kmeans(index, &drawn, tops, 8, SALT);
        // Rows to groups, then each group split, on every core (the
        // result does not depend on how many: each part is deterministic).
        let threads = crate::threads::cores();
        let of_top: Vec<u32> = crate::threads::on_threads(
            threads,
            live.chunks(live.len().div_ceil(threads)),
            |rows| {
                rows.iter()
                    .map(|&r| nearest(&top, index, r) as u32)
                    .collect::<Vec<u32>>()
            },
        )
        .concat();
        let mut groups: Vec<Vec<u32>> = vec![Vec::new(); top.len()];
        for (&row, &g) in live.iter().zip(&of_top) {
            groups[g as usize].push(row);
        }
        let split = |(g, group): (usize, &Vec<u32>)| -> Vec<Vec<u32>> {
            let l = ((leaves * group.len()) as f64 / n as f64).round() as usize;
            if l <= 1 {
                return vec![group.clone()];
            }
            let salt = SALT ^ mix(g as u64);
            let drawn = sample(index, group, l * 64, salt);
            let centres = kmeans(index, &drawn, l, 6, salt);
            let mut sub: Vec<Vec<u32>> = vec![Vec::new(); centres.len()];
            for &row in group {
                sub[nearest(&centres, index, row)].push(row);
            }
            sub
        };
        for rows in crate::threads::on_threads(threads, groups.iter().enumerate(), split)
            .into_iter()
            .flatten()
        {
            clusters.push(index, rows);
        }
        clusters.pad();
        clusters
    }

    /// Adds a centre at the mean of `rows` (none when `rows` is empty).
    fn push(&mut self, index: &Index, rows: Vec<u32>) {
        if rows.is_empty() {
            return;
        }
        let mut means = Means::new(index);
        for &row in &rows {
            means.add(index, row);
        }
        let c = self.members.len() as u32;
        for &row in &rows {
            self.of[row as usize] = c;
        }
        let centre = means.centre(index);
        self.half_norms.push(centre.half_norm);
        self.dense
            .extend(means.dense.iter().map(|x| x / means.n as f32));
        self.cats.resize_with(means.counts.len(), Vec::new);
        for (columns, counts) in self.cats.iter_mut().zip(&means.counts) {
            if columns.len() < counts.len() {
                columns.resize_with(counts.len(), Vec::new);
            }
            for (column, &count) in columns.iter_mut().zip(counts) {
                if count > 0 {
                    column.resize(c as usize, 0.0);
                    column.push(count as f32 / means.n as f32);
                }
            }
        }
        self.members.push(rows);
    }

    /// Pads every categorical column to one share per centre (after the
    /// last centre was pushed).
    fn pad(&mut self) {
        let n = self.members.len();
        for column in self.cats.iter_mut().flatten() {
            if !column.is_empty() {
                column.resize(n, 0.0);
            }
        }
    }

    /// A cluster's rows, smallest first.
    pub(super) fn rows(&self, c: usize) -> &[u32] {
        self.members.get(c).map_or(&[], Vec::as_slice)
    }

    /// How many clusters there are.
    pub(super) fn len(&self) -> usize {
        self.members.len()
    }

    /// What a prepared query scores against every centre: the mean of what
    /// it scores against each centre's members when they were grouped.
    pub(super) fn scores(&self, index: &Index, query: &Prepared) -> Vec<f32> {
        let dim = index.dim;
        let dot = kernels().f32;
        let mut scores: Vec<f32> = self
            .dense
            .chunks_exact(dim.max(1))
            .map(|centre| dot(&query.dense, centre))
            .collect();
        scores.resize(self.len(), 0.0);
        for (table, columns) in query.tables.iter().zip(&self.cats) {
            for (&w, column) in table.iter().zip(columns) {
                if w != 0.0 && !column.is_empty() {
                    for (s, share) in scores.iter_mut().zip(column) {
                        *s += w * share;
                    }
                }
            }
        }
        scores
    }

    /// The rows a page could show (live, not excluded, accepted) of the
    /// clusters that rank best, cluster by cluster, best first, until they
    /// reach `reach`.
    pub(super) fn near(
        &self,
        index: &Index,
        reach: Reach,
        exclude: &RowSet,
        filter: &CompiledFilter,
        rank: impl Fn(usize) -> f32,
    ) -> Vec<u32> {
        let mut order: Vec<(f32, u32)> = (0..self.len()).map(|c| (rank(c), c as u32)).collect();
        let best_first = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let budget = reach.rows(index.len());
        // Sort only the clusters the budget is likely to need (twice as
        // many as the average size says), the rest only if it needs more.
        let likely = (2 * budget * self.len()).div_ceil(index.len().max(1)) + 16;
        if likely < order.len() {
            order.select_nth_unstable_by(likely, best_first);
            order[..likely].sort_unstable_by(best_first);
        } else {
            order.sort_unstable_by(best_first);
        }
        let open = filter.is_open();
        let mut rows = Vec::with_capacity(budget + 2 * index.len() / self.len().max(1));
        for i in 0..order.len() {
            if i == likely {
                order[likely..].sort_unstable_by(best_first);
            }
            let c = order[i].1;
            for &row in &self.members[c as usize] {
                if index.live.contains(row)
                    && !exclude.contains(row)
                    && (open || filter.accepts(index, row))
                {
                    rows.push(row);
                }
            }
            if rows.len() >= budget {
                break;
            }
        }
        rows
    }

    /// Files a (new or changed) row under its nearest centre.
    pub(super) fn place(&mut self, index: &Index, row: u32) {
        self.take(row);
        if self.members.is_empty() {
            return;
        }
        let (query, codes) = unit_query(index, row);
        let dim = index.dim;
        let f32_dot = kernels().f32;
        let best = (0..self.len())
            .map(|c| {
                let dense = f32_dot(&query, &self.dense[c * dim..(c + 1) * dim]);
                let cats: f32 = codes
                    .iter()
                    .zip(&self.cats)
                    .enumerate()
                    .filter_map(|(f, (&code, columns))| {
                        let share = columns.get(code as usize)?.get(c)?;
                        Some(field_share(index, f) * share)
                    })
                    .sum();
                (dense + cats - self.half_norms[c], c)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
            .map_or(0, |(_, c)| c);
        let members = &mut self.members[best];
        let at = members.partition_point(|&r| r < row);
        members.insert(at, row);
        if self.of.len() <= row as usize {
            self.of.resize(row as usize + 1, u32::MAX);
        }
        self.of[row as usize] = best as u32;
    }

    /// Follows the index's rows to their new places (`new_of[old]`,
    /// `order[new] = old`).
    pub(super) fn renumber(&mut self, new_of: &[u32], order: &[u32]) {
        for members in &mut self.members {
            members.iter_mut().for_each(|r| *r = new_of[*r as usize]);
            members.sort_unstable();
        }
        self.of = order
            .iter()
            .map(|&old| self.of.get(old as usize).copied().unwrap_or(u32::MAX))
            .collect();
    }

    /// Takes a row out of its cluster.
    pub(super) fn take(&mut self, row: u32) {
        let Some(c) = self
            .of
            .get(row as usize)
            .copied()
            .filter(|&c| c != u32::MAX)
        else {
            return;
        };
        let members = &mut self.members[c as usize];
        if let Ok(at) = members.binary_search(&row) {
            members.remove(at);
        }
        self.of[row as usize] = u32::MAX;
    }
}

/// A row's dense part as a unit-weight query against stored centres (its
/// stored values divided by the squared scale), and its codes.
fn unit_query(index: &Index, row: u32) -> (Vec<f32>, &[u32]) {
    let r = row as usize;
    let dim = index.dim;
    let query = match &index.dense {
        Dense::F32(d) => d[r * dim..(r + 1) * dim].to_vec(),
        Dense::I8 { data, .. } => {
            let scales = dim_scales(index);
            data[r * dim..(r + 1) * dim]
                .iter()
                .zip(&scales)
                .map(|(&x, s)| f32::from(x) / (s * s))
                .collect()
        }
    };
    (query, index.codes(row))
}

/// The quantization scale of every dense dimension (1 at f32).
fn dim_scales(index: &Index) -> Vec<f32> {
    let mut out = vec![1.0; index.dim];
    if let Dense::I8 { scales, .. } = &index.dense {
        for (view, &scale) in index.layout().views.iter().zip(scales) {
            out[view.dense.clone()].fill(scale);
        }
    }
    out
}

/// What one matching code of field `f` adds to a unit-weight dot product.
fn field_share(index: &Index, f: usize) -> f32 {
    index.layout().field_share(index.layout().fields[f].1)
}

/// Up to `n` of `rows`, drawn by their keys mixed with `salt`.
fn sample(index: &Index, rows: &[u32], n: usize, salt: u64) -> Vec<u32> {
    if rows.len() <= n {
        return rows.to_vec();
    }
    let mut drawn: Vec<(u64, u32)> = rows
        .iter()
        .map(|&r| (mix(index.key(r) ^ salt), r))
        .collect();
    drawn.select_nth_unstable(n);
    drawn.truncate(n);
    drawn.into_iter().map(|(_, r)| r).collect()
}

/// `k` centres for `rows` after `iterations` rounds of Lloyd's algorithm,
/// started from `k` rows drawn by key.
fn kmeans(index: &Index, rows: &[u32], k: usize, iterations: usize, salt: u64) -> Vec<Centre> {
    let mut centres: Vec<Centre> = sample(index, rows, k, salt ^ 1)
        .into_iter()
        .map(|r| {
            let mut m = Means::new(index);
            m.add(index, r);
            m.centre(index)
        })
        .collect();
    for _ in 0..iterations {
        let mut sums: Vec<Means> = centres.iter().map(|_| Means::new(index)).collect();
        for &row in rows {
            sums[nearest(&centres, index, row)].add(index, row);
        }
        for (centre, sum) in centres.iter_mut().zip(&sums) {
            if sum.n > 0 {
                *centre = sum.centre(index);
            }
        }
    }
    centres
}

/// The centre nearest a row (the first of equals).
fn nearest(centres: &[Centre], index: &Index, row: u32) -> usize {
    let mut best = (f32::NEG_INFINITY, 0);
    for (c, centre) in centres.iter().enumerate() {
        let s = centre.score(index, row);
        if s > best.0 {
            best = (s, c);
        }
    }
    best.1
}

/// A centre while clustering, ready to score stored rows: `dense` dots a
/// stored row into the unit-weight dot product, `tables` hold each code's
/// share, and `score` is that dot product less half the centre's squared
/// length (so the highest score is the nearest centre).
struct Centre {
    dense: Vec<f32>,
    tables: Vec<Vec<f32>>,
    half_norm: f32,
}

impl Centre {
    fn score(&self, index: &Index, row: u32) -> f32 {
        let r = row as usize;
        let dim = index.dim;
        let k = kernels();
        let dense = match &index.dense {
            Dense::F32(d) => (k.f32)(&self.dense, &d[r * dim..(r + 1) * dim]),
            Dense::I8 { data, .. } => (k.i8)(&self.dense, &data[r * dim..(r + 1) * dim]),
        };
        let cats: f32 = index
            .codes(row)
            .iter()
            .zip(&self.tables)
            .map(|(&c, t)| t.get(c as usize).copied().unwrap_or(0.0))
            .sum();
        dense + cats - self.half_norm
    }
}

/// Sums of rows' stored values and counts of their codes.
struct Means {
    n: u32,
    dense: Vec<f32>,
    /// Per field, rows per code (empty for fields left out).
    counts: Vec<Vec<u32>>,
}

impl Means {
    fn new(index: &Index) -> Self {
        let counts = (0..index.layout().fields.len())
            .map(|f| {
                let len = index.dictionary(f).len();
                if len <= MAX_CODES {
                    vec![0; len]
                } else {
                    Vec::new()
                }
            })
            .collect();
        Means {
            n: 0,
            dense: vec![0.0; index.dim],
            counts,
        }
    }

    fn add(&mut self, index: &Index, row: u32) {
        let r = row as usize;
        let dim = index.dim;
        match &index.dense {
            Dense::F32(d) => {
                for (s, x) in self.dense.iter_mut().zip(&d[r * dim..(r + 1) * dim]) {
                    *s += x;
                }
            }
            Dense::I8 { data, .. } => {
                for (s, &x) in self.dense.iter_mut().zip(&data[r * dim..(r + 1) * dim]) {
                    *s += f32::from(x);
                }
            }
        }
        for (counts, &code) in self.counts.iter_mut().zip(index.codes(row)) {
            if let Some(n) = counts.get_mut(code as usize) {
                *n += 1;
            }
        }
        self.n += 1;
    }

    /// The mean as a centre that scores stored rows.
    fn centre(&self, index: &Index) -> Centre {
        let n = self.n.max(1) as f32;
        let scales = dim_scales(index);
        let mut norm2 = 0.0;
        let dense = self
            .dense
            .iter()
            .zip(&scales)
            .map(|(&sum, &s)| {
                let mean = sum / n / s;
                norm2 += mean * mean;
                mean / s
            })
            .collect();
        let tables = self
            .counts
            .iter()
            .enumerate()
            .map(|(f, counts)| {
                let share = field_share(index, f);
                counts
                    .iter()
                    .map(|&c| {
                        let freq = c as f32 / n;
                        norm2 += share * freq * freq;
                        share * freq
                    })
                    .collect()
            })
            .collect();
        Centre {
            dense,
            tables,
            half_norm: 0.5 * norm2,
        }
    }
}
