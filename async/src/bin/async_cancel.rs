//! Cancelling a task: a worker that would sleep ten seconds is aborted after a tenth of a
//! second, and awaiting it then says it was cancelled.
//!
//! Python `task.cancel()`, then `await task` raising `CancelledError` → Rust
//! `handle.abort()`, then `handle.await` giving an error whose `is_cancelled()` is true.
//! The worker gets no exception to catch: it stops at the `.await` it was paused on.
//!
//! Run: `cargo run -p async --bin async_cancel`
//!
//! Prints, the second line about a tenth of a second after the first:
//!
//! ```text
//! Worker is starting
//! Worker was cancelled
//! ```

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let task = tokio::spawn(worker());
    tokio::time::sleep(Duration::from_millis(100)).await;
    task.abort();
    match task.await {
        Ok(()) => println!("Worker finished"),
        Err(e) if e.is_cancelled() => println!("Worker was cancelled"),
        Err(e) => panic!("the worker panicked: {e}"),
    }
}

async fn worker() {
    println!("Worker is starting");
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!("Worker is finished");
}
