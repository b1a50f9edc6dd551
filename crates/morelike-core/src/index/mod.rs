//! The index: every product of a store as a row of view vectors, scanned
//! exactly (float or quantized) with filters and exclusions checked inside
//! the scan.

mod batch;
mod clusters;
mod filter;
pub(crate) mod ids;
mod kernel;
mod memory;
mod permute;
mod point;
mod rowset;
mod topk;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use batch::QueryBatch;
pub use clusters::{Reach, CLUSTER_FROM};
pub use filter::{unmatched_values, CompiledFilter, FilterError, Filters, UnmatchedValue};
pub use kernel::{available, kernels, portable, Kernels};
pub use point::Point;
pub use rowset::RowSet;
pub use topk::{Hit, TopK};

use crate::hash::product_key;
use crate::product::{name_key, Described};
use crate::views::{Dictionary, Encoder, Layout, ViewKind, MISSING};
use clusters::Clusters;
use ids::Ids;

/// Rows encoded ahead at once while [`Index::build`] puts the rows before
/// them (a few MB of encoded rows in flight).
const BUILD_BLOCK: usize = 8_192;

/// How dense rows are stored and scanned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: exact scores. Scans read an i8 copy of each row
    /// first and its f32 row only when it could enter the page: five
    /// times the memory of i8, at about i8's speed on big vectors.
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

/// A store at f32 keeps its rows again at i8: a scan reads a row's i8
/// copy (a quarter of the bytes) and its f32 row only when the i8 score,
/// give or take its rounding, could still enter the page: the pages are
/// the f32 pages.
#[derive(Serialize, Deserialize)]
struct Coarse {
    data: Vec<i8>,
    scales: Vec<f32>,
}

/// Each view's i8 scale (127 over its largest absolute value) over
/// products, by parts side by side (a maximum does not depend on the order
/// it is taken in).
fn view_scales<P: Described>(
    encoder: &Encoder,
    products: impl Iterator<Item = P> + Clone + Send + Sync,
) -> Vec<f32> {
    let layout = encoder.layout();
    let threads = crate::threads::cores();
    let len = products.clone().count();
    let parts = crate::threads::ranges(len, threads);
    let maxima = crate::threads::on_threads(threads, parts.into_iter(), |part| {
        let mut max = vec![0.0f32; layout.views.len()];
        let mut dense = vec![0.0f32; layout.dense_dim];
        for p in products.clone().skip(part.start).take(part.len()) {
            dense.fill(0.0);
            encoder.encode_dense_into(&p, &mut dense);
            for (m, v) in max.iter_mut().zip(&layout.views) {
                *m = dense[v.dense.clone()]
                    .iter()
                    .fold(*m, |m, x| m.max(x.abs()));
            }
        }
        max
    });
    let mut max = vec![0.0f32; layout.views.len()];
    for part in maxima {
        for (m, x) in max.iter_mut().zip(part) {
            *m = m.max(x);
        }
    }
    max.into_iter()
        .map(|max| if max > 0.0 { 127.0 / max } else { 127.0 })
        .collect()
}

/// A row's dense values at i8, view by view at its scale.
fn quantize(layout: &Layout, scales: &[f32], dense: &[f32], out: &mut [i8]) {
    for (view, scale) in layout.views.iter().zip(scales) {
        for i in view.dense.clone() {
            out[i] = (dense[i] * scale).round().clamp(-127.0, 127.0) as i8;
        }
    }
}

/// View weights, one per view of the layout.
pub type Weights = [f32];

/// Products grouped by their categorical values: one *kind* per distinct
/// combination, with its rows ordered by product key. Strategies work on
/// kinds (a few thousand) where they would otherwise visit every row.
#[derive(Default, Serialize, Deserialize)]
#[serde(from = "StoredKinds")]
struct Kinds {
    ids: HashMap<Box<[u32]>, u32>,
    /// Every kind's codes, one per field, kind after kind: a pass over
    /// every kind reads one flat array instead of chasing a pointer each.
    codes: Vec<u32>,
    /// The same codes by field (`columns[f][kind]`), for passes that
    /// compare one field across every kind (vectorizable).
    columns: Vec<Vec<u32>>,
    rows: Vec<Vec<u32>>,
    /// Per row, its kind (`u32::MAX` for a row without a product).
    of: Vec<u32>,
    /// While the index is built, rows are appended and sorted once at the end.
    building: bool,
    /// Every kind's number of rows, by kind (`rows[k].len()`): a pass over
    /// every kind reads one flat column instead of each list's header.
    #[serde(skip)]
    sizes: Vec<u32>,
}

