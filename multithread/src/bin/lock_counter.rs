//! 线程同步 (thread synchronisation): 1000 threads each add one to a shared counter.
//!
//! Python `counter` guarded by `threading.Lock()`, `with lock:` → Rust
//! `static COUNTER: Mutex<i32>`, `COUNTER.lock()`: the `Mutex` owns the counter. The book's
//! page says what differs (book/en/src/threading/synchronisation.md).
//!
//! Run: `cargo run -p multithread --bin lock_counter`
//!
//! Prints:
//!
//! ```text
//! Final counter value: 1000
//! ```

use std::sync::Mutex;
use std::thread;

static COUNTER: Mutex<i32> = Mutex::new(0);

fn main() {
    let mut threads = Vec::new();
    for _ in 0..1000 {
        let t = thread::spawn(increment_counter);
        threads.push(t);
    }
    for t in threads {
        t.join().expect("a counter thread panicked");
    }
    println!(
        "Final counter value: {}",
        *COUNTER.lock().expect("counter lock poisoned")
    );
}

fn increment_counter() {
    let mut counter = COUNTER.lock().expect("counter lock poisoned");
    let temp = *counter;
    *counter = temp + 1;
}
