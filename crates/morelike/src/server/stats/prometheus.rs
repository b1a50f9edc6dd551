//! `GET /metrics` in the Prometheus text format (0.0.4): each store's event
//! counters and page-time histogram on this node (label `store`), the
//! refusals by code, and the node's gauges.

use std::fmt::Write;

use super::latency::first_bucket_from;
use crate::store::EventBucket;

/// The node's gauges.
pub struct Node {
    /// WebSockets open now.
    pub open_sockets: usize,
    /// Stores whose catalog is in memory.
    pub stores_in_memory: usize,
    /// The memory those stores take, as counted (bytes).
    pub held_bytes: u64,
    /// The memory budget, if any (bytes).
    pub memory_budget: Option<u64>,
}

/// The histogram's bounds: powers of two from 32 µs to 16.8 s (the
/// buckets' edges, so each count is exact).
const POWERS: std::ops::RangeInclusive<u32> = 5..=24;

/// How a counter is read from a store's events.
type Count = fn(&EventBucket) -> u64;

/// A label value with `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The text of `/metrics`: stores' totals by name, refusals by code, gauges.
pub fn render(stores: &[(String, EventBucket)], refusals: &[(&str, u64)], node: &Node) -> String {
    let mut out = String::new();
    let counters: [(&str, &str, Count); 4] = [
        (
            "morelike_sessions_started_total",
            "Sessions started.",
            |b| b.counts.sessions,
        ),
        ("morelike_pages_total", "Pages served.", |b| b.counts.pages),
        (
            "morelike_impressions_total",
            "Products shown on pages.",
            |b| b.counts.impressions,
        ),
        (
            "morelike_clicks_total",
            "Shown products opened by shoppers.",
            |b| b.counts.clicks,
        ),
    ];
    for (name, help, value) in counters {
        header(&mut out, name, "counter", help);
        for (store, bucket) in stores {
            let _ = writeln!(
                out,
                "{name}{{store=\"{}\"}} {}",
                label(store),
                value(bucket)
            );
        }
    }
    let name = "morelike_votes_total";
    header(
        &mut out,
        name,
        "counter",
        "Votes, by kind (up: more like this, down: not my style).",
    );
    for (store, bucket) in stores {
        let (store, c) = (label(store), bucket.counts);
        let _ = writeln!(out, "{name}{{store=\"{store}\",vote=\"up\"}} {}", c.upvotes);
        let _ = writeln!(
            out,
            "{name}{{store=\"{store}\",vote=\"down\"}} {}",
            c.downvotes
        );
    }
    let name = "morelike_page_seconds";
    header(
        &mut out,
        name,
        "histogram",
        "Server time of each page (took_us).",
    );
    for (store, bucket) in stores {
        let store = label(store);
        let total: u64 = bucket.latency.iter().map(|&(_, n)| n).sum();
        for power in POWERS {
            let below = first_bucket_from(power) as u16;
            let count: u64 = bucket
                .latency
                .iter()
                .take_while(|&&(i, _)| i < below)
                .map(|&(_, n)| n)
                .sum();
            let le = (1_u64 << power) as f64 / 1e6;
            let _ = writeln!(
                out,
                "{name}_bucket{{store=\"{store}\",le=\"{le}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{store=\"{store}\",le=\"+Inf\"}} {total}"
        );
        let sum = bucket.latency_sum_us as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{store=\"{store}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{store=\"{store}\"}} {total}");
    }
    let name = "morelike_refusals_total";
    header(
        &mut out,
        name,
        "counter",
        "Requests refused by a limit, by error code.",
    );
    for (code, n) in refusals {
        let _ = writeln!(out, "{name}{{code=\"{}\"}} {n}", label(code));
    }
    let gauges = [
        (
            "morelike_open_sockets",
            "WebSockets open now.",
            node.open_sockets as u64,
        ),
        (
            "morelike_stores_in_memory",
            "Stores whose catalog is in memory.",
            node.stores_in_memory as u64,
        ),
        (
            "morelike_held_bytes",
            "Memory the stores in memory take, as counted.",
            node.held_bytes,
        ),
    ];
    for (name, help, value) in gauges {
        header(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {value}");
    }
    if let Some(budget) = node.memory_budget {
        header(
            &mut out,
            "morelike_memory_budget_bytes",
            "gauge",
            "The memory budget of the stores.",
        );
        let _ = writeln!(out, "morelike_memory_budget_bytes {budget}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::stats::latency::bucket;
    use crate::store::Counts;

    #[test]
    fn counters_and_histogram_are_labelled_by_store() {
        let bucket_of_300us = bucket(300) as u16;
        let b = EventBucket {
            counts: Counts {
                pages: 3,
                upvotes: 2,
                ..Counts::default()
            },
            latency: vec![(bucket_of_300us, 3)],
            latency_sum_us: 900,
        };
        let node = Node {
            open_sockets: 2,
            stores_in_memory: 1,
            held_bytes: 10,
            memory_budget: None,
        };
        let text = render(&[("a\"b".into(), b)], &[("rate_limited", 4)], &node);
        assert!(
            text.contains("morelike_pages_total{store=\"a\\\"b\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("morelike_votes_total{store=\"a\\\"b\",vote=\"up\"} 2\n"));
        assert!(text.contains("le=\"0.000256\"} 0\n"), "{text}");
        assert!(text.contains("le=\"0.000512\"} 3\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3\n"));
        assert!(text.contains("morelike_page_seconds_sum{store=\"a\\\"b\"} 0.0009\n"));
        assert!(text.contains("morelike_refusals_total{code=\"rate_limited\"} 4\n"));
        assert!(text.contains("morelike_open_sockets 2\n"));
        assert!(!text.contains("memory_budget"));
    }
}
