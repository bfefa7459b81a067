//! `Process`: run a closure in a forked child process, like Python's
//! `multiprocessing.Process(target=f, args=(..))` with `start()` and `join()`.
//!
//! ```
//! use shared::process::Process;
//!
//! let mut workers = Vec::new();
//! for i in 0..3 {
//!     workers.push(Process::start(move || println!("worker {i} is process {}", std::process::id()))?);
//! }
//! for worker in workers {
//!     worker.join()?;
//! }
//!
//! // A panic in the child stays in the child; `join` reports it.
//! fn crash() {
//!     panic!("boom");
//! }
//! let err = Process::start(crash)?.join().unwrap_err();
//! assert!(err.to_string().ends_with("panicked: boom"), "{err}");
//! # Ok::<(), shared::process::ProcessError>(())
//! ```
//!
//! # Copying it
//!
//! Copy `process.rs` into your crate, and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "poll", "process", "signal"] }
//! ```
//!
//! Linux only (`prctl`, `/proc`).
//!
//! # How a child runs
//!
//! [`Process::start`] forks: the child is a copy of the parent's memory, so the closure may
//! borrow the parent's data (each side then has its own copy; share data through
//! `shared_memory` or a `queue`). The child runs the
//! closure, catching a panic so that it never unwinds into the parent's code, flushes its
//! stdout, reports a panic message or a returned error to the parent through a pipe, and
//! ends with `_exit` (no `atexit` handlers or destructors of the parent's state run twice).
//! Output is whole lines: stdout is flushed before the fork (nothing buffered is printed
//! twice) and in the child before it exits, and a `println!` of a line shorter than std's
//! 1 KiB stdout buffer is one `write(2)`, which a pipe delivers unbroken (up to `PIPE_BUF`).
//!
//! # Who drops what
//!
//! After a fork, parent and child each hold a copy of the same values, but each value must
//! still be dropped once: a `Drop` that deletes a file or sends a message must not run in
//! both processes, nor in the parent while the child still uses its copy. The rule:
//!
//! - **The closure and what it captures stay the parent's.** The child calls its copy through
//!   a reference (hence `FnMut`) and never drops it: it ends with `_exit`. The parent keeps the
//!   closure inside the [`Process`] and drops it once the child has ended: when the process is
//!   joined, or when the handle is dropped (which kills and reaps the child first).
//! - **`start_with`'s `args` move to the child.** The child owns them and drops them there (a
//!   queue end's drop flushes it); in the parent they only close their descriptors.
//! - **What the child makes is the child's**: the closure's locals and its result are dropped
//!   in the child as usual.
//!
//! A closure that gives a captured value away (`move || consume(v)`) is only `FnOnce`, and
//! `start` refuses it at compile time: pass the child a reference or a clone instead.
//!
//! # Fork safety: one thread only
//!
//! A child of a multithreaded process gets a copy of the forking thread only. Any lock
//! another thread held at that moment (the allocator's, stdout's, a `Mutex` of yours) stays
//! locked in the child forever, so POSIX allows only async-signal-safe calls there, and a
//! Rust closure allocates. [`Process::start`] therefore counts `/proc/self/task` and
//! refuses with [`ProcessError::Threaded`] unless the process has exactly one thread:
//! start processes before threads. In particular never start one after a tokio (or any
//! other) runtime has started its threads, or from inside libtest's `#[test]`s.
//!
//! # No zombies, no orphans
//!
//! Every child is reaped: by [`Process::join`], or, when a handle is dropped unjoined, by
//! its `Drop`, which kills the child (SIGKILL) and then reaps it, so dropping never waits
//! on a child that does not end. Every child also asks the kernel for SIGKILL when its
//! parent dies (`PR_SET_PDEATHSIG`), and exits at once if the parent was already gone, so
//! a parent ended by Ctrl-C, SIGTERM or SIGKILL takes its children with it.
//!
//! # File descriptors a child must not keep: [`PrivateFd`] and [`Inherit`]
//!
//! A forked child inherits every open file descriptor, including the write end of a pipe
//! it never uses, and a pipe reader sees end-of-file only once every write end is closed:
//! one forgotten copy and "all producers are gone" never comes. So pipe ends that stand for
//! ownership are wrapped in [`PrivateFd`], and in every child `Process` starts, each
//! `PrivateFd` is revoked (pointed at a dead `/dev/null` descriptor: its pipe end is closed,
//! any use fails with `EBADF`, and its number cannot be reused by a later `open`) except
//! those handed over explicitly through [`Process::start_with`], Python's `args=`.
//! Types holding them (the `queue` module's `Sender` and `Receiver`) implement [`Inherit`].

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe2};

