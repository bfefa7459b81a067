//! Thread workloads for `cargo xtask bench`: `bench_threads <workload> <n>`.
//!
//! - `lock_counter n`: 4 threads each add 1 to a `Mutex<u64>` n times (the `lock_counter`
//!   example's pattern). Prints 4n.
//! - `thread_queue n`: one producer sends 0..n through a crossbeam `unbounded()` channel,
//!   one consumer sums them (the `thread_queue` example's pattern). Prints the sum.
//! - `mpsc_queue n`: the same through `std::sync::mpsc::channel()`, the peer.
//! - `rayon_map n`: `square` over 0..n with rayon's `par_iter`, collected in order: the
//!   threads upper bound for the process pool's `map`. Prints the sum of the squares.

use std::sync::{Mutex, mpsc};
use std::thread;

use bench::{square, unknown, workload_args};
use rayon::prelude::*;

const THREADS: usize = 4;

fn main() -> anyhow::Result<()> {
    let (name, n) = workload_args()?;
    let result = match name.as_str() {
        "lock_counter" => lock_counter(n),
        "thread_queue" => thread_queue(n),
        "mpsc_queue" => mpsc_queue(n),
        "rayon_map" => rayon_map(n),
        _ => {
            return Err(unknown(
                &name,
                &["lock_counter", "thread_queue", "mpsc_queue", "rayon_map"],
            ));
        }
    };
    println!("{result}");
    Ok(())
}

fn lock_counter(n: u64) -> u64 {
    let counter = Mutex::new(0u64);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..n {
                    *counter.lock().expect("counter lock poisoned") += 1;
                }
            });
        }
    });
    counter.into_inner().expect("counter lock poisoned")
}

fn thread_queue(n: u64) -> u64 {
    let (tx, rx) = crossbeam_channel::unbounded();
    thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                tx.send(i).expect("the consumer outlives the producer");
            }
        });
        s.spawn(move || rx.iter().sum())
            .join()
            .expect("the consumer panicked")
    })
}

fn mpsc_queue(n: u64) -> u64 {
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                tx.send(i).expect("the consumer outlives the producer");
            }
        });
        s.spawn(move || rx.iter().sum())
            .join()
            .expect("the consumer panicked")
    })
}

fn rayon_map(n: u64) -> u64 {
    let squares: Vec<u64> = (0..n).into_par_iter().map(square).collect();
    squares.iter().sum()
}
