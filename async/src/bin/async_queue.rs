//! 异步队列 (async queues): a producer task puts an item in a queue each second, and a
//! consumer task takes them out as they come; five items, about five seconds.
//!
//! Python's `asyncio.Queue` becomes `tokio::sync::mpsc::unbounded_channel`. tokio's
//! channels have no `task_done()`/`join()`, and need none: the producer owns the only
//! sender and drops it when done, the consumer's `while let Some(item) =
//! queue.recv().await` loop ends once the channel is closed *and* drained, and `main`
//! awaits the consumer's `JoinHandle`. That one `await` does the work of Python's
//! `queue.join()` ("every item was processed") and of `consumer_task.cancel()` (the
//! consumer stops by itself), so no item can be left behind.
//! On the `current_thread` runtime (one thread, like asyncio's loop) the producer runs
//! until its `sleep`, so each item is consumed before the next one is produced.
//!
//! Run: `cargo run -p async --bin async_queue`
//!
//! Prints, one pair a second:
//!
//! ```text
//! Produced 0
//! Consumed 0
//! Produced 1
//! Consumed 1
//! Produced 2
//! Consumed 2
//! Produced 3
//! Consumed 3
//! Produced 4
//! Consumed 4
//! ```

use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    shared::closed_stdout::end_quietly();
    let (tx, rx) = unbounded_channel();
    let producer_task = tokio::spawn(producer(tx));
    let consumer_task = tokio::spawn(consumer(rx));
    producer_task.await.expect("the producer panicked");
    consumer_task.await.expect("the consumer panicked");
}

async fn producer(queue: UnboundedSender<i32>) {
    for i in 0..5 {
        queue
            .send(i)
            .expect("the consumer holds the receiver until the channel is closed");
        println!("Produced {i}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // `queue`, the only sender, is dropped here: that closes the channel.
}

async fn consumer(mut queue: UnboundedReceiver<i32>) {
    while let Some(item) = queue.recv().await {
        println!("Consumed {item}");
    }
}
