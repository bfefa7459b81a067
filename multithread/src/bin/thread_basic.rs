//! 多线程 · 基本示例 (threading basics): start five threads, then wait for all of them.
//!
//! Python's `threading.Thread(target=worker, args=(i,))`, `start()` and `join()` become
//! `thread::Builder::spawn(move || worker(i))` and `JoinHandle::join`. Each `println!`
//! holds the stdout lock for its whole line, so lines never tear.
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

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let mut threads = Vec::new();
    for i in 0..5 {
        let t = thread::Builder::new()
            .spawn(move || worker(i))
            .with_context(|| format!("starting thread {i}"))?;
        threads.push(t);
    }
    for t in threads {
        t.join().expect("a worker thread panicked");
    }
    println!("All threads have finished.");
    Ok(())
}

/// The task each thread runs.
fn worker(num: i32) {
    println!("Worker {num} is running");
}
