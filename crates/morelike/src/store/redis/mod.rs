//! The Redis backend: one set of stores for several nodes, on a standalone
//! Redis or a Redis Cluster. Every key of a store carries the store's name
//! as a hash tag, `ml:{store}:…`, so a store lives in one Cluster slot and
//! each of its writes is one atomic Lua script (`scripts.rs`):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `ml:{store}:settings` | string | the settings (JSON) |
//! | `ml:{store}:access` | string | the access record: key hashes, origins (JSON) |
//! | `ml:{store}:products` | hash | product id → product (JSON) |
//! | `ml:{store}:s:{id}` | hash | a session: version, expiry, the session (JSON); `PEXPIRE` at its TTL and a minute of grace |
//! | `ml:{store}:sessions` | sorted set | session ids by expiry (purges and store deletion) |
//! | `ml:{store}:version` | string | the products' version: a counter raised by every change of the store's products and by its deletion (kept after it) |
//! | `ml:{store}:log` | stream | the change log, capped near [`RedisConfig::log_len`] entries |
//! | `ml:stores`, `ml:session-stores` | sets | the stores with settings, with sessions |
//!
//! Store changes are appended to the log and published on `ml:changes` in
//! the script that makes them (see [`ChangeLog`]).

mod connection;
mod scripts;
pub mod url;
mod watch;

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use morelike_core::{Product, Session};
use redis::streams::StreamRangeReply;
use redis::{AsyncCommands, RedisResult, Value};
use serde::de::DeserializeOwned;

use super::{
    now_secs, ChangeId, ChangeLog, LoggedChange, Notice, SessionWrite, SessionWritten, Since,
    Storage, StorageError, StoreAccess, StoreChange, StoreSettings, StoredSession,
};
use connection::{storage_error, Bridge, Conn};
pub use url::Target;

/// How long a session's key outlives its expiry: an expired session is
/// unreadable at once, but keeps its version (a compare-and-set still sees
/// it) until purged or until Redis drops it after this grace.
const GRACE: Duration = Duration::from_secs(60);

/// Products read per `HSCAN` / `HMGET` round trip.
const CHUNK: usize = 1_000;

/// Where Redis is and how to use it.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    /// `redis://…`, `rediss://…`, `redis+cluster://host:port,…` (its
    /// password is never shown).
    pub target: Target,
    /// The first part of every key (`ml`): several deployments may share
    /// one Redis under different namespaces.
    pub namespace: String,
    /// Each store's log is capped near this many entries; a node that falls
    /// further behind reads the store again whole.
    pub log_len: usize,
}

