//! Index snapshots kept current after live changes. A small upsert or a
//! delete changes a store's catalog in place and leaves its snapshot stale
//! (the next start would build the index again). Once a store's changes
//! settle — no change for `snapshot_delay` — its snapshot is written again,
//! off the request path: under the store's writer (no change is in flight,
//! so the stamp's products version is the catalog's) the catalog is
//! streamed to a new file; the file is synced and renamed after the writer
//! is released. Pages never wait: they read the catalog as the stream does.
//! At shutdown, stores whose changes are not snapshotted yet are written
//! within the shutdown deadline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use morelike_core::catalog::snapshot;
use tokio::sync::Notify;

use super::state::AppState;
use crate::snapshots::Snapshots;

/// The stores whose catalog changed since their snapshot was written.
#[derive(Default)]
pub struct SnapshotsDue {
    /// Store → when it last changed.
    due: Mutex<HashMap<String, Instant>>,
    wake: Notify,
    written: AtomicU64,
}

impl SnapshotsDue {
    /// A store's catalog changed in place: its snapshot is due once the
    /// changes settle.
    pub fn changed(&self, store: &str) {
        self.lock().insert(store.to_owned(), Instant::now());
        self.wake.notify_one();
    }

    /// How many snapshots were written again after live changes.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.due.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the stores quiet since `settled` (all of them when `None`),
    /// and the time the next one settles.
    fn take_settled(&self, settled: Option<Instant>) -> (Vec<String>, Option<Instant>) {
        let mut due = self.lock();
        let ready: Vec<String> = due
            .iter()
            .filter(|(_, &at)| settled.is_none_or(|s| at <= s))
            .map(|(store, _)| store.clone())
            .collect();
        for store in &ready {
            due.remove(store);
        }
        (ready, due.values().min().copied())
    }
}

/// Writes the snapshots of stores whose changes settled, until shutdown;
/// then those still due. Does nothing on a backend without snapshots.
pub async fn keep(state: AppState) {
    let Some(dir) = state.storage.snapshot_dir() else {
        return;
    };
    let delay = state.config.snapshot_delay;
    let due = state.snapshots_due.clone();
    loop {
        let (ready, next) = due.take_settled(Instant::now().checked_sub(delay));
        for store in ready {
            write(&state, &dir, store).await;
        }
        let wake = due.wake.notified();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until((at + delay).into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = wake => {}
            () = sleep => {}
            () = state.shutdown.cancelled() => break,
        }
    }
    let (ready, _) = due.take_settled(None);
    for store in ready {
        write(&state, &dir, store).await;
    }
}

/// Writes one store's snapshot as its catalog is now; a failure is logged
/// (the next start builds the index, as without a snapshot).
async fn write(state: &AppState, dir: &std::path::Path, store: String) {
    if state.held(&store).is_err() {
        return; // deleted, or not served here
    }
    let writer = state.writer(&store).await;
    let (state, dir) = (state.clone(), dir.to_owned());
    let done = tokio::task::spawn_blocking(move || stream(&state, dir, &store, writer)).await;
    match done {
        Ok(Ok(())) | Ok(Err(None)) => {}
        Ok(Err(Some((store, e)))) => {
            tracing::warn!(store, error = %e, "index snapshot not written again")
        }
        Err(e) => tracing::warn!(error = %e, "index snapshot writer failed"),
    }
}

/// The blocking part: streams under the writer, finishes after it.
fn stream(
    state: &AppState,
    dir: PathBuf,
    name: &str,
    writer: super::store_writer::StoreWriter,
) -> Result<(), Option<(String, String)>> {
    let fail = |e: &dyn std::fmt::Display| Some((name.to_owned(), e.to_string()));
    let Ok(store) = state.held(name) else {
        return Err(None);
    };
    let version = state.storage.products_version(name).map_err(|e| fail(&e))?;
    let stamp = snapshot::stamp(version, &store.settings.mapping, store.settings.precision);
    let streamed = Snapshots::new(dir)
        .stream(name, &store.read(), stamp)
        .map_err(|e| fail(&e))?;
    drop(writer);
    streamed.finish().map_err(|e| fail(&e))?;
    state.snapshots_due.written.fetch_add(1, Ordering::Relaxed);
    Ok(())
}
