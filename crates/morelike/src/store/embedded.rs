//! The embedded store: one directory, one redb file, no server. redb is a
//! pure-Rust, ACID, copy-on-write B-tree store: a crash leaves the last
//! committed state, and a failed batch writes nothing.

use std::path::Path;
use std::time::Duration;

use morelike_core::{Product, Session};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{
    now_secs, SessionWrite, Storage, StorageError, StoreAccess, StoreSettings, StoredSession,
};

const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
const PRODUCTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("products");
const SESSIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("sessions");
/// One access record (key hashes, allowed origins) per store.
const ACCESS: TableDefinition<&str, &[u8]> = TableDefinition::new("access");

/// A redb database in a data directory.
pub struct Embedded {
    db: Database,
}

fn err(doing: &'static str) -> impl Fn(redb::Error) -> StorageError {
    move |e| StorageError::Backend {
        doing,
        reason: e.to_string(),
    }
}

macro_rules! try_db {
    ($e:expr, $doing:literal) => {
        $e.map_err(|e| err($doing)(e.into()))?
    };
}

impl Embedded {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StorageError::backend("creating the data directory")(format!("{}: {e}", dir.display()))
        })?;
        let db = try_db!(
            Database::create(dir.join("morelike.redb")),
            "opening the database"
        );
        let tx = try_db!(db.begin_write(), "creating tables");
        {
            try_db!(tx.open_table(SETTINGS), "creating tables");
            try_db!(tx.open_table(PRODUCTS), "creating tables");
            try_db!(tx.open_table(SESSIONS), "creating tables");
            try_db!(tx.open_table(ACCESS), "creating tables");
        }
        try_db!(tx.commit(), "creating tables");
        Ok(Embedded { db })
    }
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

/// The last key of a store's range: no id sorts after this.
const END: &str = "\u{10FFFF}";

impl Storage for Embedded {
    fn stores(&self) -> Result<Vec<String>, StorageError> {
        let tx = try_db!(self.db.begin_read(), "listing stores");
        let table = try_db!(tx.open_table(SETTINGS), "listing stores");
        let mut out = Vec::new();
        for entry in try_db!(table.iter(), "listing stores") {
            let (key, _) = try_db!(entry, "listing stores");
            out.push(key.value().to_owned());
        }
        Ok(out)
    }

    fn settings(&self, store: &str) -> Result<Option<StoreSettings>, StorageError> {
        let tx = try_db!(self.db.begin_read(), "reading settings");
        let table = try_db!(tx.open_table(SETTINGS), "reading settings");
        match try_db!(table.get(store), "reading settings") {
            Some(v) => Ok(Some(decode("settings", store, v.value())?)),
            None => Ok(None),
        }
    }

    fn put_settings(&self, store: &str, settings: &StoreSettings) -> Result<(), StorageError> {
        let tx = try_db!(self.db.begin_write(), "writing settings");
        {
            let mut table = try_db!(tx.open_table(SETTINGS), "writing settings");
            try_db!(
                table.insert(store, encode(settings).as_slice()),
                "writing settings"
            );
        }
        try_db!(tx.commit(), "writing settings");
        Ok(())
    }

    fn products(&self, store: &str) -> Result<Vec<Product>, StorageError> {
        let tx = try_db!(self.db.begin_read(), "reading products");
        let table = try_db!(tx.open_table(PRODUCTS), "reading products");
        let mut out = Vec::new();
        for entry in try_db!(table.range((store, "")..=(store, END)), "reading products") {
            let (key, value) = try_db!(entry, "reading products");
            out.push(decode("product", key.value().1, value.value())?);
        }
        Ok(out)
    }

    fn put_products(&self, store: &str, products: &[Product]) -> Result<(), StorageError> {
        let tx = try_db!(self.db.begin_write(), "writing products");
        {
            let mut table = try_db!(tx.open_table(PRODUCTS), "writing products");
            for p in products {
                try_db!(
                    table.insert((store, p.id.as_str()), encode(p).as_slice()),
                    "writing products"
                );
            }
        }
        try_db!(tx.commit(), "writing products");
        Ok(())
    }

