//! The one session service behind both the WebSocket and the HTTP API:
//! start, vote, more, undo, reset, resume, explain. Callers hold only a
//! session id: every change reads the latest version of the session, applies
//! the core to a copy, and commits it by compare-and-set on its version; a
//! change that lost the race (another socket, another tab) is re-applied to
//! the newer version. So two connections on one session see one history: no
//! product shown twice, no vote lost. Committed changes are written behind
//! (see `session_writer`) within a bounded window, or written through when
//! several nodes share storage. A session may hold at
//! most `max_votes_per_session` votes and be served `max_pages_per_session`
//! pages (`session_full`), checked against the version the change applies to.
//! It also counts what shoppers do (`stats`): sessions started and votes
//! here, pages, products shown and page times when a transport hands a page
//! over ([`Sessions::served`]), and clicks on shown products.

use std::sync::Arc;
use std::time::{Duration, Instant};

use morelike_core::{Catalog, Filters, Page, Session, Vote};

use super::compute::Compute;
use super::error::ApiError;
use super::limits::Limits as Caps;
use super::protocol::{ClickBody, ExplanationBody, PageBody, PageItems, StartRequest, Warning};
use super::session_writer::{Limits, SessionWriter, Stale};
use super::state::Store;
use super::stats::{Event, Stats, StoreStats};
use super::storage_health::StorageHealth;
use crate::store::Storage;

/// How long a change waits for a writer that is behind its window before
/// it is refused with `storage_unavailable`.
const ADMISSION_WAIT: Duration = Duration::from_secs(2);

/// How many times a change is re-applied after losing a race.
const ATTEMPTS: usize = 16;

/// Shoppers' sessions: in memory while in use, in storage for good.
pub struct Sessions {
    writer: SessionWriter,
    caps: Caps,
    compute: Arc<Compute>,
    stats: Arc<Stats>,
}

/// A new random session id: 128 bits in hex.
pub fn new_session_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The randomness seed of a session's pages, derived from its id (FNV-1a).
fn rng_seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn body(id: &str, catalog: &Catalog, page: &Page) -> PageBody {
    PageBody {
        session: id.to_owned(),
        round: page.round,
        items: PageItems::new(catalog, &page.items),
        skipped: Vec::new(),
        warnings: Vec::new(),
        resumed: false,
        took_us: 0,
    }
}

impl Sessions {
    /// The service over a storage, with the write-behind window's limits
    /// and the server's limits (of which it uses the session sizes).
    pub fn new(
        storage: Arc<dyn Storage>,
        health: Arc<StorageHealth>,
        limits: Limits,
        caps: Caps,
        compute: Arc<Compute>,
        stats: Arc<Stats>,
    ) -> Self {
        Sessions {
            writer: SessionWriter::start(storage, health, limits),
            caps,
            compute,
            stats,
        }
    }

