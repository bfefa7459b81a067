//! `ThreadPool`: a fixed number of worker threads fed through a crossbeam channel,
//! with an ordered `map`, like Python's `ThreadPoolExecutor(max_workers=n).map`.
//!
//! ```
//! use shared::thread_pool::ThreadPool;
//!
//! let pool = ThreadPool::new(4);
//! assert_eq!(pool.map(|n: i32| n * n, [1, 2, 3, 4, 5]), [1, 4, 9, 16, 25]);
//! ```
//!
//! # Copying it
//!
//! Copy `thread_pool.rs` into your crate, and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! crossbeam-channel = "0.5.15"
//! ```
//!
//! 0.5.15 or newer: 0.5.12 to 0.5.14 have a double free (RUSTSEC-2025-0024).

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Sender, unbounded};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A pool of `max_workers` threads that run submitted work until the pool is dropped.
///
/// Dropping the pool waits for queued work to finish, like leaving Python's
/// `with ThreadPoolExecutor(...)` block (`shutdown(wait=True)`).
#[derive(Debug)]
pub struct ThreadPool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    /// Starts `max_workers` worker threads.
    ///
    /// # Panics
    /// If `max_workers` is 0 (Python raises `ValueError` there too), or if the OS
    /// cannot start a thread.
    pub fn new(max_workers: usize) -> Self {
        assert!(
            max_workers > 0,
            "ThreadPool::new: max_workers must be greater than 0"
        );
        let (jobs, queue) = unbounded::<Job>();
        let workers = (0..max_workers)
            .map(|i| {
                let queue = queue.clone();
                thread::Builder::new()
                    .name(format!("pool-worker-{i}"))
                    .spawn(move || {
                        for job in queue {
                            job();
                        }
                    })
                    .expect("ThreadPool::new: the OS refused to start a worker thread")
            })
            .collect();
        ThreadPool {
            jobs: Some(jobs),
            workers,
        }
    }

    /// The number of worker threads.
    pub fn max_workers(&self) -> usize {
        self.workers.len()
    }

    /// Applies `f` to every item on the pool's threads and returns the results in
    /// input order, whatever order they finish in.
    ///
    /// If `f` panics on an item, `map` panics with the same payload once the other
    /// items are done, as Python's `map` re-raises a worker's exception.
    ///
    /// # Deadlock: `map` inside one of this pool's own jobs
    ///
    /// A job that calls `map` on its own pool waits for the inner items, which wait in the
    /// queue for a free worker. When every worker is running such a waiting job, no worker
    /// is free, and the outer `map` never returns. Python's `ThreadPoolExecutor` deadlocks
    /// the same way. Run nested work inline, or on a pool of its own.
    pub fn map<I, T, F>(&self, f: F, items: I) -> Vec<T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let (results, done) = unbounded::<(usize, thread::Result<T>)>();
        let jobs = self.jobs.as_ref().expect("the job sender lives until drop");
        let mut count = 0;
        for (index, item) in items.into_iter().enumerate() {
            let (f, results) = (Arc::clone(&f), results.clone());
            let job: Job = Box::new(move || {
                let result = panic::catch_unwind(AssertUnwindSafe(|| f(item)));
                // The receiver outlives every job: `map` waits for all of them.
                let _ = results.send((index, result));
            });
            jobs.send(job)
                .expect("workers hold the receiver until drop");
            count += 1;
        }
        drop(results);

        let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
        let mut panicked: Option<Box<dyn Any + Send>> = None;
        for (index, result) in done.iter().take(count) {
            match result {
                Ok(value) => slots[index] = Some(value),
                Err(payload) => panicked = panicked.or(Some(payload)),
            }
        }
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
        slots
            .into_iter()
            .map(|slot| slot.expect("every job sends exactly one result"))
            .collect()
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        drop(self.jobs.take()); // closes the queue: each worker ends after the last job
        for worker in self.workers.drain(..) {
            // Jobs catch their own panics, so a worker cannot have panicked.
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn map_keeps_input_order_when_items_finish_out_of_order() {
        let pool = ThreadPool::new(4);
        let out = pool.map(
            |n: u64| {
                thread::sleep(Duration::from_millis(20 - n * 4));
                n * 10
            },
            [1, 2, 3, 4],
        );
        assert_eq!(out, [10, 20, 30, 40]);
    }

    #[test]
    fn map_runs_on_at_most_max_workers_threads() {
        let pool = ThreadPool::new(3);
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let record = Arc::clone(&seen);
        pool.map(
            move |_: u32| {
                record.lock().unwrap().insert(thread::current().id());
                thread::sleep(Duration::from_millis(1));
            },
            0..50,
        );
        let threads = seen.lock().unwrap().len();
        assert!((1..=3).contains(&threads), "{threads} threads ran jobs");
        assert_ne!(
            *seen.lock().unwrap().iter().next().unwrap(),
            thread::current().id()
        );
    }

    #[test]
    fn map_of_nothing_is_empty_and_pool_is_reusable() {
        let pool = ThreadPool::new(2);
        assert!(pool.map(|n: i32| n, Vec::new()).is_empty());
        assert_eq!(pool.map(|s: &str| s.len(), ["ab", "c"]), [2, 1]);
        assert_eq!(pool.max_workers(), 2);
    }

    #[test]
    fn a_panicking_item_panics_map_with_its_message() {
        let pool = ThreadPool::new(2);
        let err = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.map(
                |n: i32| if n == 3 { panic!("bad item {n}") } else { n },
                1..=5,
            )
        }))
        .unwrap_err();
        assert_eq!(
            err.downcast_ref::<String>().map(String::as_str),
            Some("bad item 3")
        );
        // The workers survived the panic.
        assert_eq!(pool.map(|n: i32| n + 1, [1]), [2]);
    }

    /// Runs `pool.map(outer)` where each outer item maps two inner items on the same pool;
    /// `None` if it has not returned within `wait`. The pool is leaked: a deadlocked one
    /// cannot be dropped, and a job must not drop the last handle to its own pool.
    fn nested_map(pool: ThreadPool, outer: Vec<u32>, wait: Duration) -> Option<Vec<Vec<u32>>> {
        let pool: &'static ThreadPool = Box::leak(Box::new(pool));
        let (done, finished) = crossbeam_channel::bounded(1);
        thread::spawn(move || {
            let nested = |n: u32| pool.map(|m: u32| m * 10, [n, n + 1]);
            let _ = done.send(pool.map(nested, outer));
        });
        finished.recv_timeout(wait).ok()
    }

    #[test]
    fn map_inside_its_own_jobs_deadlocks_when_every_worker_waits() {
        // One worker, busy with the outer job, which waits for inner jobs no one can run.
        let stuck = nested_map(ThreadPool::new(1), vec![1], Duration::from_millis(300));
        assert_eq!(stuck, None);
        // Free workers run the inner jobs: no deadlock.
        let done = nested_map(ThreadPool::new(4), vec![1, 5], Duration::from_secs(10));
        assert_eq!(done, Some(vec![vec![10, 20], vec![50, 60]]));
    }

    #[test]
    #[should_panic(expected = "max_workers must be greater than 0")]
    fn zero_workers_is_refused() {
        ThreadPool::new(0);
    }
}