    fn delete_products(&self, store: &str, ids: &[String]) -> Result<usize, StorageError> {
        let tx = try_db!(self.db.begin_write(), "deleting products");
        let mut deleted = 0;
        {
            let mut table = try_db!(tx.open_table(PRODUCTS), "deleting products");
            for id in ids {
                if try_db!(table.remove((store, id.as_str())), "deleting products").is_some() {
                    deleted += 1;
                }
            }
        }
        try_db!(tx.commit(), "deleting products");
        Ok(deleted)
    }

    fn session(&self, store: &str, id: &str) -> Result<Option<Session>, StorageError> {
        let tx = try_db!(self.db.begin_read(), "reading a session");
        let table = try_db!(tx.open_table(SESSIONS), "reading a session");
        let Some(value) = try_db!(table.get((store, id)), "reading a session") else {
            return Ok(None);
        };
        let stored: StoredSession = decode("session", id, value.value())?;
        Ok((stored.expires_at > now_secs()).then_some(stored.session))
    }

    fn put_session(
        &self,
        store: &str,
        id: &str,
        session: &Session,
        ttl: Duration,
    ) -> Result<(), StorageError> {
        self.put_sessions(&[(store.to_owned(), id.to_owned(), session.clone())], ttl)
    }

    fn put_sessions(&self, sessions: &[SessionWrite], ttl: Duration) -> Result<(), StorageError> {
        let expires_at = now_secs() + ttl.as_secs();
        let tx = try_db!(self.db.begin_write(), "writing sessions");
        {
            let mut table = try_db!(tx.open_table(SESSIONS), "writing sessions");
            for (store, id, session) in sessions {
                let stored = StoredSession {
                    session: session.clone(),
                    expires_at,
                };
                try_db!(
                    table.insert((store.as_str(), id.as_str()), encode(&stored).as_slice()),
                    "writing sessions"
                );
            }
        }
        try_db!(tx.commit(), "writing sessions");
        Ok(())
    }

    fn purge_expired_sessions(&self) -> Result<usize, StorageError> {
        let now = now_secs();
        let tx = try_db!(self.db.begin_write(), "purging expired sessions");
        let mut purged = 0;
        {
            let mut table = try_db!(tx.open_table(SESSIONS), "purging expired sessions");
            try_db!(
                table.retain(|_, value| {
                    let live = serde_json::from_slice::<StoredSession>(value)
                        .is_ok_and(|s| s.expires_at > now);
                    purged += usize::from(!live);
                    live
                }),
                "purging expired sessions"
            );
        }
        try_db!(tx.commit(), "purging expired sessions");
        Ok(purged)
    }

    fn delete_store(&self, store: &str) -> Result<(), StorageError> {
        let tx = try_db!(self.db.begin_write(), "deleting a store");
        {
            let mut settings = try_db!(tx.open_table(SETTINGS), "deleting a store");
            try_db!(settings.remove(store), "deleting a store");
            let mut access = try_db!(tx.open_table(ACCESS), "deleting a store");
            try_db!(access.remove(store), "deleting a store");
            for def in [PRODUCTS, SESSIONS] {
                let mut table = try_db!(tx.open_table(def), "deleting a store");
                try_db!(
                    table.retain_in((store, "")..=(store, END), |_, _| false),
                    "deleting a store"
                );
            }
        }
        try_db!(tx.commit(), "deleting a store");
        Ok(())
    }

    fn access(&self, store: &str) -> Result<Option<StoreAccess>, StorageError> {
        let tx = try_db!(self.db.begin_read(), "reading keys");
        let table = try_db!(tx.open_table(ACCESS), "reading keys");
        match try_db!(table.get(store), "reading keys") {
            Some(v) => Ok(Some(decode("access", store, v.value())?)),
            None => Ok(None),
        }
    }

    fn put_access(&self, store: &str, access: &StoreAccess) -> Result<(), StorageError> {
        let tx = try_db!(self.db.begin_write(), "writing keys");
        {
            let mut table = try_db!(tx.open_table(ACCESS), "writing keys");
            try_db!(
                table.insert(store, encode(access).as_slice()),
                "writing keys"
            );
        }
        try_db!(tx.commit(), "writing keys");
        Ok(())
    }
}
