//! A store's catalog in memory: the product documents, the fitted views, the
//! index and the view weights. Changes are live: an upsert or a delete is seen
//! by the very next page.

mod cards;
pub mod snapshot;
pub(crate) mod strings;
mod words;

use std::collections::BTreeMap;

pub(crate) use cards::permuted;
pub use cards::{Card, Cards};
pub use snapshot::SnapshotError;

use crate::index::ids::Ids;
use crate::index::{CompiledFilter, FilterError, Filters, Hit, Index, Precision, RowSet};
use crate::mapping::Mapping;
use crate::product::{Described, Product};
use crate::views::Encoder;
use words::Words;

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The product is new.
    Added,
    /// The product existed and differed.
    Updated,
    /// The product existed and was the same.
    Unchanged,
}

/// A request about a product the catalog does not have, or weights it does not know.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    /// No product with that id.
    #[error("no product with id '{0}' in this store")]
    UnknownProduct(String),
    /// A weight for a view the store does not have.
    #[error("no view named '{view}'; views are: {known}")]
    UnknownView {
        /// The name given.
        view: String,
        /// The views there are.
        known: String,
    },
    /// A weight that is negative or not a number.
    #[error("weight {weight} for view '{view}' must be finite and ≥ 0")]
    BadWeight {
        /// The view.
        view: String,
        /// The weight.
        weight: f32,
    },
    /// A filter the store cannot apply.
    #[error(transparent)]
    Filter(#[from] FilterError),
}

/// One store's products, views, index and weights.
pub struct Catalog {
    mapping: Mapping,
    cards: Cards,
    index: Index,
    weights: Vec<f32>,
    /// The words of the names, for [`Catalog::search`].
    words: Words,
}

/// A product being built into the catalog: its card, and its vectors, which
/// the cards do not keep.
struct Building<'a> {
    card: Card<'a>,
    vectors: Option<&'a BTreeMap<String, Vec<f32>>>,
}

impl Described for Building<'_> {
    fn id(&self) -> &str {
        self.card.id()
    }
    fn name(&self) -> &str {
        self.card.name()
    }
    fn price(&self) -> Option<f64> {
        self.card.price()
    }
    fn in_stock(&self) -> bool {
        self.card.in_stock()
    }
    fn attribute(&self, field: &str) -> Option<&str> {
        self.card.attribute(field)
    }
    fn number(&self, field: &str) -> Option<f64> {
        self.card.number(field)
    }
    fn vector(&self, field: &str) -> Option<&[f32]> {
        self.vectors?.get(field).map(Vec::as_slice)
    }
}

/// A catalog being built from products taken one at a time (a stream of
/// batches, a storage scan): each product is kept only as its card (and its
/// merchant vectors until the index holds them encoded); [`finish`] fits
/// the views and builds the index. A later product with the same id
/// replaces the earlier one.
///
/// [`finish`]: CatalogBuilder::finish
pub struct CatalogBuilder {
    mapping: Mapping,
    precision: Precision,
    /// Each row's id and each id's row (no allocation per product).
    ids: Ids,
    cards: Cards,
    /// Merchant vectors, by row, until the index holds them encoded.
    vectors: Vec<BTreeMap<String, Vec<f32>>>,
}

impl CatalogBuilder {
    /// An empty builder for a mapping and a precision.
    pub fn new(mapping: Mapping, precision: Precision) -> Self {
        CatalogBuilder {
            mapping,
            precision,
            ids: Ids::default(),
            cards: Cards::default(),
            vectors: Vec::new(),
        }
    }

    /// Takes one product (replacing an earlier one with its id).
    pub fn add(&mut self, mut product: Product) {
        self.add_from(&mut product);
    }

    /// [`CatalogBuilder::add`] of a product the caller keeps: only its
    /// merchant vectors are taken out of it; the rest is left as it was
    /// (to be written over by the next row of an import).
    pub fn add_from(&mut self, product: &mut Product) {
        let row = match self.ids.row(&product.id) {
            Some(row) => row,
            None => {
                let row = self.ids.len() as u32;
                self.ids.put(row, &product.id);
                row
            }
        };
        self.cards.put(row, product);
        if !product.vectors.is_empty() || self.vectors.len() > row as usize {
            let vectors = &mut self.vectors;
            vectors.resize_with(vectors.len().max(row as usize + 1), BTreeMap::new);
            vectors[row as usize] = std::mem::take(&mut product.vectors);
        }
    }