/// [`Kinds`] as a snapshot holds it (the sizes are counted on reading).
#[derive(Deserialize)]
struct StoredKinds {
    ids: HashMap<Box<[u32]>, u32>,
    codes: Vec<u32>,
    columns: Vec<Vec<u32>>,
    rows: Vec<Vec<u32>>,
    of: Vec<u32>,
    building: bool,
}

impl From<StoredKinds> for Kinds {
    fn from(stored: StoredKinds) -> Self {
        let StoredKinds {
            ids,
            codes,
            columns,
            rows,
            of,
            building,
        } = stored;
        let sizes = rows.iter().map(|r| r.len() as u32).collect();
        Kinds {
            ids,
            codes,
            columns,
            rows,
            of,
            building,
            sizes,
        }
    }
}

impl Kinds {
    /// Orders every kind's rows by product key (after a build).
    fn sort(&mut self, keys: &[u64]) {
        for rows in &mut self.rows {
            rows.sort_unstable_by_key(|&r| keys[r as usize]);
        }
        self.building = false;
    }

    /// Files a row (of product key `key`) under the kind of `codes`.
    fn put(&mut self, row: u32, codes: &[u32], key: u64, keys: &[u64]) {
        let kind = match self.ids.get(codes) {
            Some(&kind) => kind,
            None => {
                let kind = self.rows.len() as u32;
                self.ids.insert(codes.into(), kind);
                self.codes.extend_from_slice(codes);
                self.columns.resize_with(codes.len(), Vec::new);
                for (column, &code) in self.columns.iter_mut().zip(codes) {
                    column.push(code);
                }
                self.rows.push(Vec::new());
                self.sizes.push(0);
                kind
            }
        };
        self.sizes[kind as usize] += 1;
        let rows = &mut self.rows[kind as usize];
        if self.building {
            rows.push(row);
        } else {
            let at = rows.partition_point(|&r| keys[r as usize] < key);
            rows.insert(at, row);
        }
        if self.of.len() <= row as usize {
            self.of.resize(row as usize + 1, u32::MAX);
        }
        self.of[row as usize] = kind;
    }

    /// Takes a row out of its kind.
    fn take(&mut self, row: u32) {
        let Some(kind) = self
            .of
            .get(row as usize)
            .copied()
            .filter(|&k| k != u32::MAX)
        else {
            return;
        };
        let rows = &mut self.rows[kind as usize];
        if let Some(at) = rows.iter().position(|&r| r == row) {
            rows.remove(at);
            self.sizes[kind as usize] -= 1;
        }
        self.of[row as usize] = u32::MAX;
    }
}

/// A query ready for the scan: weights and quantization scales folded in.
pub struct Prepared {
    dense: Vec<f32>,
    /// The dense part for the i8 copy of a store at f32 (else empty).
    coarse: Vec<f32>,
    tables: Vec<Vec<f32>>,
}

/// Every product of a store as vectors, with the encoder that made them.
#[derive(Serialize, Deserialize)]
pub struct Index {
    encoder: Encoder,
    dim: usize,
    dense: Dense,
    /// At f32, the rows again at i8, which scans rank candidates on.
    coarse: Option<Coarse>,
    codes: Vec<u32>,
    /// Per field, how many live rows have each code.
    value_counts: Vec<Vec<u32>>,
    /// Each row's product id, and each id's row.
    ids: Ids,
    /// Per row, the product's stable key (ties are broken by it).
    keys: Vec<u64>,
    /// Per row, a hash of the product's normalized name (copies share it).
    names: Vec<u64>,
    live: RowSet,
    /// Products that share every categorical value: a *kind* each.
    kinds: Kinds,
    free: Vec<u32>,
    in_stock: RowSet,
    prices: Vec<f32>,
    /// Per view, the largest length of a stored row's dense slice (in stored
    /// units): with a query's slice lengths it bounds the dense score.
    max_norms: Vec<f32>,
    /// In a large store, the rows grouped around centres: scans visit only
    /// the clusters nearest their query.
    clusters: Option<Clusters>,
    /// How much of a clustered store a scan visits (a setting of this
    /// build, not of the snapshot).
    #[serde(skip)]
    reach: Reach,
    /// Scans visit every row even when the store is clustered (to measure
    /// what the clusters cost in agreement).
    #[serde(skip)]
    exact: bool,
}

