//! 线程同步 without a lock: the counter is an `AtomicI32`, and each thread's add is one
//! indivisible `fetch_add`, where Python's `counter += 1` is a read and then a write.
//!
//! Python `counter` + `threading.Lock()` → Rust `static COUNTER: AtomicI32`, `fetch_add`.
//!
//! Run: `cargo run -p multithread --bin counter_atomic`
//!
//! Prints:
//!
//! ```text
//! Final counter value: 1000
//! ```

use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;

static COUNTER: AtomicI32 = AtomicI32::new(0);

fn main() {
    let mut threads = Vec::new();
    for _ in 0..1000 {
        threads.push(thread::spawn(|| COUNTER.fetch_add(1, Ordering::Relaxed)));
    }
    for t in threads {
        t.join().expect("a counter thread panicked");
    }
    // The joins ordered every add before this load.
    println!("Final counter value: {}", COUNTER.load(Ordering::Relaxed));
}
