//! The tracer: runs a command under ptrace and records, on one clock, every thread and
//! process it creates (fork, vfork and clone events), when and how each ended (exit
//! events), and every `write`/`writev` to fd 1 or 2. Linux (x86_64 and aarch64).
//!
//! Only those writes stop the program: a seccomp filter, installed just before the
//! command's `execve`, hands them to the tracer and lets every other system call run at
//! full speed, so a traced run keeps the timing of an untraced one (strace's
//! `--seccomp-bpf` does the same).
//!
//! The command runs in a process group of its own; the tracer waits for that group
//! only, so other children of this process (other tests, other tracers on other threads)
//! are left alone. A watchdog kills the group at the time limit, and whatever is still
//! running once the started process has ended is killed and recorded as left running.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::errno::Errno;
use nix::sys::ptrace::{self, Event, Options};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::model::{End, LineSplitter, Thread, Trace};
use xtask::exec;

/// Runs `program args` (in `dir`, if given, with `env` added to its environment) to its
/// end under the tracer, killing it after `limit`; returns the trace and the instant its clock starts from: when the
/// command's program began, just after its `execve`.
pub fn run(
    program: &OsStr,
    args: &[String],
    limit: Duration,
    dir: Option<&Path>,
    env: &[(&str, &str)],
) -> anyhow::Result<(Trace, Instant)> {
    let mut command = Command::new(program);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    let filter = write_filter()?;
    // SAFETY: between fork and exec the child only makes three system calls (ptrace,
    // prctl, seccomp); none allocates or takes a lock. The filter was built before fork.
    unsafe {
        command.pre_exec(move || {
            ptrace::traceme().map_err(io::Error::from)?;
            install(&filter)
        });
    }
    let mut child = command.spawn().map_err(|err| start_error(program, err))?;
    let root = child.id() as i32;
    // Which pipe is which, as /proc names them: "pipe:[INODE]".
    let fds = [
        child.stdout.as_ref().map(|p| p.as_raw_fd()),
        child.stderr.as_ref().map(|p| p.as_raw_fd()),
    ];
    let pipes = fds.map(|fd| std::fs::read_link(format!("/proc/self/fd/{}", fd?)).ok());
    let stdout = exec::reader(child.stdout.take());
    let stderr = exec::reader(child.stderr.take());

    // The watchdog: kills the whole group at the limit unless the run ends first.
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if finished.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
            let _ = killpg(Pid::from_raw(root), Signal::SIGKILL);
            return true;
        }
        false
    });
    let mut tracer = Tracer::new(root, pipes);
    let traced = tracer.follow();
    if traced.is_err() {
        // Leave nothing behind, stopped, running or unreaped.
        let _ = killpg(Pid::from_raw(root), Signal::SIGKILL);
        while let Ok(Some(_)) = wait(-root) {}
    }
    drop(done);
    let timed_out = watchdog.join().expect("the watchdog thread panicked");
    traced?;
    let origin = tracer.origin;
    let mut trace = tracer.finish();
    trace.command = std::iter::once(program.to_string_lossy().into_owned())
        .chain(args.iter().cloned())
        .collect();
    trace.timed_out = timed_out;
    trace.stdout = stdout.join().expect("output reader panicked");
    trace.stderr = stderr.join().expect("output reader panicked");
    Ok((trace, origin))
}

/// The error when this system does not let the tracer trace: what to do about it.
#[derive(Debug)]
pub struct NotPermitted(String);

impl std::fmt::Display for NotPermitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotPermitted {}

/// Why the command did not start, naming what to do when it is ptrace that was refused.
fn start_error(program: &OsStr, err: io::Error) -> anyhow::Error {
    let program = program.to_string_lossy();
    match err.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EPERM | Errno::EACCES | Errno::ENOSYS | Errno::EINVAL) => {
            NotPermitted(format!(
                "ptrace is not permitted here, so `{program}` cannot be traced ({err}). \
             The tracer needs ptrace(PTRACE_TRACEME) and a seccomp filter: in a container, \
             start it with the SYS_PTRACE capability (`docker run --cap-add=SYS_PTRACE`) \
             or `--security-opt seccomp=unconfined`; check that \
             /proc/sys/kernel/yama/ptrace_scope is below 3; and do not run xtask itself \
             under strace or a debugger that follows children. `cargo xtask verify` needs \
             no ptrace."
            ))
            .into()
        }
        _ => anyhow::Error::new(err).context(format!("starting `{program}` under the tracer")),
    }
}

