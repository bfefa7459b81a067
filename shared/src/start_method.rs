//! Python's start methods: how a child process begins. *spawn* runs the program's own
//! executable again, which calls [`main_guard`] first thing and so runs the target it is
//! sent instead of `main`; *fork* copies the running process. Python's
//! `multiprocessing.get_start_method()`, `set_start_method()` and the `--multiprocessing-fork`
//! argument its spawned children get.
//!
//! ```
//! use shared::process::{StartMethod, get_start_method};
//!
//! // SHARED_START_METHOD=spawn (or fork) in the environment switches a whole run.
//! let method = get_start_method()?;
//! println!("processes start by {method}"); // fork on Linux, spawn on macOS
//! # Ok::<(), shared::process::ProcessError>(())
//! ```
//!
//! # Copying it
//!
//! Copy `start_method.rs`, `process.rs`, `reduction.rs`, `private_fd.rs`, `os.rs`,
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
//! # The default
//!
//! Python's where it has one of these: spawn on macOS (Python's default there since 3.8)
//! and Windows; on Linux fork, Python's default there until 3.14 (which moved to
//! *forkserver*, a method this crate does not have) and the quicker to start.
//!
//! # How spawn finds the target
//!
//! A spawned child is a fresh run of the same executable (on Linux `/proc/self/exe`, the
//! very file the parent runs, even if it has been replaced on disk since). The parent sends
//! it, on its standard input, the arguments (see `reduction`) with the handles inside them
//! (see `os::send_start`) and where the child's entry function lies in the program, as an
//! offset from [`main_guard`]: both processes run the same code, so the offset names the
//! same function in both. Elsewhere the child checks first that its executable is the one
//! its parent started from (size and modification time, recorded when the parent's
//! `main_guard` ran), and refuses to run otherwise.
//!
//! The target itself needs no address: it is a zero-sized type (a `fn` item, or a closure
//! that captures nothing), so the child makes one out of nothing, see [`conjure`].

use std::fmt;
use std::io;
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use super::os;
use super::private_fd::PrivateFd;
use super::process::{FAILED, ProcessError, run_target};
use super::reduction::{self, BorrowedHandle, OwnedHandle, RawHandle};

/// How a child process begins; Python's `multiprocessing` start methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMethod {
    /// Run the program's executable afresh; the child calls [`main_guard`] and runs the
    /// target. Linux, macOS.
    Spawn,
    /// Copy the running process (`fork(2)`): quick, for a single-threaded parent only.
    /// Linux, macOS.
    Fork,
}

impl StartMethod {
    /// The default where nothing chose one; see the [module docs](self).
    pub const DEFAULT: StartMethod = if cfg!(target_os = "linux") {
        StartMethod::Fork
    } else {
        StartMethod::Spawn
    };

    /// Python's name for it: `"spawn"` or `"fork"`.
    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Spawn => "spawn",
            StartMethod::Fork => "fork",
        }
    }
}

impl fmt::Display for StartMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StartMethod {
    type Err = ProcessError;

    fn from_str(s: &str) -> Result<StartMethod, ProcessError> {
        match s {
            "spawn" => Ok(StartMethod::Spawn),
            "fork" => Ok(StartMethod::Fork),
            other => Err(ProcessError::Method(format!(
                "unknown start method `{other}`: the start methods are spawn and fork"
            ))),
        }
    }
}

/// The environment variable that chooses the start method for a whole run.
pub const ENV: &str = "SHARED_START_METHOD";

/// 0: none set; else 1 + the method's index.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// Sets the start method of this process's later `Process::start` and `Pool::new`;
/// Python's `multiprocessing.set_start_method(method)`. It wins over `SHARED_START_METHOD`.
pub fn set_start_method(method: StartMethod) {
    CHOSEN.store(1 + method as u8, Ordering::Relaxed);
}

/// The start method in force: [`set_start_method`]'s, else `SHARED_START_METHOD`'s
/// (`spawn` or `fork`), else [`StartMethod::DEFAULT`]. Python's `get_start_method()`.
pub fn get_start_method() -> Result<StartMethod, ProcessError> {
    match CHOSEN.load(Ordering::Relaxed) {
        1 => return Ok(StartMethod::Spawn),
        2 => return Ok(StartMethod::Fork),
        _ => {}
    }
    match std::env::var(ENV) {
        Ok(name) => name.parse().map_err(|e| match e {
            ProcessError::Method(why) => ProcessError::Method(format!("{ENV}: {why}")),
            other => other,
        }),
        Err(std::env::VarError::NotPresent) => Ok(StartMethod::DEFAULT),
        Err(std::env::VarError::NotUnicode(_)) => Err(ProcessError::Method(format!(
            "{ENV} is not valid Unicode: the start methods are spawn and fork"
        ))),
    }
}

