//! The system calls `process`, `start_method`, `private_fd` and `shared_memory` make
//! differently on Linux, macOS and Windows: each function here has one short version per
//! OS, side by side where they differ, so that those modules read the same everywhere.
//! What only fork needs (counting threads, revoking descriptors) is Unix's alone.
//!
//! # Copying it
//!
//! Copy `os.rs`, `parent_thread.rs`, `spawn_lock.rs`, `process.rs`, `start_method.rs`,
//! `reduction.rs` and `private_fd.rs` into one folder of your crate, as
//! sibling modules (they reach each other through `super::`), and add to `Cargo.toml`:
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
//! # How a spawned child gets its handles
//!
//! With its start message, on its standard input ([`start_line`], [`send_start`],
//! [`receive_start`]). On Unix that is a socket, and the descriptors travel with the
//! message (`SCM_RIGHTS`), so none is inherited, nothing runs in the child between fork
//! and exec, and std starts it with `posix_spawn`. Clearing close-on-exec in a `pre_exec`
//! hook instead forces std to `fork` (copying this process's page tables): measured
//! here, that cost the bench's pool row (four spawned workers) 1.1 to 1.6 ms more.
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
//! - `/proc/self/exe`: a spawned child runs the executable's path ([`this_executable`]).
//!
//! # What Windows does its own way
//!
//! - No handle is inherited: each one a spawned child is given is copied into it with
//!   `DuplicateHandle` once it exists (`handed`), as Python's `popen_spawn_win32` does,
//!   and the numbers the copies have there go before the start message.
//! - Children die with their parent through a job object that kills its processes when
//!   its last handle closes, which happens when the parent ends, however it ends
//!   ([`adopt_child`]).
//! - A pipe has no `poll`: a wait with a deadline asks `PeekNamedPipe` again and again
//!   ([`wait_readable`]).
//! - There are no signals: `terminate` and `kill` call `TerminateProcess` with an exit
//!   code that names the signal ([`signal`]).

use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

#[cfg(unix)]
use nix::errno::Errno;
#[cfg(unix)]
use nix::fcntl::{OFlag, open};
#[cfg(unix)]
use nix::libc;
#[cfg(unix)]
use nix::sys::stat::Mode;
#[cfg(unix)]
use nix::unistd::Pid;

pub use super::reduction::{BorrowedHandle, OwnedHandle, RawHandle};

/// Reads from a pipe end; 0 at end-of-file.
#[cfg(unix)]
pub fn read(handle: BorrowedHandle<'_>, buf: &mut [u8]) -> io::Result<usize> {
    Ok(nix::unistd::read(handle, buf)?)
}

/// Writes to a pipe end; how many bytes were written.
#[cfg(unix)]
pub fn write(handle: BorrowedHandle<'_>, buf: &[u8]) -> io::Result<usize> {
    Ok(nix::unistd::write(handle, buf)?)
}

/// A new pipe, `(read end, write end)`, both close-on-exec.
#[cfg(target_os = "linux")]
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC)?)
}

/// A new pipe, `(read end, write end)`, both close-on-exec.
#[cfg(all(unix, not(target_os = "linux")))]
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    // No `pipe2`: the ends are inheritable until marked, so no child may start meanwhile.
    let _no_spawn = super::spawn_lock::making_descriptors();
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
#[cfg(all(unix, not(target_os = "linux")))]
pub fn revoke(fds: &[RawFd]) -> nix::Result<()> {
    let dead = open(
        "/dev/null",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    for &fd in fds {
        // SAFETY: `dup2` and `fcntl` have no memory-safety preconditions; `dup2` replaces
        // what `fd` refers to in one step and `fd` stays open. `dup2` clears close-on-exec,
        // so it is set again, with no spawn in between (`spawn_lock`).
        let _no_spawn = super::spawn_lock::making_descriptors();
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
#[cfg(all(unix, not(any(target_os = "linux", target_os = "macos"))))]
pub fn thread_count() -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no way to count this process's threads is known on this OS (shared's os.rs)",
    ))
}

/// In a new child: asks the kernel to SIGKILL this process when the parent's thread that
/// started it ends (Linux ties the request to that thread, so a spawned child is started
/// from a thread that lasts as long as it runs: [`spawn`]); fails if `parent` is already
/// gone (the signal would never come).
#[cfg(target_os = "linux")]
pub fn die_with_parent(parent: u32) -> io::Result<()> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    parent_still_there(parent)
}

