//! Who may do what: the node's admin key, each store's secret and
//! publishable keys (stored hashed, compared in constant time), and the
//! browser origins each store allows. Handlers take a [`Caller`] (one extra
//! argument) and call [`Caller::require`] with the [`Level`] they need.
//!
//! Access records are read from storage on every call. The last record read
//! of each store is also kept, and used only while storage cannot be read
//! (a full disk reopening): shoppers' reads go on through an outage. Any
//! change to a record drops the kept copy, so a key storage no longer holds
//! is never accepted.

mod caller;
pub mod cors;
pub mod keys;
pub mod origins;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use utoipa::ToSchema;

pub use caller::{client_address, presented_key, store_in_path, Caller, ClientAddr, Role};
use keys::KeyKind;
use origins::{Hosts, Origin, OriginPattern};

use super::error::ApiError;
use crate::store::{Storage, StorageError, StoreAccess};

/// The demo store's publishable key: public by design, so the bundled demo
/// works with zero setup.
pub const DEMO_PUBLISHABLE_KEY: &str = "pk_demo";

/// The node's admin key, held as its hash; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminKey([u8; 32]);

impl AdminKey {
    /// The shortest admin key accepted.
    pub const MIN_LEN: usize = 24;

    /// From the key as configured; too short a key is refused.
    pub fn new(key: &str) -> Result<AdminKey, String> {
        let key = key.trim();
        if key.len() < Self::MIN_LEN {
            return Err(format!(
                "the admin key is {} characters; use at least {} random ones (e.g. `openssl rand -hex 24`)",
                key.len(),
                Self::MIN_LEN
            ));
        }
        Ok(AdminKey(keys::hash(key)))
    }

    fn matches(&self, presented: &[u8; 32]) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.0[..], &presented[..]).into()
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey(<redacted>)")
    }
}

/// What a call needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// A shopper's calls: sessions, votes, product reads (the publishable
    /// key; no key on a public store such as the demo).
    Shopper,
    /// A merchant's calls: every write, settings, key rotation (the secret key).
    Merchant,
    /// The operator's calls: create and delete stores, list them (the admin key).
    Operator,
}

/// Keys issued by a creation or a rotation: shown once, never stored.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct IssuedKeys {
    /// The new secret key (for the merchant's servers; never put it in a page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// The new publishable key (for the widget's `key` attribute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishable_key: Option<String>,
}

/// Which keys a rotation replaces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rotate {
    /// Both keys.
    #[default]
    Both,
    /// Only the secret key (deployed widgets keep working).
    Secret,
    /// Only the publishable key.
    Publishable,
}

/// Keys, origins and hosts, over the storage's access records.
pub struct Access {
    storage: Arc<dyn Storage>,
    admin: Option<AdminKey>,
    hosts: Hosts,
    /// The last record read of each existing store, for storage outages.
    known: RwLock<HashMap<String, StoreAccess>>,
}

impl Access {
    /// Access control over a storage, with the node's admin key (if any) and
    /// the host names the server answers to.
    pub fn new(storage: Arc<dyn Storage>, admin: Option<AdminKey>, hosts: Hosts) -> Self {
        Access {
            storage,
            admin,
            hosts,
            known: RwLock::default(),
        }
    }

    /// Whether the node has an admin key.
    pub fn has_admin_key(&self) -> bool {
        self.admin.is_some()
    }