/// The argument a spawned child is started with, as Python's is `--multiprocessing-fork`.
const CHILD_ARG: &str = "--shared-spawned-child";

/// What `main_guard` recorded: this executable as it was when `main` began.
static EXE: OnceLock<Option<ExeId>> = OnceLock::new();

/// Python's `if __name__ == '__main__':`, as the first line of `main`.
///
/// In the program as started, it returns at once and `main` goes on. In a child started by
/// spawn, which is the same program run again, it runs the target the parent sent and
/// exits, so the rest of `main` never runs there; without this call the child would run
/// `main` again, so spawn refuses to start children from a program that has not called
/// it. Under fork it is not needed (the child is a copy, already past this line).
///
/// # Trust
///
/// A program that calls `main_guard` and is started with the argument
/// `--shared-spawned-child` reads from its standard input where the function it is to
/// run lies (as a distance in its own code), with the handles it is to take over, and
/// then runs that function: whoever starts the program that way chooses what it runs.
/// That is no more than running the program at all allows, unless the program has rights
/// its caller lacks (a setuid program, a service started for another user): such a
/// program must not call `main_guard` (and so cannot use spawn). What can be refused
/// cheaply is: a start without handles, on Windows handle numbers that repeat or cannot
/// be open (on Unix the handles themselves come with the message, so there are no
/// numbers to forge), and (on Linux) a target outside the program's own machine code;
/// that the target is one of the program's entries cannot be checked.
pub fn main_guard() {
    EXE.get_or_init(Exe::id);
    let mut args = std::env::args_os();
    if args.nth(1).as_deref() == Some(CHILD_ARG.as_ref()) {
        let code = run_spawned_child();
        std::process::exit(code);
    }
}

/// Where a function at `address` lies, as a distance from `main_guard`: the same in every
/// process that runs this executable.
pub(super) fn offset_of(address: usize) -> u64 {
    address.wrapping_sub(main_guard as fn() as usize) as u64
}

/// The address of what lies at `offset` (see [`offset_of`]) in this process.
pub(super) fn address_at(offset: u64) -> usize {
    (main_guard as fn() as usize).wrapping_add(offset as usize)
}

/// What a child runs: given the encoded arguments and the descriptors that came with them,
/// `None` for success or the failure's message.
pub(super) type Entry = fn(&[u8], Vec<OwnedHandle>) -> Option<String>;

/// What the parent sends a spawned child, with its handles (in the order the arguments
/// name them; the status pipe's write end last; see `os::send_start`): the parent's pid,
/// its executable's [`ExeId`], the [`offset_of`] the entry function, and the encoded
/// arguments.
type Wire = (u32, Option<ExeId>, u64, Vec<u8>);

/// Starts this program again as a child that runs `entry(args)`, handing it `fds` and
/// the status pipe's write end; the child, and what must be held while it runs.
pub(super) fn spawn(
    entry: Entry,
    args: &[u8],
    fds: &[RawHandle],
    status: BorrowedHandle<'_>,
) -> Result<(std::process::Child, Option<os::Lease>), ProcessError> {
    let Some(exe) = EXE.get() else {
        return Err(ProcessError::Method(
            "the spawn start method needs `shared::main_guard()` as the first line of `main` \
             (Python's `if __name__ == '__main__':`): a spawned child runs this program \
             again, and without that line it would run `main` again"
                .to_string(),
        ));
    };
    let mut fds = fds.to_vec();
    fds.push(reduction::raw(status));
    let mut command = Command::new(os::this_executable());
    command.arg(CHILD_ARG);
    let line = os::start_line(&mut command).map_err(|e| ProcessError::Os {
        call: "making the line a spawned child's start goes by",
        source: e,
    })?;
    let (mut child, lease) = os::spawn(command).map_err(|e| ProcessError::Os {
        call: "starting this program again (spawn)",
        source: e,
    })?;
    // The child waits for its start message and handles.
    let sent = os::adopt_child(&child)
        .map_err(|e| ("tying the spawned child to this process", e))
        .and_then(|()| {
            let wire: Wire = (
                std::process::id(),
                *exe,
                offset_of(entry as usize),
                args.to_vec(),
            );
            let wire = postcard::to_stdvec(&wire)
                .map_err(|e| ("encoding the child's start", io::Error::other(e)))?;
            os::send_start(line, &mut child, &fds, &wire)
                .map_err(|e| ("sending the spawned child its target and handles", e))
        });
    if let Err((call, source)) = sent {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ProcessError::Os { call, source });
    }
    Ok((child, lease))
}

