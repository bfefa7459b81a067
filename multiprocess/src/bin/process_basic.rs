//! 多进程 · 基本示例 (basic example): five worker processes each print their process id.
//!
//! Python's `multiprocessing.Process(target=worker, args=(i,))`, `start()` and `join()`
//! become [`shared::Process::start`] (a `fork` through nix, the closure run in the child)
//! and [`join`](shared::Process::join), which reports a child's panic, error or fatal
//! signal as an `Err` instead of an `exitcode` to remember to check. A child flushes its
//! stdout before it exits, so every line arrives whole, and children left unjoined are
//! killed and reaped, never left as zombies or orphans.
//!
//! Run: `cargo run -p multiprocess --bin process_basic`
//!
//! Prints five lines in whatever order the children ran, each with its own process id,
//! then the last line, for example:
//!
//! ```text
//! Worker 0 is running in process 4242
//! Worker 2 is running in process 4244
//! Worker 1 is running in process 4243
//! Worker 3 is running in process 4245
//! Worker 4 is running in process 4246
//! All processes have finished.
//! ```

use shared::Process;

fn main() -> anyhow::Result<()> {
    shared::closed_stdout::end_quietly();
    let processes = (0..5)
        .map(|i| Process::start(move || worker(i)))
        .collect::<Result<Vec<_>, _>>()?;
    for p in processes {
        p.join()?;
    }
    println!("All processes have finished.");
    Ok(())
}

/// The work each process does.
fn worker(num: i32) {
    println!("Worker {num} is running in process {}", std::process::id());
}
