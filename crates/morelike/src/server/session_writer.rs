//! Write-behind for sessions. A durable commit costs ~4 ms here (an fsync),
//! which alone would break the 5 ms round-trip budget, so a session change is
//! put in a pending map at once (reads see it) and one writer thread commits
//! everything pending in one transaction, then drops what it wrote. Shutdown
//! drains the map. A crash (not a shutdown) loses at most the last batch.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use morelike_core::Session;

use crate::store::{SessionWrite, Storage};

type Key = (String, String);

#[derive(Default)]
struct Pending {
    entries: HashMap<Key, (u64, Session)>,
    next_version: u64,
    closed: bool,
}

struct Shared {
    storage: Arc<dyn Storage>,
    ttl: Duration,
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sessions waiting to be written, and the thread that writes them.
pub struct SessionWriter {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl SessionWriter {
    /// Starts the writer thread.
    pub fn start(storage: Arc<dyn Storage>, ttl: Duration) -> Self {
        let shared = Arc::new(Shared {
            storage,
            ttl,
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || write_loop(&worker))
            .expect("the session writer thread starts");
        SessionWriter {
            shared,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Queues a session to be written; `get` sees it from now on.
    pub fn put(&self, store: &str, id: &str, session: Session) {
        let mut pending = self.shared.lock();
        pending.next_version += 1;
        let version = pending.next_version;
        pending
            .entries
            .insert((store.to_owned(), id.to_owned()), (version, session));
        drop(pending);
        self.shared.wake.notify_one();
    }

    /// A session still waiting to be written.
    pub fn get(&self, store: &str, id: &str) -> Option<Session> {
        self.shared
            .lock()
            .entries
            .get(&(store.to_owned(), id.to_owned()))
            .map(|(_, s)| s.clone())
    }

    /// Writes everything pending and stops the thread (blocking).
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("the session writer panicked; some session changes are lost");
            }
        }
    }
}

impl Drop for SessionWriter {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_loop(shared: &Shared) {
    let mut failures = 0u32;
    loop {
        let (batch, versions) = {
            let mut pending = shared.lock();
            while pending.entries.is_empty() && !pending.closed {
                pending = shared.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
            }
            if pending.entries.is_empty() {
                return;
            }
            let mut batch: Vec<SessionWrite> = Vec::with_capacity(pending.entries.len());
            let mut versions = Vec::with_capacity(pending.entries.len());
            for ((store, id), (version, session)) in &pending.entries {
                batch.push((store.clone(), id.clone(), session.clone()));
                versions.push(*version);
            }
            (batch, versions)
        };
        match shared.storage.put_sessions(&batch, shared.ttl) {
            Ok(()) => {
                failures = 0;
                let mut pending = shared.lock();
                for ((store, id, _), version) in batch.into_iter().zip(versions) {
                    let key = (store, id);
                    if pending
                        .entries
                        .get(&key)
                        .is_some_and(|(v, _)| *v == version)
                    {
                        pending.entries.remove(&key);
                    }
                }
            }
            Err(e) => {
                failures += 1;
                tracing::error!(error = %e, sessions = batch.len(), failures, "cannot write sessions; will retry");
                if failures >= 5 && shared.lock().closed {
                    tracing::error!("giving up on {} session changes at shutdown", batch.len());
                    return;
                }
                std::thread::sleep(Duration::from_millis(100 * u64::from(failures.min(10))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Embedded;
    use morelike_core::Filters;

    fn session(seed: &str) -> Session {
        Session {
            seed: seed.into(),
            votes: vec![],
            shown: vec![seed.into()],
            round: 0,
            k: 8,
            filters: Filters::default(),
        }
    }

    #[test]
    fn a_queued_session_is_readable_at_once_and_stored_after_close() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Embedded::open(dir.path()).unwrap());
        let writer = SessionWriter::start(storage.clone(), Duration::from_secs(60));
        writer.put("demo", "s1", session("a"));
        writer.put("demo", "s1", session("b"));
        let seen = writer
            .get("demo", "s1")
            .or_else(|| storage.session("demo", "s1").unwrap());
        assert_eq!(seen.unwrap().seed, "b");
        writer.close();
        assert_eq!(storage.session("demo", "s1").unwrap().unwrap().seed, "b");
        assert!(writer.get("demo", "s1").is_none());
    }
}