impl RedisConfig {
    /// A configuration from a URL, with credentials the URL leaves out.
    pub fn new(
        url: &str,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, StorageError> {
        let target = url::parse(url, username, password)
            .map_err(|reason| StorageError::backend("read the Redis URL")(reason))?;
        Ok(RedisConfig {
            target,
            namespace: "ml".into(),
            log_len: 1_000,
        })
    }
}

/// A store's keys.
struct Keys {
    settings: String,
    access: String,
    products: String,
    sessions: String,
    session_prefix: String,
    log: String,
    /// The products' version, outliving the store.
    version: String,
}

/// Storage in Redis, shared by every node that uses the same URL and
/// namespace.
pub struct Redis {
    conn: Conn,
    config: RedisConfig,
    /// This process, in the log entries it writes.
    node: String,
    /// Stores this process already put in `session-stores`.
    announced: Mutex<HashSet<String>>,
    /// Dropped last: the client's runtime.
    bridge: Bridge,
}

fn decode<T: DeserializeOwned>(
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

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("values morelike stores always serialize")
}

impl Redis {
    /// Connects (blocking; fails if Redis cannot be reached now: a node
    /// needs its stores to start).
    pub fn connect(config: RedisConfig) -> Result<Self, StorageError> {
        if config.namespace.is_empty()
            || !config
                .namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        {
            return Err(StorageError::backend("use the Redis namespace")(format!(
                "'{}': use letters, digits, '-', '_', ':' or '.'",
                config.namespace
            )));
        }
        if config.target.nodes.iter().any(|n| n.starts_with("rediss:")) {
            // The one TLS provider built in; an error means one is set already.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let bridge = Bridge::start()?;
        let target = config.target.clone();
        let conn = bridge
            .wait(async move { connection::connect(&target).await })
            .map_err(|e| {
                let mut error = storage_error("connect to Redis", e);
                if let StorageError::Unavailable { reason, .. }
                | StorageError::Backend { reason, .. } = &mut error
                {
                    *reason = format!("{} ({reason})", config.target.shown);
                }
                error
            })?;
        let node = format!("{:016x}", rand::random::<u64>());
        tracing::info!(redis = %config.target.shown, namespace = %config.namespace, node = %node, "connected to Redis");
        Ok(Redis {
            conn,
            config,
            node,
            announced: Mutex::default(),
            bridge,
        })
    }

    /// The URL, without its password.
    pub fn shown(&self) -> &str {
        &self.config.target.shown
    }

    fn global(&self, name: &str) -> String {
        format!("{}:{name}", self.config.namespace)
    }

    fn keys(&self, store: &str) -> Result<Keys, StorageError> {
        if store.contains(['{', '}']) {
            return Err(StorageError::backend("name a store in Redis")(format!(
                "'{store}': a store name kept in Redis cannot hold '{{' or '}}'"
            )));
        }
        let base = format!("{}:{{{store}}}", self.config.namespace);
        Ok(Keys {
            settings: format!("{base}:settings"),
            access: format!("{base}:access"),
            products: format!("{base}:products"),
            sessions: format!("{base}:sessions"),
            session_prefix: format!("{base}:s:"),
            log: format!("{base}:log"),
            version: format!("{base}:version"),
        })
    }

    /// Runs `f` on a connection, on the client's runtime, and waits.
    fn run<T, F, Fut>(&self, doing: &'static str, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(Conn) -> Fut,
        Fut: std::future::Future<Output = RedisResult<T>> + Send + 'static,
    {
        let future = f(self.conn.clone());
        self.bridge
            .wait(future)
            .map_err(|e| storage_error(doing, e))
    }

    /// Runs a store-change script: the log, the channel and the change come
    /// first, then `keys` and `args`.
    fn change(
        &self,
        doing: &'static str,
        script: &'static redis::Script,
        store: &str,
        change: String,
        keys: Vec<String>,
        args: Vec<String>,
    ) -> Result<i64, StorageError> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.keys(store)?.log)
            .arg(&self.node)
            .arg(self.config.log_len)
            .arg(self.global("changes"))
            .arg(store)
            .arg(change);
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        self.run(doing, move |mut conn| async move {
            invocation.invoke_async::<i64>(&mut conn).await
        })
    }

    fn get_string(
        &self,
        doing: &'static str,
        key: String,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        self.run(doing, move |mut conn| async move {
            conn.get::<_, Option<Vec<u8>>>(key).await
        })
    }

    fn put_value(
        &self,
        doing: &'static str,
        store: &str,
        key: String,
        change: StoreChange,
        value: String,
    ) -> Result<(), StorageError> {
        self.change(
            doing,
            &scripts::PUT_VALUE,
            store,
            encode(&change),
            vec![key],
            vec![value],
        )?;
        Ok(())
    }
}

impl Storage for Redis {
    fn stores(&self) -> Result<Vec<String>, StorageError> {
        let listed = self.global("stores");
        let names: BTreeSet<String> = self.run("list stores", move |mut conn| async move {
            conn.smembers::<_, BTreeSet<String>>(listed).await
        })?;
        // Listed before their settings are written, so check each.
        let settings: Vec<(String, String)> = names
            .into_iter()
            .filter_map(|name| Some((self.keys(&name).ok()?.settings, name)))
            .collect();
        self.run("list stores", move |conn| async move {
            let checks = settings.into_iter().map(|(key, name)| {
                let mut conn = conn.clone();
                async move { conn.exists::<_, bool>(key).await.map(|e| e.then_some(name)) }
            });
            let found: RedisResult<Vec<Option<String>>> =
                join_all(checks).await.into_iter().collect();
            Ok(found?.into_iter().flatten().collect())
        })
    }

