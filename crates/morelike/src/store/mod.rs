//! Storage: where stores' products, settings, keys and shoppers' sessions
//! live. One trait, so the embedded store and a shared one pass the same tests.

mod embedded;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use morelike_core::{Mapping, Precision, Product, Session};
use serde::{Deserialize, Serialize};

pub use embedded::Embedded;

/// What went wrong underneath; the message names the operation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed.
    #[error("storage failed while {doing}: {reason}")]
    Backend {
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

/// A session as stored: the value and when it expires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    /// The session.
    pub session: Session,
    /// Expiry, in seconds since the Unix epoch.
    pub expires_at: u64,
}

/// A session to write: (store, session id, session).
pub type SessionWrite = (String, String, Session);

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
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
    /// Writes products (insert or replace), all or none.
    fn put_products(&self, store: &str, products: &[Product]) -> Result<(), StorageError>;
    /// Deletes products by id, all or none; returns how many existed.
    fn delete_products(&self, store: &str, ids: &[String]) -> Result<usize, StorageError>;
    /// A session, unless missing or expired.
    fn session(&self, store: &str, id: &str) -> Result<Option<Session>, StorageError>;
    /// Writes a session that expires `ttl` from now.
    fn put_session(
        &self,
        store: &str,
        id: &str,
        session: &Session,
        ttl: Duration,
    ) -> Result<(), StorageError>;
    /// Writes several sessions at once (one commit where the backend can),
    /// each expiring `ttl` from now.
    fn put_sessions(&self, sessions: &[SessionWrite], ttl: Duration) -> Result<(), StorageError> {
        for (store, id, session) in sessions {
            self.put_session(store, id, session, ttl)?;
        }
        Ok(())
    }
    /// Deletes every expired (or unreadable) session; returns how many.
    fn purge_expired_sessions(&self) -> Result<usize, StorageError>;
    /// Deletes a store with everything in it (its access record included).
    fn delete_store(&self, store: &str) -> Result<(), StorageError>;
    /// A store's access record (key hashes, allowed origins), if it has one.
    fn access(&self, store: &str) -> Result<Option<StoreAccess>, StorageError>;
    /// Writes a store's access record.
    fn put_access(&self, store: &str, access: &StoreAccess) -> Result<(), StorageError>;
}
