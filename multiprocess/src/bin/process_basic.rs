//! 多进程 · 基本示例 (basic example): five worker processes each print their process id.
//!
//! Python's `Process(target=worker, args=(i,))` and `start()` become
//! [`shared::Process::start`]`(worker, (i,))`, and `join()` becomes
//! [`join`](shared::Process::join), an `Err` if the child failed.
//! `shared::main_guard()` is Python's `if __name__ == '__main__':`.
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