    fn settings(&self, store: &str) -> Result<Option<StoreSettings>, StorageError> {
        let key = self.keys(store)?.settings;
        match self.get_string("read settings", key)? {
            Some(bytes) => Ok(Some(decode("settings", store, &bytes)?)),
            None => Ok(None),
        }
    }

    fn put_settings(&self, store: &str, settings: &StoreSettings) -> Result<(), StorageError> {
        let keys = self.keys(store)?;
        let listed = self.global("stores");
        let name = store.to_owned();
        self.run("write settings", move |mut conn| async move {
            conn.sadd::<_, _, ()>(listed, name).await
        })?;
        self.put_value(
            "write settings",
            store,
            keys.settings,
            StoreChange::Settings,
            encode(settings),
        )
    }

    fn products(&self, store: &str) -> Result<Vec<Product>, StorageError> {
        let key = self.keys(store)?.products;
        let raw: Vec<(String, Vec<u8>)> =
            self.run("read products", move |mut conn| async move {
                let mut out = Vec::new();
                let mut cursor: u64 = 0;
                loop {
                    let (next, page): (u64, Vec<(String, Vec<u8>)>) = redis::cmd("HSCAN")
                        .arg(&key)
                        .arg(cursor)
                        .arg("COUNT")
                        .arg(CHUNK)
                        .query_async(&mut conn)
                        .await?;
                    out.extend(page);
                    if next == 0 {
                        return Ok(out);
                    }
                    cursor = next;
                }
            })?;
        let mut seen = HashSet::with_capacity(raw.len());
        let mut products = Vec::with_capacity(raw.len());
        for (id, bytes) in raw {
            // HSCAN may return a field twice while the hash is rehashed.
            if seen.insert(id.clone()) {
                products.push(decode("product", &id, &bytes)?);
            }
        }
        Ok(products)
    }

    fn products_by_id(
        &self,
        store: &str,
        ids: &[String],
    ) -> Result<Vec<Option<Product>>, StorageError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.keys(store)?.products;
        let ids_owned = ids.to_vec();
        let raw: Vec<Option<Vec<u8>>> = self.run("read products", move |mut conn| async move {
            let mut out = Vec::with_capacity(ids_owned.len());
            for chunk in ids_owned.chunks(CHUNK) {
                let mut cmd = redis::cmd("HMGET");
                cmd.arg(&key).arg(chunk);
                out.extend(cmd.query_async::<Vec<Option<Vec<u8>>>>(&mut conn).await?);
            }
            Ok(out)
        })?;
        raw.into_iter()
            .zip(ids)
            .map(|(bytes, id)| bytes.map(|b| decode("product", id, &b)).transpose())
            .collect()
    }

    fn put_products(&self, store: &str, products: &[Product]) -> Result<(), StorageError> {
        if products.is_empty() {
            return Ok(());
        }
        let keys = self.keys(store)?;
        let change = StoreChange::products(products.iter().map(|p| p.id.clone()).collect());
        let mut args = Vec::with_capacity(products.len() * 2);
        for p in products {
            args.push(p.id.clone());
            args.push(encode(p));
        }
        self.change(
            "write products",
            &scripts::PUT_PRODUCTS,
            store,
            encode(&change),
            vec![keys.products, keys.version],
            args,
        )?;
        Ok(())
    }

    fn products_version(&self, store: &str) -> Result<u64, StorageError> {
        let key = self.keys(store)?.version;
        let version: Option<u64> = self
            .run("read the products' version", move |mut conn| async move {
                conn.get::<_, Option<u64>>(key).await
            })?;
        Ok(version.unwrap_or(0))
    }

    fn product(&self, store: &str, id: &str) -> Result<Option<Product>, StorageError> {
        Ok(self
            .products_by_id(store, &[id.to_owned()])?
            .into_iter()
            .next()
            .flatten())
    }

