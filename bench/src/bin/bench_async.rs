//! Async workloads for `cargo xtask bench`: `bench_async <workload> <n>`, on tokio's
//! `current_thread` runtime, one thread like asyncio's event loop (as the async examples).
//!
//! - `async_tasks n`: `tokio::spawn` n tasks that each yield once (`yield_now`, Python's
//!   `await asyncio.sleep(0)`) and return their index; await them all, print the sum.
//! - `async_queue n`: a producer task sends 0..n through `unbounded_channel` (the
//!   `async_queue` example's `asyncio.Queue`), a consumer task sums them; prints the sum.

use bench::{unknown, workload_args};
use tokio::sync::mpsc::unbounded_channel;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let (name, n) = workload_args()?;
    let result = match name.as_str() {
        "async_tasks" => async_tasks(n).await,
        "async_queue" => async_queue(n).await,
        _ => return Err(unknown(&name, &["async_tasks", "async_queue"])),
    };
    println!("{result}");
    Ok(())
}

async fn async_tasks(n: u64) -> u64 {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                i
            })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("a task panicked");
    }
    sum
}

async fn async_queue(n: u64) -> u64 {
    let (tx, mut rx) = unbounded_channel();
    let producer = tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).expect("the consumer outlives the producer");
        }
    });
    let consumer = tokio::spawn(async move {
        let mut sum = 0;
        while let Some(item) = rx.recv().await {
            sum += item;
        }
        sum
    });
    producer.await.expect("the producer panicked");
    consumer.await.expect("the consumer panicked")
}
