//! One writer per store. Every change to a store — its mapping, products,
//! deletes, settings, allowed origins, keys, the store's own deletion — takes the store's writer (an async mutex, first come
//! first served) and applies the change to storage first and then to the
//! store in memory, before the next change starts: memory and storage see
//! the same changes in the same order, and none is lost to a race. The
//! writer is held by the blocking task doing the work, so a client that
//! goes away cannot let the next change start before this one is done.
//!
//! Readers never wait for a writer's storage write or rebuild: a small
//! upsert or a delete takes the catalog's write lock for a chunk of rows
//! (~15 µs a row, no clone of the catalog); a big upload or a new
//! mapping builds a new catalog off to the side and swaps the store's
//! snapshot in one step; a settings change swaps the snapshot and keeps the
//! catalog (a new precision builds a new catalog off to the side too).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use morelike_core::{strategy, Mapping, Precision};
use tokio::sync::OwnedMutexGuard;

use super::error::ApiError;
use super::state::{AppState, Store};
use crate::catalogs::{self, ImportOutcome, Parsed};
use crate::store::StoreSettings;

/// Above this many changed products (or half the catalog), an upload
/// rebuilds the store's catalog off to the side (views refitted) instead of
/// upserting row by row.
const REBUILD_AT: usize = 5_000;

/// Whether upserting `changed` products into a catalog of `len` rebuilds it
/// (views refitted) rather than upserting row by row; the follower of
/// another node makes the same choice, so both end with the same views.
pub fn rebuilds(changed: usize, len: usize) -> bool {
    changed > REBUILD_AT || changed * 2 > len
}

/// Upserts are applied in chunks so pages never wait long for the lock: 64
/// rows hold it ~0.9 ms on the fashion catalog (`cargo bench --bench
/// upsert`), about one page.
const CHUNK: usize = 64;

/// The writer locks, one per store name.
#[derive(Default)]
pub struct StoreWriters {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl StoreWriters {
    /// The store's writer if nobody holds it now.
    pub fn try_lock(&self, store: &str) -> Option<OwnedMutexGuard<()>> {
        self.of(store).try_lock_owned().ok()
    }

    async fn lock(&self, store: &str) -> OwnedMutexGuard<()> {
        self.of(store).lock_owned().await
    }

    /// The store's lock (made on first use).
    fn of(&self, store: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(store.to_owned())
            .or_default()
            .clone()
    }
}

/// The right to change one store, held until dropped. Its methods block
/// (storage writes, rebuilds): run them in `spawn_blocking`.
pub struct StoreWriter {
    state: AppState,
    name: String,
    _turn: OwnedMutexGuard<()>,
}

impl AppState {
    /// Waits for the store's turn to change and takes it.
    pub async fn writer(&self, store: &str) -> StoreWriter {
        StoreWriter {
            _turn: self.writers.lock(store).await,
            state: self.clone(),
            name: store.to_owned(),
        }
    }
}

impl StoreWriter {
    /// The store, loaded into memory first if it is not there.
    pub fn store(&self) -> Result<Arc<Store>, ApiError> {
        match self.state.held(&self.name) {
            Ok(store) => Ok(store),
            Err(_) => self.state.load(&self.name),
        }
    }

    /// Creates the store, or gives it a new mapping: its catalog is rebuilt
    /// off to the side from the stored products, then swapped in. A mapping
    /// with a view no stored product has a value for, though they hold
    /// values of another kind in its columns (`catalogs::misfit`), is
    /// refused and nothing changes. Views that keep their name keep their
    /// weights; the others get the mapping's.
    pub fn put_mapping(&self, mapping: Mapping) -> Result<Arc<Store>, ApiError> {
        let storage = self.state.storage.as_ref();
        let mut settings = match self.state.held(&self.name) {
            Ok(store) => store.settings.clone(),
            Err(_) => storage
                .settings(&self.name)?
                .unwrap_or_else(|| StoreSettings::new(mapping.clone())),
        };
        settings.mapping = mapping;
        // A view that reads its columns as what no stored product holds
        // there would be empty: refused before anything changes.
        let misfit = catalogs::misfit(storage, &self.name, &settings.mapping);
        if let Some(reason) = self.state.health.record(misfit)? {
            return Err(ApiError::BadMapping(reason));
        }
        self.state.follow_from_here(&self.name)?;
        let views = &settings.mapping.views;
        settings
            .weights
            .retain(|view, _| views.iter().any(|v| &v.name == view));
        let store = self.state.build_store(&self.name, settings)?;
        self.state
            .health
            .record(storage.put_settings(&self.name, &store.settings))?;
        self.state.sessions.store_kept(&self.name);
        let store = self.state.replace(store);
        self.state.evict_over_budget(&self.name);
        Ok(store)
    }

    /// Deletes the store and everything in it: products, settings, keys,
    /// sessions (those not yet written too). It leaves memory first, so no
    /// new change starts; its sessions are shut out of the session writer;
    /// then storage deletes it. If storage fails, the store is put back
    /// (its unwritten session changes are gone).
    pub fn delete_store(&self) -> Result<(), ApiError> {
        let storage = self.state.storage.as_ref();
        let loaded = self.state.held(&self.name).ok();
        if loaded.is_none() && storage.settings(&self.name)?.is_none() {
            return Err(ApiError::UnknownStore(self.name.clone()));
        }
        self.state
            .stores
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.name);
        let dropped = self.state.sessions.store_deleted(&self.name);
        self.state.access.changed(&self.name);
        if let Err(e) = self.state.health.record(storage.delete_store(&self.name)) {
            self.state.sessions.store_kept(&self.name);
            if let Some(store) = loaded {
                self.state
                    .stores
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(self.name.clone(), store);
            }
            return Err(e.into());
        }
        if let Some(dir) = storage.snapshot_dir() {
            crate::snapshots::Snapshots::new(dir).remove(&self.name);
        }
        tracing::info!(store = %self.name, unwritten_sessions_dropped = dropped, "store deleted");
        Ok(())
    }

