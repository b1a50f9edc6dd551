//! The memory this process may use on its machine — the container's limit
//! when it runs under one (cgroup v2 or v1), else the machine's total — from
//! which the default `memory_budget` is derived.

use std::path::Path;

/// The share of the machine's memory the stores' catalogs get when the
/// operator sets no budget: sessions, sockets, pages in flight, redb's cache
/// and the allocator's slack come on top (BENCHMARKS.md "Many stores").
pub const DEFAULT_BUDGET_SHARE: f64 = 0.5;

/// The memory this process may use, in bytes, or `None` where it cannot be
/// read (not Linux, or `/proc` not mounted).
pub fn available() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(Path::new(p)).ok();
    let total = read("/proc/meminfo").as_deref().and_then(mem_total);
    let limit = read("/sys/fs/cgroup/memory.max")
        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        .as_deref()
        .and_then(cgroup_limit);
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

/// The default budget: [`DEFAULT_BUDGET_SHARE`] of [`available`].
pub fn default_budget() -> Option<u64> {
    available().map(|bytes| (bytes as f64 * DEFAULT_BUDGET_SHARE) as u64)
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => value.checked_mul(1024),
        Some(_) => None,
    }
}

/// A cgroup's limit: `max` (v2) or a value near `u64::MAX` (v1's "none")
/// is no limit.
fn cgroup_limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < 1 << 60).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_total_is_read_from_meminfo_in_kibibytes() {
        let meminfo = "MemTotal:       24593428 kB\nMemFree:        1000 kB\n";
        assert_eq!(mem_total(meminfo), Some(24_593_428 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        assert_eq!(mem_total("MemTotal: lots kB\n"), None);
        assert_eq!(mem_total("MemTotal: 5 MB\n"), None);
    }

    #[test]
    fn a_cgroup_without_a_limit_sets_none() {
        assert_eq!(cgroup_limit("max\n"), None);
        assert_eq!(cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(cgroup_limit("2147483648\n"), Some(2 << 30));
        assert_eq!(cgroup_limit(""), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_machine_gives_a_budget_below_its_memory() {
        let bytes = available().expect("/proc/meminfo is readable");
        let budget = default_budget().unwrap();
        assert!(budget > 0 && budget < bytes, "{budget} of {bytes}");
    }
}