    /// The host names answered to.
    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    fn record(&self, store: &str) -> Result<Option<StoreAccess>, ApiError> {
        match self.storage.access(store) {
            Ok(Some(record)) => {
                let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
                if known.get(store) != Some(&record) {
                    known.insert(store.to_owned(), record.clone());
                }
                Ok(Some(record))
            }
            Ok(None) => Ok(None),
            Err(e @ StorageError::Unavailable { .. }) => {
                let known = self.known.read().unwrap_or_else(|e| e.into_inner());
                match known.get(store) {
                    Some(record) => Ok(Some(record.clone())),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Drops the kept copy of a store's record: called whenever the record
    /// is written or deleted (whether the write worked or not).
    pub fn changed(&self, store: &str) {
        self.known
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(store);
    }

    /// Who a key is, for a call on `store` (None: a node-wide call). An
    /// unknown key is 401, a key of another store 403; no key is anonymous.
    pub fn resolve(
        &self,
        store: Option<&str>,
        key: Option<&str>,
    ) -> Result<(Role, bool), ApiError> {
        let record = match store {
            Some(s) => self.record(s)?,
            None => None,
        };
        let public = record.as_ref().is_some_and(|r| r.public);
        let Some(key) = key else {
            return Ok((Role::Anonymous, public));
        };
        let presented = keys::hash(key);
        if self.admin.as_ref().is_some_and(|a| a.matches(&presented)) {
            return Ok((Role::Admin, public));
        }
        if let Some(r) = &record {
            if keys::matches(&presented, r.secret_key_hash.as_deref()) {
                return Ok((Role::Secret, public));
            }
            if keys::matches(&presented, r.publishable_key_hash.as_deref()) {
                return Ok((Role::Publishable, public));
            }
        }
        if let Some((kind, owner)) = keys::owner(key) {
            if Some(owner) != store {
                if let Some(theirs) = self.record(owner)? {
                    let stored = match kind {
                        KeyKind::Secret => theirs.secret_key_hash.as_deref(),
                        KeyKind::Publishable => theirs.publishable_key_hash.as_deref(),
                    };
                    if keys::matches(&presented, stored) {
                        return Err(ApiError::Forbidden(match store {
                            Some(s) => format!("this key belongs to store '{owner}', not to '{s}': use a key of store '{s}'"),
                            None => format!("this key belongs to store '{owner}'; this call needs the admin key"),
                        }));
                    }
                }
            }
        }
        Err(ApiError::Unauthorized(
            "unknown key (mistyped, or rotated out): send a current key as `Authorization: Bearer <key>`".into(),
        ))
    }

    /// Whether a browser page at `origin` may call `store` (None: a
    /// node-wide call): the server's own origin always may; otherwise the
    /// store must list it.
    pub fn check_origin(
        &self,
        store: Option<&str>,
        origin: &str,
        host: Option<&str>,
    ) -> Result<(), ApiError> {
        let parsed = Origin::parse(origin);
        if let Some(o) = &parsed {
            if host.is_some_and(|h| o.is_host(h)) {
                return Ok(());
            }
            if let Some(store) = store {
                if let Some(record) = self.record(store)? {
                    let allowed = record
                        .allowed_origins
                        .iter()
                        .filter_map(|p| OriginPattern::parse(p).ok())
                        .any(|p| p.allows(o));
                    if allowed {
                        return Ok(());
                    }
                }
            }
        }
        let origin: String = origin.chars().take(100).collect();
        Err(ApiError::OriginNotAllowed(match store {
            Some(s) => format!("pages at {origin} may not call store '{s}': add the origin to the store's allowed_origins (PATCH /v1/stores/{s}/settings with the secret key)"),
            None => format!("pages at {origin} may not make node-wide calls"),
        }))
    }

    /// The store's allowed origins as written.
    pub fn allowed_origins(&self, store: &str) -> Result<Vec<String>, ApiError> {
        Ok(self
            .record(store)?
            .map(|r| r.allowed_origins)
            .unwrap_or_default())
    }

    /// The store's access record (as stored, and with its allowed origins
    /// replaced by `list`), for the store's writer to write. The list is
    /// checked first; the error names the entry at fault.
    pub fn with_allowed_origins(
        &self,
        store: &str,
        list: &[String],
    ) -> Result<(StoreAccess, StoreAccess), ApiError> {
        let patterns = origins::parse_list(list)
            .map_err(|(i, reason)| ApiError::field(format!("allowed_origins[{i}]"), reason))?;
        let old = self.record(store)?.unwrap_or_default();
        let mut new = old.clone();
        new.allowed_origins = list
            .iter()
            .zip(&patterns)
            .map(|(text, _)| text.trim().to_ascii_lowercase())
            .collect();
        Ok((old, new))
    }

    /// Issues new keys for a store (blocking): both for a new store, or
    /// those asked for by a rotation. The old ones stop working at once.
    pub fn issue(&self, store: &str, which: Rotate) -> Result<IssuedKeys, ApiError> {
        self.changed(store);
        let issued = issue_keys(self.storage.as_ref(), store, which);
        self.changed(store);
        Ok(issued?)
    }
}

/// Issues new keys for a store in storage (blocking); only their hashes are
/// kept. Used by the server and by `morelike import` for a new store.
pub fn issue_keys(
    storage: &dyn Storage,
    store: &str,
    which: Rotate,
) -> Result<IssuedKeys, crate::store::StorageError> {
    let mut record = storage.access(store)?.unwrap_or_default();
    let mut issued = IssuedKeys::default();
    if which != Rotate::Publishable {
        let key = keys::generate(KeyKind::Secret, store);
        record.secret_key_hash = Some(keys::hash_hex(&key));
        issued.secret_key = Some(key);
    }
    if which != Rotate::Secret {
        let key = keys::generate(KeyKind::Publishable, store);
        record.publishable_key_hash = Some(keys::hash_hex(&key));
        issued.publishable_key = Some(key);
    }
    storage.put_access(store, &record)?;
    Ok(issued)
}

/// The demo store's access: publishable key `pk_demo`, no secret key until
/// the admin rotates one, open to callers without a key, and to pages on
/// `localhost` and `127.0.0.1` (any port) besides the server's own origin.
pub fn demo_access() -> StoreAccess {
    StoreAccess {
        secret_key_hash: None,
        publishable_key_hash: Some(keys::hash_hex(DEMO_PUBLISHABLE_KEY)),
        allowed_origins: vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()],
        public: true,
    }
}
