//! A bound on a wait: a worker that would take two seconds is given half a second, and the
//! wait ends when the time is up.
//!
//! Python `await asyncio.wait_for(worker(), timeout=0.5)` → Rust
//! `tokio::time::timeout(Duration::from_millis(500), worker()).await`: `Err(Elapsed)` when
//! the time ran out, and the worker's future is dropped, which cancels it.
//!
//! Run: `cargo run -p async --bin async_timeout`
//!
//! Prints, the second line about half a second after the first:
//!
//! ```text
//! Worker is starting
//! Worker timed out after 500 ms
//! ```

use std::time::Duration;

use tokio::time::timeout;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let limit = Duration::from_millis(500);
    match timeout(limit, worker()).await {
        Ok(()) => println!("Worker finished in time"),
        Err(_elapsed) => println!("Worker timed out after {} ms", limit.as_millis()),
    }
}

async fn worker() {
    println!("Worker is starting");
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("Worker is finished");
}
