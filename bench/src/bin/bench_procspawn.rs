//! The process pool's same-model peer for `cargo xtask bench`: procspawn's `Pool`,
//! `bench_procspawn <workload> <n>`. Each prints the sum of the squares of 0..n.
//!
//! - `procspawn_map n`: `square` over the items 0..n on a `procspawn::Pool` of 4
//!   processes, the items cut into batches, as a user mapping over many small items
//!   would: each job is a serde call (the batch there, its squares back). 16 batches per
//!   process measured fastest of 1, 2, 4, 8, 16, 32 and 64 (at n = 1 000 000, about 50 ms
//!   against 70 ms for one batch per process).
//! - `procspawn_each n`: the same with one job per item, procspawn's own unit of work
//!   (`pool.spawn(x, square)`); at most `WINDOW` jobs in flight, since every job holds
//!   two ipc-channel channels (4 file descriptors) until it is joined.
//!
//! procspawn re-executes this binary for each worker, which is why it is a binary of its
//! own: `procspawn::init()` must come first in `main`, and a worker never returns from it.

use anyhow::{Context, anyhow};
use bench::{square, unknown, workload_args};
use procspawn::Pool;

const PROCESSES: usize = 4;
/// Jobs per process for `procspawn_map`: the fastest measured, see the header.
const BATCHES_PER_PROCESS: usize = 16;
/// Jobs in flight at once for `procspawn_each`: far below the usual 1024 open files.
const WINDOW: usize = 64;

fn main() -> anyhow::Result<()> {
    procspawn::init();
    // SAFETY: the functions this binary spawns (`square`, `squares`) are in the binary
    // itself, not in a shared library: what procspawn's `safe-shared-libraries` feature,
    // left out of the build (see the root Cargo.toml), would otherwise check per call.
    unsafe { procspawn::assert_spawn_is_safe() };
    let (name, n) = workload_args()?;
    let result = match name.as_str() {
        "procspawn_map" => procspawn_map(n)?,
        "procspawn_each" => procspawn_each(n)?,
        _ => return Err(unknown(&name, &["procspawn_map", "procspawn_each"])),
    };
    println!("{result}");
    Ok(())
}

fn squares(batch: Vec<u64>) -> Vec<u64> {
    batch.into_iter().map(square).collect()
}

fn procspawn_map(n: u64) -> anyhow::Result<u64> {
    let pool = Pool::new(PROCESSES).context("starting procspawn's pool")?;
    let items: Vec<u64> = (0..n).collect();
    let batch = items.len().div_ceil(PROCESSES * BATCHES_PER_PROCESS).max(1);
    let handles: Vec<_> = items
        .chunks(batch)
        .map(|chunk| pool.spawn(chunk.to_vec(), squares))
        .collect();
    let mut sum = 0;
    for handle in handles {
        let squares = handle
            .join()
            .map_err(|e| anyhow!("a procspawn job failed: {e}"))?;
        sum += squares.iter().sum::<u64>();
    }
    Ok(sum)
}

fn procspawn_each(n: u64) -> anyhow::Result<u64> {
    let pool = Pool::new(PROCESSES).context("starting procspawn's pool")?;
    let items: Vec<u64> = (0..n).collect();
    let mut sum = 0;
    for window in items.chunks(WINDOW) {
        let handles: Vec<_> = window.iter().map(|&x| pool.spawn(x, square)).collect();
        for handle in handles {
            sum += handle
                .join()
                .map_err(|e| anyhow!("a procspawn job failed: {e}"))?;
        }
    }
    Ok(sum)
}
