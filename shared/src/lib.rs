//! What the examples share: the pieces Python's standard library has and Rust's std lacks.
//!
//! Each module's header says, under "Copying it", which sibling modules travel with it and
//! which crates (with features) it needs: copy that set into one folder of your crate as
//! sibling modules; they reach each other through `super::` paths, so they compile unchanged
//! wherever they sit. `cargo xtask export NAME DIR` does it for an example.
//!
//! - [`thread_pool`]: `ThreadPool`, a fixed set of worker threads with an ordered `map`
//!   (Python's `concurrent.futures.ThreadPoolExecutor`), over crossbeam-channel.
//! - [`process`]: `Process`, a closure run in a forked child with `join` reporting how it
//!   ended (Python's `multiprocessing.Process`), over nix. [`pool`], [`queue`] and
//!   [`shared_memory`] are Python's `Pool`, `Queue`, `Value` and `Array` beside it;
//!   `shared_memory` stands alone, `pool` and `queue` travel with `process` and
//!   `shared_memory`.

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
