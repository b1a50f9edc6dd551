//! Storage: where stores' products, settings, keys and shoppers' sessions
//! live. One trait, so every backend passes the same conformance tests.
//! Sessions carry a version and are written by compare-and-set, an operation
//! the shared backend (Redis, a Lua script) makes atomic too. A backend that
//! several nodes share also keeps a change log per store ([`ChangeLog`]).

mod changes;
mod disk;
mod embedded;
mod events;
pub mod redis;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use morelike_core::{Mapping, Precision, Product, Session};
use serde::{Deserialize, Serialize};

pub use changes::{ChangeId, ChangeLog, LoggedChange, Notice, Since, StoreChange};
pub use disk::DiskFaults;
pub use embedded::Embedded;
pub use events::{Counts, EventBucket};
pub use redis::{Redis, RedisConfig};

/// What went wrong underneath; the message names the operation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed.
    #[error("storage failed to {doing}: {reason}")]
    Backend {
        /// What we were doing.
        doing: &'static str,
        /// What the backend said.
        reason: String,
    },
    /// The backend cannot write (or read) at the moment: a full disk, a
    /// failed device. Retrying later may succeed.
    #[error("storage cannot {doing} at the moment: {reason}")]
    Unavailable {
        /// What we were doing.
        doing: &'static str,
        /// What the backend said.
        reason: String,
    },
    /// A stored value does not decode (written by another version?).
    #[error("stored {what} for '{key}' cannot be read: {reason}")]
    Corrupt {
        /// What kind of value.
        what: &'static str,
        /// Its key.
        key: String,
        /// The decode error.
        reason: String,
    },
}

impl StorageError {
    pub(crate) fn backend(doing: &'static str) -> impl FnOnce(String) -> StorageError {
        move |reason| StorageError::Backend { doing, reason }
    }
}

/// A store's settings: its mapping, view weights, precision and strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreSettings {
    /// The column mapping (with the views).
    pub mapping: Mapping,
    /// View weights that override the mapping's, by view name.
    #[serde(default)]
    pub weights: BTreeMap<String, f32>,
    /// How dense rows are stored.
    #[serde(default)]
    pub precision: Precision,
    /// The strategy pages are served with.
    #[serde(default = "default_strategy")]
    pub strategy: String,
}

fn default_strategy() -> String {
    morelike_core::strategy::DEFAULT.to_owned()
}

impl StoreSettings {
    /// Settings for a mapping with defaults for the rest.
    pub fn new(mapping: Mapping) -> Self {
        StoreSettings {
            mapping,
            weights: BTreeMap::new(),
            precision: Precision::default(),
            strategy: default_strategy(),
        }
    }
}

/// Who may use a store: its keys (SHA-256 hashes, never the keys) and the
/// browser origins allowed to call it. Kept apart from the settings, one
/// record per store, removed with the store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreAccess {
    /// The hash of the secret key (hex), when one was issued.
    #[serde(default)]
    pub secret_key_hash: Option<String>,
    /// The hash of the publishable key (hex), when one was issued.
    #[serde(default)]
    pub publishable_key_hash: Option<String>,
    /// Browser origins allowed besides the server's own (`https://shop.example`,
    /// `http://localhost:*`).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Callers without a key may do what the publishable key may (the demo store).
    #[serde(default)]
    pub public: bool,
}

/// A session as stored: the value, its version and when it expires.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSession {
    /// The session.
    pub session: Session,
    /// Its version: 1 for its first write, one more for each later write.
    pub version: u64,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
}

/// One session to write, by compare-and-set: it is written only if the
/// version in storage is still `replaces` (0: no such session).
#[derive(Clone, Debug, PartialEq)]
pub struct SessionWrite {
    /// The store.
    pub store: String,
    /// The session id.
    pub id: String,
    /// The session (shared with the session table that wrote it: a write
    /// copies nothing).
    pub session: Arc<Session>,
    /// The version this write replaces (0: a new session).
    pub replaces: u64,
    /// The version it writes (greater than `replaces`).
    pub version: u64,
}

/// What became of one session write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionWritten {
    /// Written.
    Written,
    /// Refused: storage holds another version (0: none), written by someone
    /// else since this one was read. Nothing was written.
    Stale {
        /// The version storage holds.
        stored: u64,
    },
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// An import under way ([`Storage::begin_import`]).
pub trait ProductImport: Send {
    /// Whether the store held no product when the import began.
    fn was_empty(&self) -> bool;
    /// The fingerprint ([`Product::fingerprint`]) of the stored product with
    /// an id, as it was before this import wrote it.
    fn stored_fingerprint(&mut self, id: &str) -> Result<Option<u64>, StorageError>;
    /// Writes products (insert or replace) into the import.
    fn put(&mut self, products: &[Product]) -> Result<(), StorageError>;
    /// Makes everything written visible at once, with the store's settings.
    fn commit(self: Box<Self>, settings: &StoreSettings) -> Result<(), StorageError>;
}

/// The import of a backend without long transactions: the store's
/// fingerprints read at the start, the products held until the commit
/// writes them (one call) and then the settings.
struct BufferedImport<'s, S: Storage + ?Sized> {
    storage: &'s S,
    store: String,
    stored: std::collections::HashMap<String, u64>,
    products: Vec<Product>,
}