/// The seccomp filter: `write` and `writev` to fd 1 or 2 stop for the tracer
/// (`SECCOMP_RET_TRACE`); everything else runs untraced.
fn write_filter() -> anyhow::Result<Vec<libc::sock_filter>> {
    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: Option<u32> = Some(0xc000_003e); // AUDIT_ARCH_X86_64
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH: Option<u32> = Some(0xc000_00b7); // AUDIT_ARCH_AARCH64
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    const AUDIT_ARCH: Option<u32> = None;
    let Some(arch) = AUDIT_ARCH else {
        anyhow::bail!(
            "the tracer knows the system calls of x86_64 and aarch64 only, not of {}",
            std::env::consts::ARCH
        );
    };
    // struct seccomp_data: nr (u32), arch (u32), instruction_pointer (u64), args[6] (u64).
    const NR: u32 = 0;
    const ARCH_AT: u32 = 4;
    #[cfg(target_endian = "little")]
    const FD: u32 = 16; // the low half of args[0]
    #[cfg(target_endian = "big")]
    const FD: u32 = 20;
    let load = |at| stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, at);
    let jeq = |k, jt, jf| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    Ok(vec![
        load(ARCH_AT),
        jeq(arch, 0, 7), // another ABI (e.g. 32-bit): allow
        load(NR),
        jeq(libc::SYS_write as u32, 1, 0),
        jeq(libc::SYS_writev as u32, 0, 4),
        load(FD),
        jeq(1, 1, 0),
        jeq(2, 0, 1),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_TRACE),
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
    ])
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// In the child before `execve`: no new privileges (which an unprivileged seccomp filter
/// requires), then the filter.
fn install(filter: &[libc::sock_filter]) -> io::Result<()> {
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl takes plain integers here.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `program` points at `filter`, which outlives the call; the kernel copies it.
    let set = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const libc::sock_fprog,
        )
    };
    if set != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A write to fd 1 or 2, between its seccomp stop and its syscall-exit stop.
struct PendingWrite {
    /// 1 if it goes to the run's stdout, 2 if to its stderr.
    fd: i32,
    /// `write`: the buffer; `writev`: the iovec array and its length.
    addr: u64,
    len: u64,
    vectored: bool,
    at: Duration,
}

/// What the tracer knows of one thread.
struct Task {
    /// Index into `Tracer::threads`.
    index: usize,
    /// Its first stop (the SIGSTOP every new tracee starts with) has been seen.
    attached: bool,
    write: Option<PendingWrite>,
    /// Its exit has been reported; it is gone.
    gone: bool,
    /// Its `PTRACE_EVENT_EXIT` stop has been seen, or it was killed: it is ending.
    exiting: bool,
}

struct Tracer {
    root: i32,
    origin: Instant,
    threads: Vec<Thread>,
    tasks: HashMap<i32, Task>,
    lines: LineSplitter,
    code: Option<i32>,
    /// Every thread of the started process has ended; what still runs was left behind.
    root_ended: bool,
    /// The run's stdout and stderr pipes (their `/proc/…/fd` links): a write counts as
    /// printed if it goes into one of them, whatever fd the program wrote it to.
    pipes: [Option<PathBuf>; 2],
    /// Processes that ran a program of their own after the traced command's: (pid, when).
    execs: Vec<(i32, Duration)>,
}

