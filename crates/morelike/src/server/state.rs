//! What every handler shares: the loaded stores (name → a snapshot of the
//! store in memory), the storage underneath, the session service, the
//! store writers, and the configuration. A store snapshot is swapped whole
//! (`Arc`) when its catalog is rebuilt or its strategy changes; small
//! changes are applied to its catalog in place under a short write lock.
//! Locks here are std locks, held only for synchronous work, never across
//! `.await`; every change to a store goes through its writer
//! (`store_writer`). Stores load on first use, through their writer, and
//! the least recently used leave memory past `memory_budget` (a store whose
//! writer is busy is never evicted).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};
use std::time::Instant;

use morelike_core::{strategy, Catalog, Strategy};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::access::origins::Hosts;
use super::access::Access;
use super::compute::Compute;
use super::config::Config;
use super::error::ApiError;
use super::give_back;
use super::limits::Guards;
use super::session_writer::Limits as WriteLimits;
use super::sessions::Sessions;
use super::snapshot_writer::SnapshotsDue;
use super::stats::{Stats, StoreStats};
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
    /// When it was last used, on the node's use clock (for eviction).
    last_used: AtomicU64,
    /// The memory it takes, as last counted ([`Store::bytes`]).
    bytes: AtomicU64,
    /// Whether its catalog changed since.
    changed: AtomicBool,
    /// Its event counters, found in the node's [`Stats`] on first use.
    pub stats: OnceLock<Arc<StoreStats>>,
}

/// What a store holds beside its catalog (its name, settings, strategy),
/// about.
const STORE_BYTES: usize = 4096;

