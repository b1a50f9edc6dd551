//! The node's CPU pool: long computations run here, off the async workers,
//! so a big scan or a catalog build never stalls the sockets, `/healthz` or
//! the other stores. One rayon pool with a thread per core; jobs that
//! answer a request (pages of big stores, name search, similar) are counted
//! and refused with `overloaded` past `max_queued_jobs`, so a flood waits
//! at the door instead of in memory. Catalog-wide jobs (store builds and
//! loads, snapshot writes) are not refused: they wait their turn on the
//! same threads, which bounds how much CPU they take from pages.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::error::ApiError;

/// The pool and its queue count.
pub struct Compute {
    pool: rayon::ThreadPool,
    waiting: Arc<AtomicUsize>,
    limit: usize,
    /// Pages of stores with at least this many products run on the pool;
    /// smaller stores' pages run inline (cheaper than a hand-off).
    pub pool_from_products: usize,
}

/// One admitted job: leaves the count when dropped (done, or failed).
struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Compute {
    /// A pool of `threads` (0: one per core) that admits at most `limit`
    /// request jobs at a time (running or queued).
    pub fn new(threads: usize, limit: usize, pool_from_products: usize) -> Self {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            threads
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("morelike-compute-{i}"))
            .build()
            .expect("the CPU pool starts");
        Compute {
            pool,
            waiting: Arc::default(),
            limit: limit.max(1),
            pool_from_products,
        }
    }

    /// The pool's threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Request jobs running or queued now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    fn admit(&self) -> Result<Admitted, ApiError> {
        let before = self.waiting.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted(self.waiting.clone());
        if before >= self.limit {
            return Err(ApiError::Overloaded(format!(
                "{before} computations are queued (max_queued_jobs {})",
                self.limit
            )));
        }
        Ok(admitted)
    }

    /// Runs a job that answers a request on the pool and awaits it; refused
    /// with `overloaded` when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let admitted = self.admit()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let out = job();
            // Out of the count before the answer is seen, so the caller's
            // next job finds its place free.
            drop(admitted);
            let _ = tx.send(out);
        });
        rx.await
            .map_err(|_| ApiError::Internal("a computation panicked".into()))
    }

    /// Runs a request job inline when `inline`, else on the pool.
    pub async fn run_if<T: Send + 'static>(
        &self,
        inline: bool,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        if inline {
            Ok(job())
        } else {
            self.run(job).await
        }
    }

    /// Runs a catalog-wide job (a build, a load, a snapshot) on the pool
    /// from a blocking thread and waits for it; never refused.
    pub fn catalog_job<T: Send>(&self, job: impl FnOnce() -> T + Send) -> T {
        self.pool.install(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_past_the_queue_limit_are_refused_as_overloaded_and_the_count_comes_back() {
        let compute = Arc::new(Compute::new(1, 2, 0));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let blocked: Vec<_> = (0..2)
            .map(|_| {
                let compute = compute.clone();
                let hold = hold.clone();
                tokio::spawn(async move {
                    compute
                        .run(move || hold.lock().unwrap().recv().unwrap())
                        .await
                })
            })
            .collect();
        while compute.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        let refused = compute.run(|| 1).await.unwrap_err();
        assert_eq!(refused.code(), "overloaded");
        assert_eq!(refused.status(), 503);
        assert_eq!(compute.waiting(), 2, "a refused job leaves the count");
        release.send(()).unwrap();
        release.send(()).unwrap();
        for job in blocked {
            job.await.unwrap().unwrap();
        }
        assert_eq!(compute.waiting(), 0);
        assert_eq!(compute.run(|| 7).await.unwrap(), 7);
    }

    #[test]
    fn catalog_jobs_run_on_the_pool_and_are_never_refused() {
        let compute = Compute::new(1, 1, 0);
        let on_pool = compute.catalog_job(|| compute.pool.current_thread_index().is_some());
        assert!(on_pool);
    }
}
