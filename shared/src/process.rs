//! `Process`: run a function in a child process, like Python's
//! `multiprocessing.Process(target=f, args=(..))` with `start()` and `join()`, started by
//! either of Python's start methods, *spawn* or *fork*.
//!
//! ```
//! use shared::process::Process;
//!
//! fn worker(i: u32) {
//!     println!("worker {i} is process {}", std::process::id());
//! }
//!
//! fn crash() {
//!     panic!("boom");
//! }
//!
//! fn main() -> Result<(), shared::process::ProcessError> {
//!     shared::main_guard(); // Python's `if __name__ == '__main__':`
//!     let mut workers = Vec::new();
//!     for i in 0..3 {
//!         workers.push(Process::start(worker, (i,))?);
//!     }
//!     for worker in workers {
//!         worker.join()?;
//!     }
//!     // A panic in the child stays in the child; `join` reports it.
//!     let err = Process::start(crash, ())?.join().unwrap_err();
//!     assert!(err.to_string().ends_with("panicked: boom"), "{err}");
//!     Ok(())
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `process.rs`, `start_method.rs`, `reduction.rs`, `private_fd.rs`, `os.rs`,
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
//! # A target and its arguments
//!
//! The target is a plain `fn` (or a closure that captures nothing), and its arguments are a
//! tuple of serde types and handles (queue and pipe ends, `Value`, `Array`): Python's rule
//! that a target be a top-level function and its arguments picklable, because under spawn
//! the child is a fresh run of the program that has none of the parent's memory. The
//! arguments move to the child (see `reduction`); the target is found there by its place in
//! the program (see `start_method`). A closure that captures a value is refused when the
//! program is compiled.
//!
//! # How a child runs
//!
//! The child decodes the arguments, calls the target, catching a panic so that it never
//! unwinds into code that is not its own, flushes its stdout, reports a panic message or a
//! returned error to the parent through a pipe, and exits. Output is whole lines: a
//! `println!` of a line shorter than std's 1 KiB stdout buffer is one `write(2)`, which a
//! pipe delivers unbroken (up to `PIPE_BUF`).
//!
//! # Fork: one thread only
//!
//! A forked child gets a copy of the forking thread only. Any lock another thread held at
//! that moment (the allocator's, stdout's, a `Mutex` of yours) stays locked in the child
//! forever, so POSIX allows only async-signal-safe calls there, and a Rust function
//! allocates. Under fork, [`Process::start`] therefore counts the process's threads and
//! refuses with [`ProcessError::Threaded`] unless there is one; a thread that has been
//! joined but not yet reaped by the kernel is waited for, briefly. Spawn has no such rule:
//! the child is a new program.
//!
//! # No zombies, no orphans
//!
//! Every child is reaped: by [`Process::join`], or, when a handle is dropped unjoined, by
//! its `Drop`, which kills the child and then reaps it. On Linux every child also asks the
//! kernel for SIGKILL when the thread that started it ends (`PR_SET_PDEATHSIG`), and exits
//! at once if its parent was already gone, so a parent ended by Ctrl-C or SIGKILL takes its
//! children with it. Because the kernel watches that *thread*, a child spawned from any
//! thread but the main one is started from a thread of `shared`'s own that lasts until
//! the child is reaped: a `Process` or `Pool` made on a thread that then ends keeps its
//! children. macOS has no such request: there Ctrl-C still reaches every child (the
//! terminal signals the whole process group), but the children of a parent killed by a
//! signal sent to it alone run on until they end by themselves. On Windows every child is
//! put in a job object that kills its processes once the parent has ended, however it
//! ended; there [`Process::terminate`] and [`Process::kill`] end a child with
//! `TerminateProcess`, and `join` reports it as killed by SIGTERM or SIGKILL.
//!
//! # Windows
//!
//! Spawn only (Python's only method there): asking for fork is a [`ProcessError::Method`]
//! error. The handles in the arguments are copied into the child once it exists, as
//! Python's `popen_spawn_win32` does (see `os.rs`).

