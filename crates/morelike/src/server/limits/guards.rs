//! Counted resources: open WebSockets (per node and per client address) and
//! catalog uploads in progress (per node and per store). Each is taken as a
//! permit that gives itself back when dropped.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::rates::{address_key, Rates};
use super::Limits;
use crate::server::error::ApiError;

/// Counts per key with a cap per key and a cap in all.
struct Counted<K: Hash + Eq> {
    counts: Mutex<(usize, HashMap<K, usize>)>,
    total_cap: usize,
    each_cap: usize,
}

impl<K: Hash + Eq + Clone> Counted<K> {
    fn new(total_cap: usize, each_cap: usize) -> Self {
        Counted {
            counts: Mutex::new((0, HashMap::new())),
            total_cap,
            each_cap,
        }
    }

    /// Takes one for `key`: Err(true) when the total is full, Err(false)
    /// when the key's share is.
    fn take(&self, key: &K) -> Result<(), bool> {
        let mut guard = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (total, each) = &mut *guard;
        if *total >= self.total_cap {
            return Err(true);
        }
        let mine = each.entry(key.clone()).or_insert(0);
        if *mine >= self.each_cap {
            return Err(false);
        }
        *mine += 1;
        *total += 1;
        Ok(())
    }

    fn give(&self, key: &K) {
        let mut guard = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let (total, each) = &mut *guard;
        *total = total.saturating_sub(1);
        if let Some(mine) = each.get_mut(key) {
            *mine -= 1;
            if *mine == 0 {
                each.remove(key);
            }
        }
    }

    fn total(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// The node's limiters and counted resources.
pub struct Guards {
    /// Rate limits.
    pub rates: Rates,
    sockets: Counted<IpAddr>,
    uploads: Counted<String>,
}

/// An open WebSocket, counted until dropped.
pub struct SocketPermit {
    guards: Arc<Guards>,
    address: IpAddr,
}

impl std::fmt::Debug for SocketPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SocketPermit({})", self.address)
    }
}

impl std::fmt::Debug for UploadPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UploadPermit({})", self.store)
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        self.guards.sockets.give(&self.address);
    }
}

/// An upload in progress, counted until dropped.
pub struct UploadPermit {
    guards: Arc<Guards>,
    store: String,
}

impl Drop for UploadPermit {
    fn drop(&mut self) {
        self.guards.uploads.give(&self.store);
    }
}

impl Guards {
    /// Guards for these limits (sessions are counted per `session_ttl`).
    pub fn new(limits: &Limits, session_ttl: Duration) -> Self {
        Guards {
            rates: Rates::new(limits, session_ttl),
            sockets: Counted::new(limits.max_sockets, limits.max_sockets_per_address),
            uploads: Counted::new(limits.max_uploads, limits.max_uploads_per_store),
        }
    }

    /// Opens a WebSocket for a client, within the node's and the address's caps.
    pub fn open_socket(self: &Arc<Self>, ip: IpAddr) -> Result<SocketPermit, ApiError> {
        let address = address_key(ip);
        self.sockets.take(&address).map_err(|node_full| {
            ApiError::TooManySockets(if node_full {
                format!(
                    "this server holds its most WebSockets ({}); retry later",
                    self.sockets.total_cap
                )
            } else {
                format!(
                    "your address holds its most WebSockets ({}); close some first",
                    self.sockets.each_cap
                )
            })
        })?;
        Ok(SocketPermit {
            guards: self.clone(),
            address,
        })
    }

    /// Open WebSockets now.
    pub fn open_sockets(&self) -> usize {
        self.sockets.total()
    }

    /// Starts an upload into a store, within the node's and the store's caps.
    pub fn start_upload(self: &Arc<Self>, store: &str) -> Result<UploadPermit, ApiError> {
        let store = store.to_owned();
        self.uploads.take(&store).map_err(|node_full| {
            ApiError::TooManyUploads(if node_full {
                format!(
                    "this server is importing its most uploads at once ({}); retry in a moment",
                    self.uploads.total_cap
                )
            } else {
                format!(
                    "store '{store}' already has {} upload(s) in progress; send the next when it is done",
                    self.uploads.each_cap
                )
            })
        })?;
        Ok(UploadPermit {
            guards: self.clone(),
            store,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_capped_per_key_and_in_all_and_given_back_when_dropped() {
        let limits = Limits {
            max_sockets: 3,
            max_sockets_per_address: 2,
            ..Limits::default()
        };
        let guards = Arc::new(Guards::new(&limits, Duration::from_secs(60)));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = guards.open_socket(a).unwrap();
        let _second = guards.open_socket(a).unwrap();
        let third = guards.open_socket(a).unwrap_err();
        assert_eq!(third.code(), "too_many_sockets");
        assert!(third.to_string().contains("your address"), "{third}");
        let _fourth = guards.open_socket(b).unwrap();
        let full = guards.open_socket(b).unwrap_err();
        assert!(full.to_string().contains("this server"), "{full}");
        drop(first);
        assert_eq!(guards.open_sockets(), 2);
        assert!(
            guards.open_socket(b).is_ok(),
            "a dropped permit frees its place"
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_bit_prefix() {
        let limits = Limits {
            max_sockets_per_address: 1,
            ..Limits::default()
        };
        let guards = Arc::new(Guards::new(&limits, Duration::from_secs(60)));
        let _one = guards.open_socket("2001:db8::1".parse().unwrap()).unwrap();
        assert!(guards.open_socket("2001:db8::2".parse().unwrap()).is_err());
        assert!(guards
            .open_socket("2001:db8:0:1::1".parse().unwrap())
            .is_ok());
    }
}
