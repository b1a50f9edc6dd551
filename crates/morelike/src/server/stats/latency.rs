//! The page-time histogram: log-linear buckets of microseconds (exact below
//! 16 µs, then 8 buckets per power of two, so within 12.5 %), each an
//! atomic counter: recording a page is two relaxed additions, no lock.
//! (`hdrhistogram` records through `&mut`, which would need a lock per
//! page; its precision is not needed for p50/p90/p99 to a few per cent.)

use std::sync::atomic::{AtomicU64, Ordering};

/// How many buckets: 16 exact ones, then 8 for each power of two from
/// 2^4 to 2^30 µs (about 18 minutes; longer times go in the last one).
pub const BUCKETS: usize = 16 + 8 * 27;

/// The bucket of a time in microseconds.
pub fn bucket(us: u64) -> usize {
    if us < 16 {
        return us as usize;
    }
    let power = 63 - us.leading_zeros() as usize;
    if power > 30 {
        return BUCKETS - 1;
    }
    16 + (power - 4) * 8 + ((us >> (power - 3)) & 7) as usize
}

/// The largest time a bucket holds, in microseconds.
pub fn bucket_max(i: usize) -> u64 {
    if i < 16 {
        return i as u64;
    }
    let power = 4 + (i - 16) / 8;
    let step = (i - 16) % 8;
    ((9 + step as u64) << (power - 3)) - 1
}

/// The first bucket of times of at least `2^power` µs (`power` ≥ 4), so
/// the buckets before it hold exactly the times under `2^power` µs.
pub fn first_bucket_from(power: u32) -> usize {
    (16 + (power as usize - 4) * 8).min(BUCKETS)
}

/// Page times, counted by bucket, with their sum.
pub struct Latency {
    buckets: Box<[AtomicU64]>,
    sum_us: AtomicU64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
        }
    }
}

impl Latency {
    /// Counts one page's time.
    pub fn record(&self, us: u64) {
        self.buckets[bucket(us)].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The counts so far, by bucket, and their sum.
    pub fn snapshot(&self) -> (Vec<u64>, u64) {
        let counts = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        (counts, self.sum_us.load(Ordering::Relaxed))
    }
}

/// The time under which a share `q` (0–1) of the counted pages took, from
/// counts by bucket (sparse: `(bucket, count)` in bucket order); `None`
/// when nothing was counted.
pub fn quantile(counts: &[(u16, u64)], q: f64) -> Option<u64> {
    let total: u64 = counts.iter().map(|&(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for &(i, n) in counts {
        seen += n;
        if seen >= rank {
            return Some(bucket_max(i as usize));
        }
    }
    counts.last().map(|&(i, _)| bucket_max(i as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_falls_in_the_bucket_whose_range_holds_it() {
        let mut previous_max = None;
        for i in 0..BUCKETS {
            let max = bucket_max(i);
            let min = previous_max.map_or(0, |m: u64| m + 1);
            assert!(min <= max, "bucket {i} is empty");
            assert_eq!(bucket(min), i, "{min} µs");
            assert_eq!(bucket(max), i, "{max} µs");
            previous_max = Some(max);
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_max(first_bucket_from(10) - 1), 1023);
    }

    #[test]
    fn buckets_are_within_an_eighth_of_their_times() {
        for us in [17_u64, 100, 999, 4_321, 65_537, 1_000_000] {
            let max = bucket_max(bucket(us));
            assert!(
                max >= us && (max - us) as f64 <= us as f64 / 8.0,
                "{us} → {max}"
            );
        }
    }

    #[test]
    fn quantiles_read_the_counts_in_order() {
        let latency = Latency::default();
        for us in 1..=100 {
            latency.record(us * 10);
        }
        let (counts, sum) = latency.snapshot();
        assert_eq!(sum, 50_500);
        let sparse: Vec<(u16, u64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(i, &n)| (i as u16, n))
            .collect();
        let p50 = quantile(&sparse, 0.5).unwrap();
        let p99 = quantile(&sparse, 0.99).unwrap();
        assert!((500..=562).contains(&p50), "{p50}");
        assert!((990..=1_114).contains(&p99), "{p99}");
        assert_eq!(quantile(&[], 0.5), None);
    }
}