impl Tracer {
    fn new(root: i32, pipes: [Option<PathBuf>; 2]) -> Tracer {
        Tracer {
            pipes,
            root,
            origin: Instant::now(),
            threads: Vec::new(),
            tasks: HashMap::new(),
            lines: LineSplitter::default(),
            code: None,
            root_ended: false,
            execs: Vec::new(),
        }
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Follows the run until every traced thread is gone.
    fn follow(&mut self) -> anyhow::Result<()> {
        // The first stop: the SIGTRAP of the traced `execve`.
        match wait(-self.root).context("waiting for the traced command to start")? {
            Some(Status::Stopped(tid, _)) if tid == self.root => {}
            other => anyhow::bail!("the traced command did not start as expected: {other:?}"),
        }
        self.origin = Instant::now();
        let options = Options::PTRACE_O_TRACESYSGOOD
            | Options::PTRACE_O_TRACESECCOMP
            | Options::PTRACE_O_TRACEFORK
            | Options::PTRACE_O_TRACEVFORK
            | Options::PTRACE_O_TRACECLONE
            | Options::PTRACE_O_TRACEEXEC
            | Options::PTRACE_O_TRACEEXIT
            | Options::PTRACE_O_EXITKILL;
        ptrace::setoptions(Pid::from_raw(self.root), options)
            .context("setting the ptrace options")?;
        self.add(self.root, None, Duration::ZERO, true, Some(self.root));
        self.resume(self.root, 0);

        while let Some(status) = wait(-self.root).context("waiting for the traced run")? {
            let at = self.now();
            match status {
                Status::Syscall(tid) => {
                    self.write_done(tid, at);
                    self.resume(tid, 0);
                }
                Status::Event(tid, event) => {
                    self.event(tid, event, at);
                    self.resume(tid, 0);
                }
                Status::Stopped(tid, signal) => {
                    let task = self.task(tid, at);
                    if !task.attached && signal == libc::SIGSTOP {
                        task.attached = true;
                        self.resume(tid, 0);
                    } else if ptrace::getsiginfo(Pid::from_raw(tid)) == Err(Errno::EINVAL) {
                        self.resume(tid, 0); // a group-stop: nothing to deliver
                    } else {
                        self.resume(tid, signal); // deliver the signal it was sent
                    }
                }
                Status::Exited(tid, code) => {
                    if tid == self.root {
                        self.code = Some(code);
                    }
                    self.gone(tid, None, at);
                }
                Status::Signaled(tid, signal) => self.gone(tid, Some(signal), at),
            }
        }
        // Tasks that left the process group are out of `wait`'s sight: kill them.
        for (&tid, task) in &self.tasks {
            if !task.gone {
                let _ = kill(Pid::from_raw(tid), Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(
                    Pid::from_raw(tid),
                    Some(nix::sys::wait::WaitPidFlag::__WALL),
                );
            }
        }
        Ok(())
    }

    /// Lets a stopped tracee run on, delivering `signal` if it is not 0: to its next
    /// traced stop, or, in the middle of a write, to that write's syscall-exit stop.
    fn resume(&self, tid: i32, signal: i32) {
        let mid_write = self.tasks.get(&tid).is_some_and(|t| t.write.is_some());
        let request = if mid_write {
            libc::PTRACE_SYSCALL
        } else {
            libc::PTRACE_CONT
        };
        // SAFETY: these requests take no pointer; `data` is the signal to deliver.
        // It fails (ESRCH) only if the tracee was killed meanwhile, which `wait` reports.
        unsafe {
            libc::ptrace(request, tid, 0, signal as libc::c_long);
        }
    }

    /// A task, seen for the first time if it is new (its first stop can come before the
    /// fork event that names its parent).
    fn task(&mut self, tid: i32, at: Duration) -> &mut Task {
        if !self.tasks.contains_key(&tid) {
            self.add(tid, None, at, false, None);
        }
        self.tasks.get_mut(&tid).expect("just added")
    }

    /// A new task; `pid` is its process if known, else read from /proc.
    fn add(
        &mut self,
        tid: i32,
        parent: Option<i32>,
        at: Duration,
        attached: bool,
        pid: Option<i32>,
    ) {
        let pid = pid.or_else(|| thread_group(tid)).unwrap_or(tid);
        self.threads.push(Thread {
            tid,
            pid,
            parent,
            born: at,
            ended: at,
            name: String::new(),
            end: End::TakenDown,
        });
        self.tasks.insert(
            tid,
            Task {
                index: self.threads.len() - 1,
                attached,
                write: None,
                gone: false,
                exiting: false,
            },
        );
    }

    fn event(&mut self, tid: i32, event: i32, at: Duration) {
        let forks = [
            Event::PTRACE_EVENT_FORK,
            Event::PTRACE_EVENT_VFORK,
            Event::PTRACE_EVENT_CLONE,
        ];
        if forks.iter().any(|e| *e as i32 == event) {
            let Ok(new) = ptrace::getevent(Pid::from_raw(tid)) else {
                return;
            };
            let new = new as i32;
            // fork and vfork make a process; clone, a thread or (rarely) a process.
            let process = (event != Event::PTRACE_EVENT_CLONE as i32).then_some(new);
            match self.tasks.get(&new) {
                // Its own first stop came first: only its parent is news.
                Some(task) => self.threads[task.index].parent = Some(tid),
                None => self.add(new, Some(tid), at, false, process),
            }
        } else if event == Event::PTRACE_EVENT_SECCOMP as i32 {
            self.write_starts(tid, at);
        } else if event == Event::PTRACE_EVENT_EXIT as i32 {
            let (name, end) = (comm(tid), exit_cause(tid));
            let task = self.task(tid, at);
            task.exiting = true;
            let index = task.index;
            let thread = &mut self.threads[index];
            thread.name = name;
            if thread.end != End::LeftRunning {
                thread.ended = at;
                thread.end = end;
            }
            self.root_may_have_ended(at);
        } else if event == Event::PTRACE_EVENT_EXEC as i32 {
            // A multithreaded process's exec: the exec'ing thread takes the pid, and
            // its old tid is gone.
            if let Ok(former) = ptrace::getevent(Pid::from_raw(tid))
                && former as i32 != tid
            {
                self.gone(former as i32, None, at);
            }
            // After an exec the event comes from the thread that now has the pid.
            self.execs.push((tid, at));
        }
    }

    /// The seccomp stop of a write to fd 1 or 2: what it is about to write.
    fn write_starts(&mut self, tid: i32, at: Duration) {
        let Some(SyscallStop::Entry { nr, args }) = syscall_info(tid) else {
            return;
        };
        let target = std::fs::read_link(format!("/proc/{tid}/fd/{}", args[0])).ok();
        // 1 for the stdout pipe, 2 for the stderr pipe (a shell's `>&2` is a write to fd 1
        // after dup2); a write elsewhere, such as to a file, was not printed.
        let Some(stream) = self.pipes.iter().position(|p| p.is_some() && *p == target) else {
            return;
        };
        if nr == libc::SYS_write || nr == libc::SYS_writev {
            self.task(tid, at).write = Some(PendingWrite {
                fd: stream as i32 + 1,
                addr: args[1],
                len: args[2],
                vectored: nr == libc::SYS_writev,
                at,
            });
        }
    }

    /// The syscall-exit stop of that write: the bytes it wrote.
    fn write_done(&mut self, tid: i32, at: Duration) {
        let task = self.task(tid, at);
        let Some(write) = task.write.take() else {
            return;
        };
        let index = task.index;
        let Some(SyscallStop::Exit { ret }) = syscall_info(tid) else {
            return;
        };
        if ret > 0 {
            let bytes = read_written(tid, &write, ret as u64).unwrap_or_default();
            let pid = self.threads[index].pid;
            self.lines.write(tid, pid, write.fd, write.at, &bytes);
        }
    }

    fn gone(&mut self, tid: i32, signal: Option<i32>, at: Duration) {
        let task = self.task(tid, at);
        task.gone = true;
        let exiting = std::mem::replace(&mut task.exiting, true);
        let index = task.index;
        let thread = &mut self.threads[index];
        if !exiting {
            // No exit stop was seen (SIGKILL can skip it): it ends now.
            thread.ended = at;
        }
        if let Some(signal) = signal
            && thread.end != End::LeftRunning
        {
            thread.end = End::Signal(signal_name(signal));
        }
        self.root_may_have_ended(at);
    }

    /// Once every thread of the started process is ending, anything still running was
    /// left behind: record it, and kill it so the trace ends.
    fn root_may_have_ended(&mut self, at: Duration) {
        if self.root_ended {
            return;
        }
        let root_running = self
            .tasks
            .values()
            .any(|t| self.threads[t.index].pid == self.root && !t.exiting);
        if root_running {
            return;
        }
        self.root_ended = true;
        for task in self.tasks.values_mut() {
            if !task.exiting {
                let thread = &mut self.threads[task.index];
                thread.end = End::LeftRunning;
                thread.ended = at;
                task.exiting = true;
            }
        }
        if self.tasks.values().any(|t| !t.gone) {
            let _ = killpg(Pid::from_raw(self.root), Signal::SIGKILL);
        }
    }

    fn finish(mut self) -> Trace {
        for thread in &mut self.threads {
            if thread.name.is_empty() {
                thread.name = "?".to_string();
            }
        }
        let end = self
            .threads
            .iter()
            .map(|t| t.ended)
            .max()
            .unwrap_or_default();
        Trace {
            root: self.root,
            end,
            code: self.code,
            lines: std::mem::take(&mut self.lines).finish(),
            threads: self.threads,
            execs: self.execs,
            ..Trace::default()
        }
    }
}

/// The bytes a `write` or `writev` of `ret` bytes wrote, read from the tracee's memory.
fn read_written(tid: i32, write: &PendingWrite, ret: u64) -> io::Result<Vec<u8>> {
    let mem = File::open(format!("/proc/{tid}/mem"))?;
    let read = |addr: u64, len: u64| -> io::Result<Vec<u8>> {
        let mut buf = vec![0; len.min(1 << 20) as usize];
        mem.read_exact_at(&mut buf, addr)?;
        Ok(buf)
    };
    if !write.vectored {
        return read(write.addr, ret.min(write.len));
    }
    let iovecs = read(write.addr, write.len.min(1024) * 16)?;
    let mut bytes = Vec::new();
    for iov in iovecs.chunks_exact(16) {
        let left = ret - bytes.len() as u64;
        if left == 0 {
            break;
        }
        let base = u64::from_ne_bytes(iov[..8].try_into().expect("8 bytes"));
        let len = u64::from_ne_bytes(iov[8..].try_into().expect("8 bytes"));
        bytes.extend(read(base, len.min(left))?);
    }
    Ok(bytes)
}

/// At a thread's exit stop: did it call `exit` (a thread returning), `exit_group` (its
/// process exiting), or was it taken down while doing something else? The first field
/// of `/proc/TID/syscall` is the system call it is in.
fn exit_cause(tid: i32) -> End {
    let syscall = std::fs::read_to_string(format!("/proc/{tid}/syscall")).unwrap_or_default();
    match syscall
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
    {
        Some(libc::SYS_exit) => End::Exit,
        Some(libc::SYS_exit_group) => End::ExitGroup,
        _ => End::TakenDown,
    }
}

/// A thread's process: the `Tgid` line of `/proc/TID/status`.
fn thread_group(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Tgid:"))?;
    line["Tgid:".len()..].trim().parse().ok()
}

/// A thread's name (`/proc/TID/comm`). The kernel cuts it to 15 bytes; where that cut a
/// program's name, the name its process was started with (`/proc/TID/cmdline`).
fn comm(tid: i32) -> String {
    let comm = std::fs::read_to_string(format!("/proc/{tid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_default();
    if comm.len() < 15 {
        return comm;
    }
    let cmdline = std::fs::read(format!("/proc/{tid}/cmdline")).unwrap_or_default();
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let program = String::from_utf8_lossy(argv0);
    match Path::new(program.as_ref()).file_name() {
        Some(name) if name.to_string_lossy().starts_with(&comm) => {
            name.to_string_lossy().into_owned()
        }
        _ => comm,
    }
}

fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

/// A wait status, decoded for a tracer.
#[derive(Debug)]
enum Status {
    Exited(i32, i32),
    Signaled(i32, i32),
    /// A syscall-exit stop (`PTRACE_O_TRACESYSGOOD`).
    Syscall(i32),
    /// A `PTRACE_EVENT_*` stop.
    Event(i32, i32),
    /// A signal-delivery stop or group-stop.
    Stopped(i32, i32),
}

/// Waits for any thread in process group `-group`; `None` once none is left.
fn wait(group: i32) -> io::Result<Option<Status>> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes one int through the pointer, which is valid.
        let tid = unsafe { libc::waitpid(group, &mut status, libc::__WALL) };
        if tid >= 0 {
            break Ok(Some(decode(tid, status)));
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EINTR) => continue,
            e if e.raw_os_error() == Some(libc::ECHILD) => break Ok(None),
            e => break Err(e),
        }
    }
}

fn decode(tid: i32, status: i32) -> Status {
    if libc::WIFEXITED(status) {
        Status::Exited(tid, libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        Status::Signaled(tid, libc::WTERMSIG(status))
    } else if libc::WSTOPSIG(status) == libc::SIGTRAP | 0x80 {
        Status::Syscall(tid)
    } else if libc::WSTOPSIG(status) == libc::SIGTRAP && status >> 16 != 0 {
        Status::Event(tid, status >> 16)
    } else {
        Status::Stopped(tid, libc::WSTOPSIG(status))
    }
}

enum SyscallStop {
    Entry { nr: i64, args: [u64; 6] },
    Exit { ret: i64 },
}

/// `PTRACE_GET_SYSCALL_INFO` (Linux 5.3): the call's number and arguments at a seccomp
/// stop, or its return value at a syscall-exit stop, for any architecture.
fn syscall_info(tid: i32) -> Option<SyscallStop> {
    const PTRACE_GET_SYSCALL_INFO: libc::c_uint = 0x420e;
    // struct ptrace_syscall_info: op (u8), pad, flags (u16), arch (u32), ip, sp, then a
    // union: entry/seccomp { nr, args[6], .. } or exit { rval (s64), is_error (u8) }.
    const ENTRY: u8 = 1;
    const EXIT: u8 = 2;
    const SECCOMP: u8 = 3;
    let mut info = [0u64; 11];
    // SAFETY: the kernel writes at most `size_of_val(&info)` bytes into `info`.
    let n = unsafe {
        libc::ptrace(
            PTRACE_GET_SYSCALL_INFO,
            tid,
            std::mem::size_of_val(&info),
            info.as_mut_ptr(),
        )
    };
    match (n > 0).then_some(info[0] as u8)? {
        ENTRY | SECCOMP => Some(SyscallStop::Entry {
            nr: info[3] as i64,
            args: info[4..10].try_into().expect("6 arguments"),
        }),
        EXIT => Some(SyscallStop::Exit {
            ret: info[3] as i64,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_ptrace_says_what_to_do() {
        for errno in [libc::EPERM, libc::ENOSYS] {
            let err = start_error(OsStr::new("demo"), io::Error::from_raw_os_error(errno));
            assert!(err.is::<NotPermitted>());
            let message = err.to_string();
            assert!(
                message.starts_with("ptrace is not permitted here, so `demo` cannot be traced")
                    && message.contains("--cap-add=SYS_PTRACE"),
                "{message}"
            );
        }
        let missing = start_error(OsStr::new("demo"), io::ErrorKind::NotFound.into());
        assert!(!missing.is::<NotPermitted>());
    }

    #[test]
    fn the_filter_traps_only_writes_to_stdout_and_stderr() {
        // Runs the classic BPF program the way the kernel does, on made-up system calls.
        let filter = write_filter().unwrap();
        let run = |nr: i64, fd: u64, arch_ok: bool| -> u32 {
            let mut data = [0u8; 64];
            data[0..4].copy_from_slice(&(nr as u32).to_ne_bytes());
            let arch = if arch_ok { ARCH_NOW } else { 0x4000_0003 };
            data[4..8].copy_from_slice(&arch.to_ne_bytes());
            data[16..24].copy_from_slice(&fd.to_ne_bytes());
            let (mut acc, mut pc) = (0u32, 0usize);
            loop {
                let op = filter[pc];
                match op.code as u32 {
                    c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                        let at = op.k as usize;
                        acc = u32::from_ne_bytes(data[at..at + 4].try_into().unwrap());
                        pc += 1;
                    }
                    c if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => {
                        pc += 1 + if acc == op.k { op.jt } else { op.jf } as usize;
                    }
                    c if c == libc::BPF_RET | libc::BPF_K => return op.k,
                    other => panic!("unexpected BPF op {other:#x}"),
                }
            }
        };
        let trace = libc::SECCOMP_RET_TRACE;
        let allow = libc::SECCOMP_RET_ALLOW;
        assert_eq!(run(libc::SYS_write, 1, true), trace);
        assert_eq!(run(libc::SYS_writev, 2, true), trace);
        assert_eq!(run(libc::SYS_write, 5, true), allow);
        assert_eq!(run(libc::SYS_read, 1, true), allow);
        assert_eq!(run(libc::SYS_write, 1, false), allow);
    }

    #[cfg(target_arch = "x86_64")]
    const ARCH_NOW: u32 = 0xc000_003e;
    #[cfg(target_arch = "aarch64")]
    const ARCH_NOW: u32 = 0xc000_00b7;
}
