//! 使用线程池 (thread pool): square five numbers on a pool of four threads.
//!
//! Python `ThreadPoolExecutor(max_workers=4)`, `executor.map` → Rust
//! [`shared::ThreadPool::new(4)`](shared::ThreadPool), `map`: results in input order, and
//! dropping the pool joins its threads. The book's page says what differs
//! (book/en/src/threading/thread-pool.md).
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
    let results = {
        let executor = ThreadPool::new(4);
        executor.map(square, [1, 2, 3, 4, 5])
    };
    println!("{results:?}");
}

fn square(n: i32) -> i32 {
    n * n
}
