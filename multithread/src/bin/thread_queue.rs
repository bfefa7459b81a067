//! 线程间通信 (communication between threads): a producer thread hands five items to a
//! consumer thread through a queue.
//!
//! Python's `queue.Queue` becomes a `crossbeam_channel::unbounded()` channel. The Python
//! consumer loops `while not q.empty()`, so it quits whenever it finds the queue empty,
//! which happens if it starts before the producer's first `put`: items are lost. Here the
//! consumer's `for` loop ends only when the channel is drained *and* the producer has
//! dropped its sender, i.e. when the producer is done, so every item is consumed once.
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

use anyhow::Context;
use crossbeam_channel::{Receiver, Sender, unbounded};

fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let (tx, rx) = unbounded();
    let t1 = thread::Builder::new()
        .spawn(move || producer(tx))
        .context("starting the producer thread")?;
    let t2 = thread::Builder::new()
        .spawn(move || consumer(rx))
        .context("starting the consumer thread")?;
    for t in [t1, t2] {
        t.join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }
    Ok(())
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