/// The use clock: one tick per store use, so the least recently used store
/// has the smallest mark.
static USE_CLOCK: AtomicU64 = AtomicU64::new(1);

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
        let store = Store {
            name: name.to_owned(),
            settings,
            catalog,
            strategy,
            last_used: AtomicU64::new(USE_CLOCK.fetch_add(1, Ordering::Relaxed)),
            bytes: AtomicU64::new(0),
            changed: AtomicBool::new(true),
            stats: OnceLock::new(),
        };
        Ok(store)
    }

    /// Marks the store as just used.
    fn touch(&self) {
        self.last_used
            .store(USE_CLOCK.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }

    /// The memory the store takes: what its catalog holds on the heap
    /// (`Catalog::heap_bytes`: every column, map and string by its
    /// capacity, and the allocator's share of each allocation), as of its
    /// last change (counted again after one), plus 4 KiB for the rest.
    pub fn bytes(&self) -> u64 {
        if self.changed.swap(false, Ordering::AcqRel) {
            let bytes = self.read().heap_bytes() + STORE_BYTES;
            self.bytes.store(bytes as u64, Ordering::Release);
            return bytes as u64;
        }
        self.bytes.load(Ordering::Acquire)
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
        let done = {
            let mut guard = self.catalog.write().unwrap_or_else(|e| e.into_inner());
            change(&mut guard)
        };
        self.changed.store(true, Ordering::Release);
        done
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
    /// The CPU pool for long pages and catalog-wide jobs.
    pub compute: Arc<Compute>,
    /// Every store's events on this node (shared with the session service).
    pub stats: Arc<Stats>,
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
        let compute = Arc::new(Compute::new(
            config.compute_threads,
            config.limits.max_queued_jobs,
            config.pool_pages_from,
        ));
        let stats = Arc::new(Stats::default());
        AppState {
            stores: Arc::default(),
            sessions: Arc::new(Sessions::new(
                storage.clone(),
                health.clone(),
                writes,
                config.limits.clone(),
                compute.clone(),
                stats.clone(),
            )),
            stats,
            writers: Arc::default(),
            health,
            access: Arc::new(Access::new(
                storage.clone(),
                config.admin_key.clone(),
                hosts,
            )),
            limits: Arc::new(Guards::new(&config.limits, config.session_ttl)),
            storage,
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            positions: Arc::default(),
            snapshots_due: Arc::default(),
            compute,
            config: Arc::new(config),
        }
    }

    /// A store in memory, by name (not loaded: `unknown_store`).
    pub fn held(&self, name: &str) -> Result<Arc<Store>, ApiError> {
        let store = self
            .stores
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| ApiError::UnknownStore(name.to_owned()))?;
        store.touch();
        Ok(store)
    }

    /// A store by name, loaded first if it is not in memory: through its
    /// writer (so no change overlaps the load), on the CPU pool.
    pub async fn store(&self, name: &str) -> Result<Arc<Store>, ApiError> {
        if let Ok(store) = self.held(name) {
            return Ok(store);
        }
        // A name storage does not know takes no writer (and leaves no lock
        // behind in the writers' table).
        if !self.config.serves(name) || self.storage.settings(name)?.is_none() {
            return Err(ApiError::UnknownStore(name.to_owned()));
        }
        let writer = self.writer(name).await;
        tokio::task::spawn_blocking(move || writer.store()).await?
    }

    /// Loads a store from storage into memory and evicts others past the
    /// memory budget (blocking; the caller holds the store's writer).
    pub fn load(&self, name: &str) -> Result<Arc<Store>, ApiError> {
        let started = Instant::now();
        let settings = self
            .storage
            .settings(name)?
            .ok_or_else(|| ApiError::UnknownStore(name.to_owned()))?;
        let store = match self.build_store(name, settings) {
            Ok(store) => store,
            // A store that cannot load is left out, never the node.
            Err(e @ ApiError::Internal(_)) => {
                tracing::error!(
                    store = %name,
                    reason = %e.detail(),
                    "cannot load store; serving the others (fix it, or delete it with the admin key)"
                );
                return Err(ApiError::UnknownStore(name.to_owned()));
            }
            Err(e) => return Err(e),
        };
        let store = self.replace(store);
        tracing::info!(
            store = %name,
            products = store.read().len(),
            bytes = store.bytes(),
            ms = started.elapsed().as_millis() as u64,
            "store loaded"
        );
        self.evict_over_budget(name);
        Ok(store)
    }

    /// The memory the stores in memory take, estimated.
    pub fn held_bytes(&self) -> u64 {
        let stores: Vec<Arc<Store>> = self
            .stores
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        stores.iter().map(|s| s.bytes()).sum()
    }

    /// Builds a store (its snapshot read, or its index built) on the CPU
    /// pool (blocking).
    pub fn build_store(&self, name: &str, settings: StoreSettings) -> Result<Store, ApiError> {
        let storage = self.storage.clone();
        self.compute
            .catalog_job(|| Store::build(storage.as_ref(), name, settings))
    }

    /// Past the memory budget, the least recently used stores leave memory
    /// (never `keep`, nor a store whose writer is busy: a change in progress
    /// finishes on the store it started on). Their sessions stay; the next
    /// call loads them again. Answers the stores evicted.
    pub fn evict_over_budget(&self, keep: &str) -> Vec<String> {
        let Some(budget) = self.config.memory_budget else {
            return Vec::new();
        };
        let mut held: Vec<(u64, u64, Arc<Store>)> = self
            .stores
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|s| (s.last_used.load(Ordering::Relaxed), s.bytes(), s.clone()))
            .collect();
        let mut total: u64 = held.iter().map(|(_, bytes, _)| bytes).sum();
        held.sort_by_key(|(used, _, _)| *used);
        let mut evicted = Vec::new();
        for (_, bytes, store) in held {
            if total <= budget {
                break;
            }
            if store.name == keep {
                continue;
            }
            let Some(_turn) = self.writers.try_lock(&store.name) else {
                continue;
            };
            let mut stores = self.stores.write().unwrap_or_else(|e| e.into_inner());
            // Only this copy: a newer one put in meanwhile stays.
            if stores
                .get(&store.name)
                .is_some_and(|now| Arc::ptr_eq(now, &store))
            {
                stores.remove(&store.name);
                total -= bytes;
                tracing::info!(store = %store.name, bytes, held_bytes = total, budget, "store evicted (least recently used)");
                evicted.push(store.name.clone());
            }
        }
        // The evicted stores are freed by now (unless a page still holds
        // one: the next eviction gives that back).
        if !evicted.is_empty() {
            give_back::soon();
        }
        evicted
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