/// In a new child: only checks that `parent` is still there, for want of a way to ask for
/// more. macOS has no `PR_SET_PDEATHSIG`, and watching the parent (kqueue's `NOTE_EXIT`)
/// would take a thread in every child, which would then refuse to fork. So a parent that
/// returns or unwinds still kills its unjoined children (`Process`'s drop), Ctrl-C still
/// reaches them (the terminal signals the whole process group), and a child whose parent
/// had already died exits at once; but the children of a parent that is killed by a
/// signal sent to it alone (`kill PID`, SIGKILL, a crash) or that calls
/// `std::process::exit` run on until they end by themselves.
#[cfg(all(unix, not(target_os = "linux")))]
pub fn die_with_parent(parent: u32) -> io::Result<()> {
    parent_still_there(parent)
}

#[cfg(unix)]
fn parent_still_there(parent: u32) -> io::Result<()> {
    if nix::unistd::getppid() == Pid::from_raw(parent as i32) {
        Ok(())
    } else {
        Err(Errno::ESRCH.into())
    }
}

/// Waits, briefly, until this process has one thread; `Err(threads)` if it still has more.
///
/// A thread that has been joined is gone for the program, but the kernel lists it (in
/// `/proc/self/task`) until it has finished exiting, a moment later: that is what the
/// wait is for. A thread that still runs keeps the count up, and the wait ends in refusal.
#[cfg(unix)]
pub fn wait_for_one_thread() -> Result<(), usize> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(100);
    loop {
        match thread_count() {
            Ok(1) => return Ok(()),
            Ok(n) if std::time::Instant::now() >= deadline => return Err(n),
            Err(_) => return Err(0),
            Ok(_) => std::thread::sleep(std::time::Duration::from_micros(200)),
        }
    }
}

/// Whether `address` lies in this program's own machine code: a segment of the executable
/// (not of a library) that is loaded executable. A spawned child's entry must; an address
/// anywhere else in memory cannot be one. Linux: `dl_iterate_phdr`, whose first object is
/// the program itself.
#[cfg(target_os = "linux")]
pub fn in_own_code(address: usize) -> bool {
    struct Search {
        address: usize,
        found: bool,
    }
    unsafe extern "C" fn visit(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `dl_iterate_phdr` passes a valid `info` for the duration of the call,
        // whose `dlpi_phdr` points at `dlpi_phnum` program headers, and `data` is the
        // `Search` that `in_own_code` passed, borrowed by nothing else meanwhile.
        let (info, search) = unsafe { (&*info, &mut *data.cast::<Search>()) };
        for i in 0..usize::from(info.dlpi_phnum) {
            // SAFETY: `i` is below `dlpi_phnum` (see above).
            let header = unsafe { &*info.dlpi_phdr.add(i) };
            if header.p_type == libc::PT_LOAD && header.p_flags & libc::PF_X != 0 {
                let start = (info.dlpi_addr as usize).wrapping_add(header.p_vaddr as usize);
                let end = start.saturating_add(header.p_memsz as usize);
                search.found |= (start..end).contains(&search.address);
            }
        }
        1 // the first object is the program: stop there
    }
    let mut search = Search {
        address,
        found: false,
    };
    // SAFETY: `visit` only reads what it is given and writes `search`, which outlives the
    // call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&raw mut search).cast()) };
    search.found
}

/// Whether `address` lies in this program's own machine code: not checked here (no cheap
/// way is known on this OS), so every address passes; see [`main_guard`]'s trust.
///
/// [`main_guard`]: super::start_method::main_guard
#[cfg(not(target_os = "linux"))]
pub fn in_own_code(_address: usize) -> bool {
    true
}

/// The file a spawned child runs: on Linux `/proc/self/exe`, which names the very file
/// this process runs even if a new build has replaced it on disk; elsewhere its path.
pub fn this_executable() -> std::path::PathBuf {
    if cfg!(target_os = "linux") {
        return "/proc/self/exe".into();
    }
    std::env::current_exe()
        .unwrap_or_else(|_| std::env::args_os().next().unwrap_or_default().into())
}

/// The most handles one spawned child can be given: Linux's limit for one message
/// (`SCM_MAX_FD`).
#[cfg(unix)]
const MAX_HANDLES: usize = 253;

