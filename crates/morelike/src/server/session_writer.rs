//! The sessions in use, in memory, written behind to storage.
//!
//! A durable commit costs ~4 ms here (an fsync), which alone would break the
//! round-trip budget, so a session change is committed to this table at once
//! (by compare-and-set on its version: a stale copy is refused) and one
//! writer thread commits everything changed since its last batch in one
//! transaction, again by compare-and-set. The window of acknowledged but
//! unwritten changes is bounded: past `window` (age of the oldest) or
//! `backlog` (sessions), new changes wait for the writer ([`Admission`]).
//! A failed write is retried; while storage fails, new changes are refused
//! and storage is probed until it writes again. The same thread purges
//! expired sessions from storage in small batches and forgets idle ones.
//! A store being deleted is shut out first: its sessions leave the table,
//! the batch in flight finishes, and no later change of it is kept, so
//! nothing of it is written after storage deleted it.
//!
//! On storage that several nodes share (Redis: it has a change log), another
//! node may change any session at any time, so nothing is kept here: every
//! read goes to storage and every change is written through, by
//! compare-and-set, before it is acknowledged (one round trip, ~0.1 ms).
//! The thread then only purges, and probes storage once a second so
//! `/readyz` follows it even while nothing is written.

use std::collections::{HashMap, HashSet};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use morelike_core::Session;
use tokio::sync::Notify;

use super::storage_health::StorageHealth;
use crate::store::{now_secs, SessionWrite, SessionWritten, Storage, StorageError};

/// A session's key: (store, session id).
type Key = (String, String);

/// How long the writer lets changes gather before it writes them: each
/// batch is one fsync, and fewer, bigger batches keep the disk calm.
const GATHER: Duration = Duration::from_millis(10);
/// A batch this big is written without waiting to gather more.
const FULL_BATCH: usize = 512;

/// How often the writer purges expired sessions and forgets idle ones.
const UPKEEP_EVERY: Duration = Duration::from_secs(1);
/// Expired sessions deleted per storage transaction.
const PURGE_BATCH: usize = 256;
/// The longest the writer spends purging per upkeep, so it never delays a
/// batch of session changes by more than this.
const PURGE_BUDGET: Duration = Duration::from_millis(20);
/// At most this many written sessions are kept in memory.
const CACHED: usize = 100_000;

/// The bounds of the write-behind window.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a stored session lives after its last change.
    pub ttl: Duration,
    /// No new change is taken while the oldest unwritten one is older.
    pub window: Duration,
    /// No new change is taken while this many sessions are unwritten.
    pub backlog: usize,
    /// A written session nobody touched for this long leaves memory (it
    /// stays in storage).
    pub idle: Duration,
}

/// How long a written, untouched session stays in memory by default.
pub const IDLE: Duration = Duration::from_secs(120);

struct Entry {
    session: Arc<Session>,
    version: u64,
    /// The version storage holds (0: none yet).
    durable: u64,
    /// When the first change not yet written was made.
    dirty_since: Option<Instant>,
    used: Instant,
    expires_at: u64,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    dirty: HashSet<Key>,
    /// The oldest `dirty_since` among dirty entries.
    oldest: Option<Instant>,
    closed: bool,
    close_by: Option<Instant>,
    /// Stores deleted (or being deleted): their sessions are not kept.
    gone: HashSet<String>,
}

impl Table {
    /// Marks a session changed; answers whether the writer should be woken
    /// (the first change to gather, or a full batch).
    fn mark_dirty(&mut self, key: Key, now: Instant) -> bool {
        self.dirty.insert(key);
        let first = self.oldest.is_none();
        self.oldest.get_or_insert(now);
        first || self.dirty.len() == FULL_BATCH
    }

    fn recompute_oldest(&mut self) {
        self.oldest = self
            .dirty
            .iter()
            .filter_map(|k| self.entries.get(k)?.dirty_since)
            .min();
    }
}

struct Shared {
    storage: Arc<dyn Storage>,
    /// Storage shared with other nodes: read and write through.
    through: bool,
    health: Arc<StorageHealth>,
    limits: Limits,
    table: Mutex<Table>,
    /// Held by the writer thread while a batch is written.
    writing: Mutex<()>,
    wake: Condvar,
    /// Woken after every batch the writer finishes (written or not).
    flushed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A change refused because the session changed since it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stale;

/// Whether a new session change may be taken now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Yes.
    Ready,
    /// Not yet: the writer is behind its window; wait for its next batch.
    Behind,
    /// No: storage cannot write.
    Failing(String),
}

