//! 基本示例 (threading basics): start five threads, then wait for all of them.
//!
//! Python `threading.Thread(target=worker, args=(i,))`, `start()`, `join()` → Rust
//! `thread::spawn(move || worker(i))`, `JoinHandle::join`. The book's page says what
//! differs (book/en/src/threading/basics.md).
//!
//! Run: `cargo run -p multithread --bin thread_basic`
//!
//! Prints the worker lines in whatever order the threads get there, then the last line:
//!
//! ```text
//! Worker 0 is running
//! Worker 1 is running
//! Worker 2 is running
//! Worker 3 is running
//! Worker 4 is running
//! All threads have finished.
//! ```

use std::thread;

fn main() {
    let mut threads = Vec::new();
    for i in 0..5 {
        let t = thread::spawn(move || worker(i));
        threads.push(t);
    }
    for t in threads {
        t.join().expect("a worker thread panicked");
    }
    println!("All threads have finished.");
}

/// The task each thread runs.
fn worker(num: i32) {
    println!("Worker {num} is running");
}
