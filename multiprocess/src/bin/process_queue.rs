//! 进程间通信 (communication between processes): a producer process puts five items on a
//! queue, then a consumer process takes them off.
//!
//! Python's `multiprocessing.Queue` becomes [`shared::Queue`], split into a `Sender` and a
//! `Receiver`, each handed to its process as its argument (Python's `args=`). The consumer
//! stops when `get` returns `None`, once the producer has closed its end, where the
//! Python loops `while not q.empty()`. `shared::main_guard()` is Python's
//! `if __name__ == '__main__':`.
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