/// In a spawned child, from `main_guard`: reads what the parent sent, runs the target,
/// reports; the exit code.
fn run_spawned_child() -> i32 {
    let (bytes, mut fds) = match os::receive_start() {
        Ok(start) => start,
        Err(e) => {
            eprintln!(
                "spawned child: could not read what to run from the parent: {e}; \
                 `{CHILD_ARG}` is for processes that shared::process starts"
            );
            return FAILED;
        }
    };
    let (parent, exe, entry, args): Wire = match postcard::from_bytes(&bytes) {
        Ok(wire) => wire,
        Err(e) => {
            eprintln!(
                "spawned child: what the parent sent is not a start message ({e}); \
                 `{CHILD_ARG}` is for processes that shared::process starts"
            );
            return FAILED;
        }
    };
    let entry = address_at(entry);
    let refused = if fds.is_empty() {
        Some("came with no handles (the status pipe's end comes last)")
    } else if !os::in_own_code(entry) {
        Some("names a target outside this program's code")
    } else {
        None
    };
    if let Some(why) = refused {
        eprintln!(
            "spawned child: the start message {why}; `{CHILD_ARG}` is for processes that \
             shared::process starts"
        );
        return FAILED;
    }
    for fd in &fds {
        let _ = os::own(fd); // ours, not our own children's
    }
    let Some(status) = fds.pop() else {
        return FAILED;
    };
    let status = PrivateFd::new(status);
    if os::die_with_parent(parent).is_err() {
        return FAILED;
    }
    if exe != *EXE.get_or_init(Exe::id) {
        let why = "this program's executable changed on disk after the parent started, so \
                   the target the parent named cannot be found in it";
        let _ = os::write(status.as_handle(), why.as_bytes());
        return FAILED;
    }
    // SAFETY: `entry` is the address of an `Entry` function in the parent's program,
    // moved by the distance between the two processes' `main_guard`s: this process runs
    // the same executable (checked above, or by `/proc/self/exe` on Linux), so the same
    // function lies there. A function's address is a valid `fn` pointer of its type.
    // That the message came from such a parent is `main_guard`'s stated trust; what can
    // be refused cheaply was (above).
    let entry: Entry = unsafe { std::mem::transmute::<usize, Entry>(entry) };
    run_target(entry, &args, fds, &status)
}

/// An executable as it was: its size and modification time in nanoseconds.
type ExeId = (u64, u128);

struct Exe;

impl Exe {
    /// This executable's [`ExeId`]; `None` on Linux, where the child runs
    /// `/proc/self/exe`, the parent's very file.
    fn id() -> Option<ExeId> {
        if cfg!(target_os = "linux") {
            return None;
        }
        let meta = std::fs::metadata(os::this_executable()).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some((meta.len(), modified.as_nanos()))
    }
}

/// A value of the zero-sized type `F`: the target, made in the child, where the parent's
/// value is not.
///
/// Refused at compile time unless `F` is zero-sized: a closure that captures something
/// carries values this child does not have; pass them as arguments instead.
pub(super) fn conjure<F: Copy>() -> F {
    const {
        assert!(
            size_of::<F>() == 0,
            "a Process or Pool target must be a plain fn, or a closure that captures nothing: \
             pass the values it needs as arguments"
        )
    };
    // SAFETY: `F` is zero-sized, so a value of it has no bytes: every value is the same.
    // It is `Copy`, and the parent holds one (the target it was given), so making one
    // here is what copying that value would give.
    unsafe { std::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_bad_ones_are_refused() {
        assert_eq!("spawn".parse::<StartMethod>().unwrap(), StartMethod::Spawn);
        assert_eq!("fork".parse::<StartMethod>().unwrap(), StartMethod::Fork);
        let err = "forkserver".parse::<StartMethod>().unwrap_err();
        assert!(err.to_string().contains("spawn and fork"), "{err}");
        assert_eq!(StartMethod::Spawn.to_string(), "spawn");
    }

    #[test]
    fn an_entry_offset_leads_back_to_the_entry() {
        fn some_entry(_: &[u8], _: Vec<OwnedHandle>) -> Option<String> {
            Some("found".into())
        }
        let entry = some_entry as Entry as usize;
        assert_eq!(address_at(offset_of(entry)), entry);
    }

    #[test]
    fn only_this_programs_code_counts_as_its_code() {
        fn some_function() {}
        assert!(os::in_own_code(some_function as fn() as usize));
        assert!(os::in_own_code(main_guard as fn() as usize));
        #[cfg(target_os = "linux")]
        {
            let on_the_stack = 0u8;
            let on_the_heap = Box::new(0u8);
            assert!(!os::in_own_code(&raw const on_the_stack as usize));
            assert!(!os::in_own_code(&raw const *on_the_heap as usize));
            assert!(!os::in_own_code(0));
            assert!(!os::in_own_code(libc_function()));
        }
    }

    /// A function of the C library: code, but not this program's.
    #[cfg(target_os = "linux")]
    fn libc_function() -> usize {
        nix::libc::getpid as unsafe extern "C" fn() -> nix::libc::pid_t as usize
    }
}
