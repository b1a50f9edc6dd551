//! The index: every product of a store as a row of view vectors, scanned
//! exactly (float or quantized) with filters and exclusions checked inside
//! the scan.

mod filter;
mod kernel;
mod point;
mod rowset;
mod topk;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use filter::{CompiledFilter, FilterError, Filters};
pub use kernel::{available, kernels, portable, Kernels};
pub use point::Point;
pub use rowset::RowSet;
pub use topk::{Hit, TopK};

use crate::product::{Described, ProductId};
use crate::views::{Dictionary, Encoded, Encoder, Layout, ViewKind, MISSING};

/// How dense rows are stored and scanned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: exact, four times the memory.
    F32,
    /// 8-bit integers with a scale per view: a quarter of the memory and bandwidth.
    #[default]
    I8,
}

#[derive(Serialize, Deserialize)]
enum Dense {
    F32(Vec<f32>),
    I8 { data: Vec<i8>, scales: Vec<f32> },
}

/// View weights, one per view of the layout.
pub type Weights = [f32];

/// A query ready for the scan: weights and quantization scales folded in.
pub struct Prepared {
    dense: Vec<f32>,
    tables: Vec<Vec<f32>>,
}

/// Every product of a store as vectors, with the encoder that made them.
#[derive(Serialize, Deserialize)]
pub struct Index {
    encoder: Encoder,
    dim: usize,
    dense: Dense,
    codes: Vec<u32>,
    /// The same codes by field (`columns[f][row]`), for scans that compare
    /// one field across every row (vectorizable).
    columns: Vec<Vec<u32>>,
    ids: Vec<ProductId>,
    rows: HashMap<ProductId, u32>,
    live: RowSet,
    free: Vec<u32>,
    in_stock: RowSet,
    prices: Vec<f32>,
    /// Per view, the largest length of a stored row's dense slice (in stored
    /// units): with a query's slice lengths it bounds the dense score.
    max_norms: Vec<f32>,
}

impl Index {
    /// Builds an index over products with a fitted encoder.
    pub fn build<P: Described>(
        mut encoder: Encoder,
        products: impl Iterator<Item = P>,
        precision: Precision,
    ) -> Self {
        let encoded: Vec<(P, Encoded)> = products
            .map(|p| {
                let e = encoder.encode(&p);
                (p, e)
            })
            .collect();
        let layout = encoder.layout();
        let dim = layout.dense_dim;
        let dense = match precision {
            Precision::F32 => Dense::F32(Vec::with_capacity(encoded.len() * dim)),
            Precision::I8 => {
                let scales = layout
                    .views
                    .iter()
                    .map(|v| {
                        let max = encoded
                            .iter()
                            .flat_map(|(_, e)| e.dense[v.dense.clone()].iter())
                            .fold(0.0f32, |m, x| m.max(x.abs()));
                        if max > 0.0 {
                            127.0 / max
                        } else {
                            127.0
                        }
                    })
                    .collect();
                Dense::I8 {
                    data: Vec::with_capacity(encoded.len() * dim),
                    scales,
                }
            }
        };
        let mut index = Index {
            encoder,
            dim,
            dense,
            codes: Vec::new(),
            columns: Vec::new(),
            ids: Vec::new(),
            rows: HashMap::new(),
            live: RowSet::default(),
            free: Vec::new(),
            in_stock: RowSet::default(),
            prices: Vec::new(),
            max_norms: Vec::new(),
        };
        for (product, e) in encoded {
            index.put(&product, e);
        }
        index
    }

    /// The vector layout.
    pub fn layout(&self) -> &Layout {
        self.encoder.layout()
    }

    /// The encoder (for view specs).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The dictionary of categorical field `field`.
    pub fn dictionary(&self, field: usize) -> &Dictionary {
        self.encoder.dictionary(field)
    }

    /// How many live products the index holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the index holds no product.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// One past the highest row number.
    pub fn row_count(&self) -> usize {
        self.ids.len()
    }

