//! Rate limits (GCRA, the `governor` crate): per client address, per store
//! key, per WebSocket, and sessions started per store and per address.
//! A WebSocket's messages count against its address as HTTP requests do,
//! so that one address cannot use up the limits a whole store shares (its
//! publishable key's rate, its sessions).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use super::{Guards, Limits};
use crate::server::error::ApiError;

/// Requests per second and bursts of twice that; None when `per_sec` is 0.
fn per_second(per_sec: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_sec)?;
    let burst = NonZeroU32::new(per_sec.saturating_mul(2)).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

/// The address a client is limited by: itself, or for IPv6 its /64 (one
/// subscriber usually holds a whole /64).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::V6(octets.into())
        }
    }
}

fn limited(what: String, wait: Duration) -> ApiError {
    ApiError::RateLimited {
        what,
        retry_after_secs: wait.as_secs().max(1),
    }
}

/// The node's rate limiters.
pub struct Rates {
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_key: Option<DefaultKeyedRateLimiter<String>>,
    sessions: Option<DefaultKeyedRateLimiter<String>>,
    session_starts: Option<DefaultKeyedRateLimiter<IpAddr>>,
    socket: Option<Quota>,
    limits: (u32, u32, u32, u32),
}

impl Rates {
    /// Limiters for these limits; sessions are counted per session TTL.
    pub fn new(limits: &Limits, session_ttl: Duration) -> Self {
        let sessions = NonZeroU32::new(limits.sessions_per_store).and_then(|n| {
            let period = session_ttl.checked_div(n.get())?;
            Some(DefaultKeyedRateLimiter::dashmap(
                Quota::with_period(period)?.allow_burst(n),
            ))
        });
        Rates {
            per_address: per_second(limits.requests_per_sec_per_address)
                .map(DefaultKeyedRateLimiter::dashmap),
            per_key: per_second(limits.requests_per_sec_per_key)
                .map(DefaultKeyedRateLimiter::dashmap),
            sessions,
            session_starts: NonZeroU32::new(limits.session_starts_per_min_per_address)
                .map(|n| DefaultKeyedRateLimiter::dashmap(Quota::per_minute(n))),
            socket: per_second(limits.messages_per_sec_per_socket),
            limits: (
                limits.requests_per_sec_per_address,
                limits.requests_per_sec_per_key,
                limits.sessions_per_store,
                limits.session_starts_per_min_per_address,
            ),
        }
    }

    /// One more request from a client address.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_address else {
            return Ok(());
        };
        limiter.check_key(&address_key(ip)).map_err(|e| {
            limited(
                format!(
                    "more than {} requests per second from your address",
                    self.limits.0
                ),
                e.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// One more request or message made with a store's key.
    pub fn check_key(&self, store: Option<&str>, kind: &str) -> Result<(), ApiError> {
        if self.per_key.is_none() {
            return Ok(());
        }
        self.check_key_id(&format!("{}/{kind}", store.unwrap_or("")), kind)
    }

    /// [`Rates::check_key`] with the key's id (`store/kind`) made once.
    fn check_key_id(&self, id: &String, kind: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_key else {
            return Ok(());
        };
        limiter.check_key(id).map_err(|e| {
            limited(
                format!(
                    "more than {} requests per second with this {kind} key",
                    self.limits.1
                ),
                e.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// One more session started in a store, from `address` when the caller
    /// is limited by its address (no secret key): the address's own limit
    /// is checked first, so its refused starts do not count for the store.
    pub fn check_session_start(
        &self,
        store: &str,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        if let (Some(limiter), Some(ip)) = (&self.session_starts, address) {
            limiter.check_key(&address_key(ip)).map_err(|e| {
                limited(
                    format!(
                        "more than {} sessions started a minute from your address",
                        self.limits.3
                    ),
                    e.wait_time_from(DefaultClock::default().now()),
                )
            })?;
        }
        let Some(limiter) = &self.sessions else {
            return Ok(());
        };
        limiter.check_key(&store.to_owned()).map_err(|e| {
            ApiError::TooManySessions(format!(
                "store '{store}' has started {} sessions within the session lifetime; retry in {} s",
                self.limits.2,
                e.wait_time_from(DefaultClock::default().now()).as_secs().max(1)
            ))
        })
    }

    /// Forgets clients and keys that have been quiet for a while (memory
    /// stays in proportion to recent callers).
    pub fn tidy(&self) {
        if let Some(l) = &self.per_address {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_key {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.sessions {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.session_starts {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The rate of one WebSocket: its own message limit, its address's (when
/// it was opened without a secret key) and its key's.
pub struct SocketRate {
    own: Option<DefaultDirectRateLimiter>,
    guards: Arc<Guards>,
    /// The key's id in the per-key limiter (`store/kind`), and its kind.
    key: Option<(String, &'static str)>,
    /// The client's address, when the socket is limited by it.
    address: Option<IpAddr>,
    per_sec: u32,
}

impl SocketRate {
    /// The limit for a socket opened with a key of `store` (`kind`:
    /// "secret" or "publishable"), or without one, from `address` when the
    /// caller is limited by its address (no secret or admin key).
    pub fn new(
        guards: Arc<Guards>,
        key: Option<(String, &'static str)>,
        address: Option<IpAddr>,
        per_sec: u32,
    ) -> Self {
        SocketRate {
            own: guards.rates.socket.map(DefaultDirectRateLimiter::direct),
            guards,
            key: key.map(|(store, kind)| (format!("{store}/{kind}"), kind)),
            address,
            per_sec,
        }
    }

    /// The address this socket is limited by, if any.
    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    /// One more message on this socket.
    pub fn check(&self) -> Result<(), ApiError> {
        if let Some(own) = &self.own {
            own.check().map_err(|e| {
                limited(
                    format!(
                        "more than {} messages per second on one socket",
                        self.per_sec
                    ),
                    e.wait_time_from(DefaultClock::default().now()),
                )
            })?;
        }
        if let Some(ip) = self.address {
            self.guards.rates.check_address(ip)?;
        }
        if let Some((id, kind)) = &self.key {
            self.guards.rates.check_key_id(id, kind)?;
        }
        Ok(())
    }
}
