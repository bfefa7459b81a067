//! 线程同步 with scoped threads: the counter is a local `Mutex<i32>` that 1000 threads
//! borrow, which `thread::scope` allows because every thread ends before the scope does.
//!
//! Python `counter` + `threading.Lock()` → Rust a local `Mutex::new(0)`, `thread::scope`.
//!
//! Run: `cargo run -p multithread --bin counter_scoped`
//!
//! Prints:
//!
//! ```text
//! Final counter value: 1000
//! ```

use std::sync::Mutex;
use std::thread;

fn main() {
    let counter = Mutex::new(0);
    thread::scope(|s| {
        let threads: Vec<_> = (0..1000)
            .map(|_| s.spawn(|| *counter.lock().expect("counter lock poisoned") += 1))
            .collect();
        for t in threads {
            t.join().expect("a counter thread panicked");
        }
    });
    let total = counter.into_inner().expect("counter lock poisoned");
    println!("Final counter value: {total}");
}
