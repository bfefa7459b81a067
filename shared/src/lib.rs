//! What the examples share: the pieces Python's standard library has and Rust's std lacks.
//!
//! Each module stands alone so it can be copied into another project with the
//! dependencies its header names.
//!
//! - [`thread_pool`]: `ThreadPool`, a fixed set of worker threads with an ordered `map`
//!   (Python's `concurrent.futures.ThreadPoolExecutor`), over crossbeam-channel.

pub mod thread_pool;

pub use thread_pool::ThreadPool;
