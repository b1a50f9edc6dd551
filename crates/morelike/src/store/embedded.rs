//! The embedded store: one directory, one redb file, no server. redb is a
//! pure-Rust, ACID, copy-on-write B-tree store: a crash leaves the last
//! committed state, and a failed batch writes nothing. After an I/O error
//! (a full disk) redb refuses every later operation until the database is
//! opened again, so this store reopens it on the next call: once the disk
//! has room, writes succeed again without a restart.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use morelike_core::{Product, Session};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::Deserialize;

use super::disk::{Disk, DiskFaults};
use super::{
    now_secs, ProductImport, SessionWrite, SessionWritten, Storage, StorageError, StoreAccess,
    StoreSettings, StoredSession,
};

const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
const PRODUCTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("products");
/// Sessions by (store, id): a 16-byte header (version, expiry; little
/// endian) and the session in JSON.
const SESSIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("sessions_v2");
/// The TTL index: (expiry, store, id) for every session, so expired ones
/// are found in expiry order without reading the others.
const EXPIRY: TableDefinition<(u64, &str, &str), ()> = TableDefinition::new("session_expiry");
/// Small facts about the database itself (the last write probe).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// One access record (key hashes, allowed origins) per store.
const ACCESS: TableDefinition<&str, &[u8]> = TableDefinition::new("access");
/// Sessions as versions before 0.2 wrote them (JSON, no version, no index);
/// moved into `SESSIONS` when the database is opened.
const LEGACY_SESSIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("sessions");

const FILE: &str = "morelike.redb";

/// redb's page cache (its default is 1 GiB, half of it for pages written
/// and not yet flushed). A server reads little through it (sessions, one
/// product); an import inserts ids in file order, all over the tree, and
/// slows down many times once the tree outgrows the cache (a 1M-product
/// store is ~450 MB of pages: 9:22 with 128 MiB, see BENCHMARKS.md).
const CACHE_BYTES: usize = 512 << 20;

/// A redb database in a data directory.
pub struct Embedded {
    path: PathBuf,
    faults: Option<DiskFaults>,
    db: RwLock<Option<Arc<Database>>>,
    /// Set by an I/O error: the database must be opened again.
    failed: AtomicBool,
}

fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    key: &str,
    bytes: &[u8],
) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt {
        what,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("values morelike stores always serialize")
}

/// The key in `META` of a store's products' version.
fn products_version_key(store: &str) -> String {
    format!("products_version/{store}")
}

/// Counts one more change of a store's products, in the transaction that
/// makes it.
fn bump_products_version(tx: &redb::WriteTransaction, store: &str) -> Result<(), redb::Error> {
    let mut meta = tx.open_table(META)?;
    let key = products_version_key(store);
    let version = meta.get(key.as_str())?.map_or(0, |v| v.value());
    meta.insert(key.as_str(), version + 1)?;
    Ok(())
}

/// A stored session's header: (version, expires_at).
fn header(bytes: &[u8]) -> Option<(u64, u64)> {
    let version = u64::from_le_bytes(bytes.get(0..8)?.try_into().ok()?);
    let expires_at = u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some((version, expires_at))
}

fn encode_session(session: &Session, version: u64, expires_at: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&expires_at.to_le_bytes());
    serde_json::to_writer(&mut out, session).expect("sessions always serialize");
    out
}

fn decode_session(id: &str, bytes: &[u8]) -> Result<StoredSession, StorageError> {
    let corrupt = |reason: String| StorageError::Corrupt {
        what: "session",
        key: id.to_owned(),
        reason,
    };
    let (version, expires_at) = header(bytes).ok_or_else(|| corrupt("no header".into()))?;
    let session = serde_json::from_slice(&bytes[16..]).map_err(|e| corrupt(e.to_string()))?;
    Ok(StoredSession {
        session,
        version,
        expires_at,
    })
}

/// A session as versions before 0.2 stored it.
#[derive(Deserialize)]
struct LegacySession {
    session: Session,
    expires_at: u64,
}

/// The last key of a store's range: no id sorts after this.
const END: &str = "\u{10FFFF}";