impl Index {
    /// Builds an index over products with a fitted encoder. Rows are
    /// encoded a block ahead of where they are stored, on another thread
    /// (at i8, a first pass over the products, on every core, finds each
    /// view's scale): no more than a few blocks of encoded rows are held
    /// beside the index, and the rows are the same whatever the threads.
    pub fn build<P: Described>(
        encoder: Encoder,
        products: impl Iterator<Item = P> + Clone + Send + Sync,
        precision: Precision,
    ) -> Self {
        let layout = encoder.layout();
        let dim = layout.dense_dim;
        let rows = products.size_hint().0;
        let scales = view_scales(&encoder, products.clone());
        let (dense, coarse) = match precision {
            Precision::F32 => (
                Dense::F32(Vec::with_capacity(rows * dim)),
                Some(Coarse {
                    data: Vec::with_capacity(rows * dim),
                    scales,
                }),
            ),
            Precision::I8 => (
                Dense::I8 {
                    data: Vec::with_capacity(rows * dim),
                    scales,
                },
                None,
            ),
        };
        let mut index = Index {
            encoder,
            dim,
            dense,
            coarse,
            codes: Vec::new(),
            value_counts: Vec::new(),
            ids: Ids::default(),
            keys: Vec::new(),
            names: Vec::new(),
            live: RowSet::default(),
            kinds: Kinds::default(),
            free: Vec::new(),
            in_stock: RowSet::default(),
            prices: Vec::new(),
            max_norms: Vec::new(),
            clusters: None,
            reach: Reach::default(),
            exact: false,
        };
        index.kinds.building = true;
        // The dense parts are encoded a block ahead on another thread (by
        // a copy of the encoder) while the rows are put here in order, with
        // their codes, keys and kinds, as one pass would.
        let ahead = index.encoder.clone();
        let mut products = products;
        let rest = products.clone();
        std::thread::scope(|scope| {
            // A block is a count of rows and their dense parts back to back.
            let (sender, blocks) = std::sync::mpsc::sync_channel::<(usize, Vec<f32>)>(2);
            let (spent, empties) = std::sync::mpsc::channel::<Vec<f32>>();
            scope.spawn(move || {
                let mut rest = rest.peekable();
                while rest.peek().is_some() {
                    let mut block = empties.try_recv().unwrap_or_default();
                    block.clear();
                    let mut n = 0;
                    for p in rest.by_ref().take(BUILD_BLOCK) {
                        let at = block.len();
                        block.resize(at + dim, 0.0);
                        ahead.encode_dense_into(&p, &mut block[at..]);
                        n += 1;
                    }
                    if sender.send((n, block)).is_err() {
                        break;
                    }
                }
            });
            let mut codes = Vec::new();
            for (n, block) in blocks {
                for i in 0..n {
                    let Some(product) = products.next() else {
                        break;
                    };
                    index.encoder.encode_codes_into(&product, &mut codes);
                    index.put(&product, &block[i * dim..(i + 1) * dim], &codes);
                }
                // Handed back to be filled again (the encoding thread may
                // have finished: then it is dropped here).
                let _ = spent.send(block);
            }
        });
        index.kinds.sort(&index.keys);
        index
    }

    /// Groups the rows into clusters, whatever the store's size, and
    /// returns the row order that puts each cluster's rows together
    /// (`order[new] = old`): the catalog moves its rows and cards with
    /// [`Index::permute`] (a store of [`CLUSTER_FROM`] products or more is
    /// clustered when built).
    pub(crate) fn cluster(&mut self) -> Vec<u32> {
        self.clusters = Some(Clusters::build(self));
        self.cluster_order().unwrap_or_default()
    }

    /// How many clusters the rows are grouped in (0: scans visit every row).
    pub fn cluster_count(&self) -> usize {
        self.clusters.as_ref().map_or(0, Clusters::len)
    }

    /// The rows of cluster `c`, smallest first.
    pub fn cluster_rows(&self, c: usize) -> &[u32] {
        self.clusters
            .as_ref()
            .map_or(&[], |clusters| clusters.rows(c))
    }