use std::fmt;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::os;
pub use super::os::Signal;
pub use super::private_fd::{PrivateFd, current_pid, pipe};
use super::reduction::{self, OwnedHandle};
use super::start_method::{self, Entry};
pub use super::start_method::{StartMethod, get_start_method, main_guard, set_start_method};

/// A child process running a target; see the [module docs](self).
///
/// Dropping it without [`join`](Process::join) kills and reaps the child.
#[must_use = "dropping a Process kills it; call join() to wait for it"]
pub struct Process {
    child: Child,
    /// The process that started the child: only it can wait for it.
    owner: u32,
    /// Read end of the pipe the child reports a panic or error on; its write end closes
    /// when the child ends.
    status: PrivateFd,
    /// How the child ended, once reaped.
    ended: Option<End>,
}

enum Child {
    #[cfg(unix)]
    Forked(nix::unistd::Pid),
    Spawned {
        child: std::process::Child,
        /// What keeps the thread that started it alive ([`os::spawn`]), dropped after
        /// the child is reaped (in `Process`'s drop, which runs first).
        _lease: Option<os::Lease>,
    },
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exited(i32),
    Killed(Signal),
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// Why a process could not start, or how it did not end well.
#[derive(Debug)]
pub enum ProcessError {
    /// Forking was refused because the process has more than one thread.
    Threaded { threads: usize },
    /// The start method cannot be used as asked (see the message).
    Method(String),
    /// A system call failed.
    Os {
        call: &'static str,
        source: io::Error,
    },
    /// The child's target panicked.
    Panicked { pid: u32, message: String },
    /// The child's target returned an error (or its arguments could not be decoded).
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
                 locked forever; start processes before starting threads, or use the spawn \
                 start method"
            ),
            ProcessError::Method(why) => f.write_str(why),
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

fn os_error(call: &'static str) -> impl FnOnce(io::Error) -> ProcessError {
    move |source| ProcessError::Os { call, source }
}

/// What a child's target may return: `()`, or a `Result` whose error [`join`]
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

/// A function that takes a tuple's fields as its arguments: Python's `target(*args)`.
///
/// Implemented for every `fn` (and closure that captures nothing) of up to five arguments:
/// `Fn(A, B) -> R` is a `Target<(A, B)>`.
pub trait Target<Args>: Copy + 'static {
    type Output;
    /// `f(args.0, args.1, ..)`.
    fn call(self, args: Args) -> Self::Output;
}

macro_rules! target {
    ($($arg:ident),*) => {
        impl<F, R, $($arg),*> Target<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> R + Copy + 'static,
        {
            type Output = R;
            #[allow(non_snake_case, clippy::unused_unit)]
            fn call(self, ($($arg,)*): ($($arg,)*)) -> R {
                self($($arg),*)
            }
        }
    };
}

target!();
target!(A);
target!(A, B);
target!(A, B, C);
target!(A, B, C, D);
target!(A, B, C, D, E);

/// Exit codes between child and parent.
pub(super) const PANICKED: i32 = 101;
pub(super) const FAILED: i32 = 1;
/// The status message is cut to this, so that the child's one nonblocking write fits.
const MAX_MESSAGE: usize = 4000;

impl Process {
    /// Starts a child that runs `target(args..)`, by the start method in force
    /// ([`get_start_method`]); Python's `Process(target=f, args=args).start()`.
    ///
    /// `args` moves to the child: its handles (queue and pipe ends, shared memory) are the
    /// child's from now on, and the parent's copies close.
    pub fn start<F, A>(target: F, args: A) -> Result<Process, ProcessError>
    where
        F: Target<A>,
        F::Output: Outcome,
        A: Serialize + DeserializeOwned,
    {
        Process::start_by(get_start_method()?, target, args)
    }

