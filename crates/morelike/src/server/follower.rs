//! On storage that several nodes share: follows every store's change log,
//! so a change made through any node reaches this node's memory. The watch
//! (Redis pub/sub) says which store's log moved; the log itself is the
//! record: each store is read from the last entry applied, in order, and
//! every five seconds (and after the watch reconnects) every store is
//! checked, so a lost notice delays a change, never drops it. A log
//! trimmed past the last entry applied means the store is read again
//! whole.
//!
//! An entry says what changed, not the new value: applying it reads that
//! part from storage, under the store's writer (`store_writer.rs`), so the
//! node's own changes and those it follows never overlap, and memory ends
//! equal to storage however late or often an entry is applied. Entries this
//! node made are skipped (its writer applied them already).

use std::collections::BTreeSet;
use std::time::Duration;

use super::error::ApiError;
use super::state::{AppState, Store};
use super::store_writer::rebuilds;
use crate::store::{ChangeId, LoggedChange, Notice, Since, StoreChange};

/// Every store is checked this often, whatever the watch says.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Entries read per round trip.
const BATCH: usize = 256;

/// Rows upserted per hold of a catalog's write lock (as the writer does).
const CHUNK: usize = 64;

/// Follows the change log until the server shuts down (returns at once on
/// storage that no other node shares).
pub async fn follow(state: AppState) {
    let Some(log) = state.storage.change_log() else {
        return;
    };
    let mut notices = log.watch();
    let mut check = tokio::time::interval(CHECK_EVERY);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stores: BTreeSet<String> = tokio::select! {
            () = state.shutdown.cancelled() => return,
            notice = notices.recv() => match notice {
                None => return,
                Some(Notice::Resync) => every_store(&state).await,
                Some(Notice::Changed(store)) => {
                    let mut stores = BTreeSet::from([store]);
                    // Take what else came meanwhile, each store once.
                    while let Ok(notice) = notices.try_recv() {
                        match notice {
                            Notice::Changed(store) => { stores.insert(store); }
                            Notice::Resync => stores.extend(every_store(&state).await),
                        }
                    }
                    stores
                }
            },
            _ = check.tick() => every_store(&state).await,
        };
        for store in stores {
            if !state.config.serves(&store) {
                continue;
            }
            let writer = state.writer(&store).await;
            let follower = state.clone();
            let name = store.clone();
            let applied = tokio::task::spawn_blocking(move || {
                let _turn = writer;
                catch_up(&follower, &name)
            })
            .await;
            match applied {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(store = %store, error = %e, "cannot follow the store's changes yet; will retry")
                }
                Err(e) => tracing::error!(store = %store, error = %e, "following a store failed"),
            }
        }
    }
}

/// The stores in storage, in memory, and followed.
async fn every_store(state: &AppState) -> BTreeSet<String> {
    let storage = state.storage.clone();
    let mut stores: BTreeSet<String> = tokio::task::spawn_blocking(move || storage.stores())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
        .into_iter()
        .collect();
    stores.extend(state.store_names());
    stores.extend(
        state
            .positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned(),
    );
    stores
}

/// Applies a store's entries after the last one applied (blocking; the
/// caller holds the store's writer).
fn catch_up(state: &AppState, store: &str) -> Result<(), ApiError> {
    let log = state
        .storage
        .change_log()
        .expect("only shared storage is followed");
    let Some(mut after) = state.position(store) else {
        // A store this node does not hold: made by another node, or not
        // loaded. Read it whole.
        return reload(state, store);
    };
    loop {
        let entries = match log.since(store, &after, BATCH)? {
            Since::Trimmed => {
                tracing::info!(
                    store,
                    "the store's log was trimmed past this node: reading it whole"
                );
                return reload(state, store);
            }
            Since::Entries(entries) => entries,
        };
        let last = entries.len() < BATCH;
        for entry in entries {
            if entry.node != log.node() {
                apply(state, store, &entry)?;
            }
            after = entry.id.clone();
            set_position(state, store, after.clone());
        }
        if last {
            return Ok(());
        }
    }
}

fn set_position(state: &AppState, store: &str, id: ChangeId) {
    state
        .positions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(store.to_owned(), id);
}

/// Reads a store whole: its log's end first, then the store, so no later
/// change is missed. A store without settings leaves memory.
fn reload(state: &AppState, store: &str) -> Result<(), ApiError> {
    let log = state
        .storage
        .change_log()
        .expect("only shared storage is followed");
    let head = log.head(store)?;
    match state.storage.settings(store)? {
        // Not in memory (never used, or evicted): it loads whole on its
        // next call.
        Some(_) if state.held(store).is_err() => {}
        Some(settings) => {
            let loaded = state.build_store(store, settings)?;
            tracing::info!(
                store,
                products = loaded.read().len(),
                "store loaded from shared storage"
            );
            state.replace(loaded);
        }
        None => forget(state, store),
    }
    set_position(state, store, head);
    Ok(())
}

fn forget(state: &AppState, store: &str) {
    let removed = state
        .stores
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(store);
    if removed.is_some() {
        state.sessions.store_deleted(store);
        state.sessions.store_kept(store);
        tracing::info!(store, "store deleted by another node");
    }
    state.access.changed(store);
}

/// Applies one entry another node made.
fn apply(state: &AppState, store: &str, entry: &LoggedChange) -> Result<(), ApiError> {
    let storage = state.storage.as_ref();
    match &entry.change {
        StoreChange::Products(ids) => {
            let Ok(held) = state.held(store) else {
                return Ok(());
            };
            let products = storage.products_by_id(store, ids)?;
            let len = held.read().len();
            let upsert = products.iter().any(Option::is_some);
            if upsert && rebuilds(ids.len(), len) {
                state.replace(state.build_store(store, held.settings.clone())?);
                return Ok(());
            }
            for (chunk, ids) in products.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
                held.write(|catalog| {
                    for (product, id) in chunk.iter().zip(ids) {
                        match product {
                            Some(p) => {
                                catalog.upsert(p.clone());
                            }
                            None => {
                                catalog.delete(id);
                            }
                        }
                    }
                });
            }
        }
        StoreChange::Catalog => {
            if let Ok(held) = state.held(store) {
                state.replace(state.build_store(store, held.settings.clone())?);
            }
        }
        StoreChange::Settings => {
            let Some(settings) = storage.settings(store)? else {
                return Ok(());
            };
            match state.held(store) {
                Ok(held)
                    if held.settings.mapping == settings.mapping
                        && held.settings.precision == settings.precision =>
                {
                    held.write(|catalog| catalog.set_weights(&settings.weights))?;
                    state.replace(Store::sharing(store, settings, held.catalog.clone())?);
                }
                // A new mapping or precision: the index is built again.
                Ok(_) => {
                    state.replace(state.build_store(store, settings)?);
                }
                // Not in memory (never used, or evicted): it loads whole
                // on its next call.
                Err(_) => {}
            }
        }
        StoreChange::Access => state.access.changed(store),
        StoreChange::Deleted => forget(state, store),
    }
    Ok(())
}
