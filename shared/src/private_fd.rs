//! `PrivateFd`: a file descriptor that the children `Process` starts do not keep unless it
//! is handed to them; `Inherit`, what hands it over; and `current_pid`, with which a value
//! copied into a child tells that it is not its own.
//!
//! ```
//! use std::io::{Read, Write};
//! use shared::process::{Process, pipe};
//!
//! let (read, write) = pipe()?;
//! // Handed over: the child keeps `write` (it moves there), and the parent's copy closes.
//! let child = Process::start_with(write, |write| (&write).write_all(b"hi"))?;
//! let mut got = String::new();
//! (&read).read_to_string(&mut got)?; // end-of-file: the only write end was the child's
//! child.join()?;
//! assert_eq!(got, "hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Copying it
//!
//! Copy `private_fd.rs`, `process.rs` and `os.rs` into one folder of your crate, as sibling
//! modules (they reach each other through `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "poll", "process", "signal"] }
//! ```
//!
//! # Why descriptors are revoked
//!
//! A forked child inherits every open file descriptor, including the write end of a pipe
//! it never uses, and a pipe reader sees end-of-file only once every write end is closed:
//! one forgotten copy and "all producers are gone" never comes. So pipe ends that stand for
//! ownership are wrapped in [`PrivateFd`], and in every child `Process` starts, each
//! `PrivateFd` is revoked except those handed over explicitly through
//! [`Process::start_with`](super::process::Process::start_with), Python's `args=`: the pipe
//! end is closed there and any write fails with `EBADF` (a read fails too on Linux, and
//! finds end-of-file on macOS; see `os.rs`). The number stays taken, so a later `open`
//! cannot reuse it. Types holding such ends (a queue's `Sender` and `Receiver`) implement
//! [`Inherit`].

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::os;

/// The open [`PrivateFd`]s of this process. Never locked across a fork: one thread.
static PRIVATE_FDS: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

fn private_fds() -> MutexGuard<'static, Vec<RawFd>> {
    PRIVATE_FDS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A file descriptor that children started by `Process` do not keep unless it is handed
/// over through `Process::start_with`; see the [module docs](self).
///
/// Reads and writes go straight to the descriptor (`&PrivateFd` is `Read` and `Write`).
#[derive(Debug)]
pub struct PrivateFd(OwnedFd);

impl PrivateFd {
    pub fn new(fd: OwnedFd) -> PrivateFd {
        private_fds().push(fd.as_raw_fd());
        PrivateFd(fd)
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
        let fd = self.0.as_raw_fd();
        private_fds().retain(|&open| open != fd);
        // `self.0` closes the descriptor next.
    }
}

impl AsFd for PrivateFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsRawFd for PrivateFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Read for &PrivateFd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(nix::unistd::read(&self.0, buf)?)
    }
}

impl Write for &PrivateFd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(nix::unistd::write(&self.0, buf)?)
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

/// In a new child: refreshes [`current_pid`], and revokes every private descriptor not in
/// `keep`.
pub(super) fn in_new_child(keep: &[RawFd]) -> nix::Result<()> {
    CURRENT_PID.store(std::process::id(), Ordering::Relaxed);
    let revoke: Vec<RawFd> = private_fds()
        .iter()
        .copied()
        .filter(|fd| !keep.contains(fd))
        .collect();
    if revoke.is_empty() {
        return Ok(());
    }
    os::revoke(&revoke)
}

/// What `Process::start_with` hands to a child: the [`PrivateFd`]s it holds stay open
/// there. Implemented for `()`, [`PrivateFd`], tuples, `Vec` and `Option` of such values,
/// and the queue ends.
pub trait Inherit {
    /// Pushes the raw numbers of the private descriptors the child must keep.
    fn private_fds(&self, fds: &mut Vec<RawFd>);

    /// In the parent, just before the fork: e.g. flush buffered writes, so that the
    /// child's copy of the buffer and the parent's do not both send them.
    fn before_fork(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// In the child, just after the fork: e.g. record that this process owns it now
    /// (see [`current_pid`]).
    fn in_child(&mut self) {}

    /// In the parent, just after the fork, before this copy is dropped: e.g. record that
    /// it is the child's now, so that dropping it here undoes nothing the child relies on.
    fn in_parent(&mut self) {}
}

impl Inherit for () {
    fn private_fds(&self, _: &mut Vec<RawFd>) {}
}

impl Inherit for PrivateFd {
    fn private_fds(&self, fds: &mut Vec<RawFd>) {
        fds.push(self.as_raw_fd());
    }
}

/// Containers hand over each of their elements.
macro_rules! inherit_each {
    ($($container:ident),+) => {$(
        impl<I: Inherit> Inherit for $container<I> {
            fn private_fds(&self, fds: &mut Vec<RawFd>) {
                self.iter().for_each(|i| i.private_fds(fds));
            }
            fn before_fork(&mut self) -> io::Result<()> {
                self.iter_mut().try_for_each(I::before_fork)
            }
            fn in_child(&mut self) {
                self.iter_mut().for_each(I::in_child);
            }
            fn in_parent(&mut self) {
                self.iter_mut().for_each(I::in_parent);
            }
        }
    )+};
}

inherit_each!(Option, Vec);

macro_rules! inherit_tuple {
    ($($name:ident),+) => {
        impl<$($name: Inherit),+> Inherit for ($($name,)+) {
            #[allow(non_snake_case)]
            fn private_fds(&self, fds: &mut Vec<RawFd>) {
                let ($($name,)+) = self;
                $($name.private_fds(fds);)+
            }
            #[allow(non_snake_case)]
            fn before_fork(&mut self) -> io::Result<()> {
                let ($($name,)+) = self;
                $($name.before_fork()?;)+
                Ok(())
            }
            #[allow(non_snake_case)]
            fn in_child(&mut self) {
                let ($($name,)+) = self;
                $($name.in_child();)+
            }
            #[allow(non_snake_case)]
            fn in_parent(&mut self) {
                let ($($name,)+) = self;
                $($name.in_parent();)+
            }
        }
    };
}

inherit_tuple!(A);
inherit_tuple!(A, B);
inherit_tuple!(A, B, C);
inherit_tuple!(A, B, C, D);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_fds_are_registered_until_dropped() {
        let (r, w) = pipe().unwrap();
        let (rn, wn) = (r.as_raw_fd(), w.as_raw_fd());
        assert!(private_fds().contains(&rn) && private_fds().contains(&wn));
        (&w).write_all(b"hi").unwrap();
        drop(w);
        let mut got = String::new();
        (&r).read_to_string(&mut got).unwrap();
        assert_eq!(got, "hi");
        drop(r);
        assert!(!private_fds().contains(&rn));
    }

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
