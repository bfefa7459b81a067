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
//! Copy `process.rs`, `private_fd.rs` and `os.rs` into one folder of your crate, as sibling
//! modules (they reach each other through `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "poll", "process", "signal"] }
//! ```
//!
//! Linux and macOS; `os.rs` holds the few calls that differ, and says what macOS lacks:
//! chiefly, children do not die with a parent killed outright ("No zombies, no orphans").
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
//! Rust closure allocates. [`Process::start`] therefore counts the process's threads (in
//! `/proc/self/task` on Linux, with `proc_pidinfo` on macOS) and refuses with
//! [`ProcessError::Threaded`] unless there is exactly one: start processes before threads.
//! In particular never start one after a tokio (or any other) runtime has started its
//! threads, or from inside libtest's `#[test]`s.
//!
//! # No zombies, no orphans
//!
//! Every child is reaped: by [`Process::join`], or, when a handle is dropped unjoined, by
//! its `Drop`, which kills the child (SIGKILL) and then reaps it, so dropping never waits
//! on a child that does not end. On Linux every child also asks the kernel for SIGKILL
//! when its parent dies (`PR_SET_PDEATHSIG`), and exits at once if the parent was already
//! gone, so a parent ended by Ctrl-C, SIGTERM or SIGKILL takes its children with it. macOS
//! has no such request: there Ctrl-C still reaches every child (the terminal signals the
//! whole process group), but the children of a parent killed by a signal sent to it alone,
//! or that calls `std::process::exit`, run on until they end by themselves.
//!
//! A program that sets SIGCHLD to `SIG_IGN` asks the kernel to discard its children's exit
//! statuses: `join` then fails with [`ProcessError::Lost`], saying so.
//!
//! # A closed stdout
//!
//! A program whose output goes to `head -1` should end quietly when `head` does, as `cat`
//! does: killed by SIGPIPE. `closed_stdout::end_quietly` arranges that (Rust ignores
//! SIGPIPE by default), and children inherit it. A child killed so is then no error to
//! report when this process's stdout is closed too: [`join`](Process::join) ends this
//! process the same way instead (where SIGPIPE is ignored, that does nothing, and `join`
//! returns the error).
//!
//! # File descriptors a child must not keep
//!
//! Pipe ends that stand for ownership are [`PrivateFd`]s: revoked in every child unless
//! handed to it through [`Process::start_with`] ([`Inherit`]); see `private_fd`.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd, RawFd};
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill, raise};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid};

use super::os;
pub use super::private_fd::{Inherit, PrivateFd, current_pid, pipe};

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
    /// How the child ended, once reaped; `Err(why)` if its end was lost.
    ended: Option<Result<WaitStatus, &'static str>>,
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
    /// The child is gone but its exit status cannot be had (`waitpid` says `ECHILD`).
    Lost { pid: u32, why: &'static str },
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
            ProcessError::Lost { pid, why } => {
                write!(f, "process {pid} ended, but how it ended is lost: {why}")
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

fn io_os(call: &'static str) -> impl FnOnce(io::Error) -> ProcessError {
    move |source| ProcessError::Os { call, source }
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
        let threads = os::thread_count().map_err(io_os("counting this process's threads"))?;
        if threads != 1 {
            return Err(ProcessError::Threaded { threads });
        }
        args.before_fork()
            .map_err(io_os("flushing the handed-over ends"))?;
        let mut keep = Vec::new();
        args.private_fds(&mut keep);
        let (status_read, status_write) = os::pipe().map_err(io_os("pipe"))?;
        for end in [&status_read, &status_write] {
            fcntl(end, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(os("fcntl"))?;
        }
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
        let status = self.wait(None)?;
        if let WaitStatus::Signaled(_, Signal::SIGPIPE, _) = status
            && os::stdout_is_closed()
        {
            // Our output is gone as well: end as a write to it would (see "A closed stdout").
            let _ = raise(Signal::SIGPIPE);
        }
        self.outcome(status)
    }

    /// Waits up to `timeout` for the child to end; `true` if it has (then [`join`]
    /// returns at once). Python's `join(timeout)`; `Duration::MAX` waits without limit.
    ///
    /// [`join`]: Process::join
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<bool, ProcessError> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            self.wait(None)?; // a deadline past what `Instant` can hold: no limit
            return Ok(true);
        };
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
        Ok(self.wait(Some(WaitPidFlag::WNOHANG))? == WaitStatus::StillAlive)
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

    /// `waitpid` for this child, retrying on EINTR; records the end once it came.
    fn wait(&mut self, flags: Option<WaitPidFlag>) -> Result<WaitStatus, ProcessError> {
        let pid = self.pid();
        match self.ended {
            Some(Ok(status)) => return Ok(status),
            Some(Err(why)) => return Err(ProcessError::Lost { pid, why }),
            None => {}
        }
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
                    self.ended = Some(Ok(status));
                    return Ok(status);
                }
                Ok(_) => continue, // stopped or continued: not an end
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => {
                    let why = why_lost();
                    self.ended = Some(Err(why));
                    return Err(ProcessError::Lost { pid, why });
                }
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

/// Why `waitpid` found no such child: SIGCHLD ignored, or someone else reaped it.
fn why_lost() -> &'static str {
    if os::sigchld_ignored() {
        "SIGCHLD is set to SIG_IGN (or SA_NOCLDWAIT) in this process, which tells the kernel \
         to discard every child's exit status; restore SIGCHLD's default to join children"
    } else {
        "another part of this program waited for it first (e.g. waitpid(-1)) and took its \
         exit status"
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
    if os::die_with_parent().is_err() || getppid() != parent {
        exit_now(FAILED);
    }
    if super::private_fd::in_new_child(keep).is_err() {
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

/// A `poll(2)` timeout for `d`, rounded up to whole milliseconds so that a
/// sub-millisecond wait does not become a busy loop.
pub fn poll_timeout(d: Duration) -> PollTimeout {
    let ms = d.as_micros().div_ceil(1000);
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

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
        assert_eq!(poll_timeout(Duration::MAX), PollTimeout::MAX);
    }
}
