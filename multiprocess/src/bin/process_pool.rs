//! 使用Pool进行进程池管理 (managing a process pool with Pool): square five numbers on a
//! pool of four worker processes.
//!
//! Python's `with Pool(4) as p:` and `p.map(square, [...])` become
//! [`shared::Pool::new(4)`](shared::Pool), four worker processes that live until the pool
//! is dropped, and its [`map`](shared::Pool::map): the items go to the workers in chunks,
//! postcard-encoded as Python pickles them, and each chunk's results come back in one
//! message, which `map` puts in input order. `shared::main_guard()` is Python's
//! `if __name__ == '__main__':` (spawned workers run this program again; that line makes
//! them serve the pool instead of running `main`). If `square` panics, `map` returns an
//! error with the panic's message, as
//! Python's `map` re-raises the exception. If a worker dies outright (killed, or aborted),
//! Python's `Pool.map` waits forever (CPython gh-66587; tried with a worker that calls
//! `os._exit` or `os.abort()`, `map` never returned); this `map` returns an error saying
//! how the worker ended, and the program exits with it.
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
    shared::main_guard();
    let mut p = Pool::new(4)?;
    let results = p.map(square, &[1, 2, 3, 4, 5])?;
    println!("{results:?}");
    Ok(())
}

fn square(n: i32) -> i32 {
    n * n
}
