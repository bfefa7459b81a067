//! 多线程 · 基本示例 (threading basics): start five threads, then wait for all of them.
//!
//! Python's `threading.Thread(target=worker, args=(i,))`, `start()` and `join()` become
//! `thread::spawn(move || worker(i))`, which starts the thread at once, and
//! `JoinHandle::join`. Python's `print` writes the text and the line end in two writes, so
//! with unbuffered output (`python3 -u`) one thread's line can run into another's;
//! `println!` holds the stdout lock for its whole line, so lines never tear.
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
    shared::closed_stdout::end_quietly();
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