    fn delete_products(&self, store: &str, ids: &[String]) -> Result<usize, StorageError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let keys = self.keys(store)?;
        let deleted = self.change(
            "delete products",
            &scripts::DELETE_PRODUCTS,
            store,
            super::changes::MAX_LOGGED_IDS.to_string(),
            vec![keys.products, keys.version],
            ids.to_vec(),
        )?;
        Ok(usize::try_from(deleted).unwrap_or(0))
    }

    fn session(&self, store: &str, id: &str) -> Result<Option<StoredSession>, StorageError> {
        let key = format!("{}{id}", self.keys(store)?.session_prefix);
        let (version, expires_at, data): (Option<u64>, Option<u64>, Option<Vec<u8>>) =
            self.run("read a session", move |mut conn| async move {
                redis::cmd("HMGET")
                    .arg(key)
                    .arg(&["v", "e", "d"])
                    .query_async(&mut conn)
                    .await
            })?;
        let (Some(version), Some(expires_at), Some(data)) = (version, expires_at, data) else {
            return Ok(None);
        };
        if expires_at <= now_secs() {
            return Ok(None);
        }
        let session: Session = decode("session", id, &data)?;
        Ok(Some(StoredSession {
            session,
            version,
            expires_at,
        }))
    }

    fn put_sessions(
        &self,
        writes: &[SessionWrite],
        ttl: Duration,
    ) -> Result<Vec<SessionWritten>, StorageError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_secs();
        let expires_at = now + ttl.as_secs();
        let lifetime_ms = (ttl + GRACE).as_millis().to_string();
        let new_stores: Vec<String> = {
            let announced = self.announced.lock().unwrap_or_else(|e| e.into_inner());
            let mut stores: Vec<String> = writes
                .iter()
                .filter(|w| !announced.contains(&w.store))
                .map(|w| w.store.clone())
                .collect();
            stores.sort();
            stores.dedup();
            stores
        };
        let mut invocations = Vec::with_capacity(writes.len());
        for w in writes {
            let keys = self.keys(&w.store)?;
            let mut invocation = scripts::PUT_SESSION.prepare_invoke();
            invocation
                .key(format!("{}{}", keys.session_prefix, w.id))
                .key(keys.sessions)
                .arg(w.replaces)
                .arg(w.version)
                .arg(expires_at)
                .arg(encode(&*w.session))
                .arg(&lifetime_ms)
                .arg(now)
                .arg(GRACE.as_secs())
                .arg(&w.id);
            invocations.push(invocation);
        }
        let listed = self.global("session-stores");
        let announce = new_stores.clone();
        let answers: Vec<i64> = self.run("write sessions", move |conn| async move {
            if !announce.is_empty() {
                conn.clone().sadd::<_, _, ()>(listed, announce).await?;
            }
            let calls = invocations.into_iter().map(|invocation| {
                let mut conn = conn.clone();
                async move { invocation.invoke_async::<i64>(&mut conn).await }
            });
            join_all(calls).await.into_iter().collect()
        })?;
        self.announced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(new_stores);
        Ok(answers
            .into_iter()
            .map(|answer| match u64::try_from(answer) {
                Ok(stored) => SessionWritten::Stale { stored },
                Err(_) => SessionWritten::Written,
            })
            .collect())
    }

    fn purge_expired_sessions(&self, limit: usize) -> Result<usize, StorageError> {
        let listed = self.global("session-stores");
        let stores: BTreeSet<String> = self
            .run("purge expired sessions", move |mut conn| async move {
                conn.smembers::<_, BTreeSet<String>>(listed).await
            })?;
        let now = now_secs();
        let mut purged = 0;
        for store in stores {
            if purged >= limit {
                break;
            }
            let Ok(keys) = self.keys(&store) else {
                continue;
            };
            let mut invocation = scripts::PURGE_SESSIONS.prepare_invoke();
            invocation
                .key(keys.sessions)
                .arg(now)
                .arg(limit - purged)
                .arg(keys.session_prefix);
            let n: i64 = self.run("purge expired sessions", move |mut conn| async move {
                invocation.invoke_async::<i64>(&mut conn).await
            })?;
            purged += usize::try_from(n).unwrap_or(0);
        }
        Ok(purged)
    }

    fn probe_write(&self) -> Result<(), StorageError> {
        let key = self.global("probe");
        self.run("write a probe", move |mut conn| async move {
            conn.set::<_, _, ()>(key, now_secs()).await
        })
    }

    fn delete_store(&self, store: &str) -> Result<(), StorageError> {
        let keys = self.keys(store)?;
        self.change(
            "delete a store",
            &scripts::DELETE_STORE,
            store,
            encode(&StoreChange::Deleted),
            vec![
                keys.settings,
                keys.access,
                keys.products,
                keys.sessions,
                keys.version,
            ],
            vec![keys.session_prefix],
        )?;
        let (stores, session_stores) = (self.global("stores"), self.global("session-stores"));
        let name = store.to_owned();
        self.run("delete a store", move |mut conn| async move {
            conn.srem::<_, _, ()>(stores, &name).await?;
            conn.srem::<_, _, ()>(session_stores, &name).await
        })?;
        self.announced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(store);
        Ok(())
    }

    fn access(&self, store: &str) -> Result<Option<StoreAccess>, StorageError> {
        let key = self.keys(store)?.access;
        match self.get_string("read keys", key)? {
            Some(bytes) => Ok(Some(decode("access", store, &bytes)?)),
            None => Ok(None),
        }
    }

    fn put_access(&self, store: &str, access: &StoreAccess) -> Result<(), StorageError> {
        let key = self.keys(store)?.access;
        self.put_value(
            "write keys",
            store,
            key,
            StoreChange::Access,
            encode(access),
        )
    }

    fn change_log(&self) -> Option<&dyn ChangeLog> {
        Some(self)
    }
}