/// How a spawned child gets its start message and its handles: its standard input. On
/// Unix a socket, so that the handles travel with the message (`SCM_RIGHTS`) and none is
/// inherited. Nothing then has to run in the child between fork and exec, so std starts
/// it with `posix_spawn`, which does not copy this process's page tables as `fork` does.
#[cfg(unix)]
pub struct StartLine(std::os::unix::net::UnixStream);

/// Before a spawned child starts: makes its standard input the line its start comes by.
#[cfg(unix)]
pub fn start_line(command: &mut std::process::Command) -> io::Result<StartLine> {
    let (ours, theirs) = {
        // Where the pair is made, then marked close-on-exec, no child may start meanwhile.
        #[cfg(not(target_os = "linux"))]
        let _no_spawn = super::spawn_lock::making_descriptors();
        std::os::unix::net::UnixStream::pair()?
    };
    command.stdin(std::process::Stdio::from(OwnedFd::from(theirs)));
    Ok(StartLine(ours))
}

/// Once a spawned child exists: sends it `message`, with `handles` (the child numbers its
/// copies itself), and closes the line.
#[cfg(unix)]
pub fn send_start(
    line: StartLine,
    _child: &mut std::process::Child,
    handles: &[RawHandle],
    message: &[u8],
) -> io::Result<()> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    use std::io::Write;
    if handles.len() > MAX_HANDLES {
        return Err(io::Error::other(format!(
            "{} handles for one child; at most {MAX_HANDLES} can go",
            handles.len()
        )));
    }
    let fds: Vec<RawFd> = handles.iter().map(|&raw| raw as RawFd).collect();
    let mut line = line.0;
    // The handles go with the first bytes (a message is never empty); the rest follows.
    let sent = loop {
        let first = [io::IoSlice::new(message)];
        let rights = [ControlMessage::ScmRights(&fds)];
        match sendmsg::<()>(line.as_raw_fd(), &first, &rights, MsgFlags::empty(), None) {
            Err(Errno::EINTR) => continue,
            sent => break sent?,
        }
    };
    line.write_all(&message[sent..])
}

/// In a spawned child: the start message on its standard input, and the handles that
/// came with it, in the order they were sent.
#[cfg(unix)]
pub fn receive_start() -> io::Result<(Vec<u8>, Vec<OwnedHandle>)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let mut bytes = vec![0; 64 * 1024];
    let mut space = nix::cmsg_space!([RawFd; MAX_HANDLES]);
    let (got, raws) = loop {
        let mut first = [io::IoSliceMut::new(&mut bytes)];
        let flags = MsgFlags::empty();
        match recvmsg::<()>(libc::STDIN_FILENO, &mut first, Some(&mut space), flags) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(message) => {
                let mut raws = Vec::new();
                for control in message.cmsgs()? {
                    if let ControlMessageOwned::ScmRights(fds) = control {
                        raws.extend(fds);
                    }
                }
                break (message.bytes, raws);
            }
        }
    };
    // SAFETY: the kernel has just opened each of these in this process for this message
    // (`SCM_RIGHTS`); nothing else here knows the numbers, so each gets one owner.
    let handles = raws
        .into_iter()
        .map(|raw| unsafe { OwnedFd::from_raw_fd(raw) })
        .collect();
    bytes.truncate(got);
    io::stdin().lock().read_to_end(&mut bytes)?;
    Ok((bytes, handles))
}

/// In a spawned child, for each descriptor it was handed: makes it its own, not its own
/// children's (close-on-exec: a descriptor that arrives with a message has it cleared).
#[cfg(unix)]
pub fn own(handle: &OwnedHandle) -> io::Result<()> {
    close_on_exec(handle).map_err(io::Error::from)
}

/// Sets close-on-exec on `fd`: a descriptor a spawned child was handed is its own, not
/// its children's.
#[cfg(unix)]
pub fn close_on_exec(fd: &OwnedFd) -> nix::Result<()> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map(drop)
}

/// Right after a spawned child started: what this OS does to tie it to its parent (on
/// Linux and macOS the child does it itself, in [`die_with_parent`]).
#[cfg(unix)]
pub fn adopt_child(_child: &std::process::Child) -> io::Result<()> {
    Ok(())
}

/// Held while a spawned child runs; see [`spawn`].
#[cfg(target_os = "linux")]
pub use super::parent_thread::Lease;