/// The session table and the thread that writes it.
pub struct SessionWriter {
    shared: Arc<Shared>,
    thread: Mutex<Option<(JoinHandle<()>, mpsc::Receiver<usize>)>>,
}

impl SessionWriter {
    /// Starts the writer thread.
    pub fn start(storage: Arc<dyn Storage>, health: Arc<StorageHealth>, limits: Limits) -> Self {
        let shared = Arc::new(Shared {
            through: storage.change_log().is_some(),
            storage,
            health,
            limits,
            table: Mutex::new(Table::default()),
            writing: Mutex::new(()),
            wake: Condvar::new(),
            flushed: Notify::new(),
        });
        let worker = shared.clone();
        let (done, finished) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("session-writer".into())
            .spawn(move || {
                let unwritten = write_loop(&worker);
                let _ = done.send(unwritten);
            })
            .expect("the session writer thread starts");
        SessionWriter {
            shared,
            thread: Mutex::new(Some((thread, finished))),
        }
    }

    /// The latest version of a session, from memory or else from storage
    /// (unknown or expired: `None`).
    pub fn get(&self, store: &str, id: &str) -> Result<Option<(Arc<Session>, u64)>, StorageError> {
        let key = (store.to_owned(), id.to_owned());
        let now = now_secs();
        if self.shared.through {
            if self.shared.lock().gone.contains(store) {
                return Ok(None);
            }
            let stored = self.shared.storage.session(store, id)?;
            return Ok(stored.map(|s| (Arc::new(s.session), s.version)));
        }
        {
            let mut table = self.shared.lock();
            if table.gone.contains(store) {
                return Ok(None);
            }
            if let Some(e) = table.entries.get_mut(&key) {
                if e.expires_at > now {
                    e.used = Instant::now();
                    return Ok(Some((e.session.clone(), e.version)));
                }
                if e.dirty_since.is_none() {
                    table.entries.remove(&key);
                }
                return Ok(None);
            }
        }
        let Some(stored) = self.shared.storage.session(store, id)? else {
            return Ok(None);
        };
        let mut table = self.shared.lock();
        // Another call may have loaded (or changed) it meanwhile: theirs is newer.
        let e = table.entries.entry(key).or_insert_with(|| Entry {
            session: Arc::new(stored.session),
            version: stored.version,
            durable: stored.version,
            dirty_since: None,
            used: Instant::now(),
            expires_at: stored.expires_at,
        });
        Ok(Some((e.session.clone(), e.version)))
    }

    /// Takes a brand-new session (a fresh random id): in the table, or
    /// written through on shared storage; returns its version.
    pub fn begin(&self, store: &str, id: &str, session: Session) -> Result<u64, StorageError> {
        if !self.shared.through {
            return Ok(self.insert_new(store, id, session));
        }
        match self.write_through(store, id, session, 0)? {
            Ok(version) => Ok(version),
            Err(Stale) => Err(StorageError::Backend {
                doing: "start a session",
                reason: format!("session id '{id}' is taken"),
            }),
        }
    }

    /// One change written through to shared storage by compare-and-set.
    fn write_through(
        &self,
        store: &str,
        id: &str,
        session: Session,
        replaces: u64,
    ) -> Result<Result<u64, Stale>, StorageError> {
        if self.shared.lock().gone.contains(store) {
            // The store was deleted under this request: nothing is kept.
            return Ok(Ok(replaces + 1));
        }
        let write = SessionWrite {
            store: store.to_owned(),
            id: id.to_owned(),
            session: Arc::new(session),
            replaces,
            version: replaces + 1,
        };
        let storage = &self.shared.storage;
        match self
            .shared
            .health
            .record(storage.put_session(write, self.shared.limits.ttl))?
        {
            SessionWritten::Written => Ok(Ok(replaces + 1)),
            SessionWritten::Stale { .. } => Ok(Err(Stale)),
        }
    }