    /// How many distinct products it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it holds no product.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// Fits the views on the products taken and builds the index.
    pub fn finish(self) -> Catalog {
        let CatalogBuilder {
            mapping,
            precision,
            ids,
            mut cards,
            vectors,
        } = self;
        let building = || {
            (0..ids.row_count() as u32).map(|row| Building {
                card: cards.card(row, ids.id(row)),
                vectors: vectors.get(row as usize),
            })
        };
        let encoder = Encoder::fit(&mapping, building());
        let mut index = Index::build(encoder, building(), precision);
        drop(vectors);
        cards.shrink();
        index.shrink();
        let weights = mapping.views.iter().map(|v| v.weight).collect();
        let mut catalog = Catalog {
            mapping,
            cards,
            index,
            weights,
            words: Words::default(),
        };
        if catalog.len() >= crate::index::CLUSTER_FROM {
            catalog.cluster();
        } else {
            catalog.rebuild_search();
        }
        catalog
    }
}

impl Catalog {
    /// Fits the views on the products and builds the index (later duplicates
    /// win). Products are taken one at a time and kept only as cards
    /// ([`CatalogBuilder`]).
    pub fn build(
        mapping: Mapping,
        products: impl IntoIterator<Item = Product>,
        precision: Precision,
    ) -> Self {
        let mut builder = CatalogBuilder::new(mapping, precision);
        for p in products {
            builder.add(p);
        }
        builder.finish()
    }