    /// The row of a product.
    pub fn row(&self, id: &str) -> Option<u32> {
        self.rows.get(id).copied()
    }

    /// The product id of a row.
    pub fn id(&self, row: u32) -> &str {
        &self.ids[row as usize]
    }

    /// Whether a row holds a product.
    pub fn is_live(&self, row: u32) -> bool {
        self.live.contains(row)
    }

    /// The code of a row's categorical field.
    #[inline]
    pub fn code(&self, row: u32, field: usize) -> u32 {
        self.codes[row as usize * self.layout().fields.len() + field]
    }

    /// A row's categorical codes, one per field.
    #[inline]
    pub fn codes(&self, row: u32) -> &[u32] {
        let f = self.layout().fields.len();
        &self.codes[row as usize * f..(row as usize + 1) * f]
    }

    /// Every row's code of one categorical field, by row.
    pub fn column(&self, field: usize) -> &[u32] {
        &self.columns[field]
    }

    /// The precision rows are stored in.
    pub fn precision(&self) -> Precision {
        match self.dense {
            Dense::F32(_) => Precision::F32,
            Dense::I8 { .. } => Precision::I8,
        }
    }

    /// Bytes of vector data per product (dense part and codes).
    pub fn bytes_per_product(&self) -> usize {
        let dense = match self.dense {
            Dense::F32(_) => 4 * self.dim,
            Dense::I8 { .. } => self.dim,
        };
        dense + 8 * self.layout().fields.len() + 4 + 1
    }

    /// Adds or replaces a product; returns its row.
    pub fn upsert(&mut self, product: &impl Described) -> u32 {
        let encoded = self.encoder.encode(product);
        self.put(product, encoded)
    }

    fn put(&mut self, product: &impl Described, e: Encoded) -> u32 {
        let row = match self.rows.get(product.id()) {
            Some(&row) => row,
            None => {
                let row = self.free.pop().unwrap_or(self.ids.len() as u32);
                if row as usize == self.ids.len() {
                    self.ids.push(String::new());
                    self.prices.push(f32::NAN);
                    self.codes.resize(self.codes.len() + e.codes.len(), MISSING);
                    match &mut self.dense {
                        Dense::F32(d) => d.resize(d.len() + self.dim, 0.0),
                        Dense::I8 { data, .. } => data.resize(data.len() + self.dim, 0),
                    }
                }
                self.ids[row as usize] = product.id().to_owned();
                self.rows.insert(product.id().to_owned(), row);
                row
            }
        };
        let r = row as usize;
        let layout = self.encoder.layout();
        match &mut self.dense {
            Dense::F32(d) => d[r * self.dim..(r + 1) * self.dim].copy_from_slice(&e.dense),
            Dense::I8 { data, scales } => {
                let out = &mut data[r * self.dim..(r + 1) * self.dim];
                for (view, scale) in layout.views.iter().zip(scales.iter()) {
                    for i in view.dense.clone() {
                        out[i] = (e.dense[i] * scale).round().clamp(-127.0, 127.0) as i8;
                    }
                }
            }
        }
        self.max_norms.resize(layout.views.len(), 0.0);
        for (v, view) in layout.views.iter().enumerate() {
            let norm = match &self.dense {
                Dense::F32(d) => {
                    norm(&d[r * self.dim + view.dense.start..r * self.dim + view.dense.end])
                }
                Dense::I8 { data, .. } => norm(
                    &data[r * self.dim + view.dense.start..r * self.dim + view.dense.end]
                        .iter()
                        .map(|&x| f32::from(x))
                        .collect::<Vec<f32>>(),
                ),
            };
            self.max_norms[v] = self.max_norms[v].max(norm);
        }
        let f = e.codes.len();
        self.codes[r * f..(r + 1) * f].copy_from_slice(&e.codes);
        self.columns.resize_with(f, Vec::new);
        for (column, &code) in self.columns.iter_mut().zip(&e.codes) {
            if column.len() <= r {
                column.resize(r + 1, MISSING);
            }
            column[r] = code;
        }
        self.prices[r] = product.price().map_or(f32::NAN, |p| p as f32);
        if product.in_stock() {
            self.in_stock.insert(row);
        } else {
            self.in_stock.remove(row);
        }
        self.live.insert(row);
        row
    }