    /// Whether scans visit every row even in a clustered store.
    pub fn set_exact(&mut self, exact: bool) {
        self.exact = exact;
    }

    /// How much of a clustered store a scan visits.
    pub fn set_reach(&mut self, reach: Reach) {
        self.reach = reach;
    }

    /// The rows a scan should visit: in a clustered store, those of the
    /// clusters `rank` puts first (given each centre's index, it says how
    /// well the centre suits the page) until [`Reach`] is met, among the
    /// rows the page could show; `None` (every row) otherwise.
    pub fn near_rows(
        &self,
        exclude: &RowSet,
        filter: &CompiledFilter,
        rank: impl Fn(usize) -> f32,
    ) -> Option<Vec<u32>> {
        let clusters = self
            .clusters
            .as_ref()
            .filter(|c| !self.exact && c.len() > 0)?;
        Some(clusters.near(self, self.reach, exclude, filter, rank))
    }

    /// How many rows a scan that orders them itself (probe, kind by kind)
    /// visits at most: in a clustered store what [`Reach`] says, else every row.
    pub fn scan_budget(&self) -> Option<usize> {
        (self.cluster_count() > 0 && !self.exact).then(|| self.reach.rows(self.len()))
    }

    /// What a prepared query scores against every centre (the mean of what
    /// it scores against the centre's rows); empty in a store without clusters.
    pub fn centre_scores(&self, query: &Prepared) -> Vec<f32> {
        self.clusters
            .as_ref()
            .map_or(Vec::new(), |c| c.scores(self, query))
    }

    /// [`Index::near_rows`] for one query: the clusters it scores best.
    pub fn near_query(
        &self,
        query: &Prepared,
        exclude: &RowSet,
        filter: &CompiledFilter,
    ) -> Option<Vec<u32>> {
        if self.clusters.is_none() || self.exact {
            return None;
        }
        let scores = self.centre_scores(query);
        self.near_rows(exclude, filter, |c| scores[c])
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
        self.ids.len()
    }

    /// Whether the index holds no product.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// One past the highest row number.
    pub fn row_count(&self) -> usize {
        self.ids.row_count()
    }

    /// The row of a product.
    pub fn row(&self, id: &str) -> Option<u32> {
        self.ids.row(id)
    }

    /// The product id of a row.
    pub fn id(&self, row: u32) -> &str {
        self.ids.id(row)
    }

    /// A row's stable key (a hash of its product id): exact ties between
    /// scores go to the smaller key, so no page depends on row order.
    #[inline]
    pub fn key(&self, row: u32) -> u64 {
        self.keys[row as usize]
    }

    /// A hash of a row's normalized name: two rows with the same one look
    /// like copies to a shopper.
    #[inline]
    pub fn name_key(&self, row: u32) -> u64 {
        self.names[row as usize]
    }

