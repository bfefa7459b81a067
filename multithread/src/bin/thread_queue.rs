//! 线程间通信 (communication between threads): a producer thread hands five items to a
//! consumer thread through a queue.
//!
//! Python `queue.Queue()`, `put`, `get` → Rust `crossbeam_channel::unbounded()`, `send`,
//! `recv`: the consumer's loop ends when the producer drops its `Sender`, so every item is
//! consumed once. The book's page says what differs
//! (book/en/src/threading/communication.md).
//!
//! Run: `cargo run -p multithread --bin thread_queue`
//!
//! Prints `Produced 0`…`Produced 4` in order and `Consumed 0`…`Consumed 4` in order, the two
//! sequences interleaved however the threads ran, for example:
//!
//! ```text
//! Produced 0
//! Produced 1
//! Consumed 0
//! Produced 2
//! Consumed 1
//! Consumed 2
//! Produced 3
//! Produced 4
//! Consumed 3
//! Consumed 4
//! ```

use std::thread;

use crossbeam_channel::{Receiver, Sender, unbounded};

fn main() {
    let (tx, rx) = unbounded();
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
    // `q` is dropped here: that is what ends the consumer's loop.
}

fn consumer(q: Receiver<i32>) {
    for item in q {
        println!("Consumed {item}");
    }
}
