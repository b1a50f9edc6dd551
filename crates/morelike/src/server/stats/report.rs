//! The answer of `GET /v1/stores/{store}/stats`: totals, the page-time
//! percentiles and histogram, and a series with one entry per minute
//! (minutes without events included, so a plot needs no gaps filled).

use serde::Serialize;
use utoipa::ToSchema;

use super::latency::{bucket_max, quantile};
use crate::store::{Counts, EventBucket};

/// Events of a period, with the rates merchants watch.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventCounts {
    /// Sessions started.
    pub sessions: u64,
    /// Pages served (first pages, and after each vote, more, undo, reset;
    /// a resumed page is not served again).
    pub pages: u64,
    /// Products shown on those pages.
    pub impressions: u64,
    /// "More like this" votes (an undo does not take one back).
    pub upvotes: u64,
    /// "Not my style" votes.
    pub downvotes: u64,
    /// Shown products the shopper opened (`click`).
    pub clicks: u64,
    /// upvotes / (upvotes + downvotes); null without votes.
    pub upvote_rate: Option<f64>,
    /// clicks / impressions; null when nothing was shown.
    pub click_through_rate: Option<f64>,
}

impl From<Counts> for EventCounts {
    fn from(c: Counts) -> Self {
        let votes = c.upvotes + c.downvotes;
        EventCounts {
            sessions: c.sessions,
            pages: c.pages,
            impressions: c.impressions,
            upvotes: c.upvotes,
            downvotes: c.downvotes,
            clicks: c.clicks,
            upvote_rate: (votes > 0).then(|| c.upvotes as f64 / votes as f64),
            click_through_rate: (c.impressions > 0).then(|| c.clicks as f64 / c.impressions as f64),
        }
    }
}

/// One bar of the page-time histogram.
#[derive(Debug, Serialize, ToSchema)]
pub struct LatencyBar {
    /// The longest time in the bar, in microseconds (the bar holds the
    /// times above the previous bar's `max_us`, each bar within 12.5 %).
    pub max_us: u64,
    /// Pages in it.
    pub pages: u64,
}

/// How long pages took on the server (the `took_us` of each page).
#[derive(Debug, Serialize, ToSchema)]
pub struct LatencySummary {
    /// Pages timed.
    pub pages: u64,
    /// Mean time, in microseconds; null without pages.
    pub mean_us: Option<u64>,
    /// Median, in microseconds (to the bucket, within 12.5 %).
    pub p50_us: Option<u64>,
    /// 90th percentile.
    pub p90_us: Option<u64>,
    /// 99th percentile.
    pub p99_us: Option<u64>,
    /// The histogram: its non-empty bars, shortest first.
    pub histogram: Vec<LatencyBar>,
}

impl From<&EventBucket> for LatencySummary {
    fn from(b: &EventBucket) -> Self {
        let pages: u64 = b.latency.iter().map(|&(_, n)| n).sum();
        LatencySummary {
            pages,
            mean_us: (pages > 0).then(|| b.latency_sum_us / pages),
            p50_us: quantile(&b.latency, 0.5),
            p90_us: quantile(&b.latency, 0.9),
            p99_us: quantile(&b.latency, 0.99),
            histogram: b
                .latency
                .iter()
                .map(|&(i, pages)| LatencyBar {
                    max_us: bucket_max(i as usize),
                    pages,
                })
                .collect(),
        }
    }
}

/// One minute of a store's events.
#[derive(Debug, Serialize, ToSchema)]
pub struct MinuteStats {
    /// The minute's start, in seconds since 1970 (UTC).
    pub start: u64,
    /// Its events.
    #[serde(flatten)]
    pub events: EventCounts,
    /// Its pages' median time, in microseconds; null without pages.
    pub p50_us: Option<u64>,
    /// Its pages' 99th percentile time.
    pub p99_us: Option<u64>,
}

/// A store's events: totals, page times, and a per-minute series.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsBody {
    /// The store.
    pub store: String,
    /// Every event counted (on the nodes and over the time the totals
    /// cover: see docs/SERVER.md).
    pub totals: EventCounts,
    /// Page times over the same span as `totals`.
    pub latency: LatencySummary,
    /// One entry per minute, oldest first, ending with the current minute
    /// (still counting); as many as the `minutes` parameter asked.
    pub minutes: Vec<MinuteStats>,
}

/// The body for a store from its totals and its minutes with events
/// (`(unix minute, events)`), for the `count` minutes ending at `current`.
pub fn body(
    store: &str,
    total: &EventBucket,
    minutes: &[(u64, EventBucket)],
    current: u64,
    count: u64,
) -> StatsBody {
    let first = current + 1 - count.min(current + 1);
    let empty = EventBucket::default();
    let series = (first..=current)
        .map(|minute| {
            let bucket = minutes
                .iter()
                .find(|(m, _)| *m == minute)
                .map_or(&empty, |(_, b)| b);
            MinuteStats {
                start: minute * 60,
                events: bucket.counts.into(),
                p50_us: quantile(&bucket.latency, 0.5),
                p99_us: quantile(&bucket.latency, 0.99),
            }
        })
        .collect();
    StatsBody {
        store: store.to_owned(),
        totals: total.counts.into(),
        latency: total.into(),
        minutes: series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_has_every_minute_and_the_rates_are_shares() {
        let busy = EventBucket {
            counts: Counts {
                pages: 2,
                impressions: 16,
                upvotes: 3,
                downvotes: 1,
                clicks: 2,
                ..Counts::default()
            },
            latency: vec![(40, 2)],
            latency_sum_us: 200,
        };
        let body = body("s", &busy, &[(98, busy.clone())], 100, 5);
        let starts: Vec<u64> = body.minutes.iter().map(|m| m.start).collect();
        assert_eq!(starts, vec![96 * 60, 97 * 60, 98 * 60, 99 * 60, 100 * 60]);
        assert_eq!(body.minutes[2].events.upvote_rate, Some(0.75));
        assert_eq!(body.minutes[2].events.click_through_rate, Some(0.125));
        assert_eq!(body.minutes[0].events.upvote_rate, None);
        assert_eq!(body.minutes[0].p50_us, None);
        assert_eq!(body.latency.pages, 2);
        assert_eq!(body.latency.mean_us, Some(100));
        assert_eq!(body.latency.histogram.len(), 1);
    }
}
