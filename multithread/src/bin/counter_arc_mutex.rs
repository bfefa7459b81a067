//! 线程同步, the Rust way most texts teach: the counter in an `Arc<Mutex<i32>>`, a clone
//! of the `Arc` moved into each of 1000 threads.
//!
//! Python `counter` + `threading.Lock()` → Rust `Arc::new(Mutex::new(0))`, `lock()`.
//!
//! Run: `cargo run -p multithread --bin counter_arc_mutex`
//!
//! Prints:
//!
//! ```text
//! Final counter value: 1000
//! ```

use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let counter = Arc::new(Mutex::new(0));
    let mut threads = Vec::new();
    for _ in 0..1000 {
        let counter = Arc::clone(&counter);
        threads.push(thread::spawn(move || {
            *counter.lock().expect("counter lock poisoned") += 1;
        }));
    }
    for t in threads {
        t.join().expect("a counter thread panicked");
    }
    let total = *counter.lock().expect("counter lock poisoned");
    println!("Final counter value: {total}");
}