/// A child process running a closure; see the [module docs](self).
///
/// Dropping it without [`join`](Process::join) kills and reaps the child. `'a` is how long
/// the values the closure borrows live: the handle keeps the closure until the child ends.
#[must_use = "dropping a Process kills it; call join() to wait for it"]
pub struct Process<'a> {
    pid: Pid,
    /// The process that forked the child: only it can wait for it.
    owner: u32,
    /// Read end of the pipe the child reports a panic or error on; its write end closes
    /// when the child ends.
    status: PrivateFd,
    ended: Option<WaitStatus>,
    /// The parent's copy of the child's closure, dropped after the child has ended (see
    /// "Who drops what"). Declared last, so it is dropped after `Drop` has reaped the child.
    _closure: Box<dyn Kept + 'a>,
}

/// Any value, kept only to be dropped later.
trait Kept {}
impl<T> Kept for T {}

impl fmt::Debug for Process<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// Why a process could not start, or how it did not end well.
#[derive(Debug)]
pub enum ProcessError {
    /// Forking was refused because the process has more than one thread.
    Threaded { threads: usize },
    /// A system call failed.
    Os {
        call: &'static str,
        source: io::Error,
    },
    /// The child's function panicked.
    Panicked { pid: u32, message: String },
    /// The child's function returned an error.
    Failed { pid: u32, message: String },
    /// The child exited with a nonzero code it chose (e.g. by `std::process::exit`).
    Exited { pid: u32, code: i32 },
    /// A signal ended the child.
    Killed { pid: u32, signal: Signal },
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::Threaded { threads } => write!(
                f,
                "refusing to fork: this process has {threads} threads, and a forked child \
                 would get a copy of only the calling one, with any lock another thread held \
                 locked forever; start processes before starting threads"
            ),
            ProcessError::Os { call, source } => write!(f, "{call} failed: {source}"),
            ProcessError::Panicked { pid, message } => {
                write!(f, "process {pid} panicked: {message}")
            }
            ProcessError::Failed { pid, message } => write!(f, "process {pid} failed: {message}"),
            ProcessError::Exited { pid, code } => {
                write!(f, "process {pid} exited with code {code}")
            }
            ProcessError::Killed { pid, signal } => {
                write!(f, "process {pid} was killed by {signal}")
            }
        }
    }
}

/// The message includes any underlying OS error, so there is no `source()` to repeat it.
impl std::error::Error for ProcessError {}

fn os(call: &'static str) -> impl FnOnce(Errno) -> ProcessError {
    move |errno| ProcessError::Os {
        call,
        source: errno.into(),
    }
}

/// What a child's function may return: `()`, or a `Result` whose error [`join`]
/// reports as [`ProcessError::Failed`] (formatted with `{:#}`, so an `anyhow` chain shows).
///
/// [`join`]: Process::join
pub trait Outcome {
    /// `None` for success, else the error message.
    fn failure(self) -> Option<String>;
}

impl Outcome for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display> Outcome for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| format!("{e:#}"))
    }
}

/// Exit codes and status-pipe tags between child and parent.
const PANICKED: i32 = 101;
const FAILED: i32 = 1;
/// The status message is cut to this, so that the child's one nonblocking write fits.
const MAX_MESSAGE: usize = 4000;

