//! 线程间通信 with std's own channel: `std::sync::mpsc`, in place of crossbeam's, for one
//! producer and one consumer.
//!
//! Python `queue.Queue()` → Rust `mpsc::channel()`: `put` is `send`, `get` is `recv`.
//!
//! Run: `cargo run -p multithread --bin thread_queue_mpsc`
//!
//! Prints `Produced 0`…`Produced 4` in order and `Consumed 0`…`Consumed 4` in order, the two
//! sequences interleaved however the threads ran, for example:
//!
//! ```text
//! Produced 0
//! Consumed 0
//! Produced 1
//! Produced 2
//! Consumed 1
//! Consumed 2
//! Produced 3
//! Consumed 3
//! Produced 4
//! Consumed 4
//! ```

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;

fn main() {
    let (tx, rx) = channel();
    let t1 = thread::spawn(move || producer(tx));
    let t2 = thread::spawn(move || consumer(rx));
    for t in [t1, t2] {
        t.join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }
}

fn producer(q: Sender<i32>) {
    for i in 0..5 {
        q.send(i)
            .expect("the consumer holds the receiver until the sender is dropped");
        println!("Produced {i}");
    }
}

fn consumer(q: Receiver<i32>) {
    for item in q {
        println!("Consumed {item}");
    }
}
