//! A shopper's session as a value: the seed, every vote in order, and every
//! product already shown. The next page comes from all of it, never repeats a
//! shown product, and skips (and reports) ids the catalog does not know.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogError};
use crate::explain::Explanation;
use crate::id_list::IdList;
use crate::index::{Filters, RowSet};
use crate::product::ProductId;
use crate::strategy::{Context, Strategy, VoteAt};

/// A shopper's reaction to a shown product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    /// More Like This.
    Up,
    /// Not My Style.
    Down,
}

/// One vote in a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoteRecord {
    /// The product voted on.
    pub product: ProductId,
    /// The vote.
    pub vote: Vote,
    /// The round (pages served before it) the vote was cast in.
    pub round: u32,
}

/// A page of products.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The round this page is (1 for the first page).
    pub round: u32,
    /// Products and scores, best first.
    pub items: Vec<(ProductId, f32)>,
}

/// A session that cannot go on as asked.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SessionError {
    /// The seed product does not exist.
    #[error("the starting product '{0}' is not in this store")]
    UnknownSeed(String),
    /// A page size out of range.
    #[error("k = {0} is out of range: ask for 1 to {MAX_K} products a page")]
    BadK(usize),
    /// Nothing to undo.
    #[error("there is no vote to undo")]
    NothingToUndo,
    /// Nothing to undo on this product.
    #[error("there is no vote on product '{0}' to undo")]
    NoVoteOn(String),
    /// The catalog refused the request.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// The most products one page may ask for.
pub const MAX_K: usize = 100;

/// A shopper's session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The product the shopper started from.
    pub seed: ProductId,
    /// Every vote, in order.
    pub votes: Vec<VoteRecord>,
    /// Every product shown, in order (the seed first).
    pub shown: IdList,
    /// Pages served.
    pub round: u32,
    /// Products per page.
    pub k: usize,
    /// What pages may show.
    #[serde(default)]
    pub filters: Filters,
    /// The last page served, as served (ids and scores, best first): what
    /// `resume` shows again.
    #[serde(default)]
    pub last_page: Vec<(ProductId, f32)>,
}

impl Session {
    /// Starts a session from a seed product.
    pub fn start(
        catalog: &Catalog,
        seed: &str,
        k: usize,
        filters: Filters,
    ) -> Result<Self, SessionError> {
        if catalog.get(seed).is_none() {
            return Err(SessionError::UnknownSeed(seed.to_owned()));
        }
        if k == 0 || k > MAX_K {
            return Err(SessionError::BadK(k));
        }
        catalog.filter(&filters)?;
        Ok(Session {
            seed: seed.to_owned(),
            votes: Vec::new(),
            shown: [seed].into_iter().collect(),
            round: 0,
            k,
            filters,
            last_page: Vec::new(),
        })
    }

    /// Records votes for this round; returns the ids that are not in the
    /// catalog (those votes are skipped). A product voted on counts as
    /// shown, even one no page of this session showed (a client may offer
    /// products of its own): it is never recommended back.
    pub fn vote(&mut self, catalog: &Catalog, votes: &[(ProductId, Vote)]) -> Vec<ProductId> {
        let mut unknown = Vec::new();
        for (product, vote) in votes {
            if catalog.get(product).is_none() {
                unknown.push(product.clone());
                continue;
            }
            if !self.shown.iter().any(|id| id == product.as_str()) {
                self.shown.extend(std::iter::once(product.as_str()));
            }
            self.votes
                .retain(|v| !(v.product == *product && v.round == self.round));
            self.votes.push(VoteRecord {
                product: product.clone(),
                vote: *vote,
                round: self.round,
            });
        }
        unknown
    }

    /// Takes back the latest round's votes.
    pub fn undo(&mut self) -> Result<Vec<VoteRecord>, SessionError> {
        let last = self.votes.last().ok_or(SessionError::NothingToUndo)?.round;
        let at = self.votes.partition_point(|v| v.round < last);
        Ok(self.votes.split_off(at))
    }