    /// [`start`](Process::start) by the given start method; Python's
    /// `multiprocessing.get_context(method).Process(..)`.
    pub fn start_by<F, A>(method: StartMethod, target: F, args: A) -> Result<Process, ProcessError>
    where
        F: Target<A>,
        F::Output: Outcome,
        A: Serialize + DeserializeOwned,
    {
        let _ = target; // only its type travels: see `start_method::conjure`
        let entry: Entry = entry::<F, A>;
        match method {
            StartMethod::Fork => fork::start(entry, args),
            StartMethod::Spawn => spawn_child(entry, args),
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        match &self.child {
            #[cfg(unix)]
            Child::Forked(pid) => pid.as_raw().unsigned_abs(),
            Child::Spawned { child, .. } => child.id(),
        }
    }

    /// Waits for the child to end and reports how: `Ok(())` if its target returned
    /// normally, else the panic, the returned error, the exit code or the signal.
    pub fn join(mut self) -> Result<(), ProcessError> {
        let end = self.wait(true)?.expect("a blocking wait returns an end");
        self.outcome(end)
    }

    /// Waits up to `timeout` for the child to end; `true` if it has (then [`join`]
    /// returns at once). Python's `join(timeout)`; `Duration::MAX` waits without limit.
    ///
    /// [`join`]: Process::join
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<bool, ProcessError> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            self.wait(true)?; // a deadline past what `Instant` can hold: no limit
            return Ok(true);
        };
        // After the status pipe has said the end is near: how long to wait before looking
        // again, doubled each time up to 1 ms.
        let mut pause = Duration::from_micros(10);
        loop {
            if !self.is_alive()? {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            // The status pipe becomes readable when the child reports, and hangs up when
            // it ends; a report comes just before the end, and an exit takes a moment
            // after the hang-up, so then look again shortly, and sooner than 1 ms.
            let ready = os::wait_readable(&[self.status.as_handle()], Some(left))
                .map_err(os_error("waiting for the status pipe"))?;
            if ready.contains(&true) {
                std::thread::sleep(left.min(pause));
                pause = (pause * 2).min(Duration::from_millis(1));
            }
        }
    }

    /// Whether the child is still running (reaping it if it has ended).
    pub fn is_alive(&mut self) -> Result<bool, ProcessError> {
        Ok(self.wait(false)?.is_none())
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
        match &self.child {
            #[cfg(unix)]
            Child::Forked(pid) => fork::signal(*pid, signal),
            Child::Spawned { child, .. } => os::signal(child, signal).map_err(os_error("kill")),
        }
    }

    /// Reaps the child if it has ended (waiting for that if `block`); records the end.
    fn wait(&mut self, block: bool) -> Result<Option<End>, ProcessError> {
        if let Some(end) = self.ended {
            return Ok(Some(end));
        }
        if self.owner != current_pid() {
            return Err(ProcessError::Os {
                call: "waitpid",
                source: io::Error::other("only the process that started a child can wait for it"),
            });
        }
        let end = match &mut self.child {
            #[cfg(unix)]
            Child::Forked(pid) => fork::wait(*pid, block)?,
            Child::Spawned { child, .. } => {
                let status = if block {
                    Some(child.wait().map_err(os_error("waitpid"))?)
                } else {
                    child.try_wait().map_err(os_error("waitpid"))?
                };
                status.map(|s| match os::end_of(s) {
                    Ok(code) => End::Exited(code),
                    Err(signal) => End::Killed(signal),
                })
            }
        };
        self.ended = end;
        Ok(end)
    }