/// An entry of a log as read from Redis.
fn logged(entry: &redis::streams::StreamId) -> Option<LoggedChange> {
    let id = ChangeId::parse(&entry.id)?;
    let node: String = entry.get("node")?;
    let change: String = entry.get("change")?;
    let change = serde_json::from_str(&change).ok()?;
    Some(LoggedChange { id, node, change })
}

impl ChangeLog for Redis {
    fn node(&self) -> &str {
        &self.node
    }

    fn head(&self, store: &str) -> Result<ChangeId, StorageError> {
        let log = self.keys(store)?.log;
        let last: StreamRangeReply = self
            .run("read a store's log", move |mut conn| async move {
                conn.xrevrange_count(log, "+", "-", 1).await
            })?;
        Ok(last
            .ids
            .first()
            .and_then(|e| ChangeId::parse(&e.id))
            .unwrap_or_default())
    }

    fn since(&self, store: &str, after: &ChangeId, limit: usize) -> Result<Since, StorageError> {
        let log = self.keys(store)?.log;
        let from = *after == ChangeId::ZERO;
        let start = if from {
            "-".to_owned()
        } else {
            after.to_string()
        };
        let (range, deleted): (StreamRangeReply, Option<String>) =
            self.run("read a store's log", move |mut conn| async move {
                // Read from `after` itself: if it is gone, the log was trimmed past it.
                let range = conn.xrange_count(&log, start, "+", limit + 1).await?;
                let deleted = if from && limit > 0 {
                    // From the start: were entries trimmed since the store was read?
                    let info: RedisResult<std::collections::HashMap<String, Value>> =
                        redis::cmd("XINFO")
                            .arg("STREAM")
                            .arg(&log)
                            .query_async(&mut conn)
                            .await;
                    info.ok()
                        .and_then(|i| i.get("max-deleted-entry-id").cloned())
                        .and_then(|v| redis::from_redis_value::<String>(v).ok())
                } else {
                    None
                };
                Ok((range, deleted))
            })?;
        let mut entries: Vec<LoggedChange> = range.ids.iter().filter_map(logged).collect();
        if from {
            if deleted
                .and_then(|d| ChangeId::parse(&d))
                .is_some_and(|d| d > ChangeId::ZERO)
            {
                return Ok(Since::Trimmed);
            }
            entries.truncate(limit);
            return Ok(Since::Entries(entries));
        }
        match entries.first() {
            Some(first) if first.id == *after => {
                entries.remove(0);
                Ok(Since::Entries(entries))
            }
            _ => Ok(Since::Trimmed),
        }
    }

    fn watch(&self) -> tokio::sync::mpsc::UnboundedReceiver<Notice> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.bridge.spawn(watch::run(
            self.config.target.clone(),
            self.global("changes"),
            tx,
        ));
        rx
    }
}
