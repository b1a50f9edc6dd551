//! Memory freed by evicted stores, given back to the system. glibc's
//! allocator keeps freed memory for later allocations unless it lies at
//! the top of a heap, so a node that evicts and loads stores all day held
//! up to 1.3× its stores' memory (BENCHMARKS.md, "Many stores on one
//! node"); `malloc_trim` returns the free pages inside every heap
//! (`madvise`), back to ~1.0×. It takes 0.7 ms (p50) to 5 ms (p99) with
//! 1.5 GB of stores, so it runs beside the request that evicted, not in
//! it, and calls made while one is due are one. Other allocators (musl's,
//! a build's own) need nothing here.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a give-back is queued and not started.
static DUE: AtomicBool = AtomicBool::new(false);

/// Gives the allocator's free pages back soon, on a blocking thread of the
/// runtime (at once without one); a call while one is queued adds nothing.
pub fn soon() {
    if DUE.swap(true, Ordering::AcqRel) {
        return;
    }
    let run = || {
        DUE.store(false, Ordering::Release);
        let started = std::time::Instant::now();
        if free_pages() {
            tracing::debug!(
                us = started.elapsed().as_micros() as u64,
                "freed memory given back to the system"
            );
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(run)),
        Err(_) => run(),
    }
}

/// Gives the pages the allocator holds free back to the system now;
/// answers whether it could (glibc only).
pub fn free_pages() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        #[allow(unsafe_code)]
        // SAFETY: `malloc_trim` is glibc's, takes a plain integer (the
        // bytes to keep at the top of the main heap) and only releases
        // memory no allocation holds; it takes the allocator's own locks.
        unsafe {
            libc::malloc_trim(0);
        }
        true
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
