//! Not Linux: no child starts while a descriptor is half made.
//!
//! Where a descriptor is made in two steps (made, then marked close-on-exec: macOS has no
//! `pipe2`, and its `dup2` clears the mark), a child that another thread spawns between
//! them inherits it, and a pipe end kept open in the wrong child makes a reader wait
//! forever. So the two steps hold this lock shared ([`making_descriptors`]), and a spawn
//! holds it alone ([`spawning`]), as Go's `syscall.ForkLock` does. Linux makes every such
//! descriptor in one step (`pipe2`, `memfd_create`, `dup3` with `O_CLOEXEC`) and needs none.
//!
//! # Copying it
//!
//! Copy `spawn_lock.rs` into your crate (for other Unixes than Linux:
//! `#[cfg(all(unix, not(target_os = "linux")))]`); it needs nothing in `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! ```

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

static LOCK: RwLock<()> = RwLock::new(());

/// Held while a descriptor is made and then marked close-on-exec.
pub fn making_descriptors() -> RwLockReadGuard<'static, ()> {
    LOCK.read().unwrap_or_else(PoisonError::into_inner)
}

/// Held while a child is spawned: no descriptor is half made meanwhile.
pub fn spawning() -> RwLockWriteGuard<'static, ()> {
    LOCK.write().unwrap_or_else(PoisonError::into_inner)
}