/// Starts a spawned child. Linux: from a thread that lasts while the child runs (the
/// [`Lease`]), because the kernel kills a child whose starting *thread* ends
/// ([`die_with_parent`]); see [`parent_thread`](super::parent_thread).
#[cfg(target_os = "linux")]
pub fn spawn(command: std::process::Command) -> io::Result<(std::process::Child, Option<Lease>)> {
    super::parent_thread::spawn(command)
}

/// Held while a spawned child runs; nothing, where no thread needs to last.
#[cfg(not(target_os = "linux"))]
#[derive(Debug)]
pub struct Lease;

/// Starts a spawned child, from this thread: without `PR_SET_PDEATHSIG`, which thread
/// started a child does not matter. No descriptor is half made meanwhile
/// ([`spawn_lock`](super::spawn_lock)).
#[cfg(all(unix, not(target_os = "linux")))]
pub fn spawn(
    mut command: std::process::Command,
) -> io::Result<(std::process::Child, Option<Lease>)> {
    let _alone = super::spawn_lock::spawning();
    Ok((command.spawn()?, None))
}

/// What ended a child: a signal. On Windows, which has no signals, the two a parent sends
/// (`terminate` and `kill`) are told apart by the exit code they leave.
#[cfg(unix)]
pub use nix::sys::signal::Signal;

/// Sends `signal` to a spawned child.
#[cfg(unix)]
pub fn signal(child: &std::process::Child, signal: Signal) -> io::Result<()> {
    let pid = Pid::from_raw(child.id() as i32);
    Ok(nix::sys::signal::kill(pid, signal)?)
}

/// How a spawned child ended: its exit code, or the signal that ended it.
#[cfg(unix)]
pub fn end_of(status: std::process::ExitStatus) -> Result<i32, Signal> {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => Err(Signal::try_from(signal).unwrap_or(Signal::SIGKILL)),
        None => Ok(status.code().unwrap_or(-1)),
    }
}

/// Makes reads and writes of `handle` return at once (`O_NONBLOCK`) rather than wait.
#[cfg(unix)]
pub fn set_nonblocking(handle: BorrowedHandle<'_>) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, fcntl};
    fcntl(handle, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Waits until one of `ends` (read ends of pipes) holds bytes or has no writer left, or
/// `timeout` has passed (`None`: no limit); which ones are ready (`poll`).
#[cfg(unix)]
pub fn wait_readable(
    ends: &[BorrowedHandle<'_>],
    timeout: Option<std::time::Duration>,
) -> io::Result<Vec<bool>> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
    let mut fds: Vec<PollFd<'_>> = ends
        .iter()
        .map(|&end| PollFd::new(end, PollFlags::POLLIN))
        .collect();
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        match poll(&mut fds, left.map_or(PollTimeout::NONE, poll_timeout)) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(fds
        .iter()
        .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
        .collect())
}

/// A `poll(2)` timeout for `d`, rounded up to whole milliseconds so that a
/// sub-millisecond wait does not become a busy loop.
#[cfg(unix)]
fn poll_timeout(d: std::time::Duration) -> nix::poll::PollTimeout {
    let ms = d.as_micros().div_ceil(1000);
    nix::poll::PollTimeout::try_from(ms).unwrap_or(nix::poll::PollTimeout::MAX)
}

// ---- Windows ----------------------------------------------------------------------------
//
// No descriptor is inherited: each handle a spawned child is given is copied into it with
// `DuplicateHandle` once it exists ([`handed`]), as Python's `popen_spawn_win32` does, and
// the copies' numbers travel in its start message. Children die with their parent through
// a job object ([`adopt_child`]). A pipe has no `poll`: [`wait_readable`] asks
// `PeekNamedPipe`. There are no signals: [`signal`] ends a child with `TerminateProcess`
// and an exit code that says which signal it stands for.

#[cfg(windows)]
use windows_sys::Win32::Foundation::HANDLE;

/// `handle` as a `File`, for std's `ReadFile` and `WriteFile`, which read a pipe whose
/// writers are all gone as end-of-file; never dropped, so the handle stays open.
#[cfg(windows)]
fn as_file(handle: BorrowedHandle<'_>) -> std::mem::ManuallyDrop<std::fs::File> {
    use std::os::windows::io::{AsRawHandle, FromRawHandle};
    // SAFETY: `handle` is open for as long as it is borrowed, which outlasts the `File`'s
    // use (the caller's one call); the `File` is never dropped, so it does not close it.
    std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_handle(handle.as_raw_handle()) })
}