    /// Takes back every vote on one product, whatever round it was cast in
    /// (the shopper's "undo" on one liked product); the other votes keep
    /// their rounds and order.
    pub fn undo_product(&mut self, product: &str) -> Result<Vec<VoteRecord>, SessionError> {
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.votes)
            .into_iter()
            .partition(|v| v.product == product);
        self.votes = kept;
        if taken.is_empty() {
            return Err(SessionError::NoVoteOn(product.to_owned()));
        }
        Ok(taken)
    }

    /// Forgets every vote and everything shown; keeps the seed.
    pub fn reset(&mut self) {
        self.votes.clear();
        self.shown.truncate(1);
        self.round = 0;
        self.last_page.clear();
    }

    /// Changes the filters for the pages to come.
    pub fn set_filters(&mut self, catalog: &Catalog, filters: Filters) -> Result<(), SessionError> {
        catalog.filter(&filters)?;
        self.filters = filters;
        Ok(())
    }

    /// Resolves the session against the catalog (deleted products are skipped).
    fn context<'a>(
        &'a self,
        catalog: &'a Catalog,
        filter: &'a crate::index::CompiledFilter,
        exclude: &'a RowSet,
        votes: &'a [VoteAt],
        rng_seed: u64,
    ) -> Context<'a> {
        Context {
            index: catalog.index(),
            weights: catalog.weights(),
            seed: catalog.index().row(&self.seed),
            votes,
            exclude,
            filter,
            k: self.k,
            round: self.round,
            rng_seed,
        }
    }

    fn resolved_votes(&self, catalog: &Catalog) -> Vec<VoteAt> {
        self.votes
            .iter()
            .filter_map(|v| {
                Some(VoteAt {
                    row: catalog.index().row(&v.product)?,
                    vote: v.vote,
                    round: v.round,
                })
            })
            .collect()
    }

    /// Serves the next page and records it as shown. `rng_seed` is the
    /// session's randomness; each page gets its own, mixed with the round.
    pub fn next_page(
        &mut self,
        catalog: &Catalog,
        strategy: &dyn Strategy,
        rng_seed: u64,
    ) -> Result<Page, SessionError> {
        let filter = catalog.filter(&self.filters)?;
        let index = catalog.index();
        let exclude: RowSet = self.shown.iter().filter_map(|id| index.row(id)).collect();
        let votes = self.resolved_votes(catalog);
        let cx = self.context(
            catalog,
            &filter,
            &exclude,
            &votes,
            crate::hash::mix(rng_seed ^ crate::hash::mix(u64::from(self.round) + 1)),
        );
        let hits = strategy.page(&cx);
        self.round += 1;
        let items: Vec<(ProductId, f32)> = hits
            .iter()
            .map(|h| (index.id(h.row).to_owned(), h.score))
            .collect();
        self.shown.extend(items.iter().map(|(id, _)| id));
        self.last_page.clone_from(&items);
        Ok(Page {
            round: self.round,
            items,
        })
    }

    /// Why a product scores as it does on the last page `strategy` served
    /// this session: the strategy's own score, split per view and per
    /// example, from the votes cast before that page.
    pub fn explain(
        &self,
        catalog: &Catalog,
        strategy: &dyn Strategy,
        product: &str,
    ) -> Result<Explanation, SessionError> {
        let index = catalog.index();
        let row = index
            .row(product)
            .ok_or_else(|| CatalogError::UnknownProduct(product.to_owned()))?;
        let filter = catalog.filter(&self.filters)?;
        let exclude: RowSet = self.shown.iter().filter_map(|id| index.row(id)).collect();
        let served = self.round.saturating_sub(1);
        let votes: Vec<VoteAt> = self
            .resolved_votes(catalog)
            .into_iter()
            .filter(|v| self.round == 0 || v.round <= served)
            .collect();
        let mut cx = self.context(catalog, &filter, &exclude, &votes, 0);
        cx.round = served;
        Ok(strategy.explain(&cx, row))
    }
}