/// Opens the database file and makes sure every table exists.
fn open_database(dir: &Path, faults: Option<&DiskFaults>) -> Result<Database, String> {
    let path = dir.join(FILE);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let disk = Disk::new(file, faults.cloned()).map_err(|e| e.to_string())?;
    let db = Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create_with_backend(disk)
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => in_use(dir),
            other => other.to_string(),
        })?;
    let tx = db.begin_write().map_err(|e| e.to_string())?;
    {
        tx.open_table(SETTINGS).map_err(|e| e.to_string())?;
        tx.open_table(PRODUCTS).map_err(|e| e.to_string())?;
        tx.open_table(SESSIONS).map_err(|e| e.to_string())?;
        tx.open_table(EXPIRY).map_err(|e| e.to_string())?;
        tx.open_table(META).map_err(|e| e.to_string())?;
        tx.open_table(ACCESS).map_err(|e| e.to_string())?;
    }
    tx.commit().map_err(|e| e.to_string())?;
    migrate_legacy_sessions(&db).map_err(|e| format!("moving sessions to the new format: {e}"))?;
    Ok(db)
}

/// Why a data directory another process holds cannot be opened, and what to do.
fn in_use(dir: &Path) -> String {
    format!(
        "{} is in use: another morelike process (a running `morelike serve`?) holds its lock. \
         Stop that process first, or send the change to the running server over HTTP \
         (`POST /v1/stores/STORE/products` to add or update products, \
         `DELETE /v1/stores/STORE/products/ID` to delete one)",
        dir.display()
    )
}

/// Moves sessions stored by earlier versions into the versioned table with
/// the TTL index (once: the old table is deleted after).
fn migrate_legacy_sessions(db: &Database) -> Result<(), redb::Error> {
    let tx = db.begin_write()?;
    let legacy: Vec<(String, String, Vec<u8>)> = match tx.open_table(LEGACY_SESSIONS) {
        Ok(table) => {
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (key, value) = entry?;
                let (store, id) = key.value();
                out.push((store.to_owned(), id.to_owned(), value.value().to_vec()));
            }
            out
        }
        Err(TableError::TableDoesNotExist(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    {
        let mut sessions = tx.open_table(SESSIONS)?;
        let mut expiry = tx.open_table(EXPIRY)?;
        for (store, id, bytes) in &legacy {
            // An unreadable old session is dropped, as the old purge did.
            let Ok(old) = serde_json::from_slice::<LegacySession>(bytes) else {
                continue;
            };
            let value = encode_session(&old.session, 1, old.expires_at);
            sessions.insert((store.as_str(), id.as_str()), value.as_slice())?;
            expiry.insert((old.expires_at, store.as_str(), id.as_str()), ())?;
        }
    }
    tx.delete_table(LEGACY_SESSIONS)?;
    tx.commit()?;
    if !legacy.is_empty() {
        tracing::info!(
            sessions = legacy.len(),
            "moved sessions to the versioned format"
        );
    }
    Ok(())
}

macro_rules! try_db {
    ($self:ident, $e:expr, $doing:literal) => {
        $e.map_err(|e| $self.failure($doing, e.into()))?
    };
}

impl Embedded {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Embedded::open_on(dir, None)
    }

    /// Opens the store in `dir` on a disk that the given switch can make
    /// full (for fault tests).
    pub fn open_with_faults(dir: &Path, faults: DiskFaults) -> Result<Self, StorageError> {
        Embedded::open_on(dir, Some(faults))
    }

    fn open_on(dir: &Path, faults: Option<DiskFaults>) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StorageError::backend("create the data directory")(format!("{}: {e}", dir.display()))
        })?;
        let db = open_database(dir, faults.as_ref())
            .map_err(StorageError::backend("open the database"))?;
        Ok(Embedded {
            path: dir.to_owned(),
            faults,
            db: RwLock::new(Some(Arc::new(db))),
            failed: AtomicBool::new(false),
        })
    }

    /// Turns a redb error into ours; an I/O error marks the database for
    /// reopening (redb refuses everything after one).
    fn failure(&self, doing: &'static str, e: redb::Error) -> StorageError {
        match e {
            redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed => {
                self.failed.store(true, Ordering::SeqCst);
                StorageError::Unavailable {
                    doing,
                    reason: e.to_string(),
                }
            }
            other => StorageError::Backend {
                doing,
                reason: other.to_string(),
            },
        }
    }

    /// The open database, opened again first if an I/O error broke it.
    fn db(&self) -> Result<Arc<Database>, StorageError> {
        if !self.failed.load(Ordering::SeqCst) {
            if let Some(db) = self.db.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
                return Ok(db.clone());
            }
        }
        let mut slot = self.db.write().unwrap_or_else(|e| e.into_inner());
        if !self.failed.load(Ordering::SeqCst) {
            if let Some(db) = slot.as_ref() {
                return Ok(db.clone());
            }
        }
        // Close the broken database (when no call still holds it), then open
        // the file again: redb recovers the last committed state.
        drop(slot.take());
        let db = open_database(&self.path, self.faults.as_ref()).map_err(|reason| {
            StorageError::Unavailable {
                doing: "open the database again after an I/O error",
                reason,
            }
        })?;
        let db = Arc::new(db);
        *slot = Some(db.clone());
        self.failed.store(false, Ordering::SeqCst);
        tracing::info!("the database is open again after an I/O error");
        Ok(db)
    }
}

