//! What the examples share: the pieces Python's standard library has and Rust's std lacks.
//!
//! Each module's header says, under "Copying it", which sibling modules travel with it and
//! which crates (with features) it needs: copy that set into one folder of your crate as
//! sibling modules; they reach each other through `super::` paths, so they compile unchanged
//! wherever they sit. `cargo xtask export NAME DIR` does it for an example.
//!
//! - [`thread_pool`]: `ThreadPool`, a fixed set of worker threads with an ordered `map`
//!   (Python's `concurrent.futures.ThreadPoolExecutor`), over crossbeam-channel.
//! - `process`: `Process`, a function run in a child process with `join` reporting how it
//!   ended (Python's `multiprocessing.Process`), started by either of Python's start
//!   methods, spawn or fork (`start_method`, with [`main_guard`], Python's
//!   `if __name__ == '__main__':`). Its arguments travel by serde, the descriptors inside
//!   them beside the bytes (`reduction`). With it go `private_fd` (the pipe ends a forked
//!   child must not keep) and `os` (the calls Linux, macOS and Windows make differently).
//!   Both start methods on Linux and macOS; spawn alone on Windows.
//! - `pool`, `queue`, `pipe` and `shared_memory` are Python's `Pool`, `Queue`, `Pipe`,
//!   `Value` and `Array` beside it; `queue` and `pipe` send items as `frames`.

pub mod thread_pool;

pub mod frames;
mod os;
#[cfg(target_os = "linux")]
mod parent_thread;
pub mod pipe;
pub mod pool;
pub mod private_fd;
pub mod process;
pub mod queue;
pub mod reduction;
pub mod shared_memory;
#[cfg(all(unix, not(target_os = "linux")))]
mod spawn_lock;
pub mod start_method;

pub use {
    pipe::Pipe, pool::Pool, process::Process, queue::Queue, shared_memory::Array,
    shared_memory::Value, start_method::main_guard,
};

pub use thread_pool::ThreadPool;