impl<'s, S: Storage + ?Sized> BufferedImport<'s, S> {
    fn begin(storage: &'s S, store: &str) -> Result<Self, StorageError> {
        let mut stored = std::collections::HashMap::new();
        storage.for_each_product(store, &mut |p| {
            stored.insert(p.id.clone(), p.fingerprint());
        })?;
        Ok(BufferedImport {
            storage,
            store: store.to_owned(),
            stored,
            products: Vec::new(),
        })
    }
}

impl<S: Storage + ?Sized> ProductImport for BufferedImport<'_, S> {
    fn was_empty(&self) -> bool {
        self.stored.is_empty()
    }
    fn stored_fingerprint(&mut self, id: &str) -> Result<Option<u64>, StorageError> {
        Ok(self.stored.get(id).copied())
    }
    fn put(&mut self, products: &[Product]) -> Result<(), StorageError> {
        self.products.extend_from_slice(products);
        Ok(())
    }
    fn commit(self: Box<Self>, settings: &StoreSettings) -> Result<(), StorageError> {
        self.storage.put_products(&self.store, &self.products)?;
        self.storage.put_settings(&self.store, settings)
    }
}

/// Everything morelike keeps, for every store, behind one interface.
pub trait Storage: Send + Sync {
    /// The stores that have settings.
    fn stores(&self) -> Result<Vec<String>, StorageError>;
    /// A store's settings.
    fn settings(&self, store: &str) -> Result<Option<StoreSettings>, StorageError>;
    /// Writes a store's settings.
    fn put_settings(&self, store: &str, settings: &StoreSettings) -> Result<(), StorageError>;
    /// Every product of a store.
    fn products(&self, store: &str) -> Result<Vec<Product>, StorageError>;
    /// Some products of a store by id, each `None` when missing.
    fn products_by_id(
        &self,
        store: &str,
        ids: &[String],
    ) -> Result<Vec<Option<Product>>, StorageError> {
        let mut all: std::collections::HashMap<String, Product> = self
            .products(store)?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        Ok(ids.iter().map(|id| all.remove(id)).collect())
    }
    /// Calls `each` with every product of a store, one at a time (a
    /// backend that can reads them without holding them all).
    fn for_each_product(
        &self,
        store: &str,
        each: &mut dyn FnMut(Product),
    ) -> Result<(), StorageError> {
        self.products(store)?.into_iter().for_each(each);
        Ok(())
    }
    /// Writes products (insert or replace), all or none.
    fn put_products(&self, store: &str, products: &[Product]) -> Result<(), StorageError>;
    /// Begins an import into a store: products written batch by batch and
    /// committed with the store's settings, all or none (dropped without
    /// [`ProductImport::commit`], it writes nothing). A backend that can
    /// keeps the batches in one open transaction instead of in memory.
    fn begin_import<'s>(
        &'s self,
        store: &str,
    ) -> Result<Box<dyn ProductImport + 's>, StorageError> {
        Ok(Box::new(BufferedImport::begin(self, store)?))
    }
    /// A number that changes whenever a store's products change (never
    /// the same for two states of the store, even across its deletion): a
    /// snapshot built at one version is stale at any other.
    fn products_version(&self, store: &str) -> Result<u64, StorageError>;
    /// Where index snapshots are kept beside the data (`None`: this
    /// backend keeps none, every start builds the index).
    fn snapshot_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// One product of a store, as stored.
    fn product(&self, store: &str, id: &str) -> Result<Option<Product>, StorageError>;
    /// Deletes products by id, all or none; returns how many existed.
    fn delete_products(&self, store: &str, ids: &[String]) -> Result<usize, StorageError>;
    /// A session with its version, unless missing or expired.
    fn session(&self, store: &str, id: &str) -> Result<Option<StoredSession>, StorageError>;
    /// Writes sessions, each by compare-and-set on its version and expiring
    /// `ttl` from now: one commit where the backend can (a stale write is
    /// skipped, the others are written). Answers one outcome per write.
    fn put_sessions(
        &self,
        writes: &[SessionWrite],
        ttl: Duration,
    ) -> Result<Vec<SessionWritten>, StorageError>;
    /// Writes one session by compare-and-set.
    fn put_session(
        &self,
        write: SessionWrite,
        ttl: Duration,
    ) -> Result<SessionWritten, StorageError> {
        let outcome = self.put_sessions(std::slice::from_ref(&write), ttl)?;
        Ok(outcome.first().copied().unwrap_or(SessionWritten::Written))
    }
    /// Deletes at most `limit` expired sessions, those expired longest first;
    /// returns how many. A backend that expires keys itself may return 0.
    fn purge_expired_sessions(&self, limit: usize) -> Result<usize, StorageError>;
    /// A small write that changes nothing anyone reads: succeeds when
    /// storage can write, so a server can tell when a full disk has room
    /// again.
    fn probe_write(&self) -> Result<(), StorageError>;
    /// Deletes a store with everything in it (its access record included).
    fn delete_store(&self, store: &str) -> Result<(), StorageError>;
    /// A store's access record (key hashes, allowed origins), if it has one.
    fn access(&self, store: &str) -> Result<Option<StoreAccess>, StorageError>;
    /// Writes a store's access record.
    fn put_access(&self, store: &str, access: &StoreAccess) -> Result<(), StorageError>;
    /// The change log, when several processes share this storage (then
    /// every write above appends to it, and sessions must be written
    /// through: another node may change them); `None` when one process
    /// owns it.
    fn change_log(&self) -> Option<&dyn ChangeLog> {
        None
    }
}
