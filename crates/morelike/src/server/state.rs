//! What every handler shares: the loaded stores (name → catalog in memory),
//! the storage underneath, the session service and the configuration. Locks
//! here are std locks, held only for synchronous work, never across `.await`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use morelike_core::{strategy, Catalog, Strategy};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::access::origins::Hosts;
use super::access::Access;
use super::config::Config;
use super::error::ApiError;
use super::limits::Guards;
use super::sessions::Sessions;
use crate::catalogs;
use crate::store::{Storage, StoreSettings};

/// One store in memory: its catalog and how its pages are chosen.
pub struct Store {
    /// The store's name.
    pub name: String,
    /// Its settings as loaded.
    pub settings: StoreSettings,
    /// The catalog; upserts and deletes take the write lock briefly.
    pub catalog: RwLock<Catalog>,
    /// The strategy its pages are served with.
    pub strategy: Box<dyn Strategy>,
}

impl Store {
    /// A store from its settings and catalog.
    pub fn new(name: &str, settings: StoreSettings, catalog: Catalog) -> Result<Self, ApiError> {
        let strategy = strategy::by_name(&settings.strategy).ok_or_else(|| {
            ApiError::Internal(format!(
                "store '{name}' names strategy '{}', which this build does not have",
                settings.strategy
            ))
        })?;
        Ok(Store {
            name: name.to_owned(),
            settings,
            catalog: RwLock::new(catalog),
            strategy,
        })
    }

    /// Loads a store from storage (blocking: builds the index).
    pub fn load(storage: &dyn Storage, name: &str) -> Result<Self, ApiError> {
        let settings = storage
            .settings(name)?
            .ok_or_else(|| ApiError::UnknownStore(name.to_owned()))?;
        let catalog = catalogs::build(&settings, storage.products(name)?)
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
}

impl AppState {
    /// State over a storage, with no stores loaded yet.
    pub fn new(storage: Arc<dyn Storage>, config: Config) -> Self {
        let hosts = Hosts::new(config.allowed_hosts.as_deref(), config.listen);
        AppState {
            stores: Arc::default(),
            sessions: Arc::new(Sessions::new(storage.clone(), config.session_ttl)),
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

    /// Puts a (re)built store in place of the old one.
    pub fn replace(&self, store: Store) {
        self.stores
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(store.name.clone(), Arc::new(store));
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

/// Above this many changed products (or half the catalog), a change rebuilds
/// the store's catalog from storage (views refitted) instead of upserting.
const REBUILD_AT: usize = 5_000;

/// Upserts are applied in chunks so readers never wait long for the lock.
const CHUNK: usize = 256;

impl AppState {
    /// Makes stored product changes live (blocking): the next page sees them.
    pub fn apply_upserts(
        &self,
        name: &str,
        changed: Vec<morelike_core::Product>,
    ) -> Result<(), ApiError> {
        let current = self.store(name).ok();
        let rebuild = match &current {
            None => true,
            Some(store) => {
                let len = store.read().len();
                changed.len() > REBUILD_AT || changed.len() * 2 > len
            }
        };
        if rebuild {
            let store = Store::load(self.storage.as_ref(), name)?;
            tracing::info!(
                store = name,
                products = store.read().len(),
                "catalog rebuilt"
            );
            self.replace(store);
            return Ok(());
        }
        let store = current.expect("checked above");
        for chunk in changed.chunks(CHUNK) {
            store.write(|catalog| {
                for product in chunk {
                    catalog.upsert(product.clone());
                }
            });
        }
        Ok(())
    }
}
