//! 进程间通信 (communication between processes): a producer process puts five items on a
//! queue, then a consumer process takes them off.
//!
//! Python's `multiprocessing.Queue` becomes [`shared::Queue`], a pipe split into a
//! `Sender` and a `Receiver`, each handed to its process with
//! [`Process::start_with`](shared::Process::start_with) (Python's `args=`). The Python
//! consumer loops `while not q.empty()`, but a multiprocessing queue's `empty()` only
//! says what a feeder thread has pushed into the pipe so far, so the loop can stop early
//! and drop items. Here `get` returns `None` only once every sender is gone, i.e. the
//! producer is done, so every item is consumed exactly once; and since each end is open
//! only in the process it was handed to, that end comes even though the children were
//! forked from a parent that once held both ends.
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
    shared::closed_stdout::end_quietly();
    let (tx, rx) = Queue::new().context("opening the queue")?.split();
    let p1 = Process::start_with(tx, producer)?;
    p1.join()?;
    let p2 = Process::start_with(rx, consumer)?;
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
