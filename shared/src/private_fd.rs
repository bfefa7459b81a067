//! `PrivateFd`: a file descriptor that the children `Process` forks do not keep unless it
//! is handed to them as an argument; and `current_pid`, with which a value copied into a
//! forked child tells that it is not its own.
//!
//! ```
//! use std::io::{Read, Write};
//! use shared::process::{PrivateFd, Process, pipe};
//!
//! fn greet(write: PrivateFd) -> std::io::Result<()> {
//!     (&write).write_all(b"hi")
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     shared::main_guard();
//!     let (read, write) = pipe()?;
//!     // Handed over: the child gets `write` (it moves there), and the parent's copy closes.
//!     let child = Process::start(greet, (write,))?;
//!     let mut got = String::new();
//!     (&read).read_to_string(&mut got)?; // end-of-file: the only write end was the child's
//!     child.join()?;
//!     assert_eq!(got, "hi");
//!     Ok(())
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `private_fd.rs`, `process.rs`, `start_method.rs`, `reduction.rs`, `os.rs`,
//! `parent_thread.rs` and `spawn_lock.rs` into one folder of your
//! crate, as sibling modules (they reach each other through `super::`), and add to
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal", "socket", "uio"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//!
//! [target.'cfg(windows)'.dependencies]
//! windows-sys = { version = "0.61", features = ["Win32_Foundation", "Win32_Security", "Win32_System_JobObjects", "Win32_System_Pipes", "Win32_System_Threading"] }
//! ```
//!
//! # Why descriptors are revoked
//!
//! A forked child inherits every open file descriptor, including the write end of a pipe
//! it never uses, and a pipe reader sees end-of-file only once every write end is closed:
//! one forgotten copy and "all producers are gone" never comes. So pipe ends that stand for
//! ownership are wrapped in [`PrivateFd`], and in every child `Process` forks, each
//! `PrivateFd` is revoked except those in its arguments (Python's `args=`): the pipe end is
//! closed there and any write fails with `EBADF` (a read fails too on Linux, and finds
//! end-of-file on macOS; see `os.rs`). The number stays taken, so a later `open` cannot
//! reuse it. A spawned child needs none of this: every descriptor is close-on-exec, and
//! only those in its arguments are sent to it.

use std::io::{self, Read, Write};
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::os;
use super::reduction::{self, BorrowedHandle, OwnedHandle, RawHandle};

/// The open [`PrivateFd`]s of this process. Never locked across a fork: one thread.
static PRIVATE_FDS: Mutex<Vec<RawHandle>> = Mutex::new(Vec::new());

fn private_fds() -> MutexGuard<'static, Vec<RawHandle>> {
    PRIVATE_FDS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A file descriptor that children started by `Process` do not keep unless it is handed
/// over as one of the arguments of `Process::start`; see the [module docs](self).
///
/// Reads and writes go straight to the descriptor (`&PrivateFd` is `Read` and `Write`).
#[derive(Debug)]
pub struct PrivateFd(OwnedHandle);

impl PrivateFd {
    pub fn new(fd: OwnedHandle) -> PrivateFd {
        private_fds().push(reduction::raw(reduction::borrow(&fd)));
        PrivateFd(fd)
    }

    /// The descriptor (a handle on Windows), borrowed.
    pub fn as_handle(&self) -> BorrowedHandle<'_> {
        reduction::borrow(&self.0)
    }

    /// A new descriptor for the same pipe end (`dup`, close-on-exec), private too.
    pub fn try_clone(&self) -> io::Result<PrivateFd> {
        Ok(PrivateFd::new(self.0.try_clone()?))
    }
}

/// A new pipe, `(read end, write end)`, both close-on-exec and [`PrivateFd`]s.
pub fn pipe() -> io::Result<(PrivateFd, PrivateFd)> {
    let (read, write) = os::pipe()?;
    Ok((PrivateFd::new(read), PrivateFd::new(write)))
}

impl Drop for PrivateFd {
    fn drop(&mut self) {
        let fd = reduction::raw(self.as_handle());
        private_fds().retain(|&open| open != fd);
        // `self.0` closes the descriptor next.
    }
}

#[cfg(unix)]
impl AsFd for PrivateFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(unix)]
impl AsRawFd for PrivateFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Read for &PrivateFd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        os::read(self.as_handle(), buf)
    }
}

impl Write for &PrivateFd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        os::write(self.as_handle(), buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

static CURRENT_PID: AtomicU32 = AtomicU32::new(0);

/// This process's id, cached: one atomic load instead of a `getpid` system call. The cache
/// is refreshed in every child `Process` starts (not after a bare `fork`).
///
/// Types whose buffered state must not be used twice (a queue end copied into a child that
/// was not handed it) record it and compare.
#[inline]
pub fn current_pid() -> u32 {
    match CURRENT_PID.load(Ordering::Relaxed) {
        0 => {
            let pid = std::process::id();
            CURRENT_PID.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

/// In a new forked child: refreshes [`current_pid`], and revokes every private descriptor
/// not in `keep`. Every `PrivateFd` here is now the parent's copy, never dropped in the
/// child: the list starts empty, for the child's own.
#[cfg(unix)]
pub(super) fn in_new_child(keep: &[RawHandle]) -> nix::Result<()> {
    CURRENT_PID.store(std::process::id(), Ordering::Relaxed);
    let revoke: Vec<RawFd> = std::mem::take(&mut *private_fds())
        .into_iter()
        .filter(|fd| !keep.contains(fd))
        .map(|fd| fd as RawFd)
        .collect();
    if revoke.is_empty() {
        return Ok(());
    }
    os::revoke(&revoke)
}

impl Serialize for PrivateFd {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        reduction::serialize_fd(self.as_handle(), s)
    }
}

impl<'de> Deserialize<'de> for PrivateFd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PrivateFd, D::Error> {
        reduction::deserialize_fd(d).map(PrivateFd::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_fds_are_registered_until_dropped() {
        let (r, w) = pipe().unwrap();
        let (rn, wn) = (reduction::raw(r.as_handle()), reduction::raw(w.as_handle()));
        assert!(private_fds().contains(&rn) && private_fds().contains(&wn));
        (&w).write_all(b"hi").unwrap();
        drop(w);
        let mut got = String::new();
        (&r).read_to_string(&mut got).unwrap();
        assert_eq!(got, "hi");
        drop(r);
        assert!(!private_fds().contains(&rn));
    }

    #[cfg(unix)]
    #[test]
    fn pipe_ends_are_close_on_exec() {
        use nix::fcntl::{FcntlArg, FdFlag, fcntl};
        let (r, w) = pipe().unwrap();
        for end in [&r, &w] {
            let flags = FdFlag::from_bits_truncate(fcntl(end, FcntlArg::F_GETFD).unwrap());
            assert!(flags.contains(FdFlag::FD_CLOEXEC));
        }
    }
}
