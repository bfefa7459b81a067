//! 限制并发数 (limiting concurrency): five tasks, but a semaphore lets only two of them work
//! at a time, so the run takes about three seconds (2 + 2 + 1 workers, a second each).
//!
//! Python's `asyncio.Semaphore(2)` and `async with semaphore:` become `tokio::sync::Semaphore`
//! and a permit from `acquire().await`, held in a variable until the end of the block: the
//! permit is released when it is dropped, even if the task returns early or panics. tokio's
//! semaphore is fair, so waiting workers get permits in the order they asked.
//! The runtime is `current_thread`, one thread like asyncio's loop (see `async_basic`).
//!
//! Run: `cargo run -p async --bin async_semaphore`
//!
//! Prints each worker's `starting` line before its `finished` line, with never more than two
//! workers between the two; for example:
//!
//! ```text
//! Worker 0 is starting
//! Worker 1 is starting
//! Worker 0 is finished
//! Worker 1 is finished
//! Worker 2 is starting
//! Worker 3 is starting
//! Worker 2 is finished
//! Worker 3 is finished
//! Worker 4 is starting
//! Worker 4 is finished
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    shared::closed_stdout::end_quietly();
    // At most two workers at once.
    let semaphore = Arc::new(Semaphore::new(2));
    let mut tasks = JoinSet::new();
    for i in 0..5 {
        tasks.spawn(worker(Arc::clone(&semaphore), i));
    }
    tasks.join_all().await;
}

async fn worker(semaphore: Arc<Semaphore>, num: i32) {
    let _permit = semaphore
        .acquire()
        .await
        .expect("the semaphore is never closed");
    println!("Worker {num} is starting");
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Worker {num} is finished");
}
