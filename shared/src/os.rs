//! The system calls `process`, `start_method`, `private_fd` and `shared_memory` make
//! differently on Linux and macOS: each function here has one short version per OS, side
//! by side where they differ, so that those modules read the same everywhere.
//!
//! # Copying it
//!
//! Copy `os.rs`, `parent_thread.rs`, `spawn_lock.rs`, `process.rs`, `start_method.rs`,
//! `reduction.rs`, `private_fd.rs` and `closed_stdout.rs` into one folder of your crate, as
//! sibling modules (they reach each other through `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
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
//! - `/proc/self/exe`: a spawned child runs the executable's path ([`this_executable`]).
//! - `MADV_HUGEPAGE`: fresh memory is faulted in 4 KiB at a time ([`prefer_huge_pages`]).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::libc;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

/// A new pipe, `(read end, write end)`, both close-on-exec.
#[cfg(target_os = "linux")]
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC)?)
}

/// A new pipe, `(read end, write end)`, both close-on-exec.
#[cfg(not(target_os = "linux"))]
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
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
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
pub fn die_with_parent(parent: Pid) -> nix::Result<()> {
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
#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(parent: Pid) -> nix::Result<()> {
    parent_still_there(parent)
}

fn parent_still_there(parent: Pid) -> nix::Result<()> {
    if nix::unistd::getppid() == parent {
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

/// Waits, briefly, until this process has one thread; `Err(threads)` if it still has more.
///
/// A thread that has been joined is gone for the program, but the kernel lists it (in
/// `/proc/self/task`) until it has finished exiting, a moment later: that is what the
/// wait is for. A thread that still runs keeps the count up, and the wait ends in refusal.
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

/// Clears close-on-exec on `fd`, so that the program about to be run inherits it. For
/// `pre_exec`: only `fcntl`, which is async-signal-safe.
pub fn keep_on_exec(fd: RawFd) -> io::Result<()> {
    // SAFETY: `fcntl` on a descriptor number has no memory-safety preconditions.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets close-on-exec on `fd` again: a descriptor a spawned child inherited is its own,
/// not its children's.
pub fn close_on_exec(fd: &OwnedFd) -> nix::Result<()> {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map(drop)
}

/// Asks the kernel to back the whole 2 MiB pages inside `memory` with huge pages when they
/// are first touched (`madvise(MADV_HUGEPAGE)`, which Linux honours when
/// `/sys/kernel/mm/transparent_hugepage/enabled` is `always` or `madvise`): filling fresh
/// memory then takes one page fault per 2 MiB instead of one per 4 KiB. Only advice: if the
/// kernel declines, nothing changes.
#[cfg(target_os = "linux")]
pub fn prefer_huge_pages<T>(memory: &mut [T]) {
    const HUGE: usize = 2 << 20;
    let start = memory.as_mut_ptr() as usize;
    let (first, end) = (
        start.next_multiple_of(HUGE),
        (start + size_of_val(memory)) & !(HUGE - 1),
    );
    let Some(pages) = std::ptr::NonNull::new(first as *mut std::ffi::c_void) else {
        return;
    };
    if end > first {
        // SAFETY: `first..end` lies inside `memory`, which this call borrows exclusively,
        // and is aligned to whole pages as madvise requires. MADV_HUGEPAGE changes only how
        // the kernel backs the range, never what it holds, so the allocation stays as valid
        // as it was; the result is ignored because the advice may be declined.
        let _ = unsafe {
            nix::sys::mman::madvise(
                pages,
                end - first,
                nix::sys::mman::MmapAdvise::MADV_HUGEPAGE,
            )
        };
    }
}

/// Elsewhere: no advice is given (macOS has no transparent huge pages for `malloc`'s memory).
#[cfg(not(target_os = "linux"))]
pub fn prefer_huge_pages<T>(_memory: &mut [T]) {}

/// Right after a spawned child started: what this OS does to tie it to its parent (on
/// Linux and macOS the child does it itself, in [`die_with_parent`]).
pub fn adopt_child(_child: &std::process::Child) {}

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
#[cfg(not(target_os = "linux"))]
pub fn spawn(
    mut command: std::process::Command,
) -> io::Result<(std::process::Child, Option<Lease>)> {
    let _alone = super::spawn_lock::spawning();
    Ok((command.spawn()?, None))
}

/// Whether this process's stdout is a pipe or socket no one reads any more (Linux reports
/// `POLLERR`, macOS `POLLHUP`).
pub fn stdout_is_closed() -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let stdout = io::stdout();
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLOUT)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(1))
        && fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP))
}
