//! The system calls `process` and `private_fd` make differently on Linux and macOS: each
//! function here has one short version per OS, side by side, so that those modules read
//! the same everywhere.
//!
//! # Copying it
//!
//! Copy `os.rs` into your crate with `process.rs` and `private_fd.rs`, and add to
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "poll", "process", "signal"] }
//! ```
//!
//! # What macOS lacks
//!
//! - `pipe2`: a pipe is made, then each end marked close-on-exec ([`pipe`]).
//! - `O_PATH` and `dup3`: a revoked descriptor reads `/dev/null` instead, so a read of it
//!   returns end-of-file where Linux fails with `EBADF`; a write fails with `EBADF` on both
//!   ([`revoke`]).
//! - `/proc/self/task`: threads are counted with `proc_pidinfo` ([`thread_count`]).
//! - `PR_SET_PDEATHSIG`: nothing asks the kernel to kill a child when its parent dies
//!   ([`die_with_parent`] says what that loses).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;

/// A new pipe, `(read end, write end)`, both close-on-exec.
#[cfg(target_os = "linux")]
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC)?)
}

/// A new pipe, `(read end, write end)`, both close-on-exec.
#[cfg(not(target_os = "linux"))]
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    // No `pipe2`. Another thread's exec between these calls could inherit the ends, but
    // these pipes serve processes that fork, and a process that forks has one thread.
    let (read, write) = nix::unistd::pipe()?;
    for end in [&read, &write] {
        fcntl(end, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    }
    Ok((read, write))
}

/// Points each descriptor number in `fds` at a dead descriptor: the file it had open is
/// closed here, the number stays taken (a later `open` cannot reuse it, so whoever owns it
/// still owns an open descriptor), and close-on-exec stays set.
///
/// Linux: an `O_PATH` descriptor of `/dev/null`, which fails every read and write with
/// `EBADF`.
#[cfg(target_os = "linux")]
pub fn revoke(fds: &[RawFd]) -> nix::Result<()> {
    let dead = open("/dev/null", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())?;
    for &fd in fds {
        // SAFETY: `dup3` has no memory-safety preconditions; it replaces what `fd` refers
        // to in one step, and `fd` stays open.
        Errno::result(unsafe { libc::dup3(dead.as_raw_fd(), fd, libc::O_CLOEXEC) })?;
    }
    Ok(())
}

/// Points each descriptor number in `fds` at a dead descriptor: the file it had open is
/// closed here, the number stays taken (a later `open` cannot reuse it, so whoever owns it
/// still owns an open descriptor), and close-on-exec stays set.
///
/// Not Linux (no `O_PATH`): `/dev/null` opened read-only, so a write fails with `EBADF`
/// and a read returns end-of-file: nothing is sent, and nothing is taken from the pipe.
#[cfg(not(target_os = "linux"))]
pub fn revoke(fds: &[RawFd]) -> nix::Result<()> {
    let dead = open(
        "/dev/null",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    for &fd in fds {
        // SAFETY: `dup2` and `fcntl` have no memory-safety preconditions; `dup2` replaces
        // what `fd` refers to in one step and `fd` stays open. `dup2` clears close-on-exec,
        // so it is set again (no other thread can exec in between: one thread only).
        unsafe {
            Errno::result(libc::dup2(dead.as_raw_fd(), fd))?;
            Errno::result(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
        }
    }
    Ok(())
}

/// The number of threads in this process: the entries of `/proc/self/task`.
#[cfg(target_os = "linux")]
pub fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// The number of threads in this process: `proc_pidinfo(PROC_PIDTASKINFO)`'s
/// `pti_threadnum`, the kernel's count for this task.
#[cfg(target_os = "macos")]
pub fn thread_count() -> io::Result<usize> {
    let mut info = std::mem::MaybeUninit::<libc::proc_taskinfo>::uninit();
    let size = std::mem::size_of::<libc::proc_taskinfo>() as libc::c_int;
    // SAFETY: `info` is `size` writable bytes; the call fills at most `size` of them and
    // returns how many it did.
    let filled = unsafe {
        libc::proc_pidinfo(
            libc::getpid(),
            libc::PROC_PIDTASKINFO,
            0,
            info.as_mut_ptr().cast(),
            size,
        )
    };
    if filled != size {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call filled all of `info`.
    let threads = unsafe { info.assume_init() }.pti_threadnum;
    Ok(usize::try_from(threads).unwrap_or(0))
}

/// Elsewhere nothing here knows how to count threads, so forking is refused.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn thread_count() -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no way to count this process's threads is known on this OS (shared's os.rs)",
    ))
}

/// In a new child: asks the kernel to SIGKILL this process when its parent dies.
#[cfg(target_os = "linux")]
pub fn die_with_parent() -> nix::Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
}

/// In a new child: nothing to do, for want of a way. macOS has no `PR_SET_PDEATHSIG`, and
/// watching the parent (kqueue's `NOTE_EXIT`) would take a thread in every child, which
/// would then refuse to fork. So a parent that returns or unwinds still kills its unjoined
/// children (`Process`'s drop), Ctrl-C still reaches them (the terminal signals the whole
/// process group), and a child whose parent had already died exits at once; but the
/// children of a parent that is killed by a signal sent to it alone (`kill PID`, SIGKILL,
/// a crash) or that calls `std::process::exit` run on until they end by themselves.
#[cfg(not(target_os = "linux"))]
pub fn die_with_parent() -> nix::Result<()> {
    Ok(())
}

/// Whether SIGCHLD is ignored (`SIG_IGN`, or the `SA_NOCLDWAIT` flag): the kernel then
/// discards each child's exit status, and `waitpid` finds no child.
pub fn sigchld_ignored() -> bool {
    let mut action = std::mem::MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: with a null new action, `sigaction` only writes the current one to `action`,
    // which is read only if the call succeeded.
    unsafe {
        libc::sigaction(libc::SIGCHLD, std::ptr::null(), action.as_mut_ptr()) == 0 && {
            let action = action.assume_init();
            action.sa_sigaction == libc::SIG_IGN || action.sa_flags & libc::SA_NOCLDWAIT != 0
        }
    }
}

/// Whether this process's stdout is a pipe or socket no one reads any more (Linux reports
/// `POLLERR`, macOS `POLLHUP`).
pub fn stdout_is_closed() -> bool {
    let stdout = io::stdout();
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLOUT)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(1))
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP))
}