/// Reads from a pipe end; 0 at end-of-file.
#[cfg(windows)]
pub fn read(handle: BorrowedHandle<'_>, buf: &mut [u8]) -> io::Result<usize> {
    use std::io::Read;
    (&*as_file(handle)).read(buf)
}

/// Writes to a pipe end; how many bytes were written.
#[cfg(windows)]
pub fn write(handle: BorrowedHandle<'_>, buf: &[u8]) -> io::Result<usize> {
    use std::io::Write;
    (&*as_file(handle)).write(buf)
}

/// What a pipe holds before a writer waits: 64 KiB, as on Linux.
#[cfg(windows)]
const PIPE_BUFFER: u32 = 64 * 1024;

/// A new pipe, `(read end, write end)`; neither is inherited by children.
#[cfg(windows)]
pub fn pipe() -> io::Result<(OwnedHandle, OwnedHandle)> {
    use std::os::windows::io::FromRawHandle;
    let (mut read, mut write): (HANDLE, HANDLE) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: two out-pointers to handles; no security attributes, so neither end is
    // inheritable.
    let made = unsafe {
        windows_sys::Win32::System::Pipes::CreatePipe(
            &mut read,
            &mut write,
            std::ptr::null(),
            PIPE_BUFFER,
        )
    };
    if made == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: CreatePipe succeeded, so both are new open handles that nothing else owns.
    Ok(unsafe {
        (
            OwnedHandle::from_raw_handle(read),
            OwnedHandle::from_raw_handle(write),
        )
    })
}

/// How a spawned child gets its start message and its handles: its standard input, a
/// pipe. Handles are not inherited: each is copied into the child once it exists
/// ([`handed`]), and the numbers the copies have there go before the message.
#[cfg(windows)]
pub struct StartLine;

/// Before a spawned child starts: makes its standard input the line its start comes by.
#[cfg(windows)]
pub fn start_line(command: &mut std::process::Command) -> io::Result<StartLine> {
    command.stdin(std::process::Stdio::piped());
    Ok(StartLine)
}

/// Once a spawned child exists: copies `handles` into it and sends it their numbers there
/// and `message`, and closes the line.
#[cfg(windows)]
pub fn send_start(
    _line: StartLine,
    child: &mut std::process::Child,
    handles: &[RawHandle],
    message: &[u8],
) -> io::Result<()> {
    use std::io::Write;
    let theirs = handed(child, handles)?;
    let start = postcard::to_stdvec(&(theirs, message)).map_err(io::Error::other)?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(&start)
}

/// In a spawned child: the start message on its standard input, and the handles it names,
/// in the order they were sent.
#[cfg(windows)]
pub fn receive_start() -> io::Result<(Vec<u8>, Vec<OwnedHandle>)> {
    use std::io::Read;
    let mut bytes = Vec::new();
    io::stdin().lock().read_to_end(&mut bytes)?;
    let (named, message): (Vec<RawHandle>, Vec<u8>) = postcard::from_bytes(&bytes)
        .map_err(|e| io::Error::other(format!("not a start message ({e})")))?;
    check_handles(&named).map_err(io::Error::other)?;
    // SAFETY: the parent copied exactly these handles into this process for it
    // ([`handed`]), and nothing else in this new program knows them; they are distinct and
    // within 32 bits (checked above), so each is adopted by one owner.
    let handles = unsafe { super::reduction::adopt(&named) };
    Ok((message, handles))
}

/// What a start message's handle numbers must be before any is adopted: none twice (two
/// owners of one handle would close it twice), none past 32 bits (Windows keeps handles
/// to 32 bits, so that 32- and 64-bit programs can share them).
#[cfg(windows)]
fn check_handles(handles: &[RawHandle]) -> Result<(), String> {
    if let Some(handle) = handles.iter().find(|&&h| h > i32::MAX as RawHandle) {
        return Err(format!(
            "the start message names the handle {handle}, which cannot be open"
        ));
    }
    for (i, handle) in handles.iter().enumerate() {
        if handles[..i].contains(handle) {
            return Err(format!("the start message names the handle {handle} twice"));
        }
    }
    Ok(())
}

