//! Events and analytics: what shoppers do in each store (sessions, pages,
//! products shown, votes, clicks) and how long pages take, counted where
//! the session service serves them ([`StoreStats`]: atomics, no lock on
//! the page path), folded every few seconds into per-minute buckets by
//! [`keep`], and read by `GET /v1/stores/{store}/stats` ([`report`]) and
//! `GET /metrics` ([`prometheus`]).

pub mod latency;
pub mod prometheus;
pub mod report;
mod store_stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use store_stats::{Event, StoreStats, KEEP_MINUTES};

use super::state::AppState;

/// How often the counters are folded into their minute.
pub const FOLD_EVERY: Duration = Duration::from_secs(5);

/// The current unix minute (seconds since 1970 / 60).
pub fn now_minute() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60)
}

/// Every store's events on this node, by store name. The map's lock is
/// taken when a store snapshot first counts (once per snapshot, see
/// `Store::stats`), by the fold and by readers; never per page.
#[derive(Default)]
pub struct Stats {
    stores: Mutex<HashMap<String, Arc<StoreStats>>>,
}

impl Stats {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<StoreStats>>> {
        self.stores.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A store's counters, made on first use.
    pub fn of(&self, store: &str) -> Arc<StoreStats> {
        self.map().entry(store.to_owned()).or_default().clone()
    }

    /// A store's counters, if it counted anything on this node.
    pub fn get(&self, store: &str) -> Option<Arc<StoreStats>> {
        self.map().get(store).cloned()
    }

    /// Forgets a deleted store's counters.
    pub fn forget(&self, store: &str) {
        self.map().remove(store);
    }

    /// Every store's counters, by name.
    pub fn all(&self) -> Vec<(String, Arc<StoreStats>)> {
        let mut all: Vec<_> = self
            .map()
            .iter()
            .map(|(name, stats)| (name.clone(), stats.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Folds every store's counters into the current minute; logs, at info,
    /// each store's events of a minute once it is over.
    fn fold_all(&self, minute: u64, last_minute: &mut HashMap<String, (u64, EventTally)>) {
        for (name, stats) in self.all() {
            let folded = stats.fold(minute);
            let entry = last_minute
                .entry(name.clone())
                .or_insert((minute, EventTally::default()));
            if entry.0 != minute {
                entry.1.log(&name, entry.0);
                *entry = (minute, EventTally::default());
            }
            entry.1.add(&folded);
        }
    }
}

/// A minute's events of one store, for the log.
#[derive(Default)]
struct EventTally(crate::store::EventBucket);

impl EventTally {
    fn add(&mut self, bucket: &crate::store::EventBucket) {
        self.0.merge(bucket);
    }

    fn log(&self, store: &str, minute: u64) {
        let c = self.0.counts;
        if c.is_empty() {
            return;
        }
        let p50 = latency::quantile(&self.0.latency, 0.5);
        tracing::info!(
            store,
            minute_start = minute * 60,
            sessions = c.sessions,
            pages = c.pages,
            impressions = c.impressions,
            upvotes = c.upvotes,
            downvotes = c.downvotes,
            clicks = c.clicks,
            page_p50_us = p50.unwrap_or(0),
            "shoppers' events in the last minute"
        );
    }
}

/// Folds every store's counters into the current minute now (at the end
/// of a shutdown, once the sockets are closed).
pub fn fold_now(state: &AppState) {
    state.stats.fold_all(now_minute(), &mut HashMap::new());
}

/// Folds the counters into their minute every [`FOLD_EVERY`] until the
/// shutdown.
pub async fn keep(state: AppState) {
    let mut last_minute = HashMap::new();
    let mut tick = tokio::time::interval(FOLD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.shutdown.cancelled() => break,
        }
        state.stats.fold_all(now_minute(), &mut last_minute);
    }
}