    /// Takes a brand-new session (a fresh random id) into the table;
    /// returns its version.
    pub fn insert_new(&self, store: &str, id: &str, session: Session) -> u64 {
        let key = (store.to_owned(), id.to_owned());
        let now = Instant::now();
        let mut table = self.shared.lock();
        if table.gone.contains(store) {
            // The store was deleted under this request: nothing is kept.
            return 1;
        }
        table.entries.insert(
            key.clone(),
            Entry {
                session: Arc::new(session),
                version: 1,
                durable: 0,
                dirty_since: Some(now),
                used: now,
                expires_at: now_secs() + self.shared.limits.ttl.as_secs(),
            },
        );
        let wake = table.mark_dirty(key, now);
        drop(table);
        if wake {
            self.shared.wake.notify_one();
        }
        1
    }

    /// Commits a changed session read at version `replaces`; answers its new
    /// version, or [`Stale`] when it changed since (nothing is committed).
    pub fn commit(
        &self,
        store: &str,
        id: &str,
        session: Session,
        replaces: u64,
    ) -> Result<Result<u64, Stale>, StorageError> {
        if self.shared.through {
            return self.write_through(store, id, session, replaces);
        }
        let key = (store.to_owned(), id.to_owned());
        let cached = self.shared.lock().entries.contains_key(&key);
        // Not in memory (forgotten while idle): storage holds its version.
        let stored = if cached {
            None
        } else {
            Some(
                self.shared
                    .storage
                    .session(store, id)?
                    .map_or(0, |s| s.version),
            )
        };
        let now = Instant::now();
        let mut table = self.shared.lock();
        if table.gone.contains(store) {
            // The store was deleted under this request: nothing is kept.
            return Ok(Ok(replaces + 1));
        }
        let expires_at = now_secs() + self.shared.limits.ttl.as_secs();
        let version = match table.entries.get_mut(&key) {
            Some(e) if e.version != replaces => return Ok(Err(Stale)),
            Some(e) => {
                e.version += 1;
                e.session = Arc::new(session);
                e.dirty_since.get_or_insert(now);
                e.used = now;
                e.expires_at = expires_at;
                e.version
            }
            None if stored != Some(replaces) => return Ok(Err(Stale)),
            None => {
                table.entries.insert(
                    key.clone(),
                    Entry {
                        session: Arc::new(session),
                        version: replaces + 1,
                        durable: replaces,
                        dirty_since: Some(now),
                        used: now,
                        expires_at,
                    },
                );
                replaces + 1
            }
        };
        let wake = table.mark_dirty(key, now);
        drop(table);
        if wake {
            self.shared.wake.notify_one();
        }
        Ok(Ok(version))
    }

    /// Whether a new change may be taken now.
    pub fn admission(&self) -> Admission {
        if let Some(reason) = self.shared.health.failing() {
            return Admission::Failing(reason);
        }
        let table = self.shared.lock();
        let behind = table.dirty.len() >= self.shared.limits.backlog
            || table
                .oldest
                .is_some_and(|t| t.elapsed() >= self.shared.limits.window);
        if behind {
            Admission::Behind
        } else {
            Admission::Ready
        }
    }

    /// Waits until a change may be taken: at once when [`Admission::Ready`],
    /// after the writer's next batches when it is behind (giving up after
    /// `wait`); refused at once while storage fails. The error says why.
    pub async fn admit(&self, wait: Duration) -> Result<(), String> {
        let give_up = tokio::time::Instant::now() + wait;
        loop {
            let flushed = self.shared.flushed.notified();
            tokio::pin!(flushed);
            flushed.as_mut().enable();
            match self.admission() {
                Admission::Ready => return Ok(()),
                Admission::Failing(reason) => return Err(reason),
                Admission::Behind => {}
            }
            if tokio::time::timeout_at(give_up, flushed).await.is_err() {
                return Err("sessions are not being written fast enough".into());
            }
        }
    }