/// Once a spawned child has started: copies each of `raws` into it (`DuplicateHandle`);
/// the numbers the copies have there. They are the child's, not inheritable, and close
/// when it ends.
#[cfg(windows)]
pub fn handed(child: &std::process::Child, raws: &[RawHandle]) -> io::Result<Vec<RawHandle>> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::{DUPLICATE_SAME_ACCESS, DuplicateHandle};
    use windows_sys::Win32::System::Threading::GetCurrentProcess;
    raws.iter()
        .map(|&raw| {
            let mut copy: HANDLE = std::ptr::null_mut();
            // SAFETY: `raw` is an open handle of this process (the caller holds it while
            // this runs), the target is the child's open process handle, and `copy` is an
            // out-pointer.
            let copied = unsafe {
                DuplicateHandle(
                    GetCurrentProcess(),
                    raw as usize as HANDLE,
                    child.as_raw_handle(),
                    &mut copy,
                    0,
                    0,
                    DUPLICATE_SAME_ACCESS,
                )
            };
            if copied == 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(copy as usize as RawHandle)
        })
        .collect()
}

/// In a spawned child, for each handle it was handed: nothing to do, a copied handle is
/// not inheritable.
#[cfg(windows)]
pub fn own(_handle: &OwnedHandle) -> io::Result<()> {
    Ok(())
}

/// Right after a spawned child started: puts it in this process's job object, which kills
/// every process in it when its last handle closes: when this process ends, by returning,
/// by a crash or by being killed.
#[cfg(windows)]
pub fn adopt_child(child: &std::process::Child) -> io::Result<()> {
    use std::os::windows::io::AsRawHandle;
    use std::sync::OnceLock;
    static JOB: OnceLock<Result<OwnedHandle, i32>> = OnceLock::new();
    let job = JOB.get_or_init(|| new_job().map_err(|e| e.raw_os_error().unwrap_or(0)));
    let job = job
        .as_ref()
        .map_err(|&code| io::Error::from_raw_os_error(code))?;
    // SAFETY: both are open handles: the job's (kept in `JOB` for the process's life) and
    // the child's process handle.
    let assigned = unsafe {
        windows_sys::Win32::System::JobObjects::AssignProcessToJobObject(
            job.as_raw_handle(),
            child.as_raw_handle(),
        )
    };
    if assigned == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new job object that kills its processes when its last handle closes.
#[cfg(windows)]
fn new_job() -> io::Result<OwnedHandle> {
    use std::os::windows::io::{AsRawHandle, FromRawHandle};
    use windows_sys::Win32::System::JobObjects::{
        CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
        JobObjectExtendedLimitInformation, SetInformationJobObject,
    };
    // SAFETY: no attributes (not inheritable), no name.
    let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
    if job.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new open handle that nothing else owns.
    let job = unsafe { OwnedHandle::from_raw_handle(job) };
    // SAFETY: all-zero is a valid value of this C struct of integers (no limits set).
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    // SAFETY: `limits` is the struct this information class names, and its size is given.
    let set = unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            (&raw const limits).cast(),
            size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    };
    if set == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(job)
}

/// Starts a spawned child, from this thread: the job object, not the thread, ties it to
/// this process.
#[cfg(windows)]
pub fn spawn(
    mut command: std::process::Command,
) -> io::Result<(std::process::Child, Option<Lease>)> {
    Ok((command.spawn()?, None))
}

/// In a new spawned child: nothing to ask for, the job object ties it to its parent.
#[cfg(windows)]
pub fn die_with_parent(_parent: u32) -> io::Result<()> {
    Ok(())
}

/// What ended a child. Windows has no signals: [`signal`] ends a child with
/// `TerminateProcess` and an exit code that names the signal it stands for, so that
/// `terminate` and `kill` are told apart from an exit the child chose.
#[cfg(windows)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    SIGTERM,
    SIGKILL,
}

#[cfg(windows)]
impl Signal {
    /// The exit code `TerminateProcess` leaves: 0x10000 plus the Unix number, above the
    /// codes a program passes to `exit` by convention (0 to 255).
    fn exit_code(self) -> u32 {
        0x10000
            + match self {
                Signal::SIGTERM => 15,
                Signal::SIGKILL => 9,
            }
    }
}

#[cfg(windows)]
impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Ends a spawned child now (`TerminateProcess`), with the exit code that names `signal`.
/// A child that has already exited counts as ended, as asked.
#[cfg(windows)]
pub fn signal(child: &std::process::Child, signal: Signal) -> io::Result<()> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::System::Threading::{TerminateProcess, WaitForSingleObject};
    // SAFETY: the child's open process handle.
    if unsafe { TerminateProcess(child.as_raw_handle(), signal.exit_code()) } != 0 {
        return Ok(());
    }
    let refused = io::Error::last_os_error();
    // SAFETY: as above; a zero wait only asks whether the process has ended.
    let ended = unsafe { WaitForSingleObject(child.as_raw_handle(), 0) };
    if ended == windows_sys::Win32::Foundation::WAIT_OBJECT_0 {
        return Ok(());
    }
    Err(refused)
}