    /// Upserts parsed products, all of them or none: one storage
    /// transaction, then the live catalog. `mapping` is the one they were
    /// read with; if the store's mapping changed since, nothing is written.
    pub fn upsert(&self, parsed: Parsed, mapping: &Mapping) -> Result<ImportOutcome, ApiError> {
        let store = self.store()?;
        if store.settings.mapping != *mapping {
            return Err(ApiError::Conflict(
                "the store's mapping changed while the upload was read; nothing was imported: send it again".into(),
            ));
        }
        let outcome = {
            let catalog = store.read();
            catalogs::diff(parsed, |id| catalog.fingerprint(id))
        };
        let storage = self.state.storage.as_ref();
        self.state
            .health
            .record(storage.put_products(&self.name, &outcome.changed))?;
        let changed = &outcome.changed;
        let len = store.read().len();
        if rebuilds(changed.len(), len) {
            let rebuilt = self.state.build_store(&self.name, store.settings.clone())?;
            tracing::info!(
                store = %self.name,
                products = rebuilt.read().len(),
                "catalog rebuilt"
            );
            self.state.replace(rebuilt);
            self.state.evict_over_budget(&self.name);
        } else {
            for chunk in changed.chunks(CHUNK) {
                store.write(|catalog| {
                    for product in chunk {
                        catalog.upsert(product.clone());
                    }
                });
            }
            if !changed.is_empty() {
                self.state.snapshots_due.changed(&self.name);
            }
        }
        Ok(outcome)
    }

    /// Deletes products; answers how many existed.
    pub fn delete(&self, ids: &[String]) -> Result<usize, ApiError> {
        let store = self.store()?;
        let deleted = self
            .state
            .health
            .record(self.state.storage.delete_products(&self.name, ids))?;
        store.write(|catalog| {
            for id in ids {
                catalog.delete(id);
            }
        });
        if deleted > 0 {
            self.state.snapshots_due.changed(&self.name);
        }
        Ok(deleted)
    }

    /// Changes some view weights (live: the index is untouched), the
    /// strategy (no rebuild), the allowed browser origins (the store's
    /// access record) and the precision of the index rows. A new precision
    /// re-encodes the index on the CPU pool from the stored products (its
    /// snapshot is written at the new precision); pages are served by the
    /// old index until the new one is swapped in. A bad weight, strategy or
    /// origin changes nothing; neither does a failed write.
    pub fn change_settings(
        &self,
        weights: &BTreeMap<String, f32>,
        new_strategy: Option<&str>,
        allowed_origins: Option<&[String]>,
        precision: Option<Precision>,
    ) -> Result<Arc<Store>, ApiError> {
        let store = self.store()?;
        if let Some(wanted) = new_strategy {
            if strategy::by_name(wanted).is_none() {
                return Err(ApiError::field(
                    "strategy",
                    format!(
                        "no strategy '{wanted}'; choose one of {}",
                        strategy::names().join(", ")
                    ),
                ));
            }
        }
        let re_encode = precision.filter(|&p| p != store.settings.precision);
        if re_encode.is_some() {
            store.read().check_weights(weights)?;
        }
        let access = match allowed_origins {
            Some(list) => Some(self.state.access.with_allowed_origins(&self.name, list)?),
            None => None,
        };
        let before = store.read().weights_by_name();
        if re_encode.is_none() {
            // Checked and applied at once; on an error nothing changes.
            store.write(|catalog| catalog.set_weights(weights))?;
        }
        let mut settings = store.settings.clone();
        settings
            .weights
            .extend(weights.iter().map(|(k, v)| (k.clone(), *v)));
        if let Some(s) = new_strategy {
            s.clone_into(&mut settings.strategy);
        }
        // The new index is built beside the old one, which serves pages
        // until the swap below.
        let rebuilt = match re_encode {
            Some(precision) => {
                settings.precision = precision;
                // The old precision's snapshot will not serve again.
                if let Some(dir) = self.state.storage.snapshot_dir() {
                    crate::snapshots::Snapshots::new(dir).remove(&self.name);
                }
                let started = std::time::Instant::now();
                let rebuilt = self.state.build_store(&self.name, settings.clone())?;
                tracing::info!(
                    store = %self.name,
                    ?precision,
                    products = rebuilt.read().len(),
                    ms = started.elapsed().as_millis() as u64,
                    "index re-encoded"
                );
                Some(rebuilt)
            }
            None => None,
        };
        let storage = self.state.storage.as_ref();
        let health = &self.state.health;
        let stored = match &access {
            Some((_, new)) => {
                self.state.access.changed(&self.name);
                health.record(storage.put_access(&self.name, new))
            }
            None => Ok(()),
        }
        .and_then(|()| {
            let stored = health.record(storage.put_settings(&self.name, &settings));
            if let (Err(_), Some((old, _))) = (&stored, &access) {
                // Best effort: storage just failed, and may fail again.
                let _ = storage.put_access(&self.name, old);
            }
            stored
        });
        if let Err(e) = stored {
            store.write(|catalog| catalog.set_weights(&before))?;
            return Err(e.into());
        }
        let next = match rebuilt {
            Some(rebuilt) => rebuilt,
            None => Store::sharing(&self.name, settings, store.catalog.clone())?,
        };
        let next = self.state.replace(next);
        if re_encode.is_some() {
            self.state.evict_over_budget(&self.name);
        }
        Ok(next)
    }
}