impl<'a> Process<'a> {
    /// Forks a child that runs `f` and exits; Python's `Process(target=f).start()`.
    ///
    /// No [`PrivateFd`] is handed over: a queue end the closure captures is revoked in the
    /// child. Use [`start_with`](Process::start_with) to hand ends over.
    pub fn start<F, R>(mut f: F) -> Result<Process<'a>, ProcessError>
    where
        F: FnMut() -> R + 'a,
        R: Outcome,
    {
        Process::start_with((), move |()| f())
    }

    /// Forks a child that runs `f(args)`; Python's `Process(target=f, args=args).start()`.
    ///
    /// The [`PrivateFd`]s in `args` (queue ends, say) stay open in the child and are
    /// closed in the parent (`args` is moved); every other `PrivateFd` is revoked in the
    /// child. Before the fork, `args` flush their buffers, so nothing is sent twice.
    pub fn start_with<A, F, R>(mut args: A, mut f: F) -> Result<Process<'a>, ProcessError>
    where
        A: Inherit,
        F: FnMut(A) -> R + 'a,
        R: Outcome,
    {
        let threads = thread_count().map_err(|source| ProcessError::Os {
            call: "reading /proc/self/task",
            source,
        })?;
        if threads != 1 {
            return Err(ProcessError::Threaded { threads });
        }
        args.before_fork().map_err(|source| ProcessError::Os {
            call: "flushing the handed-over ends",
            source,
        })?;
        let mut keep = Vec::new();
        args.private_fds(&mut keep);
        let (status_read, status_write) =
            pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).map_err(os("pipe2"))?;
        // Whatever is buffered would otherwise be printed by the child as well.
        let _ = io::stdout().flush();
        let parent = getpid();
        // SAFETY: the process has one thread (checked above, and only this thread could
        // start another), so no lock is held by a thread the child would not have: the
        // child may allocate, lock and print like any single-threaded program.
        match unsafe { fork() }.map_err(os("fork"))? {
            ForkResult::Child => {
                drop(status_read);
                run_child(parent, status_write, &keep, args, &mut f)
            }
            ForkResult::Parent { child } => {
                drop(status_write);
                args.in_parent();
                drop(args); // the child has them now
                Ok(Process {
                    pid: child,
                    owner: current_pid(),
                    status: PrivateFd::new(status_read),
                    ended: None,
                    _closure: Box::new(f),
                })
            }
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid.as_raw().unsigned_abs()
    }

    /// Waits for the child to end and reports how: `Ok(())` if its function returned
    /// normally, else the panic, the returned error, the exit code or the signal.
    pub fn join(mut self) -> Result<(), ProcessError> {
        let status = match self.ended {
            Some(status) => status,
            None => self.wait(None)?,
        };
        self.outcome(status)
    }

