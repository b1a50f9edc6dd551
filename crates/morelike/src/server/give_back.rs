//! Memory freed by evicted stores, given back to the system. glibc's
//! allocator keeps freed memory for later allocations unless it lies at
//! the top of a heap, so a node that evicts and loads stores all day held
//! up to 1.3× its stores' memory (BENCHMARKS.md, "Many stores on one
//! node"); `malloc_trim` returns the free pages inside every heap
//! (`madvise`), back to ~1.0×. Other allocators (musl's, a build's own)
//! need nothing here.

/// Gives the pages the allocator holds free back to the system; answers
/// whether it could (glibc only).
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
