//! 使用线程池 (thread pool): square five numbers on a pool of four threads.
//!
//! Python's `ThreadPoolExecutor(max_workers=4)` and `executor.map` become
//! [`shared::ThreadPool::new(4)`](shared::ThreadPool) and its `map`: four long-lived threads
//! fed through a crossbeam channel, results in input order. The pool is the workspace's
//! own (`shared/src/thread_pool.rs`, one file to copy) rather than rayon: rayon is a
//! work-stealing scheduler for data-parallel loops (`par_iter`), while this is the
//! executor the Python code describes, a queue of jobs and `n` threads taking them, in
//! under a hundred lines of code. Dropping the pool joins its threads, as leaving the
//! `with` block does.
//!
//! Run: `cargo run -p multithread --bin thread_pool`
//!
//! Prints:
//!
//! ```text
//! [1, 4, 9, 16, 25]
//! ```

use shared::ThreadPool;

fn main() {
    shared::closed_stdout::end_quietly();
    let results = {
        let executor = ThreadPool::new(4);
        executor.map(square, [1, 2, 3, 4, 5])
    };
    println!("{results:?}");
}

fn square(n: i32) -> i32 {
    n * n
}
