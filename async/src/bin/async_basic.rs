//! 异步编程 · 基本示例 (asyncio basics): start five tasks that each sleep a second, then
//! wait for all of them. They sleep at the same time, so the run takes one second, not five.
//!
//! Python's `asyncio.create_task(worker(i))` and `asyncio.gather(*tasks)` become
//! `JoinSet::spawn(worker(i))` and `JoinSet::join_all`. asyncio runs its event loop on one
//! thread; the `current_thread` runtime flavour does the same, so the tasks take turns at each
//! `.await` on the main thread, as in Python, and nothing here needs to be `Send` or
//! locked. (The default multi-threaded flavour would also work, spreading the tasks over
//! a thread per core, but buys nothing for tasks that only wait.)
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

use tokio::task::JoinSet;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    shared::closed_stdout::end_quietly();
    let mut tasks = JoinSet::new();
    for i in 0..5 {
        tasks.spawn(worker(i));
    }
    // Panics (resuming the panic) only if a worker panicked, which would be a bug.
    tasks.join_all().await;
}

async fn worker(num: i32) {
    println!("Worker {num} is starting");
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Worker {num} is finished");
}
