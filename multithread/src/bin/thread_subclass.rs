//! 使用Thread子类 (subclassing Thread): a type that carries its own `run`.
//!
//! Python a `threading.Thread` subclass that overrides `run` → Rust a `Thread` trait with a
//! required `run` and a provided `start`. The book's page says what differs
//! (book/en/src/threading/subclass.md).
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

use std::thread::{self, JoinHandle};

fn main() {
    let mut threads = Vec::new();
    for i in 0..5 {
        let t = MyThread::new(i).start();
        threads.push(t);
    }
    for t in threads {
        t.join().expect("a thread panicked");
    }
    println!("All threads have finished.");
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

    /// Runs `run` on a new thread, as `thread::spawn` does.
    fn start(self) -> JoinHandle<()> {
        thread::spawn(move || self.run())
    }
}
