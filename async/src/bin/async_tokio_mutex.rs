//! A lock held across an `.await`: five tasks each take the lock, pause, and add one to a
//! shared counter.
//!
//! Python `asyncio.Lock()` with `async with lock:` → Rust `tokio::sync::Mutex` with
//! `lock().await`: its guard may be held across an `.await` in a spawned task, where a
//! std `MutexGuard` may not (see the page's refused program).
//!
//! Run: `cargo run -p async --bin async_tokio_mutex`
//!
//! Prints:
//!
//! ```text
//! Final counter value: 5
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let counter = Arc::new(Mutex::new(0));
    let tasks: Vec<_> = (0..5)
        .map(|_| tokio::spawn(add_one(Arc::clone(&counter))))
        .collect();
    for task in tasks {
        task.await.expect("a task panicked");
    }
    println!("Final counter value: {}", *counter.lock().await);
}

async fn add_one(counter: Arc<Mutex<i32>>) {
    let mut guard = counter.lock().await;
    let temp = *guard;
    tokio::time::sleep(Duration::from_millis(10)).await;
    *guard = temp + 1;
}