    /// The rows that hold a product.
    pub fn live_rows(&self) -> &RowSet {
        &self.live
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

    /// The precision rows are stored in.
    pub fn precision(&self) -> Precision {
        match self.dense {
            Dense::F32(_) => Precision::F32,
            Dense::I8 { .. } => Precision::I8,
        }
    }

    /// Adds or replaces a product; returns its row.
    pub fn upsert(&mut self, product: &impl Described) -> u32 {
        let encoded = self.encoder.encode(product);
        self.put(product, &encoded.dense, &encoded.codes)
    }

    /// Puts a product's encoded rows (its dense part and its codes) at its
    /// row, a new one when its id has none.
    fn put(&mut self, product: &impl Described, dense: &[f32], codes: &[u32]) -> u32 {
        let row = match self.ids.row(product.id()) {
            Some(row) => row,
            None => {
                let row = self.free.pop().unwrap_or(self.keys.len() as u32);
                if row as usize == self.keys.len() {
                    self.keys.push(0);
                    self.names.push(0);
                    self.prices.push(f32::NAN);
                    self.codes.resize(self.codes.len() + codes.len(), MISSING);
                    match &mut self.dense {
                        Dense::F32(d) => d.resize(d.len() + self.dim, 0.0),
                        Dense::I8 { data, .. } => data.resize(data.len() + self.dim, 0),
                    }
                    if let Some(coarse) = &mut self.coarse {
                        coarse.data.resize(coarse.data.len() + self.dim, 0);
                    }
                }
                self.ids.put(row, product.id());
                self.keys[row as usize] = product_key(product.id());
                row
            }
        };
        let r = row as usize;
        let layout = self.encoder.layout();
        match &mut self.dense {
            Dense::F32(d) => d[r * self.dim..(r + 1) * self.dim].copy_from_slice(dense),
            Dense::I8 { data, scales } => quantize(
                layout,
                scales,
                dense,
                &mut data[r * self.dim..(r + 1) * self.dim],
            ),
        }
        if let Some(coarse) = &mut self.coarse {
            let out = &mut coarse.data[r * self.dim..(r + 1) * self.dim];
            quantize(layout, &coarse.scales, dense, out);
        }
        self.max_norms.resize(layout.views.len(), 0.0);
        for (v, view) in layout.views.iter().enumerate() {
            let norm = match &self.dense {
                Dense::F32(d) => {
                    norm(&d[r * self.dim + view.dense.start..r * self.dim + view.dense.end])
                }
                Dense::I8 { data, .. } => {
                    norm_i8(&data[r * self.dim + view.dense.start..r * self.dim + view.dense.end])
                }
            };
            self.max_norms[v] = self.max_norms[v].max(norm);
        }
        let f = codes.len();
        if self.live.contains(row) {
            self.count_values(r, false);
            self.kinds.take(row);
        }
        self.codes[r * f..(r + 1) * f].copy_from_slice(codes);
        self.count_values(r, true);
        self.kinds.put(row, codes, self.keys[r], &self.keys);
        self.names[r] = name_key(product.name());
        self.prices[r] = product.price().map_or(f32::NAN, |p| p as f32);
        if product.in_stock() {
            self.in_stock.insert(row);
        } else {
            self.in_stock.remove(row);
        }
        self.live.insert(row);
        if let Some(mut clusters) = self.clusters.take() {
            clusters.place(self, row);
            self.clusters = Some(clusters);
        }
        row
    }

    /// Removes a product; returns the row it had.
    pub fn remove(&mut self, id: &str) -> Option<u32> {
        let row = self.ids.remove(id)?;
        self.count_values(row as usize, false);
        self.kinds.take(row);
        if let Some(clusters) = &mut self.clusters {
            clusters.take(row);
        }
        self.live.remove(row);
        self.in_stock.remove(row);
        self.free.push(row);
        Some(row)
    }

    /// Counts a row's categorical values in (or out of) the store's tallies.
    fn count_values(&mut self, r: usize, add: bool) {
        let f = self.layout().fields.len();
        self.value_counts.resize_with(f, Vec::new);
        for (field, counts) in self.value_counts.iter_mut().enumerate() {
            let code = self.codes[r * f + field];
            if code == MISSING {
                continue;
            }
            if counts.len() <= code as usize {
                counts.resize(code as usize + 1, 0);
            }
            let n = &mut counts[code as usize];
            *n = if add { *n + 1 } else { n.saturating_sub(1) };
        }
    }

    /// How many kinds the index has told apart (some may have no product left).
    pub fn kind_count(&self) -> usize {
        self.kinds.rows.len()
    }

    /// A kind's categorical codes, one per field.
    #[inline]
    pub fn kind_codes(&self, kind: u32) -> &[u32] {
        let f = self.layout().fields.len();
        &self.kinds.codes[kind as usize * f..(kind as usize + 1) * f]
    }

    /// Every kind's code of one categorical field, by kind: a pass over
    /// every kind compares whole columns (tens of thousands of kinds at a
    /// million products).
    pub fn kind_column(&self, field: usize) -> &[u32] {
        self.kinds.columns.get(field).map_or(&[], Vec::as_slice)
    }

    /// A kind's rows, smallest product key first.
    pub fn kind_rows(&self, kind: u32) -> &[u32] {
        &self.kinds.rows[kind as usize]
    }

    /// Every kind's number of rows, by kind (the lengths of
    /// [`Index::kind_rows`], in one column).
    pub fn kind_sizes(&self) -> &[u32] {
        &self.kinds.sizes
    }

    /// The kind of a live row.
    pub fn kind_of(&self, row: u32) -> u32 {
        self.kinds.of[row as usize]
    }

    /// How many live products have `code` in categorical field `field`.
    pub fn value_count(&self, field: usize, code: u32) -> u32 {
        self.value_counts
            .get(field)
            .and_then(|c| c.get(code as usize))
            .copied()
            .unwrap_or(0)
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
        // The query's dense part with each view's weight over its scale.
        let scaled = |scales: Option<&[f32]>| {
            let mut dense = query.dense.clone();
            for (v, view) in layout.views.iter().enumerate() {
                let factor = weights[v] / scales.map_or(1.0, |s| s[v]);
                dense[view.dense.clone()]
                    .iter_mut()
                    .for_each(|x| *x *= factor);
            }
            dense
        };
        let dense = match &self.dense {
            Dense::F32(_) => scaled(None),
            Dense::I8 { scales, .. } => scaled(Some(scales)),
        };
        let coarse = self
            .coarse
            .as_ref()
            .map_or(Vec::new(), |c| scaled(Some(&c.scales)));
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
        Prepared {
            dense,
            coarse,
            tables,
        }
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
        dense + self.cats(query, row)
    }

    /// The categorical part of a row's score.
    #[inline]
    pub fn cats(&self, query: &Prepared, row: u32) -> f32 {
        let r = row as usize;
        let f = query.tables.len();
        let codes = &self.codes[r * f..(r + 1) * f];
        codes
            .iter()
            .zip(&query.tables)
            .map(|(&c, t)| t.get(c as usize).copied().unwrap_or(0.0))
            .sum()
    }

    /// The unweighted similarity of a row to a point, view by view, into `out`.
    pub fn view_sims(&self, query: &Point, row: u32, out: &mut [f32]) {
        for (v, sim) in out.iter_mut().enumerate().take(self.layout().views.len()) {
            *sim = self.view_sim(query, row, v);
        }
    }

    /// Like [`Index::view_sims`], for some views only (the others in `out`
    /// are left as they are): a strategy skips the views it does not use.
    pub fn view_sims_in(&self, query: &Point, row: u32, views: &[usize], out: &mut [f32]) {
        for &v in views {
            out[v] = self.view_sim(query, row, v);
        }
    }

    /// The unweighted similarity of a row to a point in one view.
    fn view_sim(&self, query: &Point, row: u32, v: usize) -> f32 {
        let layout = self.layout();
        let r = row as usize;
        let view = &layout.views[v];
        match view.kind {
            ViewKind::Categorical => {
                let f = layout.fields.len();
                let codes = &self.codes[r * f..(r + 1) * f];
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
                let k = kernels();
                let q = &query.dense[view.dense.clone()];
                let range = r * self.dim + view.dense.start..r * self.dim + view.dense.end;
                match &self.dense {
                    Dense::F32(d) => (k.f32)(q, &d[range]),
                    Dense::I8 { data, scales } => (k.i8)(q, &data[range]) / scales[v],
                }
            }
        }
    }

    /// The `k` best live rows by `score`, skipping `exclude` and rows the
    /// filter refuses; only the rows of `within` when given (rows
    /// [`Index::near_rows`] chose, already checked).
    pub fn scan(
        &self,
        k: usize,
        within: Option<&[u32]>,
        exclude: &RowSet,
        filter: &CompiledFilter,
        mut score: impl FnMut(u32) -> f32,
    ) -> Vec<Hit> {
        self.scan_bounded(k, within, exclude, filter, |row, _| Some(score(row)))
    }

    /// Calls `visit` for each live row not in `exclude` that the filter accepts,
    /// in row order, 64 rows at a time.
    #[inline]
    pub fn each_candidate(
        &self,
        exclude: &RowSet,
        filter: &CompiledFilter,
        visit: impl FnMut(u32),
    ) {
        self.each_candidate_in(None, exclude, filter, visit);
    }

    /// [`Index::each_candidate`], or when `within` is given its rows only
    /// (rows [`Index::near_rows`] chose: live, not excluded, accepted).
    #[inline]
    pub fn each_candidate_in(
        &self,
        within: Option<&[u32]>,
        exclude: &RowSet,
        filter: &CompiledFilter,
        mut visit: impl FnMut(u32),
    ) {
        if let Some(rows) = within {
            rows.iter().for_each(|&row| visit(row));
            return;
        }
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
    /// Exact over the rows it visits (every row, or in a clustered store the
    /// clusters nearest the query: [`Index::near_query`]), and pruned: the
    /// categorical part (a few table look-ups) is scored first, and the
    /// dense dot product only for rows whose categorical score plus the
    /// largest possible dense score could still enter the top `k`.
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
        let dense_bound = self.dense_bound(query);
        let within = self.near_query(query, exclude, filter);
        let within = within.as_deref();
        let mut top = TopK::new(k);
        let cats = |r: usize| -> f32 {
            self.codes[r * fields..(r + 1) * fields]
                .iter()
                .zip(&query.tables)
                .map(|(&c, t)| t.get(c as usize).copied().unwrap_or(0.0))
                .sum()
        };
        match (self.coarse(), &self.dense) {
            (Some(c), Dense::F32(data)) => {
                // The i8 row first: only a row whose i8 score, give or take
                // its rounding, could enter is read at f32.
                let rounding = self.rounding(query);
                self.each_candidate_in(within, exclude, filter, |row| {
                    let r = row as usize;
                    let cats = cats(r);
                    let threshold = top.threshold();
                    if cats + dense_bound < threshold {
                        return;
                    }
                    let rough = (kernel.i8)(&query.coarse, &c.data[r * dim..(r + 1) * dim]);
                    if cats + rough + rounding < threshold {
                        return;
                    }
                    let dense = (kernel.f32)(&query.dense, &data[r * dim..(r + 1) * dim]);
                    top.push(row, cats + dense, self.keys[r]);
                });
            }
            (_, Dense::I8 { data, .. }) => {
                self.each_candidate_in(within, exclude, filter, |row| {
                    let r = row as usize;
                    let cats = cats(r);
                    if cats + dense_bound >= top.threshold() {
                        let dense = (kernel.i8)(&query.dense, &data[r * dim..(r + 1) * dim]);
                        top.push(row, cats + dense, self.keys[r]);
                    }
                });
            }
            (None, Dense::F32(data)) => {
                self.each_candidate_in(within, exclude, filter, |row| {
                    let r = row as usize;
                    let cats = cats(r);
                    if cats + dense_bound >= top.threshold() {
                        let dense = (kernel.f32)(&query.dense, &data[r * dim..(r + 1) * dim]);
                        top.push(row, cats + dense, self.keys[r]);
                    }
                });
            }
        }
        top.into_hits()
    }

    /// How far a row's score on the i8 copy can be from its f32 score:
    /// half a rounding step per value (0 without a copy). A row whose i8
    /// score plus this cannot enter a page cannot at f32 either (a row
    /// upserted with values past the range its view was scaled for is
    /// clamped and may be off by more).
    pub fn rounding(&self, query: &Prepared) -> f32 {
        if self.coarse().is_none() {
            return 0.0;
        }
        0.5 * query.coarse.iter().map(|x| x.abs()).sum::<f32>() * 1.0001 + 1e-6
    }

    /// The most the dense part of a row's score can be for a prepared
    /// query, a little over: a row whose categorical part plus this cannot
    /// enter a page need not be read.
    pub fn dense_bound(&self, query: &Prepared) -> f32 {
        self.layout()
            .views
            .iter()
            .zip(&self.max_norms)
            .map(|(view, max)| norm(&query.dense[view.dense.clone()]) * max)
            .sum::<f32>()
            * 1.0001
            + 1e-6
    }

    /// [`Index::scan`] that tells `score` the lowest score that can still
    /// enter (`-inf` until k rows are in): `score` returns `None` for a row
    /// it can tell would not (e.g. from a bound), without scoring it.
    pub fn scan_bounded(
        &self,
        k: usize,
        within: Option<&[u32]>,
        exclude: &RowSet,
        filter: &CompiledFilter,
        mut score: impl FnMut(u32, f32) -> Option<f32>,
    ) -> Vec<Hit> {
        let mut top = TopK::new(k);
        self.each_candidate_in(within, exclude, filter, |row| {
            if let Some(s) = score(row, top.threshold()) {
                top.push(row, s, self.key(row));
            }
        });
        top.into_hits()
    }

    /// The i8 copy scans rank candidates on (a store at f32, unless scans
    /// are exact).
    fn coarse(&self) -> Option<&Coarse> {
        self.coarse.as_ref().filter(|_| !self.exact)
    }

    /// Whether scans read a row's i8 copy before its f32 row (a store at
    /// f32, unless scans are exact): see [`Index::rounding`].
    pub fn ranks_coarse(&self) -> bool {
        self.coarse().is_some()
    }

    /// [`Index::score`] on the i8 copy of a store at f32 (approximate; the
    /// exact score where there is none).
    #[inline]
    pub fn score_coarse(&self, query: &Prepared, row: u32) -> f32 {
        let Some(coarse) = self.coarse() else {
            return self.score(query, row);
        };
        let r = row as usize;
        let dense = (kernels().i8)(
            &query.coarse,
            &coarse.data[r * self.dim..(r + 1) * self.dim],
        );
        dense + self.cats(query, row)
    }

    /// `k` rows drawn at random (for a given `draw`) among the live rows
    /// that pass a filter and are not excluded: the rows whose keys, mixed
    /// with `draw`, are smallest. Like every scan, it does not depend on
    /// row order.
    pub fn sample(
        &self,
        k: usize,
        exclude: &RowSet,
        filter: &CompiledFilter,
        draw: u64,
    ) -> Vec<Hit> {
        let mut top = TopK::new(k);
        self.each_candidate(exclude, filter, |row| {
            top.push(row, 0.0, crate::hash::mix(self.keys[row as usize] ^ draw))
        });
        top.into_hits()
    }
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// [`norm`] of i8 values (the same sum, in the same order).
fn norm_i8(v: &[i8]) -> f32 {
    v.iter()
        .map(|&x| f32::from(x))
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use crate::mapping::Mapping;
    use crate::product::Product;
    use crate::{Catalog, Precision};

    #[test]
    fn value_counts_follow_upserts_replacements_and_deletes() {
        let mapping = Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n",
        )
        .unwrap();
        let p = |id: &str, c: &str| Product::new(id, id).with_attribute("colour", c);
        let mut catalog = Catalog::build(
            mapping,
            vec![p("1", "red"), p("2", "red"), p("3", "blue")],
            Precision::F32,
        );
        let count = |c: &Catalog, colour: &str| {
            let code = c.index().dictionary(0).code(colour).unwrap();
            c.index().value_count(0, code)
        };
        assert_eq!((count(&catalog, "red"), count(&catalog, "blue")), (2, 1));
        catalog.upsert(p("2", "blue"));
        assert_eq!((count(&catalog, "red"), count(&catalog, "blue")), (1, 2));
        catalog.upsert(p("4", "green"));
        catalog.delete("3");
        assert_eq!((count(&catalog, "blue"), count(&catalog, "green")), (1, 1));
    }

    #[test]
    fn kinds_group_live_rows_by_their_values_smallest_key_first() {
        let mapping = Mapping::from_toml(
            "[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\", \"type\"]\n",
        )
        .unwrap();
        let p = |id: &str, c: &str| {
            Product::new(id, id)
                .with_attribute("colour", c)
                .with_attribute("type", "shirt")
        };
        let mut catalog = Catalog::build(
            mapping,
            (0..20)
                .map(|i| p(&i.to_string(), if i % 2 == 0 { "red" } else { "blue" }))
                .collect::<Vec<_>>(),
            Precision::F32,
        );
        catalog.upsert(p("3", "red"));
        catalog.delete("4");
        let index = catalog.index();
        let red = index.kind_of(index.row("0").unwrap());
        let rows = index.kind_rows(red);
        assert_eq!(rows.len(), 10, "ten even ids, less 4, plus 3");
        assert!(rows.contains(&index.row("3").unwrap()));
        assert!(!rows.iter().any(|&r| index.id(r) == "4"));
        let keys: Vec<u64> = rows.iter().map(|&r| index.key(r)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "smallest key first");
        let blue = index.kind_of(index.row("1").unwrap());
        assert_ne!(red, blue);
        assert_eq!(index.kind_rows(blue).len(), 9);
        assert_eq!(
            index.kind_codes(blue)[1],
            index.kind_codes(red)[1],
            "same type"
        );
        // The sizes column follows the lists, and is counted again when
        // a snapshot is read.
        let sizes = |index: &super::Index| -> Vec<u32> {
            (0..index.kind_count() as u32)
                .map(|k| index.kind_rows(k).len() as u32)
                .collect()
        };
        assert_eq!(index.kind_sizes(), sizes(index));
        assert_eq!(index.kind_sizes()[red as usize], 10);
        let read: super::Index =
            postcard::from_bytes(&postcard::to_stdvec(index).unwrap()).unwrap();
        assert_eq!(read.kind_sizes(), sizes(index));
    }
}
