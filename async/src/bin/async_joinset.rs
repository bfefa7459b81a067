//! 基本示例 with a `JoinSet`: five tasks that each sleep a second, gathered as a set, so the
//! run takes one second, not five.
//!
//! Python `asyncio.gather(*tasks)` → Rust `tokio::task::JoinSet`: `spawn` each task into
//! the set, then `join_all().await` waits for them all and gives their results.
//!
//! Run: `cargo run -p async --bin async_joinset`
//!
//! Prints five `starting` lines at once, then about a second later five `finished` lines
//! (each group in whatever order the runtime polls the tasks), then how many finished:
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
//! 5 workers finished
//! ```

use std::time::Duration;

use tokio::task::JoinSet;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut tasks = JoinSet::new();
    for i in 0..5 {
        tasks.spawn(worker(i));
    }
    let finished = tasks.join_all().await;
    println!("{} workers finished", finished.len());
}

async fn worker(num: i32) -> i32 {
    println!("Worker {num} is starting");
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Worker {num} is finished");
    num
}
