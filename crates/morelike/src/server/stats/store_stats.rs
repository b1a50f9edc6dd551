//! One store's events on this node: a counter per kind of event and the
//! page-time histogram, all atomics (a page adds to them without a lock),
//! and the per-minute series a background tick folds them into every few
//! seconds (the only place that takes the series' lock, with the readers).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::latency::{Latency, BUCKETS};
use crate::store::{Counts, EventBucket};

/// Minutes of history kept in memory per store.
pub const KEEP_MINUTES: u64 = 24 * 60;

/// A kind of event.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// A session started.
    Session = 0,
    /// A page served.
    Page = 1,
    /// A product shown.
    Impression = 2,
    /// A "more like this" vote.
    Upvote = 3,
    /// A "not my style" vote.
    Downvote = 4,
    /// A shown product opened.
    Click = 5,
}

/// Everything counted so far, as plain numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Totals {
    counts: [u64; Counts::KINDS],
    latency: Vec<u64>,
    latency_sum_us: u64,
}

impl Totals {
    fn zero() -> Self {
        Totals {
            counts: [0; Counts::KINDS],
            latency: vec![0; BUCKETS],
            latency_sum_us: 0,
        }
    }

    /// What was counted since `earlier`, as a bucket.
    fn since(&self, earlier: &Totals) -> EventBucket {
        EventBucket {
            counts: Counts::from_array(std::array::from_fn(|i| self.counts[i] - earlier.counts[i])),
            latency: self
                .latency
                .iter()
                .zip(&earlier.latency)
                .enumerate()
                .filter(|(_, (now, then))| now > then)
                .map(|(i, (now, then))| (i as u16, now - then))
                .collect(),
            latency_sum_us: self.latency_sum_us - earlier.latency_sum_us,
        }
    }
}

/// The folded minutes and the totals folded so far.
struct Series {
    /// `(unix minute, events)`, oldest first, only minutes with events.
    minutes: VecDeque<(u64, EventBucket)>,
    folded: Totals,
}

/// One store's events on this node.
pub struct StoreStats {
    counts: [AtomicU64; Counts::KINDS],
    latency: Latency,
    series: Mutex<Series>,
}

impl Default for StoreStats {
    fn default() -> Self {
        StoreStats {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: Latency::default(),
            series: Mutex::new(Series {
                minutes: VecDeque::new(),
                folded: Totals::zero(),
            }),
        }
    }
}

impl StoreStats {
    /// Counts `n` events of a kind.
    pub fn add(&self, event: Event, n: u64) {
        if n > 0 {
            self.counts[event as usize].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts a page served in `us` microseconds with `shown` products.
    pub fn page(&self, us: u64, shown: usize) {
        self.add(Event::Page, 1);
        self.add(Event::Impression, shown as u64);
        self.latency.record(us);
    }

    fn totals(&self) -> Totals {
        let (latency, latency_sum_us) = self.latency.snapshot();
        Totals {
            counts: std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed)),
            latency,
            latency_sum_us,
        }
    }

    fn series(&self) -> std::sync::MutexGuard<'_, Series> {
        self.series.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everything counted on this node since the store's first event here.
    pub fn total(&self) -> EventBucket {
        self.totals().since(&Totals::zero())
    }

    /// Folds what was counted since the last fold into the minute `minute`
    /// (unix time / 60), drops the minutes older than [`KEEP_MINUTES`], and
    /// answers what was folded (empty when nothing happened).
    pub fn fold(&self, minute: u64) -> EventBucket {
        let now = self.totals();
        let mut series = self.series();
        let delta = now.since(&series.folded);
        series.folded = now;
        if !delta.is_empty() {
            match series.minutes.back_mut() {
                Some((last, bucket)) if *last == minute => bucket.merge(&delta),
                _ => series.minutes.push_back((minute, delta.clone())),
            }
        }
        while series
            .minutes
            .front()
            .is_some_and(|(m, _)| *m + KEEP_MINUTES <= minute)
        {
            series.minutes.pop_front();
        }
        delta
    }

    /// What was counted since the last fold (not yet in any minute).
    pub fn unfolded(&self) -> EventBucket {
        let now = self.totals();
        now.since(&self.series().folded)
    }

    /// The minutes from `from` on (unix minutes), with what is not folded
    /// yet counted in `current`: `(minute, events)`, only minutes with events.
    pub fn minutes(&self, from: u64, current: u64) -> Vec<(u64, EventBucket)> {
        let now = self.totals();
        let series = self.series();
        let mut out: Vec<(u64, EventBucket)> = series
            .minutes
            .iter()
            .filter(|(m, _)| *m >= from)
            .cloned()
            .collect();
        let live = now.since(&series.folded);
        drop(series);
        if !live.is_empty() && current >= from {
            match out.last_mut() {
                Some((last, bucket)) if *last == current => bucket.merge(&live),
                _ => out.push((current, live)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_put_each_event_in_one_minute_once() {
        let stats = StoreStats::default();
        stats.add(Event::Session, 1);
        stats.page(300, 8);
        stats.add(Event::Upvote, 2);
        assert_eq!(stats.fold(100).counts.pages, 1);
        stats.page(500, 8);
        assert_eq!(stats.fold(100).counts.impressions, 8);
        stats.add(Event::Click, 1);
        assert!(stats.fold(101).counts.clicks == 1);
        assert!(stats.fold(101).is_empty(), "nothing new: nothing folded");
        stats.add(Event::Downvote, 1);
        let minutes = stats.minutes(100, 102);
        assert_eq!(minutes.len(), 3);
        assert_eq!(minutes[0].0, 100);
        assert_eq!(minutes[0].1.counts.pages, 2);
        assert_eq!(minutes[0].1.counts.impressions, 16);
        assert_eq!(minutes[0].1.latency_sum_us, 800);
        assert_eq!(minutes[1].1.counts.clicks, 1);
        assert_eq!((minutes[2].0, minutes[2].1.counts.downvotes), (102, 1));
        assert_eq!(stats.minutes(101, 102).len(), 2);
        let total = stats.total();
        assert_eq!(total.counts.upvotes, 2);
        assert_eq!(total.counts.pages, 2);
        assert_eq!(total.latency.iter().map(|&(_, n)| n).sum::<u64>(), 2);
    }

    #[test]
    fn minutes_older_than_a_day_are_dropped() {
        let stats = StoreStats::default();
        stats.add(Event::Page, 1);
        stats.fold(10);
        stats.add(Event::Page, 1);
        stats.fold(10 + KEEP_MINUTES);
        let minutes = stats.minutes(0, 10 + KEEP_MINUTES);
        assert_eq!(minutes.len(), 1);
        assert_eq!(minutes[0].0, 10 + KEEP_MINUTES);
    }
}