    /// Shuts a store out before it is deleted from storage (blocking):
    /// drops its sessions, those not yet written included, waits for the
    /// batch being written, and keeps none of its changes after. Answers
    /// how many unwritten changes were dropped.
    pub fn shut_out(&self, store: &str) -> usize {
        let dropped = {
            let mut table = self.shared.lock();
            table.gone.insert(store.to_owned());
            table.entries.retain(|(s, _), _| s != store);
            let before = table.dirty.len();
            table.dirty.retain(|(s, _)| s != store);
            let dropped = before - table.dirty.len();
            table.recompute_oldest();
            dropped
        };
        // A batch taken before holds this store's sessions: let it finish,
        // so storage deletes what it wrote.
        drop(
            self.shared
                .writing
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        self.shared.flushed.notify_waiters();
        dropped
    }

    /// Lets a store's sessions in again (it was created again, or its
    /// deletion failed).
    pub fn let_in(&self, store: &str) {
        self.shared.lock().gone.remove(store);
    }

    /// Sessions changed and not yet written, and the age of the oldest change.
    pub fn backlog(&self) -> (usize, Option<Duration>) {
        let table = self.shared.lock();
        (table.dirty.len(), table.oldest.map(|t| t.elapsed()))
    }

    /// How many sessions are in memory.
    #[cfg(test)]
    fn in_memory(&self) -> usize {
        self.shared.lock().entries.len()
    }

    /// Writes everything pending and stops the thread, giving up at `by`
    /// (blocking). Answers how many sessions stay unwritten (0: all written).
    pub fn close(&self, by: Instant) -> usize {
        {
            let mut table = self.shared.lock();
            table.closed = true;
            table.close_by = Some(by);
        }
        self.shared.wake.notify_all();
        let Some((thread, finished)) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take()
        else {
            return 0;
        };
        let wait = by.saturating_duration_since(Instant::now()) + Duration::from_millis(200);
        match finished.recv_timeout(wait) {
            Ok(unwritten) => {
                let _ = thread.join();
                unwritten
            }
            // Storage hangs: the thread is left behind, its sessions lost.
            Err(_) => self.shared.lock().dirty.len().max(1),
        }
    }
}

impl Drop for SessionWriter {
    fn drop(&mut self) {
        self.close(Instant::now() + Duration::from_secs(5));
    }
}

/// One batch taken from the table: (key, session, durable, version).
type Batch = Vec<(Key, Arc<Session>, u64, u64)>;

/// Waits for work; answers the next batch, or `None` when closed and done.
fn next_batch(shared: &Shared, failing: bool, last_upkeep: Instant) -> Option<Batch> {
    let mut table = shared.lock();
    loop {
        let past_deadline = table.close_by.is_some_and(|by| Instant::now() >= by);
        if table.closed && (table.dirty.is_empty() || past_deadline) {
            return None;
        }
        if failing || table.closed || last_upkeep.elapsed() >= UPKEEP_EVERY {
            break;
        }
        // Let changes gather a little (one fsync for all of them).
        let gathered = table.oldest.map(|t| t.elapsed());
        let wait = match gathered {
            Some(age) if age >= GATHER || table.dirty.len() >= FULL_BATCH => break,
            Some(age) => GATHER - age,
            None => UPKEEP_EVERY,
        };
        table = shared
            .wake
            .wait_timeout(table, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    Some(
        table
            .dirty
            .iter()
            .map(|k| {
                let e = &table.entries[k];
                (k.clone(), e.session.clone(), e.durable, e.version)
            })
            .collect(),
    )
}

/// Writes until closed; answers how many sessions were left unwritten.
fn write_loop(shared: &Shared) -> usize {
    let mut failures = 0u32;
    let mut last_upkeep = Instant::now();
    loop {
        let Some(batch) = next_batch(shared, failures > 0, last_upkeep) else {
            let left = shared.lock().dirty.len();
            if left > 0 {
                tracing::error!(
                    sessions = left,
                    "shutdown: these session changes could not be written"
                );
            }
            return left;
        };
        let taken_at = Instant::now();
        let result = if batch.is_empty() {
            if failures > 0 {
                shared.storage.probe_write()
            } else {
                Ok(())
            }
        } else {
            let _writing = shared.writing.lock().unwrap_or_else(|e| e.into_inner());
            write(shared, batch, taken_at)
        };
        match result {
            Ok(()) => {
                if failures > 0 {
                    shared.health.succeeded();
                }
                failures = 0;
            }
            Err(e) => {
                failures += 1;
                shared.health.failed(&e);
                tracing::warn!(error = %e, failures, "cannot write sessions; will retry");
            }
        }
        shared.flushed.notify_waiters();
        if failures > 0 {
            // Back off (100 ms, growing to 1 s), but wake for a shutdown.
            let pause = Duration::from_millis(100 * u64::from(failures.min(10)));
            let table = shared.lock();
            if !table.closed {
                let _ = shared.wake.wait_timeout(table, pause);
            } else if let Some(by) = table.close_by {
                drop(table);
                std::thread::sleep(pause.min(by.saturating_duration_since(Instant::now())));
            }
        }
        if last_upkeep.elapsed() >= UPKEEP_EVERY {
            upkeep(shared);
            last_upkeep = Instant::now();
        }
    }
}

/// Writes one batch by compare-and-set and updates the table.
fn write(shared: &Shared, batch: Batch, taken_at: Instant) -> Result<(), StorageError> {
    let writes: Vec<SessionWrite> = batch
        .into_iter()
        .map(|((store, id), session, durable, version)| SessionWrite {
            store,
            id,
            session,
            replaces: durable,
            version,
        })
        .collect();
    let started = Instant::now();
    let outcomes = shared.storage.put_sessions(&writes, shared.limits.ttl)?;
    tracing::debug!(
        sessions = writes.len(),
        us = started.elapsed().as_micros() as u64,
        "sessions written"
    );
    let mut table = shared.lock();
    for (write, outcome) in writes.into_iter().zip(outcomes) {
        let key = (write.store, write.id);
        match outcome {
            SessionWritten::Written => {
                let Some(e) = table.entries.get_mut(&key) else {
                    continue;
                };
                e.durable = write.version;
                if e.version == write.version {
                    e.dirty_since = None;
                    table.dirty.remove(&key);
                } else {
                    // Changed again while this batch was written.
                    e.dirty_since = Some(taken_at);
                }
            }
            SessionWritten::Stale { stored } => {
                // Someone else wrote this session (another node sharing the
                // storage): theirs stands, ours is dropped and reloaded.
                let (store, session) = &key;
                tracing::error!(%store, %session, ours = write.version, stored,
                    "a session changed in storage behind this server's back; its latest change here is dropped");
                table.entries.remove(&key);
                table.dirty.remove(&key);
            }
        }
    }
    table.recompute_oldest();
    Ok(())
}

/// Purges expired sessions from storage (a few small batches) and forgets
/// written sessions nobody touched for a while.
fn upkeep(shared: &Shared) {
    if shared.through {
        // Nothing else may write for a while: say whether storage can.
        if let Err(e) = shared.health.record(shared.storage.probe_write()) {
            tracing::debug!(error = %e, "storage probe failed");
        }
    }
    let started = Instant::now();
    let mut purged = 0;
    loop {
        match shared.storage.purge_expired_sessions(PURGE_BATCH) {
            Ok(n) => {
                purged += n;
                if n < PURGE_BATCH || started.elapsed() >= PURGE_BUDGET {
                    break;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot purge expired sessions now");
                break;
            }
        }
    }
    if purged > 0 {
        tracing::debug!(purged, "expired sessions deleted");
    }
    let mut table = shared.lock();
    let now = now_secs();
    table.entries.retain(|_, e| {
        e.dirty_since.is_some() || (e.used.elapsed() < shared.limits.idle && e.expires_at > now)
    });
    if table.entries.len() > CACHED {
        let mut clean: Vec<(Instant, Key)> = table
            .entries
            .iter()
            .filter(|(_, e)| e.dirty_since.is_none())
            .map(|(k, e)| (e.used, k.clone()))
            .collect();
        clean.sort();
        let excess = table.entries.len() - CACHED;
        for (_, key) in clean.into_iter().take(excess) {
            table.entries.remove(&key);
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
            shown: [seed].into_iter().collect(),
            round: 0,
            k: 8,
            filters: Filters::default(),
            last_page: vec![],
        }
    }

    fn limits() -> Limits {
        Limits {
            ttl: Duration::from_secs(60),
            window: Duration::from_millis(100),
            backlog: 100,
            idle: IDLE,
        }
    }

    fn writer(storage: Arc<dyn Storage>) -> SessionWriter {
        SessionWriter::start(storage, Arc::default(), limits())
    }

    /// The embedded store, with session writes that take `delay`.
    struct Slow {
        inner: Embedded,
        delay: Duration,
    }

    impl Storage for Slow {
        fn stores(&self) -> Result<Vec<String>, StorageError> {
            self.inner.stores()
        }
        fn settings(
            &self,
            store: &str,
        ) -> Result<Option<crate::store::StoreSettings>, StorageError> {
            self.inner.settings(store)
        }
        fn put_settings(
            &self,
            store: &str,
            settings: &crate::store::StoreSettings,
        ) -> Result<(), StorageError> {
            self.inner.put_settings(store, settings)
        }
        fn products(&self, store: &str) -> Result<Vec<morelike_core::Product>, StorageError> {
            self.inner.products(store)
        }
        fn put_products(
            &self,
            store: &str,
            products: &[morelike_core::Product],
        ) -> Result<(), StorageError> {
            self.inner.put_products(store, products)
        }
        fn products_version(&self, store: &str) -> Result<u64, StorageError> {
            self.inner.products_version(store)
        }
        fn product(
            &self,
            store: &str,
            id: &str,
        ) -> Result<Option<morelike_core::Product>, StorageError> {
            self.inner.product(store, id)
        }
        fn delete_products(&self, store: &str, ids: &[String]) -> Result<usize, StorageError> {
            self.inner.delete_products(store, ids)
        }
        fn session(
            &self,
            store: &str,
            id: &str,
        ) -> Result<Option<crate::store::StoredSession>, StorageError> {
            self.inner.session(store, id)
        }
        fn put_sessions(
            &self,
            writes: &[SessionWrite],
            ttl: Duration,
        ) -> Result<Vec<SessionWritten>, StorageError> {
            std::thread::sleep(self.delay);
            self.inner.put_sessions(writes, ttl)
        }
        fn purge_expired_sessions(&self, limit: usize) -> Result<usize, StorageError> {
            self.inner.purge_expired_sessions(limit)
        }
        fn probe_write(&self) -> Result<(), StorageError> {
            self.inner.probe_write()
        }
        fn delete_store(&self, store: &str) -> Result<(), StorageError> {
            self.inner.delete_store(store)
        }
        fn access(&self, store: &str) -> Result<Option<crate::store::StoreAccess>, StorageError> {
            self.inner.access(store)
        }
        fn put_access(
            &self,
            store: &str,
            access: &crate::store::StoreAccess,
        ) -> Result<(), StorageError> {
            self.inner.put_access(store, access)
        }
    }

    #[test]
    fn a_store_shut_out_keeps_none_of_its_sessions_not_even_the_batch_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Slow {
            inner: Embedded::open(dir.path()).unwrap(),
            delay: Duration::from_millis(300),
        });
        let writer = writer(storage.clone());
        writer.insert_new("gone", "a", session("x"));
        writer.insert_new("kept", "k", session("x"));
        // The batch holding both is being written (it takes 300 ms) ...
        std::thread::sleep(Duration::from_millis(100));
        // ... when another change comes, then the store is deleted.
        writer.insert_new("gone", "b", session("y"));
        let dropped = writer.shut_out("gone");
        assert!(
            (1..=2).contains(&dropped),
            "b, and a unless written: {dropped}"
        );
        storage.delete_store("gone").unwrap();
        // A request that was under way when the store went: nothing is kept.
        writer.insert_new("gone", "c", session("z"));
        assert_eq!(writer.commit("gone", "a", session("w"), 1).unwrap(), Ok(2));
        assert!(writer.get("gone", "a").unwrap().is_none());
        assert_eq!(writer.close(Instant::now() + Duration::from_secs(5)), 0);
        for id in ["a", "b", "c"] {
            assert_eq!(storage.session("gone", id).unwrap(), None, "{id}");
        }
        assert!(storage.session("kept", "k").unwrap().is_some());
    }

    #[test]
    fn a_store_let_in_again_keeps_its_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Embedded::open(dir.path()).unwrap());
        let writer = writer(storage.clone());
        writer.shut_out("shop");
        writer.let_in("shop");
        writer.insert_new("shop", "s", session("x"));
        assert_eq!(writer.close(Instant::now() + Duration::from_secs(5)), 0);
        assert!(storage.session("shop", "s").unwrap().is_some());
    }

