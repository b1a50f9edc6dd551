//! CPU-bound work of the core spread over scoped threads, its results in a
//! fixed order: no result depends on how many threads ran it.

use std::ops::Range;

/// How many threads the core's long jobs (fitting, encoding, clustering)
/// are spread over: one per core.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `0..len` cut into `parts` contiguous ranges of nearly equal length (none
/// empty unless `len` is 0), in order.
pub(crate) fn ranges(len: usize, parts: usize) -> Vec<Range<usize>> {
    let size = len.div_ceil(parts.max(1)).max(1);
    (0..len)
        .step_by(size)
        .map(|start| start..(start + size).min(len))
        .collect()
}

/// `work` done on each item, spread over `threads` scoped threads (item
/// after item in turn), the results in the items' order.
pub(crate) fn on_threads<I, T, R>(threads: usize, items: I, work: impl Fn(T) -> R + Sync) -> Vec<R>
where
    I: Iterator<Item = T>,
    T: Send,
    R: Send,
{
    let items: Vec<T> = items.collect();
    let count = items.len();
    let threads = threads.max(1);
    let mut turns: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        turns[i % threads].push((i, item));
    }
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = turns
            .into_iter()
            .map(|turn| {
                scope.spawn(move || {
                    turn.into_iter()
                        .map(|(i, t)| (i, work(t)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    });
    done.sort_by_key(|&(i, _)| i);
    debug_assert_eq!(done.len(), count);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_everything_in_order() {
        assert_eq!(ranges(10, 3), vec![0..4, 4..8, 8..10]);
        assert_eq!(ranges(2, 4), vec![0..1, 1..2]);
        assert!(ranges(0, 2).is_empty());
        assert_eq!(on_threads(3, 0..7, |i| i * 2), vec![0, 2, 4, 6, 8, 10, 12]);
    }
}
