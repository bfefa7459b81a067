//! 使用Thread子类 (subclassing Thread): a type that carries its own `run`.
//!
//! Python subclasses `threading.Thread` and overrides `run`; `start()` comes from the base
//! class. Rust has no inheritance: the base class becomes a trait with a required `run`
//! and a provided `start`. The Python original crashes with an `AssertionError` because
//! its `__init__` calls `threading.Thread(self)` (building a second, unrelated thread)
//! instead of `super().__init__()`; here a type is a thread only by implementing the trait,
//! so there is no base initialiser to forget.
//!
//! Run: `cargo run -p multithread --bin thread_subclass`
//!
//! Prints the thread lines in whatever order the threads get there, then the last line:
//!
//! ```text
//! Thread 0 is running
//! Thread 1 is running
//! Thread 2 is running
//! Thread 3 is running
//! Thread 4 is running
//! All threads have finished.
//! ```

use std::io;
use std::thread::{self, JoinHandle};

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let mut threads = Vec::new();
    for i in 0..5 {
        let t = MyThread::new(i)
            .start()
            .with_context(|| format!("starting thread {i}"))?;
        threads.push(t);
    }
    for t in threads {
        t.join().expect("a thread panicked");
    }
    println!("All threads have finished.");
    Ok(())
}

struct MyThread {
    num: i32,
}

impl MyThread {
    fn new(num: i32) -> Self {
        MyThread { num }
    }
}

impl Thread for MyThread {
    fn run(&self) {
        println!("Thread {} is running", self.num);
    }
}

/// What `threading.Thread` gives a subclass: override `run`, inherit `start`.
trait Thread: Send + Sized + 'static {
    fn run(&self);

    fn start(self) -> io::Result<JoinHandle<()>> {
        thread::Builder::new().spawn(move || self.run())
    }
}
