//! 限制并发数 (limiting concurrency): five tasks, but a semaphore lets only two of them work
//! at a time, so the run takes about three seconds (2 + 2 + 1 workers, a second each).
//!
//! Python `asyncio.Semaphore(2)`, `async with semaphore:` → Rust `tokio::sync::Semaphore`,
//! a permit from `acquire().await` held until the end of the block. The book's page says
//! what differs (book/en/src/asyncio/semaphore.md).
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // At most two workers at once.
    let semaphore = Arc::new(Semaphore::new(2));
    let tasks: Vec<_> = (0..5)
        .map(|i| tokio::spawn(worker(Arc::clone(&semaphore), i)))
        .collect();
    for task in tasks {
        task.await.expect("a worker panicked");
    }
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
