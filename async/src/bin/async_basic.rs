//! 异步编程 · 基本示例 (asyncio basics): start five tasks that each sleep a second, then
//! wait for all of them. They sleep at the same time, so the run takes one second, not five.
//!
//! Python `asyncio.create_task(worker(i))`, `asyncio.gather(*tasks)` → Rust
//! `tokio::spawn(worker(i))`, each `JoinHandle` awaited in turn; `asyncio.run` →
//! `#[tokio::main(flavor = "current_thread")]`, one thread like asyncio's loop. The book's
//! page says what differs (book/en/src/asyncio/basics.md).
//!
//! Run: `cargo run -p async --bin async_basic`
//!
//! Prints five `starting` lines at once, then about a second later five `finished` lines
//! (each group in whatever order the runtime polls the tasks):
//!
//! ```text
//! Worker 0 is starting
//! Worker 1 is starting
//! Worker 2 is starting
//! Worker 3 is starting
//! Worker 4 is starting
//! Worker 0 is finished
//! Worker 1 is finished
//! Worker 2 is finished
//! Worker 3 is finished
//! Worker 4 is finished
//! ```

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut tasks = Vec::new();
    for i in 0..5 {
        let task = tokio::spawn(worker(i));
        tasks.push(task);
    }
    for task in tasks {
        task.await.expect("a worker panicked");
    }
}

async fn worker(num: i32) {
    println!("Worker {num} is starting");
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Worker {num} is finished");
}