    #[test]
    fn no_change_is_admitted_while_the_oldest_unwritten_one_is_older_than_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Slow {
            inner: Embedded::open(dir.path()).unwrap(),
            delay: Duration::from_millis(600),
        });
        let writer = writer(storage);
        assert_eq!(writer.admission(), Admission::Ready);
        writer.insert_new("demo", "s1", session("a"));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(
            writer.admission(),
            Admission::Behind,
            "the write takes 600 ms; the window is 100 ms"
        );
        let until = Instant::now() + Duration::from_secs(5);
        while writer.admission() != Admission::Ready {
            assert!(Instant::now() < until, "the writer caught up");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(writer.backlog().0, 0);
        writer.close(Instant::now() + Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_change_waits_for_a_writer_behind_its_window_and_is_refused_if_it_stays_behind() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Slow {
            inner: Embedded::open(dir.path()).unwrap(),
            delay: Duration::from_millis(700),
        });
        let writer = writer(storage);
        writer.insert_new("demo", "s1", session("a"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let asked = Instant::now();
        writer
            .admit(Duration::from_secs(5))
            .await
            .expect("admitted once the write is done");
        assert!(asked.elapsed() >= Duration::from_millis(300), "it waited");
        writer.insert_new("demo", "s2", session("b"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let refused = writer.admit(Duration::from_millis(100)).await.unwrap_err();
        assert!(
            refused.contains("not being written fast enough"),
            "{refused}"
        );
        writer.close(Instant::now() + Duration::from_secs(5));
    }

    #[test]
    fn no_change_is_admitted_while_the_backlog_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Slow {
            inner: Embedded::open(dir.path()).unwrap(),
            delay: Duration::from_millis(300),
        });
        let mut limits = limits();
        limits.window = Duration::from_secs(60);
        limits.backlog = 3;
        let writer = SessionWriter::start(storage, Arc::default(), limits);
        for id in ["a", "b", "c"] {
            writer.insert_new("demo", id, session(id));
        }
        assert_eq!(writer.admission(), Admission::Behind);
        writer.close(Instant::now() + Duration::from_secs(5));
    }

    #[test]
    fn written_sessions_nobody_touches_leave_memory_and_load_again_from_storage() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Embedded::open(dir.path()).unwrap());
        let mut limits = limits();
        limits.idle = Duration::ZERO;
        let writer = SessionWriter::start(storage, Arc::default(), limits);
        writer.insert_new("demo", "s1", session("a"));
        let until = Instant::now() + Duration::from_secs(5);
        while writer.in_memory() > 0 {
            assert!(Instant::now() < until, "the idle session left memory");
            std::thread::sleep(Duration::from_millis(50));
        }
        let (back, version) = writer.get("demo", "s1").unwrap().unwrap();
        assert_eq!((back.seed.as_str(), version), ("a", 1));
        assert_eq!(writer.commit("demo", "s1", session("b"), 1).unwrap(), Ok(2));
        writer.close(Instant::now() + Duration::from_secs(5));
    }

    #[test]
    fn a_committed_session_is_readable_at_once_and_stored_after_close() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Embedded::open(dir.path()).unwrap());
        let writer = writer(storage.clone());
        assert_eq!(writer.insert_new("demo", "s1", session("a")), 1);
        assert_eq!(writer.commit("demo", "s1", session("b"), 1).unwrap(), Ok(2));
        let (seen, version) = writer.get("demo", "s1").unwrap().unwrap();
        assert_eq!((seen.seed.as_str(), version), ("b", 2));
        assert_eq!(writer.close(Instant::now() + Duration::from_secs(5)), 0);
        let stored = storage.session("demo", "s1").unwrap().unwrap();
        assert_eq!((stored.session.seed.as_str(), stored.version), ("b", 2));
    }

    #[test]
    fn a_commit_from_a_stale_copy_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Embedded::open(dir.path()).unwrap());
        let writer = writer(storage.clone());
        writer.insert_new("demo", "s1", session("a"));
        assert_eq!(writer.commit("demo", "s1", session("b"), 1).unwrap(), Ok(2));
        assert_eq!(
            writer.commit("demo", "s1", session("c"), 1).unwrap(),
            Err(Stale),
            "read at version 1, but 2 is current"
        );
        assert_eq!(writer.get("demo", "s1").unwrap().unwrap().0.seed, "b");
        writer.close(Instant::now() + Duration::from_secs(5));
    }

    #[test]
    fn a_session_only_in_storage_is_changed_by_compare_and_set_on_its_stored_version() {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(Embedded::open(dir.path()).unwrap());
        let write = SessionWrite {
            store: "demo".into(),
            id: "s1".into(),
            session: Arc::new(session("a")),
            replaces: 0,
            version: 7,
        };
        storage.put_session(write, Duration::from_secs(60)).unwrap();
        let writer = writer(storage.clone());
        assert_eq!(
            writer.commit("demo", "s1", session("b"), 6).unwrap(),
            Err(Stale)
        );
        assert_eq!(writer.commit("demo", "s1", session("b"), 7).unwrap(), Ok(8));
        writer.close(Instant::now() + Duration::from_secs(5));
        assert_eq!(storage.session("demo", "s1").unwrap().unwrap().version, 8);
    }
}
