//! 多进程 · 基本示例 (basic example): five worker processes each print their process id.
//!
//! Python's `multiprocessing.Process(target=worker, args=(i,))` and `start()` become one
//! call, [`shared::Process::start`]`(worker, (i,))`, which starts a child by the start
//! method in force (spawn or fork, as in Python; `SHARED_START_METHOD=spawn` picks one) and
//! runs `worker(i)` there; `join()` becomes [`join`](shared::Process::join), which reports
//! a child's panic, error or fatal signal as an `Err` instead of an `exitcode` to remember
//! to check. `shared::main_guard()` is Python's `if __name__ == '__main__':`: a child
//! started by spawn runs this program again, and that line runs its target there instead
//! of `main`. Each
//! short `println!` line reaches stdout in one write, so lines arrive whole (Python's
//! `print` writes the line end separately: with unbuffered output, `python3 -u`, lines from
//! different processes can run together). Children left unjoined are killed and reaped,
//! never left as zombies or orphans.
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
    shared::main_guard();
    let mut processes = Vec::new();
    for i in 0..5 {
        let p = Process::start(worker, (i,))?;
        processes.push(p);
    }
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