    /// Waits up to `timeout` for the child to end; `true` if it has (then [`join`]
    /// returns at once). Python's `join(timeout)`.
    ///
    /// [`join`]: Process::join
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<bool, ProcessError> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_alive()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            // The status pipe becomes readable when the child reports, and hangs up when
            // it ends; a report comes just before the end, so then look again shortly.
            let mut fds = [PollFd::new(self.status.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, poll_timeout(left)) {
                Ok(0) | Err(Errno::EINTR) => {}
                Ok(_) => std::thread::sleep(left.min(Duration::from_millis(1))),
                Err(e) => return Err(os("poll")(e)),
            }
        }
    }

    /// Whether the child is still running (reaping it if it has ended).
    pub fn is_alive(&mut self) -> Result<bool, ProcessError> {
        if self.ended.is_some() {
            return Ok(false);
        }
        match self.wait(Some(WaitPidFlag::WNOHANG))? {
            WaitStatus::StillAlive => Ok(true),
            _ => Ok(false),
        }
    }

    /// Sends SIGTERM; Python's `terminate()`. The child is still to be joined.
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGTERM)
    }

    /// Sends SIGKILL; Python's `kill()`. The child is still to be joined.
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGKILL)
    }

    fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        if self.ended.is_some() {
            return Ok(()); // its pid may belong to someone else by now
        }
        kill(self.pid, signal).map_err(os("kill"))
    }

    /// `waitpid` for this child, retrying on EINTR; records the end if it came.
    fn wait(&mut self, flags: Option<WaitPidFlag>) -> Result<WaitStatus, ProcessError> {
        if self.owner != current_pid() {
            return Err(ProcessError::Os {
                call: "waitpid",
                source: io::Error::other("only the process that started a child can wait for it"),
            });
        }
        loop {
            match waitpid(self.pid, flags) {
                Ok(WaitStatus::StillAlive) => return Ok(WaitStatus::StillAlive),
                Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                    self.ended = Some(status);
                    return Ok(status);
                }
                Ok(_) => continue, // stopped or continued: not an end
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(os("waitpid")(e)),
            }
        }
    }

    fn outcome(&self, status: WaitStatus) -> Result<(), ProcessError> {
        let pid = self.pid();
        let mut message = Vec::new();
        // Nonblocking: the child wrote before it exited, so all of it is there now.
        let _ = (&self.status).read_to_end(&mut message);
        let message = String::from_utf8_lossy(&message).into_owned();
        match status {
            WaitStatus::Exited(_, 0) => Ok(()),
            WaitStatus::Exited(_, PANICKED) if !message.is_empty() => {
                Err(ProcessError::Panicked { pid, message })
            }
            WaitStatus::Exited(_, FAILED) if !message.is_empty() => {
                Err(ProcessError::Failed { pid, message })
            }
            WaitStatus::Exited(_, code) => Err(ProcessError::Exited { pid, code }),
            WaitStatus::Signaled(_, signal, _) => Err(ProcessError::Killed { pid, signal }),
            other => unreachable!("wait returns only ends, not {other:?}"),
        }
    }
}

impl Drop for Process<'_> {
    fn drop(&mut self) {
        // A copy of the handle in another process (a child's memory) is not the owner.
        if self.ended.is_none() && self.owner == current_pid() {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = self.wait(None);
        }
    }
}

/// The child's side of [`Process::start_with`]: never returns, so `f` (the child's copy of
/// the parent's closure) is never dropped here.
fn run_child<A, F, R>(parent: Pid, status: OwnedFd, keep: &[RawFd], mut args: A, f: &mut F) -> !
where
    A: Inherit,
    F: FnMut(A) -> R,
    R: Outcome,
{
    // Die with the parent; if it died before this line, the signal will never come.
    if prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
        exit_now(FAILED);
    }
    CURRENT_PID.store(getpid().as_raw().unsigned_abs(), Ordering::Relaxed);
    if revoke_private_fds(keep).is_err() {
        exit_now(FAILED);
    }
    let status = PrivateFd::new(status); // so that our own children do not hold it
    args.in_child();
    let report = match panic::catch_unwind(AssertUnwindSafe(|| f(args).failure())) {
        Ok(None) => None,
        Ok(Some(message)) => Some((FAILED, message)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_string());
            // Its destructor could panic again; the process ends in a moment anyway.
            std::mem::forget(payload);
            Some((PANICKED, message))
        }
    };
    let _ = io::stdout().flush();
    let code = match report {
        None => 0,
        Some((code, message)) => {
            let mut end = message.len().min(MAX_MESSAGE);
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            let _ = nix::unistd::write(&status, &message.as_bytes()[..end]);
            code
        }
    };
    exit_now(code)
}

fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` has no preconditions. It ends the process without running `atexit`
    // handlers or destructors: those belong to the parent's copy of the program.
    unsafe { libc::_exit(code) }
}

/// A new pipe, `(read end, write end)`, both close-on-exec and [`PrivateFd`]s.
pub fn pipe() -> io::Result<(PrivateFd, PrivateFd)> {
    let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
    Ok((PrivateFd::new(read), PrivateFd::new(write)))
}

/// The number of threads in this process.
pub fn thread_count() -> io::Result<usize> {
    Ok(fs::read_dir("/proc/self/task")?.count())
}

/// A `poll(2)` timeout for `d`, rounded up to whole milliseconds so that a
/// sub-millisecond wait does not become a busy loop.
pub fn poll_timeout(d: Duration) -> PollTimeout {
    let ms = d.as_micros().div_ceil(1000);
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

static CURRENT_PID: AtomicU32 = AtomicU32::new(0);

/// This process's id, cached: one atomic load instead of a `getpid` system call. The cache
/// is refreshed in every child [`Process`] starts (not after a bare `fork`).
///
/// Types whose buffered state must not be used twice (a queue end copied into a child that
/// was not handed it) record it and compare.
#[inline]
pub fn current_pid() -> u32 {
    match CURRENT_PID.load(Ordering::Relaxed) {
        0 => {
            let pid = getpid().as_raw().unsigned_abs();
            CURRENT_PID.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

/// The open [`PrivateFd`]s of this process. Never locked across a fork: one thread.
static PRIVATE_FDS: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

fn private_fds() -> MutexGuard<'static, Vec<RawFd>> {
    PRIVATE_FDS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A file descriptor that children started by [`Process`] do not keep unless it is handed
/// over through [`Process::start_with`]; see the [module docs](self).
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

/// In a new child: point every private descriptor not in `keep` at an `O_PATH` descriptor
/// of `/dev/null`, which closes the pipe end and makes any read or write fail with `EBADF`.
fn revoke_private_fds(keep: &[RawFd]) -> nix::Result<()> {
    let revoke: Vec<RawFd> = private_fds()
        .iter()
        .copied()
        .filter(|fd| !keep.contains(fd))
        .collect();
    if revoke.is_empty() {
        return Ok(());
    }
    let dead = open("/dev/null", OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())?;
    for fd in revoke {
        // SAFETY: `dup3` has no memory-safety preconditions. `fd` stays open (now on
        // `/dev/null`), so the `PrivateFd` that owns the number still owns an open one.
        Errno::result(unsafe { libc::dup3(dead.as_raw_fd(), fd, libc::O_CLOEXEC) })?;
    }
    Ok(())
}

/// What [`Process::start_with`] hands to a child: the [`PrivateFd`]s it holds stay open
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

    // libtest runs tests on threads, so here every fork must be refused; the forking
    // tests are in tests/processes.rs, a single-threaded main.
    #[test]
    fn start_refuses_in_a_multithreaded_process() {
        std::thread::scope(|s| {
            s.spawn(|| std::thread::sleep(Duration::from_millis(200)));
            let err = Process::start(|| ()).unwrap_err();
            assert!(matches!(err, ProcessError::Threaded { threads } if threads >= 2));
            assert!(err.to_string().starts_with("refusing to fork"), "{err}");
        });
    }

    #[test]
    fn private_fds_are_registered_until_dropped() {
        let (r, w) = pipe2(OFlag::O_CLOEXEC).unwrap();
        let (r, w) = (PrivateFd::new(r), PrivateFd::new(w));
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
    fn outcome_formats_the_error_chain() {
        assert_eq!(().failure(), None);
        assert_eq!(Ok::<(), String>(()).failure(), None);
        assert_eq!(Err::<(), _>("bad").failure().as_deref(), Some("bad"));
    }

    #[test]
    fn poll_timeout_rounds_up() {
        assert_eq!(i32::from(poll_timeout(Duration::from_micros(1))), 1);
        assert_eq!(i32::from(poll_timeout(Duration::ZERO)), 0);
        assert_eq!(i32::from(poll_timeout(Duration::from_millis(1500))), 1500);
    }
}