    /// Removes a product; returns the row it had.
    pub fn remove(&mut self, id: &str) -> Option<u32> {
        let row = self.rows.remove(id)?;
        self.live.remove(row);
        self.in_stock.remove(row);
        self.ids[row as usize].clear();
        self.free.push(row);
        Some(row)
    }

    /// A row's point (dense part de-quantized).
    pub fn point(&self, row: u32) -> Point {
        let r = row as usize;
        let dense = match &self.dense {
            Dense::F32(d) => d[r * self.dim..(r + 1) * self.dim].to_vec(),
            Dense::I8 { data, scales } => {
                let mut out = vec![0.0; self.dim];
                for (view, scale) in self.layout().views.iter().zip(scales) {
                    for i in view.dense.clone() {
                        out[i] = f32::from(data[r * self.dim + i]) / scale;
                    }
                }
                out
            }
        };
        let f = self.layout().fields.len();
        Point::from_parts(self.layout(), dense, &self.codes[r * f..(r + 1) * f])
    }

    /// Folds view weights (and quantization scales) into a query.
    pub fn prepare(&self, query: &Point, weights: &Weights) -> Prepared {
        let layout = self.layout();
        let mut dense = query.dense.clone();
        for (v, view) in layout.views.iter().enumerate() {
            let factor = match &self.dense {
                Dense::F32(_) => weights[v],
                Dense::I8 { scales, .. } => weights[v] / scales[v],
            };
            dense[view.dense.clone()]
                .iter_mut()
                .for_each(|x| *x *= factor);
        }
        let tables = layout
            .fields
            .iter()
            .enumerate()
            .map(|(f, &(_, view))| {
                let mut table = vec![0.0; self.dictionary(f).len()];
                let factor = weights[view] * layout.field_share(view).sqrt();
                for &(code, w) in &query.cats[f] {
                    if let Some(slot) = table.get_mut(code as usize) {
                        *slot += w * factor;
                    }
                }
                table
            })
            .collect();
        Prepared { dense, tables }
    }

    /// The weighted similarity of a row to a prepared query.
    #[inline]
    pub fn score(&self, query: &Prepared, row: u32) -> f32 {
        let r = row as usize;
        let k = kernels();
        let dense = match &self.dense {
            Dense::F32(d) => (k.f32)(&query.dense, &d[r * self.dim..(r + 1) * self.dim]),
            Dense::I8 { data, .. } => (k.i8)(&query.dense, &data[r * self.dim..(r + 1) * self.dim]),
        };
        let f = query.tables.len();
        let codes = &self.codes[r * f..(r + 1) * f];
        let cats: f32 = codes
            .iter()
            .zip(&query.tables)
            .map(|(&c, t)| t.get(c as usize).copied().unwrap_or(0.0))
            .sum();
        dense + cats
    }

    /// The unweighted similarity of a row to a point, view by view, into `out`.
    pub fn view_sims(&self, query: &Point, row: u32, out: &mut [f32]) {
        let all: Vec<usize> = (0..self.layout().views.len()).collect();
        self.view_sims_in(query, row, &all, out);
    }

