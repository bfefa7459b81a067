//! 异步队列 (async queues): a producer task puts an item in a queue each second, and a
//! consumer task takes them out as they come; five items, about five seconds.
//!
//! Python `asyncio.Queue()`, `put`, `get` → Rust `tokio::sync::mpsc::unbounded_channel()`,
//! `send`, `recv().await`: the consumer's loop ends when the producer drops the sender, so
//! no `task_done()`, `join()` or `cancel()` is needed. The book's page says what differs
//! (book/en/src/asyncio/queue.md).
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
