//! What the examples share: the pieces Python's standard library has and Rust's std lacks.
//!
//! Each module's header says, under "Copying it", which sibling modules travel with it and
//! which crates (with features) it needs: copy that set into one folder of your crate as
//! sibling modules; they reach each other through `super::` paths, so they compile unchanged
//! wherever they sit. `cargo xtask export NAME DIR` does it for an example.
//!
//! - [`thread_pool`]: `ThreadPool`, a fixed set of worker threads with an ordered `map`
//!   (Python's `concurrent.futures.ThreadPoolExecutor`), over crossbeam-channel.
//! - `process`: `Process`, a closure run in a forked child with `join` reporting how it
//!   ended (Python's `multiprocessing.Process`), over nix, with `private_fd` (the pipe ends
//!   a child must not keep) and `os` (the calls Linux and macOS make differently). `pool`,
//!   `queue`, `pipe` and `shared_memory` are Python's `Pool`, `Queue`, `Pipe`, `Value` and
//!   `Array` beside it; `shared_memory` stands alone, `pool` travels with `process` and
//!   `shared_memory`, and `queue` and `pipe` send items as `frames` and travel with it and
//!   `process`. These need `fork`: Unix only. On Windows, `no_fork` stands in for them, with
//!   the same names and an error that says so.
//! - [`closed_stdout`]: one call at the top of `main` so that a program whose reader has
//!   gone (`| head -1`) ends quietly, as `cat` does.

pub mod closed_stdout;
pub mod thread_pool;

#[cfg(unix)]
pub mod frames;
#[cfg(unix)]
mod os;
#[cfg(unix)]
pub mod pipe;
#[cfg(unix)]
pub mod pool;
#[cfg(unix)]
pub mod private_fd;
#[cfg(unix)]
pub mod process;
#[cfg(unix)]
pub mod queue;
#[cfg(unix)]
pub mod shared_memory;

#[cfg(unix)]
pub use {
    pipe::Pipe, pool::Pool, process::Process, queue::Queue, shared_memory::Array,
    shared_memory::Value,
};

#[cfg(not(unix))]
pub mod no_fork;
// Built for unit tests on Unix as well, so that its test runs where CI does.
#[cfg(all(unix, test))]
#[allow(dead_code)]
mod no_fork;
#[cfg(not(unix))]
pub use no_fork::{Array, Pipe, Pool, Process, Queue, Value, pipe, queue};

pub use thread_pool::ThreadPool;
