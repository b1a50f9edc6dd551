//! The change log of storage that several nodes share: every change to a
//! store (its settings, products, keys, its deletion) is appended to the
//! store's log in the same atomic step that makes it, so a node that holds
//! the store in memory can apply it. An entry says *what* changed, never the
//! new value: a node reads the value from storage when it applies the entry,
//! so entries applied late, twice, or after a reload always leave memory
//! equal to storage.

use serde::{Deserialize, Serialize};

use super::StorageError;

/// What changed in a store. Applying one means reading that part again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreChange {
    /// These products were written or deleted.
    Products(Vec<String>),
    /// Too many products changed to list: read the whole catalog again.
    Catalog,
    /// The settings (mapping, weights, strategy) were written; the store
    /// may be new.
    Settings,
    /// The access record (keys, allowed origins) was written.
    Access,
    /// The store was deleted with everything in it.
    Deleted,
}

/// Above this many products, a change is logged as [`StoreChange::Catalog`].
pub const MAX_LOGGED_IDS: usize = 5_000;

impl StoreChange {
    /// The change for these product ids (the whole catalog when many).
    pub fn products(ids: Vec<String>) -> Self {
        if ids.len() > MAX_LOGGED_IDS {
            StoreChange::Catalog
        } else {
            StoreChange::Products(ids)
        }
    }
}

/// One entry of a store's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedChange {
    /// Its position in the log.
    pub id: ChangeId,
    /// The process that made it ([`ChangeLog::node`]).
    pub node: String,
    /// What changed.
    pub change: StoreChange,
}

/// A position in a store's log (a Redis stream id, `ms-seq`); the zero id
/// is before every entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeId(pub u64, pub u64);

impl ChangeId {
    /// Before every entry.
    pub const ZERO: ChangeId = ChangeId(0, 0);

    /// Parses `ms-seq`.
    pub fn parse(text: &str) -> Option<ChangeId> {
        let (ms, seq) = text.split_once('-')?;
        Some(ChangeId(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl std::fmt::Display for ChangeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// The entries of a log after a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Since {
    /// The entries after it, oldest first (at most the limit asked for).
    Entries(Vec<LoggedChange>),
    /// The log was trimmed past it: some entries are gone, so the store
    /// must be read again whole.
    Trimmed,
}

/// What a change log's watcher says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A store's log has new entries.
    Changed(String),
    /// The watch was (re)connected: notices may have been missed, so every
    /// store should be checked.
    Resync,
}

/// The log of every store, for nodes that share storage.
pub trait ChangeLog: Send + Sync {
    /// The id this process writes into the entries it makes.
    fn node(&self) -> &str;
    /// The position of a store's last entry ([`ChangeId::ZERO`] when it has
    /// none): a node that reads the store after asking starts there.
    fn head(&self, store: &str) -> Result<ChangeId, StorageError>;
    /// At most `limit` entries after `after`, or [`Since::Trimmed`].
    fn since(&self, store: &str, after: &ChangeId, limit: usize) -> Result<Since, StorageError>;
    /// Notices of new entries, as they come, for as long as the receiver
    /// lives; the first is [`Notice::Resync`] once the watch is connected.
    fn watch(&self) -> tokio::sync::mpsc::UnboundedReceiver<Notice>;
}