    /// Like [`Index::view_sims`], for some views only (the others in `out`
    /// are left as they are): a strategy skips the views it does not use.
    pub fn view_sims_in(&self, query: &Point, row: u32, views: &[usize], out: &mut [f32]) {
        let layout = self.layout();
        let r = row as usize;
        let k = kernels();
        let f = layout.fields.len();
        let codes = &self.codes[r * f..(r + 1) * f];
        for &v in views {
            let view = &layout.views[v];
            out[v] = match view.kind {
                ViewKind::Categorical => {
                    let share = layout.field_share(v).sqrt();
                    view.fields
                        .clone()
                        .map(|field| {
                            query.cats[field]
                                .iter()
                                .find(|(c, _)| *c == codes[field])
                                .map_or(0.0, |(_, w)| w * share)
                        })
                        .sum()
                }
                _ => {
                    let q = &query.dense[view.dense.clone()];
                    let range = r * self.dim + view.dense.start..r * self.dim + view.dense.end;
                    match &self.dense {
                        Dense::F32(d) => (k.f32)(q, &d[range]),
                        Dense::I8 { data, scales } => (k.i8)(q, &data[range]) / scales[v],
                    }
                }
            };
        }
    }

    /// The `k` best live rows by `score`, skipping `exclude` and rows the filter refuses.
    pub fn scan(
        &self,
        k: usize,
        exclude: &RowSet,
        filter: &CompiledFilter,
        mut score: impl FnMut(u32) -> f32,
    ) -> Vec<Hit> {
        let mut top = TopK::new(k);
        self.each_candidate(exclude, filter, |row| top.push(row, score(row)));
        top.into_hits()
    }

    /// Calls `visit` for each live row not in `exclude` that the filter accepts,
    /// in row order, 64 rows at a time.
    #[inline]
    pub fn each_candidate(
        &self,
        exclude: &RowSet,
        filter: &CompiledFilter,
        mut visit: impl FnMut(u32),
    ) {
        let open = filter.is_open();
        for w in 0..self.live.words() {
            let mut bits = self.live.word(w) & !exclude.word(w);
            while bits != 0 {
                let row = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                if open || filter.accepts(self, row) {
                    visit(row);
                }
            }
        }
    }

    /// The `k` rows most similar to a prepared query.
    ///
    /// Exact, and pruned: the categorical part (a few table look-ups) is
    /// scored first, and the dense dot product only for rows whose
    /// categorical score plus the largest possible dense score could still
    /// enter the top `k`.
    pub fn search(
        &self,
        query: &Prepared,
        k: usize,
        exclude: &RowSet,
        filter: &CompiledFilter,
    ) -> Vec<Hit> {
        let kernel = kernels();
        let dim = self.dim;
        let fields = query.tables.len();
        let dense_bound: f32 = self
            .layout()
            .views
            .iter()
            .zip(&self.max_norms)
            .map(|(view, max)| norm(&query.dense[view.dense.clone()]) * max)
            .sum::<f32>()
            * 1.0001
            + 1e-6;
        let mut top = TopK::new(k);
        let mut visit = |row: u32, dense: &dyn Fn(usize) -> f32| {
            let r = row as usize;
            let codes = &self.codes[r * fields..(r + 1) * fields];
            let cats: f32 = codes
                .iter()
                .zip(&query.tables)
                .map(|(&c, t)| t.get(c as usize).copied().unwrap_or(0.0))
                .sum();
            if cats + dense_bound > top.threshold() {
                top.push(row, cats + dense(r));
            }
        };
        match &self.dense {
            Dense::I8 { data, .. } => {
                let dense = |r: usize| (kernel.i8)(&query.dense, &data[r * dim..(r + 1) * dim]);
                self.each_candidate(exclude, filter, |row| visit(row, &dense));
            }
            Dense::F32(data) => {
                let dense = |r: usize| (kernel.f32)(&query.dense, &data[r * dim..(r + 1) * dim]);
                self.each_candidate(exclude, filter, |row| visit(row, &dense));
            }
        }
        top.into_hits()
    }

    /// Live rows that pass a filter and are not excluded (for random pages).
    pub fn candidates(&self, exclude: &RowSet, filter: &CompiledFilter) -> Vec<u32> {
        let mut rows = Vec::with_capacity(self.rows.len());
        self.each_candidate(exclude, filter, |row| rows.push(row));
        rows
    }
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}
