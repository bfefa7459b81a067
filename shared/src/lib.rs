//! What the examples share: the pieces Python's standard library has and Rust's std lacks.
//!
//! Each module stands alone so it can be copied into another project with the
//! dependencies its header names.
//!
//! - [`thread_pool`]: `ThreadPool`, a fixed set of worker threads with an ordered `map`
//!   (Python's `concurrent.futures.ThreadPoolExecutor`), over crossbeam-channel.
//! - [`process`]: `Process`, a closure run in a forked child with `join` reporting how it
//!   ended (Python's `multiprocessing.Process`), over nix. [`pool`], [`queue`] and
//!   [`shared_memory`] are Python's `Pool`, `Queue`, `Value` and `Array` beside it;
//!   `shared_memory` stands alone, `pool` and `queue` need `process` and `shared_memory`
//!   in the copy.

pub mod pool;
pub mod process;
pub mod queue;
pub mod shared_memory;
pub mod thread_pool;

pub use pool::Pool;
pub use process::Process;
pub use queue::Queue;
pub use shared_memory::{Array, Value};
pub use thread_pool::ThreadPool;
