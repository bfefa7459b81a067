//! A blocking call kept off the event loop: two seconds of blocking work run on tokio's
//! blocking threads while a task on the loop ticks every quarter second.
//!
//! Python `await asyncio.to_thread(blocking_work)` → Rust
//! `tokio::task::spawn_blocking(blocking_work).await`. Called directly in a task, the
//! blocking call would stop the loop, and every other task with it, until it returned.
//!
//! Run: `cargo run -p async --bin async_blocking`
//!
//! Prints the ticks while the blocking work runs, then its result:
//!
//! ```text
//! Blocking work is starting
//! Tick 1
//! Tick 2
//! Tick 3
//! Blocking work is finished
//! Result: 42
//! ```

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ticker = tokio::spawn(async {
        for i in 1..=3 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            println!("Tick {i}");
        }
    });
    let result = tokio::task::spawn_blocking(blocking_work)
        .await
        .expect("the blocking work panicked");
    ticker.await.expect("the ticker panicked");
    println!("Result: {result}");
}

/// A call that blocks its thread for two seconds, as a file read or a C library call can.
fn blocking_work() -> i32 {
    println!("Blocking work is starting");
    std::thread::sleep(Duration::from_secs(2));
    println!("Blocking work is finished");
    42
}
