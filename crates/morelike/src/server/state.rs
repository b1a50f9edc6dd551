//! What every handler shares: the loaded stores (name → a snapshot of the
//! store in memory), the storage underneath, the session service, the
//! store writers, and the configuration. A store snapshot is swapped whole
//! (`Arc`) when its catalog is rebuilt or its strategy changes; small
//! changes are applied to its catalog in place under a short write lock.
//! Locks here are std locks, held only for synchronous work, never across
//! `.await`; every change to a store goes through its writer
//! (`store_writer`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use morelike_core::{strategy, Catalog, Strategy};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::access::origins::Hosts;
use super::access::Access;
use super::config::Config;
use super::error::ApiError;
use super::limits::Guards;
use super::session_writer::Limits as WriteLimits;
use super::sessions::Sessions;
use super::snapshot_writer::SnapshotsDue;
use super::storage_health::StorageHealth;
use super::store_writer::StoreWriters;
use crate::catalogs;
use crate::store::{ChangeId, Storage, StoreSettings};

/// One store in memory: its settings, catalog and strategy, as of one
/// change. Readers hold an `Arc` of it for one request.
pub struct Store {
    /// The store's name.
    pub name: String,
    /// Its settings (equal to the stored ones: only its writer changes either).
    pub settings: StoreSettings,
    /// The catalog: small upserts and deletes take its write lock briefly;
    /// shared with the next snapshot when only settings change.
    pub catalog: Arc<RwLock<Catalog>>,
    /// The strategy its pages are served with.
    pub strategy: Box<dyn Strategy>,
}

impl Store {
    /// A store from its settings and catalog.
    pub fn new(name: &str, settings: StoreSettings, catalog: Catalog) -> Result<Self, ApiError> {
        Store::sharing(name, settings, Arc::new(RwLock::new(catalog)))
    }

    /// A store with new settings over a catalog already in memory.
    pub fn sharing(
        name: &str,
        settings: StoreSettings,
        catalog: Arc<RwLock<Catalog>>,
    ) -> Result<Self, ApiError> {
        let strategy = strategy::by_name(&settings.strategy).ok_or_else(|| {
            ApiError::Internal(format!(
                "store '{name}' names strategy '{}', which this build does not have",
                settings.strategy
            ))
        })?;
        Ok(Store {
            name: name.to_owned(),
            settings,
            catalog,
            strategy,
        })
    }

    /// Loads a store from storage (blocking: builds the index).
    pub fn load(storage: &dyn Storage, name: &str) -> Result<Self, ApiError> {
        let settings = storage
            .settings(name)?
            .ok_or_else(|| ApiError::UnknownStore(name.to_owned()))?;
        Store::build(storage, name, settings)
    }

    /// A store from settings and its snapshot or stored products (blocking).
    pub fn build(
        storage: &dyn Storage,
        name: &str,
        settings: StoreSettings,
    ) -> Result<Self, ApiError> {
        let catalog = catalogs::load_with(storage, name, &settings)
            .map_err(|e| ApiError::Internal(format!("{e:#}")))?;
        Store::new(name, settings, catalog)
    }

    /// The catalog, for reading (a poisoned lock still holds a whole catalog:
    /// every write to it is a single call that either ran or did not).
    pub fn read(&self) -> RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a change on the catalog under the write lock.
    pub fn write<T>(&self, change: impl FnOnce(&mut Catalog) -> T) -> T {
        let mut guard = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        change(&mut guard)
    }
}

/// The server's shared state: cheap to clone, all `Arc`s.
#[derive(Clone)]
pub struct AppState {
    /// The stores in memory, by name.
    pub stores: Arc<RwLock<HashMap<String, Arc<Store>>>>,
    /// Where everything is kept.
    pub storage: Arc<dyn Storage>,
    /// Shoppers' sessions.
    pub sessions: Arc<Sessions>,
    /// The one writer of each store.
    pub writers: Arc<StoreWriters>,
    /// Whether storage can write, as the last write found it.
    pub health: Arc<StorageHealth>,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// Cancelled when the server begins to shut down.
    pub shutdown: CancellationToken,
    /// Open WebSocket connections, awaited on shutdown.
    pub connections: TaskTracker,
    /// Keys, origins and hosts.
    pub access: Arc<Access>,
    /// Rate limits and counted resources.
    pub limits: Arc<Guards>,
    /// On shared storage: how far each store in memory has followed its
    /// change log (`follower.rs`).
    pub positions: Arc<Mutex<HashMap<String, ChangeId>>>,
    /// Stores changed in place since their index snapshot was written
    /// (`snapshot_writer.rs`).
    pub snapshots_due: Arc<SnapshotsDue>,
}

impl AppState {
    /// State over a storage, with no stores loaded yet.
    pub fn new(storage: Arc<dyn Storage>, config: Config) -> Self {
        let health = Arc::new(StorageHealth::default());
        let hosts = Hosts::new(config.allowed_hosts.as_deref(), config.listen);
        let writes = WriteLimits {
            ttl: config.session_ttl,
            window: config.session_write_window,
            backlog: config.session_backlog,
            idle: super::session_writer::IDLE,
        };
        AppState {
            stores: Arc::default(),
            sessions: Arc::new(Sessions::new(
                storage.clone(),
                health.clone(),
                writes,
                config.limits.clone(),
            )),
            writers: Arc::default(),
            health,
            access: Arc::new(Access::new(
                storage.clone(),
                config.admin_key.clone(),
                hosts,
            )),
            limits: Arc::new(Guards::new(&config.limits, config.session_ttl)),
            storage,
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            positions: Arc::default(),
            snapshots_due: Arc::default(),
        }
    }

    /// A store by name.
    pub fn store(&self, name: &str) -> Result<Arc<Store>, ApiError> {
        self.stores
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::UnknownStore(name.to_owned()))
    }

    /// Puts a (re)built store in place of the old one, if this node serves
    /// it (`--stores`); answers it either way.
    pub fn replace(&self, store: Store) -> Arc<Store> {
        let store = Arc::new(store);
        if self.config.serves(&store.name) {
            self.stores
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(store.name.clone(), store.clone());
        }
        store
    }

    /// On shared storage, before a change to a store this node does not
    /// follow yet (it is creating it): from here on, the store's log is
    /// followed from its current end, so no other node's later change is
    /// missed (and none of an earlier incarnation of the store replayed).
    pub fn follow_from_here(&self, store: &str) -> Result<(), ApiError> {
        let Some(log) = self.storage.change_log() else {
            return Ok(());
        };
        if self.position(store).is_none() {
            let head = log.head(store)?;
            self.positions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(store.to_owned())
                .or_insert(head);
        }
        Ok(())
    }

    /// How far a store's change log has been followed.
    pub fn position(&self, store: &str) -> Option<ChangeId> {
        self.positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(store)
            .cloned()
    }

    /// The names of the stores, sorted.
    pub fn store_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .stores
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }
}