impl Storage for Embedded {
    fn stores(&self) -> Result<Vec<String>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "list stores");
        let table = try_db!(self, tx.open_table(SETTINGS), "list stores");
        let mut out = Vec::new();
        for entry in try_db!(self, table.iter(), "list stores") {
            let (key, _) = try_db!(self, entry, "list stores");
            out.push(key.value().to_owned());
        }
        Ok(out)
    }

    fn settings(&self, store: &str) -> Result<Option<StoreSettings>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read settings");
        let table = try_db!(self, tx.open_table(SETTINGS), "read settings");
        match try_db!(self, table.get(store), "read settings") {
            Some(v) => Ok(Some(decode("settings", store, v.value())?)),
            None => Ok(None),
        }
    }

    fn put_settings(&self, store: &str, settings: &StoreSettings) -> Result<(), StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "write settings");
        {
            let mut table = try_db!(self, tx.open_table(SETTINGS), "write settings");
            try_db!(
                self,
                table.insert(store, encode(settings).as_slice()),
                "write settings"
            );
        }
        try_db!(self, tx.commit(), "write settings");
        Ok(())
    }

    fn products(&self, store: &str) -> Result<Vec<Product>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read products");
        let table = try_db!(self, tx.open_table(PRODUCTS), "read products");
        let mut out = Vec::new();
        for entry in try_db!(
            self,
            table.range((store, "")..=(store, END)),
            "read products"
        ) {
            let (key, value) = try_db!(self, entry, "read products");
            out.push(decode("product", key.value().1, value.value())?);
        }
        Ok(out)
    }

    fn products_version(&self, store: &str) -> Result<u64, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read the products' version");
        let meta = try_db!(self, tx.open_table(META), "read the products' version");
        let key = products_version_key(store);
        let version = try_db!(self, meta.get(key.as_str()), "read the products' version");
        Ok(version.map_or(0, |v| v.value()))
    }

    fn snapshot_dir(&self) -> Option<PathBuf> {
        Some(self.path.join("snapshots"))
    }

    fn product(&self, store: &str, id: &str) -> Result<Option<Product>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read a product");
        let table = try_db!(self, tx.open_table(PRODUCTS), "read a product");
        match try_db!(self, table.get((store, id)), "read a product") {
            Some(value) => Ok(Some(decode("product", id, value.value())?)),
            None => Ok(None),
        }
    }

    fn for_each_product(
        &self,
        store: &str,
        each: &mut dyn FnMut(Product),
    ) -> Result<(), StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read products");
        let table = try_db!(self, tx.open_table(PRODUCTS), "read products");
        for entry in try_db!(
            self,
            table.range((store, "")..=(store, END)),
            "read products"
        ) {
            let (key, value) = try_db!(self, entry, "read products");
            each(decode("product", key.value().1, value.value())?);
        }
        Ok(())
    }

    fn begin_import<'s>(
        &'s self,
        store: &str,
    ) -> Result<Box<dyn ProductImport + 's>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "begin an import");
        let table = try_db!(self, tx.open_table(PRODUCTS), "begin an import");
        let was_empty = try_db!(
            self,
            table.range((store, "")..=(store, END)),
            "begin an import"
        )
        .next()
        .is_none();
        drop(table);
        Ok(Box::new(Import {
            embedded: self,
            tx,
            store: store.to_owned(),
            was_empty,
            _db: db.clone(),
        }))
    }

    fn put_products(&self, store: &str, products: &[Product]) -> Result<(), StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "write products");
        {
            let mut table = try_db!(self, tx.open_table(PRODUCTS), "write products");
            for p in products {
                try_db!(
                    self,
                    table.insert((store, p.id.as_str()), encode(p).as_slice()),
                    "write products"
                );
            }
            try_db!(self, bump_products_version(&tx, store), "write products");
        }
        try_db!(self, tx.commit(), "write products");
        Ok(())
    }

    fn delete_products(&self, store: &str, ids: &[String]) -> Result<usize, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "delete products");
        let mut deleted = 0;
        {
            let mut table = try_db!(self, tx.open_table(PRODUCTS), "delete products");
            for id in ids {
                if try_db!(self, table.remove((store, id.as_str())), "delete products").is_some() {
                    deleted += 1;
                }
            }
            if deleted > 0 {
                try_db!(self, bump_products_version(&tx, store), "delete products");
            }
        }
        try_db!(self, tx.commit(), "delete products");
        Ok(deleted)
    }

    fn session(&self, store: &str, id: &str) -> Result<Option<StoredSession>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read a session");
        let table = try_db!(self, tx.open_table(SESSIONS), "read a session");
        let Some(value) = try_db!(self, table.get((store, id)), "read a session") else {
            return Ok(None);
        };
        let stored = decode_session(id, value.value())?;
        Ok((stored.expires_at > now_secs()).then_some(stored))
    }

    fn put_sessions(
        &self,
        writes: &[SessionWrite],
        ttl: Duration,
    ) -> Result<Vec<SessionWritten>, StorageError> {
        let expires_at = now_secs() + ttl.as_secs();
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "write sessions");
        let mut outcomes = Vec::with_capacity(writes.len());
        {
            let mut table = try_db!(self, tx.open_table(SESSIONS), "write sessions");
            let mut expiry = try_db!(self, tx.open_table(EXPIRY), "write sessions");
            for w in writes {
                let key = (w.store.as_str(), w.id.as_str());
                let old =
                    try_db!(self, table.get(key), "write sessions").and_then(|v| header(v.value()));
                let stored = old.map_or(0, |(version, _)| version);
                if stored != w.replaces {
                    outcomes.push(SessionWritten::Stale { stored });
                    continue;
                }
                if let Some((_, old_expiry)) = old {
                    try_db!(
                        self,
                        expiry.remove((old_expiry, key.0, key.1)),
                        "write sessions"
                    );
                }
                let value = encode_session(&w.session, w.version, expires_at);
                try_db!(self, table.insert(key, value.as_slice()), "write sessions");
                try_db!(
                    self,
                    expiry.insert((expires_at, key.0, key.1), ()),
                    "write sessions"
                );
                outcomes.push(SessionWritten::Written);
            }
        }
        try_db!(self, tx.commit(), "write sessions");
        Ok(outcomes)
    }

    fn purge_expired_sessions(&self, limit: usize) -> Result<usize, StorageError> {
        let now = now_secs();
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "purge expired sessions");
        let mut purged = 0;
        {
            let mut table = try_db!(self, tx.open_table(SESSIONS), "purge expired sessions");
            let mut expiry = try_db!(self, tx.open_table(EXPIRY), "purge expired sessions");
            let mut due: Vec<(u64, String, String)> = Vec::new();
            for entry in try_db!(
                self,
                expiry.range((0, "", "")..=(now, END, END)),
                "purge expired sessions"
            ) {
                let (key, _) = try_db!(self, entry, "purge expired sessions");
                let (at, store, id) = key.value();
                due.push((at, store.to_owned(), id.to_owned()));
                if due.len() >= limit {
                    break;
                }
            }
            for (at, store, id) in &due {
                try_db!(
                    self,
                    expiry.remove((*at, store.as_str(), id.as_str())),
                    "purge expired sessions"
                );
                let key = (store.as_str(), id.as_str());
                let current = try_db!(self, table.get(key), "purge expired sessions")
                    .and_then(|v| header(v.value()));
                // Only the session this index entry names: a rewrite moved it.
                if current.is_some_and(|(_, expires_at)| expires_at == *at) {
                    try_db!(self, table.remove(key), "purge expired sessions");
                    purged += 1;
                }
            }
        }
        try_db!(self, tx.commit(), "purge expired sessions");
        Ok(purged)
    }

    fn probe_write(&self) -> Result<(), StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "write a probe");
        {
            let mut meta = try_db!(self, tx.open_table(META), "write a probe");
            try_db!(self, meta.insert("probe", now_secs()), "write a probe");
        }
        try_db!(self, tx.commit(), "write a probe");
        Ok(())
    }

    fn delete_store(&self, store: &str) -> Result<(), StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "delete a store");
        {
            let mut settings = try_db!(self, tx.open_table(SETTINGS), "delete a store");
            try_db!(self, settings.remove(store), "delete a store");
            let mut access = try_db!(self, tx.open_table(ACCESS), "delete a store");
            try_db!(self, access.remove(store), "delete a store");
            let mut products = try_db!(self, tx.open_table(PRODUCTS), "delete a store");
            try_db!(
                self,
                products.retain_in((store, "")..=(store, END), |_, _| false),
                "delete a store"
            );
            // Kept and bumped: a store made anew under this name never
            // matches a snapshot of the old one.
            try_db!(self, bump_products_version(&tx, store), "delete a store");
            let mut sessions = try_db!(self, tx.open_table(SESSIONS), "delete a store");
            let mut expiry = try_db!(self, tx.open_table(EXPIRY), "delete a store");
            let mut indexed: Vec<(u64, String)> = Vec::new();
            for entry in try_db!(
                self,
                sessions.range((store, "")..=(store, END)),
                "delete a store"
            ) {
                let (key, value) = try_db!(self, entry, "delete a store");
                if let Some((_, at)) = header(value.value()) {
                    indexed.push((at, key.value().1.to_owned()));
                }
            }
            for (at, id) in &indexed {
                try_db!(
                    self,
                    expiry.remove((*at, store, id.as_str())),
                    "delete a store"
                );
            }
            try_db!(
                self,
                sessions.retain_in((store, "")..=(store, END), |_, _| false),
                "delete a store"
            );
        }
        try_db!(self, tx.commit(), "delete a store");
        Ok(())
    }

    fn access(&self, store: &str) -> Result<Option<StoreAccess>, StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_read(), "read keys");
        let table = try_db!(self, tx.open_table(ACCESS), "read keys");
        match try_db!(self, table.get(store), "read keys") {
            Some(v) => Ok(Some(decode("access", store, v.value())?)),
            None => Ok(None),
        }
    }

    fn put_access(&self, store: &str, access: &StoreAccess) -> Result<(), StorageError> {
        let db = self.db()?;
        let tx = try_db!(self, db.begin_write(), "write keys");
        {
            let mut table = try_db!(self, tx.open_table(ACCESS), "write keys");
            try_db!(
                self,
                table.insert(store, encode(access).as_slice()),
                "write keys"
            );
        }
        try_db!(self, tx.commit(), "write keys");
        Ok(())
    }
}

