//! A store's catalog in memory: the product documents, the fitted views, the
//! index and the view weights. Changes are live: an upsert or a delete is seen
//! by the very next page.

use std::collections::{BTreeMap, HashMap};

use crate::index::{CompiledFilter, FilterError, Filters, Hit, Index, Precision, RowSet};
use crate::mapping::Mapping;
use crate::product::{Product, ProductId};
use crate::views::Encoder;

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
    products: HashMap<ProductId, Product>,
    index: Index,
    weights: Vec<f32>,
}

impl Catalog {
    /// Fits the views on the products and builds the index (later duplicates win).
    pub fn build(mapping: Mapping, products: Vec<Product>, precision: Precision) -> Self {
        let mut by_id: HashMap<ProductId, Product> = HashMap::with_capacity(products.len());
        let mut order = Vec::with_capacity(products.len());
        for p in products {
            if !by_id.contains_key(&p.id) {
                order.push(p.id.clone());
            }
            by_id.insert(p.id.clone(), p);
        }
        let ordered = || order.iter().map(|id| &by_id[id]);
        let encoder = Encoder::fit(&mapping, ordered());
        let index = Index::build(encoder, ordered(), precision);
        let weights = mapping.views.iter().map(|v| v.weight).collect();
        Catalog {
            mapping,
            products: by_id,
            index,
            weights,
        }
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
        self.products.len()
    }

    /// Whether there are no products.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// A product by id.
    pub fn get(&self, id: &str) -> Option<&Product> {
        self.products.get(id)
    }

    /// Every product, in no particular order.
    pub fn products(&self) -> impl Iterator<Item = &Product> {
        self.products.values()
    }

    /// The product at an index row.
    pub fn at(&self, row: u32) -> &Product {
        &self.products[self.index.id(row)]
    }

    /// Adds or replaces a product; the next page sees it.
    pub fn upsert(&mut self, product: Product) -> Change {
        let change = match self.products.get(&product.id) {
            Some(old) if *old == product => return Change::Unchanged,
            Some(_) => Change::Updated,
            None => Change::Added,
        };
        self.index.upsert(&product);
        self.products.insert(product.id.clone(), product);
        change
    }

    /// Deletes a product; false when there was none.
    pub fn delete(&mut self, id: &str) -> bool {
        self.index.remove(id);
        self.products.remove(id).is_some()
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
        self.weights = next;
        Ok(())
    }

    /// Products whose name holds every word of `query` (case-insensitive),
    /// shortest names first; an exact id match comes first of all.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Product> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let mut found: Vec<&Product> = Vec::new();
        if let Some(p) = self.products.get(query.trim()) {
            found.push(p);
        }
        if words.is_empty() {
            return found;
        }
        let mut by_name: Vec<&Product> = self
            .products
            .values()
            .filter(|p| p.id != query.trim())
            .filter(|p| {
                let name = p.name.to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .collect();
        by_name.sort_by(|a, b| a.name.len().cmp(&b.name.len()).then(a.id.cmp(&b.id)));
        found.extend(by_name);
        found.truncate(limit);
        found
    }

    /// Compiles filters for this catalog.
    pub fn filter(&self, filters: &Filters) -> Result<CompiledFilter, CatalogError> {
        Ok(CompiledFilter::new(filters, &self.index)?)
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
