//! 使用Pool进行进程池管理 (managing a process pool with Pool): square five numbers on a
//! pool of four worker processes.
//!
//! Python's `Pool(4)` and `p.map(square, [...])` become [`shared::Pool::new(4)`](shared::Pool)
//! and its [`map`](shared::Pool::map): the workers are forked with `square` and the items
//! already in their memory (nothing is pickled on the way in), take chunks of the items
//! from a counter in shared memory, and send their results back postcard-encoded, which
//! `map` puts in input order. If `square` panics, `map` returns an error with the panic's
//! message, as Python's `map` re-raises the exception. If a worker dies outright (killed,
//! or aborted), Python's `Pool.map` waits forever (CPython gh-66587; tried with a worker
//! that calls `os._exit` or `os.abort()`, `map` never returned); this `map` returns an
//! error saying how the worker ended, and the program exits with it.
//!
//! Run: `cargo run -p multiprocess --bin process_pool`
//!
//! Prints:
//!
//! ```text
//! [1, 4, 9, 16, 25]
//! ```

use shared::Pool;

fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let results = Pool::new(4).map(square, &[1, 2, 3, 4, 5])?;
    println!("{results:?}");
    Ok(())
}

fn square(n: &i32) -> i32 {
    n * n
}