/// How a spawned child ended: its exit code, or the signal [`signal`] ended it with.
#[cfg(windows)]
pub fn end_of(status: std::process::ExitStatus) -> Result<i32, Signal> {
    let code = status.code().unwrap_or(-1);
    match [Signal::SIGTERM, Signal::SIGKILL]
        .into_iter()
        .find(|s| s.exit_code() as i32 == code)
    {
        Some(signal) => Err(signal),
        None => Ok(code),
    }
}

/// Makes reads and writes of the pipe end `handle` return at once rather than wait
/// (`PIPE_NOWAIT`): a write that finds too little room writes nothing.
#[cfg(windows)]
pub fn set_nonblocking(handle: BorrowedHandle<'_>) -> io::Result<()> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::System::Pipes::{PIPE_NOWAIT, SetNamedPipeHandleState};
    let mode = PIPE_NOWAIT;
    // SAFETY: an open pipe handle, and a pointer to the mode for the call's length; the
    // other two settings are left as they are (null).
    let set = unsafe {
        SetNamedPipeHandleState(
            handle.as_raw_handle(),
            &mode,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if set == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits until one of `ends` (read ends of pipes) holds bytes or has no writer left, or
/// `timeout` has passed (`None`: no limit); which ones are ready. Windows pipes have no
/// `poll`: `PeekNamedPipe` is asked again and again, with a yield between the first asks
/// and then a millisecond's sleep, so a long wait costs little CPU and sees bytes within
/// about a millisecond.
#[cfg(windows)]
pub fn wait_readable(
    ends: &[BorrowedHandle<'_>],
    timeout: Option<std::time::Duration>,
) -> io::Result<Vec<bool>> {
    let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
    let mut round = 0u32;
    loop {
        let ready = ends
            .iter()
            .map(|&end| has_bytes_or_no_writer(end))
            .collect::<io::Result<Vec<bool>>>()?;
        let late = match (timeout, deadline) {
            (Some(_), Some(deadline)) => std::time::Instant::now() >= deadline,
            _ => false,
        };
        if ready.contains(&true) || late || timeout == Some(std::time::Duration::ZERO) {
            return Ok(ready);
        }
        round += 1;
        if round < 100 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

#[cfg(windows)]
fn has_bytes_or_no_writer(pipe: BorrowedHandle<'_>) -> io::Result<bool> {
    use std::os::windows::io::AsRawHandle;
    let mut available = 0u32;
    // SAFETY: `pipe` is an open pipe handle; only the count of bytes waiting is asked for.
    let peeked = unsafe {
        windows_sys::Win32::System::Pipes::PeekNamedPipe(
            pipe.as_raw_handle(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut available,
            std::ptr::null_mut(),
        )
    };
    if peeked != 0 {
        return Ok(available > 0);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(windows_sys::Win32::Foundation::ERROR_BROKEN_PIPE as i32) {
        return Ok(true); // every write end is closed: a read returns end-of-file
    }
    Err(e)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use nix::poll::PollTimeout;
    use std::time::Duration;

    #[test]
    fn poll_timeout_rounds_up() {
        assert_eq!(i32::from(poll_timeout(Duration::from_micros(1))), 1);
        assert_eq!(i32::from(poll_timeout(Duration::ZERO)), 0);
        assert_eq!(i32::from(poll_timeout(Duration::from_millis(1500))), 1500);
        assert_eq!(poll_timeout(Duration::MAX), PollTimeout::MAX);
    }
}

#[cfg(all(test, windows))]
mod tests {
    use super::*;

    #[test]
    fn a_start_message_with_bad_handles_is_refused() {
        assert_eq!(check_handles(&[5, 7, 4]), Ok(()));
        for (handles, why) in [
            (&[5, 1 << 40, 4][..], "the handle 1099511627776"),
            (&[5, 7, 5][..], "the handle 5 twice"),
        ] {
            let err = check_handles(handles).unwrap_err();
            assert!(err.contains(why), "{handles:?}: {err}");
        }
    }
}