    fn outcome(&self, end: End) -> Result<(), ProcessError> {
        let pid = self.pid();
        let mut message = Vec::new();
        // Nonblocking: the child wrote before it exited, so all of it is there now.
        let _ = (&self.status).read_to_end(&mut message);
        let message = String::from_utf8_lossy(&message).into_owned();
        match end {
            End::Exited(0) => Ok(()),
            End::Exited(PANICKED) if !message.is_empty() => {
                Err(ProcessError::Panicked { pid, message })
            }
            End::Exited(FAILED) if !message.is_empty() => {
                Err(ProcessError::Failed { pid, message })
            }
            End::Exited(code) => Err(ProcessError::Exited { pid, code }),
            End::Killed(signal) => Err(ProcessError::Killed { pid, signal }),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A copy of the handle in another process (a forked child's memory) is not the owner.
        if self.ended.is_none() && self.owner == current_pid() {
            let _ = self.kill();
            let _ = self.wait(true);
        }
    }
}

/// The status pipe: the parent reads it without blocking once the child has ended.
fn status_pipe() -> Result<(PrivateFd, PrivateFd), ProcessError> {
    let (read, write) = pipe().map_err(os_error("pipe"))?;
    for end in [&read, &write] {
        os::set_nonblocking(end.as_handle())
            .map_err(os_error("making the status pipe nonblocking"))?;
    }
    Ok((read, write))
}

/// What the child runs, both methods: decodes the arguments and calls the target `F`.
/// `None` for success, else the failure's message.
fn entry<F, A>(bytes: &[u8], fds: Vec<OwnedHandle>) -> Option<String>
where
    F: Target<A>,
    F::Output: Outcome,
    A: DeserializeOwned,
{
    match reduction::decode::<A>(bytes, fds) {
        Ok(args) => start_method::conjure::<F>().call(args).failure(),
        Err(e) => Some(format!("its arguments could not be decoded: {e}")),
    }
}

fn spawn_child<A: Serialize>(entry: Entry, args: A) -> Result<Process, ProcessError> {
    let (bytes, fds) = reduction::encode(&args).map_err(os_error("encoding the arguments"))?;
    let (status_read, status_write) = status_pipe()?;
    let (child, lease) = start_method::spawn(entry, &bytes, &fds, status_write.as_handle())?;
    drop(status_write);
    drop(args); // the child has its own copies of the descriptors now
    Ok(Process {
        child: Child::Spawned {
            child,
            _lease: lease,
        },
        owner: current_pid(),
        status: status_read,
        ended: None,
    })
}

/// In the child: runs `entry`, catching a panic, flushes stdout and reports on `status`;
/// the exit code.
pub(super) fn run_target(
    entry: Entry,
    bytes: &[u8],
    fds: Vec<OwnedHandle>,
    status: &PrivateFd,
) -> i32 {
    let report = match panic::catch_unwind(AssertUnwindSafe(|| entry(bytes, fds))) {
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
    match report {
        None => 0,
        Some((code, message)) => {
            let mut end = message.len().min(MAX_MESSAGE);
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            let _ = os::write(status.as_handle(), &message.as_bytes()[..end]);
            code
        }
    }
}

/// The fork start method: Unix's alone.
#[cfg(unix)]
mod fork {
    use nix::errno::Errno;
    use nix::libc;
    use nix::sys::signal::{Signal, kill};
    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::{ForkResult, Pid, fork, getpid};
    use serde::Serialize;
    use std::io::{self, Write};

    use super::{
        Child, End, Entry, FAILED, Process, ProcessError, current_pid, os, os_error, reduction,
        run_target, status_pipe,
    };

    pub fn start<A: Serialize>(entry: Entry, args: A) -> Result<Process, ProcessError> {
        os::wait_for_one_thread().map_err(|threads| ProcessError::Threaded { threads })?;
        let (bytes, fds) = reduction::encode(&args).map_err(os_error("encoding the arguments"))?;
        let (status_read, status_write) = status_pipe()?;
        let mut keep = fds.clone();
        keep.push(reduction::raw(status_write.as_handle()));
        // Whatever is buffered would otherwise be printed by the child as well.
        let _ = io::stdout().flush();
        let parent = getpid();
        // SAFETY: the process has one thread (checked above, and only this thread could
        // start another), so no lock is held by a thread the child would not have: the
        // child may allocate, lock and print like any single-threaded program.
        match unsafe { fork() }.map_err(errno("fork"))? {
            ForkResult::Child => {
                // The parent's copies stay the parent's: never dropped here (see "How a child
                // runs"); the child gets its own from `bytes`.
                std::mem::forget(args);
                std::mem::forget(status_read);
                if os::die_with_parent(parent.as_raw().unsigned_abs()).is_err()
                    || super::super::private_fd::in_new_child(&keep).is_err()
                {
                    exit_now(FAILED);
                }
                // SAFETY: the kept descriptors are open here, and nothing in the child owns them
                // but the parent's copies, which are never dropped here.
                let fds = unsafe { reduction::adopt(&fds) };
                let code = run_target(entry, &bytes, fds, &status_write);
                exit_now(code)
            }
            ForkResult::Parent { child } => {
                drop(status_write);
                drop(args); // the child has them now
                Ok(Process {
                    child: Child::Forked(child),
                    owner: current_pid(),
                    status: status_read,
                    ended: None,
                })
            }
        }
    }

    /// `waitpid` for a forked child, retrying on EINTR; `None` while it runs (`!block`).
    pub fn wait(pid: Pid, block: bool) -> Result<Option<End>, ProcessError> {
        let flags = (!block).then_some(nix::sys::wait::WaitPidFlag::WNOHANG);
        loop {
            match waitpid(pid, flags) {
                Ok(WaitStatus::StillAlive) => return Ok(None),
                Ok(WaitStatus::Exited(_, code)) => return Ok(Some(End::Exited(code))),
                Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(Some(End::Killed(signal))),
                Ok(_) | Err(Errno::EINTR) => continue, // stopped or continued: not an end
                Err(e) => return Err(errno("waitpid")(e)),
            }
        }
    }

    /// Sends `signal` to a forked child.
    pub fn signal(pid: Pid, signal: Signal) -> Result<(), ProcessError> {
        kill(pid, signal).map_err(errno("kill"))
    }

    fn errno(call: &'static str) -> impl FnOnce(Errno) -> ProcessError {
        move |e| ProcessError::Os {
            call,
            source: e.into(),
        }
    }

    fn exit_now(code: i32) -> ! {
        // SAFETY: `_exit` has no preconditions. It ends the process without running `atexit`
        // handlers or destructors: those belong to the parent's copy of the program.
        unsafe { libc::_exit(code) }
    }
}

/// Windows cannot fork.
#[cfg(windows)]
mod fork {
    use super::{Entry, Process, ProcessError};

    pub fn start<A>(_entry: Entry, _args: A) -> Result<Process, ProcessError> {
        Err(ProcessError::Method(
            "the fork start method does not exist on Windows, which cannot fork: use spawn \
             (the default there)"
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // libtest runs tests on threads, so here every fork must be refused; the forking
    // tests are in tests/processes.rs, a single-threaded main.
    #[cfg(unix)]
    #[test]
    fn fork_refuses_in_a_multithreaded_process() {
        std::thread::scope(|s| {
            s.spawn(|| std::thread::sleep(Duration::from_millis(300)));
            let err = Process::start_by(StartMethod::Fork, || (), ()).unwrap_err();
            assert!(matches!(err, ProcessError::Threaded { threads } if threads >= 2));
            assert!(err.to_string().starts_with("refusing to fork"), "{err}");
        });
    }

    #[cfg(windows)]
    #[test]
    fn fork_is_refused_on_windows() {
        let err = Process::start_by(StartMethod::Fork, || (), ()).unwrap_err();
        assert!(matches!(err, ProcessError::Method(_)), "{err}");
        assert!(err.to_string().contains("use spawn"), "{err}");
    }

    // libtest's main never calls `main_guard`, so a spawned copy of it would run the tests.
    #[test]
    fn spawn_refuses_without_the_guard() {
        let err = Process::start_by(StartMethod::Spawn, || (), ()).unwrap_err();
        assert!(err.to_string().contains("main_guard"), "{err}");
    }

    #[test]
    fn targets_unpack_their_arguments() {
        fn join3(a: char, b: &str, c: u8) -> String {
            format!("{a}{b}{c}")
        }
        assert_eq!(join3.call(('x', "y", 3)), "xy3");
        assert_eq!((|| 7).call(()), 7);
        assert_eq!((|a: i32| a * 2).call((21,)), 42);
    }

    #[test]
    fn outcome_formats_the_error_chain() {
        assert_eq!(().failure(), None);
        assert_eq!(Ok::<(), String>(()).failure(), None);
        assert_eq!(Err::<(), _>("bad").failure().as_deref(), Some("bad"));
    }
}
