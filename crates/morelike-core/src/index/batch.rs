//! Several prepared queries scored in one pass over the rows: a strategy
//! that weighs every example separately (best_score, sum_scores) reads each
//! row once for all its examples instead of once per example.

use super::kernel::{kernels, Kernels, MAX_QUERIES};
use super::{Dense, Index, Prepared};
use crate::views::LANES;

/// Up to [`QueryBatch::MAX`] prepared queries laid out for the *many* kernels:
/// their dense parts interleaved chunk by chunk, and one categorical table
/// per field holding every query's weight of a code side by side (a row's
/// code is looked up once for all of them).
pub struct QueryBatch {
    n: usize,
    dense: Vec<f32>,
    /// The dense parts for the i8 copy of a store at f32, interleaved
    /// likewise (else empty).
    coarse: Vec<f32>,
    /// `tables[field][code][j]`: query `j`'s weight of `code` (0 past `n`).
    tables: Vec<Vec<[f32; MAX_QUERIES]>>,
}

impl QueryBatch {
    /// The most queries one batch holds.
    pub const MAX: usize = MAX_QUERIES;

    /// A batch of 1 to [`QueryBatch::MAX`] queries prepared by the same index.
    pub fn new(queries: &[&Prepared]) -> Self {
        let n = queries.len();
        assert!(
            (1..=Self::MAX).contains(&n),
            "a batch holds 1 to {} queries, not {n}",
            Self::MAX
        );
        let interleave = |part: fn(&Prepared) -> &[f32]| {
            let dim = part(queries[0]).len();
            let mut out = Vec::with_capacity(n * dim);
            for c in 0..dim / LANES {
                for q in queries {
                    out.extend_from_slice(&part(q)[c * LANES..(c + 1) * LANES]);
                }
            }
            out
        };
        let dense = interleave(|q| &q.dense);
        let coarse = interleave(|q| &q.coarse);
        let tables = (0..queries[0].tables.len())
            .map(|f| {
                let mut table = vec![[0.0; MAX_QUERIES]; queries[0].tables[f].len()];
                for (j, q) in queries.iter().enumerate() {
                    for (weights, &w) in table.iter_mut().zip(&q.tables[f]) {
                        weights[j] = w;
                    }
                }
                table
            })
            .collect();
        QueryBatch {
            n,
            dense,
            coarse,
            tables,
        }
    }

    /// How many queries the batch holds.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the batch holds no query (never: a batch holds at least one).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

impl Index {
    /// The weighted similarity of a row to every query of a batch, into
    /// `out` (one per query): what [`Index::score`] gives for each, to the
    /// bit, with the row read once.
    #[inline]
    pub fn score_batch(&self, batch: &QueryBatch, row: u32, out: &mut [f32]) {
        self.score_batch_with(kernels(), batch, row, out);
    }

    /// [`Index::score_batch`] on the i8 copy of a store at f32, as
    /// [`Index::score_coarse`] is to [`Index::score`].
    #[inline]
    pub fn score_batch_coarse(&self, batch: &QueryBatch, row: u32, out: &mut [f32]) {
        let Some(coarse) = self.coarse() else {
            return self.score_batch(batch, row, out);
        };
        let out = &mut out[..batch.n];
        let r = row as usize;
        (kernels().i8_many)(
            &batch.coarse,
            &coarse.data[r * self.dim..(r + 1) * self.dim],
            out,
        );
        self.add_batch_cats(batch, row, out);
    }

    /// [`Index::score_batch`] with a given kernel set (for tests).
    #[inline]
    pub fn score_batch_with(&self, k: &Kernels, batch: &QueryBatch, row: u32, out: &mut [f32]) {
        let out = &mut out[..batch.n];
        let r = row as usize;
        match &self.dense {
            Dense::F32(d) => (k.f32_many)(&batch.dense, &d[r * self.dim..(r + 1) * self.dim], out),
            Dense::I8 { data, .. } => {
                (k.i8_many)(&batch.dense, &data[r * self.dim..(r + 1) * self.dim], out)
            }
        }
        self.add_batch_cats(batch, row, out);
    }

    /// Adds the categorical part of a row's score for each query of a
    /// batch to `out` (one per query).
    #[inline]
    pub fn add_batch_cats(&self, batch: &QueryBatch, row: u32, out: &mut [f32]) {
        let r = row as usize;
        let f = batch.tables.len();
        // The categorical part summed field by field (every query at once),
        // then added to the dense part: the order `score` adds them in.
        let mut cats = [0.0f32; MAX_QUERIES];
        for (&code, table) in self.codes[r * f..(r + 1) * f].iter().zip(&batch.tables) {
            if let Some(weights) = table.get(code as usize) {
                for (c, w) in cats.iter_mut().zip(weights) {
                    *c += w;
                }
            }
        }
        for (o, c) in out.iter_mut().zip(cats) {
            *o += c;
        }
    }
}
