//! A strategy wrapper that measures how long each page takes to compute.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use morelike_core::index::Hit;
use morelike_core::strategy::{Context, Strategy};

/// Counts pages and the nanoseconds spent computing them.
pub struct Timed<'s> {
    inner: &'s dyn Strategy,
    nanos: AtomicU64,
    pages: AtomicU64,
}

impl<'s> Timed<'s> {
    /// Wraps a strategy.
    pub fn new(inner: &'s dyn Strategy) -> Self {
        Timed {
            inner,
            nanos: AtomicU64::new(0),
            pages: AtomicU64::new(0),
        }
    }

    /// Mean compute time per page in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        let pages = self.pages.load(Ordering::Relaxed).max(1);
        self.nanos.load(Ordering::Relaxed) as f64 / pages as f64 / 1e6
    }
}

impl Strategy for Timed<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn page(&self, cx: &Context<'_>) -> Vec<Hit> {
        let started = Instant::now();
        let hits = self.inner.page(cx);
        self.nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.pages.fetch_add(1, Ordering::Relaxed);
        hits
    }
}
