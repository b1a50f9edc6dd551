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

    /// Runs a request job inline when `inline` (a small store's), else on
    /// the pool -- or inline too while no other request job is running or
    /// queued: a hand-off costs a thread wake-up each way (0.2–0.4 ms on a
    /// busy 2-core machine), and one job at a time on an async worker
    /// leaves the others to the sockets and `/healthz`. It counts as
    /// running meanwhile, so every job that comes during it goes to the pool.
    pub async fn run_if<T: Send + 'static>(
        &self,
        inline: bool,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        if inline {
            return Ok(job());
        }
        if let Some(alone) = self.admit_alone() {
            let out = job();
            drop(alone);
            return Ok(out);
        }
        self.run(job).await
    }

    /// Admits a job if it is the only request job (none running or queued).
    fn admit_alone(&self) -> Option<Admitted> {
        self.waiting
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Admitted(self.waiting.clone()))
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

    #[tokio::test]
    async fn a_big_stores_job_runs_inline_only_while_no_other_job_is_in_flight() {
        let compute = Arc::new(Compute::new(1, 4, 0));
        let pool = compute.clone();
        let on_pool = move || pool.pool.current_thread_index().is_some();
        let alone = compute.run_if(false, on_pool.clone()).await.unwrap();
        assert!(!alone, "alone, the job runs inline");
        assert_eq!(compute.waiting(), 0, "and leaves the count");
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let held = {
            let compute = compute.clone();
            tokio::spawn(async move { compute.run(move || hold.recv().unwrap()).await })
        };
        while compute.waiting() < 1 {
            tokio::task::yield_now().await;
        }
        let beside = compute.clone();
        let job = tokio::spawn(async move { beside.run_if(false, on_pool).await });
        while compute.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        assert!(
            job.await.unwrap().unwrap(),
            "beside another job, it goes to the pool"
        );
        held.await.unwrap().unwrap();
        assert_eq!(compute.waiting(), 0);
    }

    #[test]
    fn catalog_jobs_run_on_the_pool_and_are_never_refused() {
        let compute = Compute::new(1, 1, 0);
        let on_pool = compute.catalog_job(|| compute.pool.current_thread_index().is_some());
        assert!(on_pool);
    }
}