/// An import into one store: one write transaction, open from the first
/// batch to the commit (redb keeps its pages in the file, not in memory),
/// so a crash or a failure before the commit leaves the store as it was.
struct Import<'s> {
    embedded: &'s Embedded,
    tx: redb::WriteTransaction,
    store: String,
    was_empty: bool,
    /// Kept open while the transaction is (dropped after it).
    _db: Arc<Database>,
}

impl ProductImport for Import<'_> {
    fn was_empty(&self) -> bool {
        self.was_empty
    }

    fn stored_fingerprint(&mut self, id: &str) -> Result<Option<u64>, StorageError> {
        if self.was_empty {
            return Ok(None);
        }
        let this = self.embedded;
        let table = try_db!(this, self.tx.open_table(PRODUCTS), "read a product");
        let found = try_db!(this, table.get((self.store.as_str(), id)), "read a product");
        match found {
            Some(value) => Ok(Some(
                decode::<Product>("product", id, value.value())?.fingerprint(),
            )),
            None => Ok(None),
        }
    }

    fn put(&mut self, products: &[Product]) -> Result<(), StorageError> {
        let this = self.embedded;
        let mut table = try_db!(this, self.tx.open_table(PRODUCTS), "write products");
        // One buffer for every document of the batch.
        let mut document = Vec::with_capacity(512);
        for p in products {
            document.clear();
            serde_json::to_writer(&mut document, p).expect("products always serialize");
            try_db!(
                this,
                table.insert((self.store.as_str(), p.id.as_str()), document.as_slice()),
                "write products"
            );
        }
        Ok(())
    }

    fn commit(self: Box<Self>, settings: &StoreSettings) -> Result<(), StorageError> {
        let this = self.embedded;
        {
            let mut table = try_db!(this, self.tx.open_table(SETTINGS), "write settings");
            try_db!(
                this,
                table.insert(self.store.as_str(), encode(settings).as_slice()),
                "write settings"
            );
        }
        try_db!(
            this,
            bump_products_version(&self.tx, &self.store),
            "write products"
        );
        try_db!(this, self.tx.commit(), "commit an import");
        Ok(())
    }
}
