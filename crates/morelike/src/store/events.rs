//! What shoppers did in a store, as plain values: the counts of each kind
//! of event and a page-time histogram, for one minute or in total. Buckets
//! add up (`merge`), so minutes from several nodes, or several flushes of
//! one node, make one series.

use serde::{Deserialize, Serialize};

/// Events by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Sessions started.
    pub sessions: u64,
    /// Pages served (first pages, and pages after votes, more, undo, reset).
    pub pages: u64,
    /// Products shown on those pages.
    pub impressions: u64,
    /// "More like this" votes.
    pub upvotes: u64,
    /// "Not my style" votes.
    pub downvotes: u64,
    /// Shown products the shopper opened.
    pub clicks: u64,
}

impl Counts {
    /// How many kinds of event.
    pub const KINDS: usize = 6;

    /// The counts in a fixed order (sessions, pages, impressions, upvotes,
    /// downvotes, clicks).
    pub fn to_array(self) -> [u64; Self::KINDS] {
        [
            self.sessions,
            self.pages,
            self.impressions,
            self.upvotes,
            self.downvotes,
            self.clicks,
        ]
    }

    /// Counts from the fixed order of [`Counts::to_array`].
    pub fn from_array(a: [u64; Self::KINDS]) -> Self {
        Counts {
            sessions: a[0],
            pages: a[1],
            impressions: a[2],
            upvotes: a[3],
            downvotes: a[4],
            clicks: a[5],
        }
    }

    /// Whether nothing happened.
    pub fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// Events in one period: their counts and the page times, as counts by
/// histogram bucket (`(bucket, count)`, buckets ascending, no zero count),
/// with the sum of the times in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBucket {
    /// Events by kind.
    pub counts: Counts,
    /// Pages by time bucket (see `server::stats::latency`).
    pub latency: Vec<(u16, u64)>,
    /// The pages' times added up, in microseconds.
    pub latency_sum_us: u64,
}

impl EventBucket {
    /// Whether nothing happened.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.latency.is_empty()
    }

    /// Adds another period's events to this one.
    pub fn merge(&mut self, other: &EventBucket) {
        let (a, b) = (self.counts.to_array(), other.counts.to_array());
        self.counts = Counts::from_array(std::array::from_fn(|i| a[i] + b[i]));
        self.latency_sum_us += other.latency_sum_us;
        let mut merged = Vec::with_capacity(self.latency.len() + other.latency.len());
        let (mut i, mut j) = (0, 0);
        while i < self.latency.len() || j < other.latency.len() {
            match (self.latency.get(i), other.latency.get(j)) {
                (Some(&(x, n)), Some(&(y, m))) if x == y => {
                    merged.push((x, n + m));
                    i += 1;
                    j += 1;
                }
                (Some(&(x, n)), Some(&(y, _))) if x < y => {
                    merged.push((x, n));
                    i += 1;
                }
                (Some(&(x, n)), None) => {
                    merged.push((x, n));
                    i += 1;
                }
                (_, Some(&(y, m))) => {
                    merged.push((y, m));
                    j += 1;
                }
                (None, None) => unreachable!("the loop stops first"),
            }
        }
        self.latency = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_add_up_by_kind_and_by_time() {
        let mut a = EventBucket {
            counts: Counts {
                pages: 2,
                upvotes: 1,
                ..Counts::default()
            },
            latency: vec![(3, 1), (40, 1)],
            latency_sum_us: 500,
        };
        let b = EventBucket {
            counts: Counts {
                pages: 1,
                clicks: 4,
                ..Counts::default()
            },
            latency: vec![(2, 5), (40, 2), (41, 1)],
            latency_sum_us: 70,
        };
        a.merge(&b);
        assert_eq!(a.counts.pages, 3);
        assert_eq!(a.counts.upvotes, 1);
        assert_eq!(a.counts.clicks, 4);
        assert_eq!(a.latency, vec![(2, 5), (3, 1), (40, 3), (41, 1)]);
        assert_eq!(a.latency_sum_us, 570);
        assert!(!a.is_empty());
        assert!(EventBucket::default().is_empty());
    }
}
