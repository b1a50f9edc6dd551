//! The one session service behind both the WebSocket and the HTTP API:
//! start, vote, more, undo, reset, resume, explain. Each change is queued for
//! storage at once (see `session_writer`), so a shopper who reconnects — to
//! this process or after a restart — finds every vote and shown product.

use std::sync::Arc;
use std::time::Duration;

use morelike_core::{Catalog, Filters, Page, Session, Vote};

use super::error::ApiError;
use super::protocol::{ExplanationBody, PageBody, PageItem, StartRequest};
use super::session_writer::SessionWriter;
use super::state::Store;
use crate::store::Storage;

/// A session in hand: which store, its id, and its value.
#[derive(Clone, Debug)]
pub struct Live {
    /// The store's name.
    pub store: String,
    /// The session id.
    pub id: String,
    /// The session.
    pub session: Session,
}

/// Shoppers' sessions: in storage, with a write-behind queue in front.
pub struct Sessions {
    storage: Arc<dyn Storage>,
    writer: SessionWriter,
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

fn items(catalog: &Catalog, scored: impl IntoIterator<Item = (String, f32)>) -> Vec<PageItem> {
    scored
        .into_iter()
        .filter_map(|(id, score)| {
            let p = catalog.get(&id)?;
            Some(PageItem {
                id,
                name: p.name.clone(),
                price: p.price,
                image: p.image.clone(),
                attributes: p.attributes.clone(),
                score,
            })
        })
        .collect()
}

fn body(live: &Live, catalog: &Catalog, page: Page) -> PageBody {
    PageBody {
        session: live.id.clone(),
        round: page.round,
        items: items(catalog, page.items),
        skipped: Vec::new(),
        resumed: false,
        took_us: 0,
    }
}

impl Sessions {
    /// The service over a storage, keeping sessions for `ttl`.
    pub fn new(storage: Arc<dyn Storage>, ttl: Duration) -> Self {
        Sessions {
            writer: SessionWriter::start(storage.clone(), ttl),
            storage,
        }
    }

    fn save(&self, live: &Live) {
        self.writer.put(&live.store, &live.id, live.session.clone());
    }

    /// Serves the next page of a session, saves it, and answers with it.
    fn next(&self, store: &Store, live: &mut Live) -> Result<PageBody, ApiError> {
        let catalog = store.read();
        let page = live
            .session
            .next_page(&catalog, store.strategy.as_ref(), rng_seed(&live.id))?;
        self.save(live);
        Ok(body(live, &catalog, page))
    }

    /// Starts a session and serves its first page.
    pub fn start(&self, store: &Store, req: StartRequest) -> Result<(Live, PageBody), ApiError> {
        let filters: Filters = req.filters.into();
        let session = Session::start(&store.read(), &req.seed, req.k, filters)?;
        let mut live = Live {
            store: store.name.clone(),
            id: new_session_id(),
            session,
        };
        let page = self.next(store, &mut live)?;
        Ok((live, page))
    }

    /// A stored session (unknown or expired: `unknown_session`).
    pub fn load(&self, store: &Store, id: &str) -> Result<Live, ApiError> {
        let session = match self.writer.get(&store.name, id) {
            Some(s) => s,
            None => self
                .storage
                .session(&store.name, id)?
                .ok_or_else(|| ApiError::UnknownSession(id.to_owned()))?,
        };
        Ok(Live {
            store: store.name.clone(),
            id: id.to_owned(),
            session,
        })
    }

    /// A stored session and the last page it showed, scored against the
    /// session as it stands (products deleted since are left out).
    pub fn resume(&self, store: &Store, id: &str) -> Result<(Live, PageBody), ApiError> {
        let live = self.load(store, id)?;
        let page = self.last_page(store, &live);
        Ok((live, page))
    }

    /// The last page a session showed, as it stands.
    pub fn last_page(&self, store: &Store, live: &Live) -> PageBody {
        let s = &live.session;
        let catalog = store.read();
        let shown_pages = s.shown.len().saturating_sub(1);
        let last = if s.round == 0 {
            0
        } else {
            shown_pages.min(s.k)
        };
        let scored = s.shown[s.shown.len() - last..].iter().filter_map(|id| {
            let score = s.explain(&catalog, store.strategy.as_ref(), id).ok()?.score;
            Some((id.clone(), score))
        });
        PageBody {
            session: live.id.clone(),
            round: s.round,
            items: items(&catalog, scored),
            skipped: Vec::new(),
            resumed: true,
            took_us: 0,
        }
    }

    /// Records votes and serves the next page. Votes on products the store
    /// does not have are skipped and listed; if all are, nothing changes.
    pub fn vote(
        &self,
        store: &Store,
        live: &mut Live,
        votes: &[(String, Vote)],
    ) -> Result<PageBody, ApiError> {
        let skipped = {
            let catalog = store.read();
            let unknown: Vec<String> = votes
                .iter()
                .filter(|(id, _)| catalog.get(id).is_none())
                .map(|(id, _)| id.clone())
                .collect();
            if unknown.len() == votes.len() {
                return Err(ApiError::UnknownProduct(unknown.join("', '")));
            }
            live.session.vote(&catalog, votes)
        };
        let mut page = self.next(store, live)?;
        page.skipped = skipped;
        Ok(page)
    }

    /// The next page without votes.
    pub fn more(&self, store: &Store, live: &mut Live) -> Result<PageBody, ApiError> {
        self.next(store, live)
    }

    /// Takes back the latest round's votes and serves a page without them.
    pub fn undo(&self, store: &Store, live: &mut Live) -> Result<PageBody, ApiError> {
        live.session.undo()?;
        self.next(store, live)
    }

    /// Forgets every vote and everything shown, and starts over from the seed.
    pub fn reset(&self, store: &Store, live: &mut Live) -> Result<PageBody, ApiError> {
        live.session.reset();
        self.next(store, live)
    }

    /// Why a product scores as it does in this session.
    pub fn explain(
        &self,
        store: &Store,
        live: &Live,
        product: &str,
    ) -> Result<ExplanationBody, ApiError> {
        let explanation = live
            .session
            .explain(&store.read(), store.strategy.as_ref(), product)?;
        Ok(ExplanationBody {
            session: live.id.clone(),
            explanation,
        })
    }

    /// Writes every pending session and stops the writer (blocking).
    pub fn close(&self) {
        self.writer.close();
    }
}