    /// A store's event counters (looked up once per store snapshot).
    fn stats<'s>(&self, store: &'s Store) -> &'s StoreStats {
        store.stats.get_or_init(|| self.stats.of(&store.name))
    }

    /// Counts a page a transport is about to send, with its `took_us`
    /// (a resumed page was counted when it was first served).
    pub fn served(&self, store: &Store, page: &PageBody) {
        if !page.resumed {
            self.stats(store).page(page.took_us, page.items.len());
        }
    }

    /// Runs a page's computation: inline for a store under
    /// `pool_pages_from` products, else on the CPU pool (refused with
    /// `overloaded` when its queue is full).
    async fn compute<T: Send + 'static>(
        self: &Arc<Self>,
        store: &Arc<Store>,
        job: impl FnOnce(&Sessions, &Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let inline = store.read().len() < self.compute.pool_from_products;
        let (sessions, store) = (self.clone(), store.clone());
        self.compute
            .run_if(inline, move || job(&sessions, &store))
            .await?
    }

    /// Waits until a change may be taken: at once unless the writer is
    /// behind its window (then up to 2 s); refused while storage fails.
    pub async fn admit(&self) -> Result<(), ApiError> {
        self.writer
            .admit(ADMISSION_WAIT)
            .await
            .map_err(ApiError::StorageUnavailable)
    }

    /// The latest version of a stored session (unknown or expired:
    /// `unknown_session`).
    fn latest(&self, store: &Store, id: &str) -> Result<(Arc<Session>, u64), ApiError> {
        self.writer
            .get(&store.name, id)?
            .ok_or_else(|| ApiError::UnknownSession(id.to_owned()))
    }

    /// Applies a change to the latest version of a session and commits it;
    /// re-applies it to a newer version when another connection won the race.
    fn change<T>(
        &self,
        store: &Store,
        id: &str,
        mut apply: impl FnMut(&mut Session, &Catalog) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        for _ in 0..ATTEMPTS {
            let (latest, version) = self.latest(store, id)?;
            let mut session = Session::clone(&latest);
            let out = apply(&mut session, &store.read())?;
            match self.writer.commit(&store.name, id, session, version)? {
                Ok(_) => return Ok(out),
                Err(Stale) => continue,
            }
        }
        Err(ApiError::Internal(format!(
            "session '{id}' changed under {ATTEMPTS} attempts in a row"
        )))
    }

    /// Serves the next page of a session (after `before`) and commits it.
    fn next(
        &self,
        store: &Store,
        id: &str,
        mut before: impl FnMut(&mut Session, &Catalog) -> Result<Vec<String>, ApiError>,
    ) -> Result<PageBody, ApiError> {
        self.change(store, id, |session, catalog| {
            let skipped = before(session, catalog)?;
            let page = session.next_page(catalog, store.strategy.as_ref(), rng_seed(id))?;
            let mut page = body(id, catalog, &page);
            page.skipped = skipped;
            Ok(page)
        })
    }

    /// Starts a session and serves its first page.
    pub async fn start(
        self: &Arc<Self>,
        store: &Arc<Store>,
        req: StartRequest,
    ) -> Result<PageBody, ApiError> {
        self.admit().await?;
        self.compute(store, move |sessions, store| {
            let id = new_session_id();
            let filters: Filters = req.filters.into();
            let catalog = store.read();
            let warnings = Warning::unmatched_filters(&catalog, &filters);
            let mut session = Session::start(&catalog, &req.seed, req.k, filters)?;
            let page = session.next_page(&catalog, store.strategy.as_ref(), rng_seed(&id))?;
            let mut page = body(&id, &catalog, &page);
            page.warnings = warnings;
            drop(catalog);
            sessions.writer.begin(&store.name, &id, session)?;
            sessions.stats(store).add(Event::Session, 1);
            Ok(page)
        })
        .await
    }

    /// The last page a session showed, exactly as shown (ids, scores and
    /// round; products deleted since are left out). Unknown or expired:
    /// `unknown_session`.
    pub fn resume(&self, store: &Store, id: &str) -> Result<PageBody, ApiError> {
        let (session, _) = self.latest(store, id)?;
        Ok(PageBody {
            session: id.to_owned(),
            round: session.round,
            items: PageItems::new(&store.read(), &session.last_page),
            skipped: Vec::new(),
            warnings: Vec::new(),
            resumed: true,
            took_us: 0,
        })
    }

    /// Records votes and serves the next page. Votes on products the store
    /// does not have are skipped and listed; if all are, nothing changes.
    pub async fn vote(
        self: &Arc<Self>,
        store: &Arc<Store>,
        id: &str,
        votes: Vec<(String, Vote)>,
    ) -> Result<PageBody, ApiError> {
        self.admit().await?;
        let id = id.to_owned();
        self.compute(store, move |sessions, store| {
            let page = sessions.next(store, &id, |session, catalog| {
                sessions.caps.session_room(session, votes.len())?;
                let unknown: Vec<&str> = votes
                    .iter()
                    .filter(|(id, _)| catalog.get(id).is_none())
                    .map(|(id, _)| id.as_str())
                    .collect();
                if unknown.len() == votes.len() {
                    return Err(ApiError::UnknownProduct(unknown.join("', '")));
                }
                Ok(session.vote(catalog, &votes))
            })?;
            let counted = votes.iter().filter(|(id, _)| !page.skipped.contains(id));
            let up = counted.clone().filter(|(_, v)| *v == Vote::Up).count();
            let down = counted.filter(|(_, v)| *v == Vote::Down).count();
            let stats = sessions.stats(store);
            stats.add(Event::Upvote, up as u64);
            stats.add(Event::Downvote, down as u64);
            Ok(page)
        })
        .await
    }

    /// Counts a click: the shopper opened `product`, which must be one the
    /// session showed (else `not_shown`, and nothing is counted). The
    /// session itself does not change.
    pub fn click(&self, store: &Store, id: &str, product: &str) -> Result<ClickBody, ApiError> {
        let (session, _) = self.latest(store, id)?;
        if !session.shown.contains(product) {
            return Err(ApiError::NotShown(product.to_owned()));
        }
        self.stats(store).add(Event::Click, 1);
        Ok(ClickBody {
            session: id.to_owned(),
            product: product.to_owned(),
        })
    }

    /// The next page without votes.
    pub async fn more(
        self: &Arc<Self>,
        store: &Arc<Store>,
        id: &str,
    ) -> Result<PageBody, ApiError> {
        self.admit().await?;
        let id = id.to_owned();
        self.compute(store, move |sessions, store| {
            sessions.next(store, &id, |session, _| {
                sessions.caps.session_room(session, 0)?;
                Ok(Vec::new())
            })
        })
        .await
    }

    /// Takes back the latest round's votes — or, given a product, every
    /// vote on it whatever its round — and serves a page without them.
    pub async fn undo(
        self: &Arc<Self>,
        store: &Arc<Store>,
        id: &str,
        product: Option<&str>,
    ) -> Result<PageBody, ApiError> {
        self.admit().await?;
        let (id, product) = (id.to_owned(), product.map(str::to_owned));
        self.compute(store, move |sessions, store| {
            sessions.next(store, &id, |session, _| {
                sessions.caps.session_room(session, 0)?;
                match &product {
                    Some(product) => session.undo_product(product)?,
                    None => session.undo()?,
                };
                Ok(Vec::new())
            })
        })
        .await
    }

    /// Forgets every vote and everything shown, and starts over from the seed.
    pub async fn reset(
        self: &Arc<Self>,
        store: &Arc<Store>,
        id: &str,
    ) -> Result<PageBody, ApiError> {
        self.admit().await?;
        let id = id.to_owned();
        self.compute(store, move |sessions, store| {
            sessions.next(store, &id, |session, _| {
                session.reset();
                Ok(Vec::new())
            })
        })
        .await
    }

    /// Why a product scores as it does in this session.
    pub async fn explain(
        self: &Arc<Self>,
        store: &Arc<Store>,
        id: &str,
        product: &str,
    ) -> Result<ExplanationBody, ApiError> {
        let (id, product) = (id.to_owned(), product.to_owned());
        self.compute(store, move |sessions, store| {
            let (session, _) = sessions.latest(store, &id)?;
            let explanation = session.explain(&store.read(), store.strategy.as_ref(), &product)?;
            Ok(ExplanationBody {
                session: id,
                explanation,
            })
        })
        .await
    }

    /// Drops a store's sessions before the store is deleted (blocking; see
    /// `SessionWriter::shut_out`); answers how many unwritten changes went.
    pub fn store_deleted(&self, store: &str) -> usize {
        self.stats.forget(store);
        self.writer.shut_out(store)
    }

    /// Keeps a store's sessions again (created anew, or not deleted after all).
    pub fn store_kept(&self, store: &str) {
        self.writer.let_in(store);
    }

    /// Writes every pending session and stops the writer, giving up at `by`
    /// (blocking). Answers how many sessions stay unwritten.
    pub fn close(&self, by: Instant) -> usize {
        self.writer.close(by)
    }
}
