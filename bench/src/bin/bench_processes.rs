//! Process workloads for `cargo xtask bench`: `bench_processes <workload> <n>`. Each is the
//! multiprocess examples' pattern on `shared`'s primitives, and prints its result.
//!
//! - `process_spawn n`: `Process::start` n children that do nothing, then `join` them all;
//!   prints how many ended well.
//! - `pool_map n`: `Pool::new(4)?.map` of `square` over the items 0..n; prints the sum of
//!   the squares. The time includes starting and stopping the pool's four workers.
//! - `shared_value n`: 4 processes each `fetch_add(1)` on one `shared_memory::Value<u64>`
//!   n times; prints the total. (An atomic add, where Python takes `get_lock()`.)
//! - `process_queue n`: a child `put`s 0..n on a `queue::Queue<u64>`, the parent `get`s
//!   them until every sender is gone; prints the sum.
//! - `pipe n`: the process queue's limit. A child (started like the queue's producer, so
//!   both pay the same start-up) writes 0..n as 8-byte integers to a raw pipe through a
//!   64 KiB `BufWriter`; the parent reads them through a 64 KiB `BufReader` and prints the
//!   sum.
//!
//! Processes start by the start method in force: `SHARED_START_METHOD=spawn` or `fork`
//! (the bench runs each row under both). Fork refuses in a process with more than one
//! thread: nothing here starts a thread.

use std::io::{self, BufReader, BufWriter, Read, Write};

use shared::process::PrivateFd;

use anyhow::Context;
use bench::{square, unknown, workload_args};
use shared::pool::Pool;
use shared::process::Process;
use shared::queue::{Queue, Sender};
use shared::shared_memory::Value;

const BUFFER: usize = 64 * 1024;
const PROCESSES: usize = 4;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let (name, n) = workload_args()?;
    let result = match name.as_str() {
        "process_spawn" => process_spawn(n)?,
        "pool_map" => pool_map(n)?,
        "shared_value" => shared_value(n)?,
        "process_queue" => process_queue(n)?,
        "pipe" => pipe(n)?,
        _ => {
            return Err(unknown(
                &name,
                &[
                    "process_spawn",
                    "pool_map",
                    "shared_value",
                    "process_queue",
                    "pipe",
                ],
            ));
        }
    };
    println!("{result}");
    Ok(())
}

fn nothing() {}

fn process_spawn(n: u64) -> anyhow::Result<u64> {
    let children = (0..n)
        .map(|_| Process::start(nothing, ()))
        .collect::<Result<Vec<_>, _>>()
        .context("starting a process")?;
    let mut ended_well = 0;
    for child in children {
        child.join()?;
        ended_well += 1;
    }
    Ok(ended_well)
}

fn pool_map(n: u64) -> anyhow::Result<u64> {
    // The pool starts first, as in the Python and procspawn rows.
    let mut pool = Pool::new(PROCESSES)?;
    let items: Vec<u64> = (0..n).collect();
    let squares = pool.map(square, &items)?;
    Ok(squares.iter().sum())
}

fn add_ones(total: Value<u64>, n: u64) {
    for _ in 0..n {
        total.fetch_add(1);
    }
}

fn shared_value(n: u64) -> anyhow::Result<u64> {
    let total = Value::new(0u64).context("mapping the shared value")?;
    let workers = (0..PROCESSES)
        .map(|_| Process::start(add_ones, (total.clone(), n)))
        .collect::<Result<Vec<_>, _>>()
        .context("starting a worker")?;
    for worker in workers {
        worker.join()?;
    }
    Ok(total.get())
}

fn produce(mut q: Sender<u64>, n: u64) -> io::Result<()> {
    for i in 0..n {
        q.put(&i)?;
    }
    q.close()
}

fn process_queue(n: u64) -> anyhow::Result<u64> {
    let (tx, mut rx) = Queue::<u64>::new().context("opening the queue")?.split();
    let producer = Process::start(produce, (tx, n)).context("starting the producer")?;
    let mut sum = 0;
    while let Some(item) = rx.get().context("reading the queue")? {
        sum += item;
    }
    producer.join()?;
    Ok(sum)
}

fn write_numbers(write_end: PrivateFd, n: u64) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(BUFFER, &write_end);
    for i in 0..n {
        out.write_all(&i.to_le_bytes())?;
    }
    out.flush()
}

fn pipe(n: u64) -> anyhow::Result<u64> {
    let (read_end, write_end) = shared::process::pipe().context("opening the pipe")?;
    // Handed over like the queue's sender: the parent's copy closes.
    let writer = Process::start(write_numbers, (write_end, n)).context("starting the writer")?;
    let mut reader = BufReader::with_capacity(BUFFER, &read_end);
    let mut sum = 0u64;
    let mut item = [0u8; 8];
    for _ in 0..n {
        reader
            .read_exact(&mut item)
            .context("reading from the pipe")?;
        sum += u64::from_le_bytes(item);
    }
    writer.join()?;
    Ok(sum)
}