    /// The mapping the catalog was built with.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// How many products.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no products.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// A product's card by id.
    pub fn get(&self, id: &str) -> Option<Card<'_>> {
        self.index.row(id).map(|row| self.at(row))
    }

    /// Every product's card, in row order.
    pub fn products(&self) -> impl Iterator<Item = Card<'_>> {
        (0..self.index.row_count() as u32)
            .filter(|&row| self.index.is_live(row))
            .map(|row| self.at(row))
    }

    /// The card of the product at an index row.
    pub fn at(&self, row: u32) -> Card<'_> {
        self.cards.card(row, self.index.id(row))
    }

    /// The fingerprint of a stored product ([`Product::fingerprint`]), by id.
    pub fn fingerprint(&self, id: &str) -> Option<u64> {
        self.index.row(id).map(|row| self.cards.fingerprint(row))
    }

    /// Bytes the catalog holds on the heap, counted from the capacities of
    /// what it keeps: the cards, the index (rows, maps, clusters, fitted
    /// views), the name words of search and the weights.
    pub fn heap_bytes(&self) -> usize {
        self.card_bytes()
            + self.index.heap_bytes()
            + self.search_bytes()
            + crate::heap::vec(&self.weights)
    }

    /// Bytes the cards hold on the heap (names, values, prices, codes).
    pub fn card_bytes(&self) -> usize {
        self.cards.heap_bytes()
    }

    /// Adds or replaces a product; the next page sees it.
    pub fn upsert(&mut self, product: Product) -> Change {
        let change = match self.fingerprint(&product.id) {
            Some(old) if old == product.fingerprint() => return Change::Unchanged,
            Some(_) => Change::Updated,
            None => Change::Added,
        };
        let renamed = match self.index.row(&product.id) {
            Some(row) if self.cards.name(row) == product.name => false,
            Some(row) => {
                self.words.remove(row, self.cards.name(row));
                true
            }
            None => true,
        };
        let row = self.index.upsert(&product);
        self.cards.put(row, &product);
        if renamed {
            self.words.add(row, &product.name);
        }
        change
    }

    /// Deletes a product; false when there was none.
    pub fn delete(&mut self, id: &str) -> bool {
        match self.index.remove(id) {
            Some(row) => {
                self.words.remove(row, self.cards.name(row));
                self.cards.clear(row);
                true
            }
            None => false,
        }
    }

    /// The view weights, one per view.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The view weights by name.
    pub fn weights_by_name(&self) -> BTreeMap<String, f32> {
        self.index
            .layout()
            .views
            .iter()
            .zip(&self.weights)
            .map(|(v, w)| (v.name.clone(), *w))
            .collect()
    }

    /// Changes some view weights (by view name); nothing changes on error.
    pub fn set_weights(&mut self, weights: &BTreeMap<String, f32>) -> Result<(), CatalogError> {
        self.weights = self.weights_after(weights)?;
        Ok(())
    }

    /// Whether [`Catalog::set_weights`] would accept these weights (it
    /// would fail with this error), without changing any.
    pub fn check_weights(&self, weights: &BTreeMap<String, f32>) -> Result<(), CatalogError> {
        self.weights_after(weights).map(drop)
    }

    /// Every view's weight once some are changed (by view name).
    fn weights_after(&self, weights: &BTreeMap<String, f32>) -> Result<Vec<f32>, CatalogError> {
        let layout = self.index.layout();
        let mut next = self.weights.clone();
        for (name, &weight) in weights {
            let v = layout.view(name).ok_or_else(|| CatalogError::UnknownView {
                view: name.clone(),
                known: layout
                    .views
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(CatalogError::BadWeight {
                    view: name.clone(),
                    weight,
                });
            }
            next[v] = weight;
        }
        Ok(next)
    }

    /// Bytes the name words behind [`Catalog::search`] hold on the heap.
    pub fn search_bytes(&self) -> usize {
        self.words.heap_bytes()
    }

    /// Forgets the name words behind [`Catalog::search`] (search then finds
    /// ids only, until [`Catalog::rebuild_search`]; for benches measuring
    /// their memory).
    #[doc(hidden)]
    pub fn drop_search(&mut self) {
        self.words = Words::default();
    }

    /// Builds the name words behind [`Catalog::search`] again from the
    /// cards (after a build, or after the rows moved; what a snapshot
    /// without them would cost at load, for benches).
    #[doc(hidden)]
    pub fn rebuild_search(&mut self) {
        let cards = &self.cards;
        let index = &self.index;
        self.words = Words::build(
            (0..index.row_count() as u32)
                .filter(|&row| index.is_live(row))
                .map(|row| (row, cards.name(row))),
        );
    }

    /// What a shopper's search box finds: products whose name has, for
    /// every word of `query`, a word starting with it (case-insensitive;
    /// words are runs of letters and digits), shortest names first, then by
    /// id; a product whose id is the query comes first of all. Costs what
    /// it finds (through the index of name words), not the store's size.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Card<'_>> {
        let id = query.trim();
        let mut found: Vec<Card<'_>> = Vec::new();
        if let Some(p) = self.get(id) {
            found.push(p);
        }
        let mut by_name: Vec<(usize, u32)> = self
            .words
            .matching(query, |row| self.cards.name(row))
            .into_iter()
            .map(|row| (self.cards.name_len(row), row))
            .collect();
        // The `limit` shortest names (one may be the id match, dropped
        // below), ties at the longest of them kept so the order by id is
        // whole: chosen by lengths alone, no name read.
        if limit == 0 {
            by_name.clear();
        } else if by_name.len() > limit {
            let (_, &mut (longest, _), _) = by_name.select_nth_unstable(limit - 1);
            by_name.retain(|&(len, _)| len <= longest);
        }
        let mut by_name: Vec<Card<'_>> = by_name
            .into_iter()
            .map(|(_, row)| self.at(row))
            .filter(|p| p.id() != id)
            .collect();
        by_name.sort_by(|a, b| a.name().len().cmp(&b.name().len()).then(a.id().cmp(b.id())));
        found.extend(by_name);
        found.truncate(limit);
        found
    }

    /// Groups the index's rows into clusters now, whatever the store's size
    /// (stores of [`crate::index::CLUSTER_FROM`] products or more are
    /// clustered when built): scans then visit the clusters nearest their
    /// query.
    pub fn cluster(&mut self) {
        let order = self.index.cluster();
        // Which rows will be live once moved (`order[new] = old`).
        let live: Vec<bool> = order.iter().map(|&old| self.index.is_live(old)).collect();
        // The index's rows move on one side; the cards, then the name
        // words read from them, on the other.
        let (index, cards) = (&mut self.index, &mut self.cards);
        let words = std::thread::scope(|scope| {
            let words = scope.spawn(|| {
                cards.permute(&order);
                let cards = &*cards;
                Words::build(
                    (0..order.len() as u32)
                        .filter(|&row| live[row as usize])
                        .map(|row| (row, cards.name(row))),
                )
            });
            index.permute(&order);
            words
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        self.words = words;
    }

    /// Whether scans visit every row even when the store is clustered (to
    /// measure the clusters against the exact scan), and how much they
    /// visit when they do not.
    pub fn set_scan(&mut self, exact: bool, reach: crate::index::Reach) {
        self.index.set_exact(exact);
        self.index.set_reach(reach);
    }

    /// Compiles filters for this catalog.
    pub fn filter(&self, filters: &Filters) -> Result<CompiledFilter, CatalogError> {
        Ok(CompiledFilter::new(filters, &self.index)?)
    }

    /// The filter values no product of this catalog has (for a hint: a
    /// filter on them alone shows nothing).
    pub fn unmatched_filter_values(&self, filters: &Filters) -> Vec<crate::index::UnmatchedValue> {
        crate::index::unmatched_values(filters, &self.index)
    }

    /// The `k` products most similar to one product.
    pub fn similar(&self, id: &str, k: usize, filters: &Filters) -> Result<Vec<Hit>, CatalogError> {
        let row = self
            .index
            .row(id)
            .ok_or_else(|| CatalogError::UnknownProduct(id.to_owned()))?;
        let filter = self.filter(filters)?;
        let query = self.index.prepare(&self.index.point(row), &self.weights);
        let exclude: RowSet = [row].into_iter().collect();
        Ok(self.index.search(&query, k, &exclude, &filter))
    }
}
