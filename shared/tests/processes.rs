//! The cross-process tests for `process`, `pool`, `queue`, `pipe` and `shared_memory`,
//! under both start methods.
//!
//! libtest runs tests on threads, and `Process` (rightly) refuses to fork a multithreaded
//! process; its `main` does not call `shared::main_guard()` either, which a spawned child
//! needs. So this is a plain `main` (`harness = false`) that calls `main_guard` first, as
//! any program that spawns must: a spawned child is this test run again, and runs its
//! target there. It runs each scenario on the main thread, once under fork and once under
//! spawn unless the scenario is about one of them, prints one line per run
//! (`ok   spawn name (ms)`) and an `N passed, N failed` line, and exits non-zero if any
//! failed; `cargo test -p shared --test processes -- WORDS` runs only the scenarios whose
//! name contains WORDS. After every run it checks (in /proc on Linux, with `ps` elsewhere)
//! that the test process has no children left: everything was reaped.

// On Windows the helpers of the Unix scenarios go unused.
#![cfg_attr(windows, allow(dead_code, unused_imports))]

use std::cell::RefCell;
use std::fmt::{Debug, Display};
use std::fs;
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

#[cfg(unix)]
use nix::errno::Errno;
#[cfg(unix)]
use nix::sys::signal::{SigHandler, Signal, kill, raise, signal};
#[cfg(unix)]
use nix::unistd::Pid;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use shared::pipe::{Connection, Pipe};
use shared::pool::{Pool, PoolError};
use shared::process::{
    Process, ProcessError, StartMethod, Target, get_start_method, set_start_method,
};
use shared::queue::{Got, Queue, Receiver, Sender};
use shared::shared_memory::{Array, Value};

use StartMethod::{Fork, Spawn};

type Checked = Result<(), String>;

/// Which start methods a scenario runs under.
#[derive(Clone, Copy)]
enum Runs {
    Both,
    Only(StartMethod),
    /// Once, whatever the method: the scenario chooses (the argument is ignored).
    Once,
}

type Scenario = (&'static str, fn(StartMethod) -> Checked, Runs);

/// The scenarios that run everywhere (on Windows under spawn alone).
const SCENARIOS: &[Scenario] = &[
    (
        "join reports a child's panic",
        join_reports_a_panic,
        Runs::Both,
    ),
    (
        "dropping an unjoined process kills and reaps it",
        drop_kills_and_reaps,
        Runs::Both,
    ),
    (
        "join_timeout waits a bounded time",
        join_timeout_is_bounded,
        Runs::Both,
    ),
    (
        "join_timeout(Duration::MAX) waits without limit",
        join_timeout_max_is_no_limit,
        Runs::Both,
    ),
    (
        "arguments are dropped once in each process: the parent's at start, the child's after",
        arguments_are_dropped_once_in_each_process,
        Runs::Both,
    ),
    (
        "Value: 4 processes x 100 000 fetch_add end exact",
        value_fetch_add_is_exact,
        Runs::Both,
    ),
    (
        "Array: elements updated from 5 processes",
        array_updates,
        Runs::Both,
    ),
    (
        "Queue: 100 000 items in order, each once",
        queue_carries_items_in_order,
        Runs::Both,
    ),
    (
        "Queue: a consumer started while the parent holds the sender sees the end",
        queue_fork_trap,
        Runs::Both,
    ),
    (
        "Queue: several producers, big items",
        queue_many_producers_big_items,
        Runs::Both,
    ),
    (
        "Queue: get_timeout tells empty from closed",
        queue_empty_vs_closed,
        Runs::Both,
    ),
    (
        "Queue: 4 producers x 20 000 items of 1 B-200 KiB, whole, once, in order",
        queue_four_producers_mixed_sizes,
        Runs::Both,
    ),
    (
        "Queue: 32 producers that write once and exit at once are never taken for dead",
        queue_writers_that_exit_at_once,
        Runs::Both,
    ),
    (
        "Pipe: a round trip with a child",
        pipe_round_trip,
        Runs::Both,
    ),
    (
        "Pipe: 1 MiB items both ways at once, whole, no deadlock",
        pipe_megabytes_both_ways,
        Runs::Both,
    ),
    (
        "queues made and handed to children by four threads at once each see their end",
        queues_from_many_threads,
        Runs::Only(Spawn),
    ),
    (
        "pool maps in order, any serde types",
        pool_maps_in_order,
        Runs::Both,
    ),
    (
        "pool timeout: a stuck worker is killed at once, the error names the limit",
        pool_timeout_kills_a_stuck_worker,
        Runs::Both,
    ),
    (
        "pool timeout of Duration::MAX is no limit",
        pool_timeout_max_is_no_limit,
        Runs::Both,
    ),
    (
        "pool starmap and apply unpack tuples, in order",
        pool_starmap_and_apply,
        Runs::Both,
    ),
    (
        "pool results of every number type come back exact",
        pool_number_types,
        Runs::Both,
    ),
    (
        "children die with their parent (PDEATHSIG, a job object; not on macOS)",
        children_die_with_parent,
        Runs::Both,
    ),
];

/// The scenarios about what Windows lacks: fork, signals and descriptors by number.
#[cfg(unix)]
const UNIX_SCENARIOS: &[Scenario] = &[
    (
        "join reports exit codes, signals and errors",
        join_reports_other_ends,
        Runs::Both,
    ),
    (
        "with SIGCHLD ignored, join says the end is lost: the waitpid error",
        join_with_sigchld_ignored,
        Runs::Both,
    ),
    (
        "a child printing to a closed stdout panics, and join says why",
        print_to_a_closed_stdout_panics,
        Runs::Both,
    ),
    (
        "a PrivateFd not handed over is dead in the child",
        private_fd_not_handed_over,
        Runs::Only(Fork),
    ),
    (
        "pool keeps its workers across calls; dropping it ends them",
        pool_keeps_its_workers,
        Runs::Both,
    ),
    (
        "pool: 8 MB of results come back whole, and a fork pool starts right after",
        pool_big_map_leaves_one_thread,
        Runs::Both,
    ),
    (
        "pool worker SIGKILLed mid-map: error within 1 s",
        pool_worker_sigkilled,
        Runs::Both,
    ),
    (
        "pool worker panic: error, pool usable; abort: error, pool broken",
        pool_worker_panic_and_abort,
        Runs::Both,
    ),
    (
        "pool worker dying in apply and in starmap is an error",
        pool_apply_and_starmap_worker_dies,
        Runs::Both,
    ),
    (
        "Queue: an end reached through memory, not handed over, fails clearly",
        queue_end_not_handed_over,
        Runs::Only(Fork),
    ),
    (
        "Queue: a producer killed mid-write is an error for all, not a hang",
        queue_producer_killed_mid_write,
        Runs::Both,
    ),
    (
        "Pipe: an end whose peer's process died reads closed",
        pipe_peer_died,
        Runs::Both,
    ),
    (
        "a handle serialized outside a process argument is refused; the pool goes on",
        handles_travel_only_as_arguments,
        Runs::Both,
    ),
    (
        "a second thread: fork refuses at once, spawn starts",
        second_thread,
        Runs::Both,
    ),
    (
        "fork right after a thread's join is never refused (1000 rounds)",
        fork_after_join,
        Runs::Only(Fork),
    ),
    (
        "the method in force: set_start_method, else SHARED_START_METHOD",
        method_in_force,
        Runs::Once,
    ),
    (
        "a forged start message is refused before anything runs",
        forged_start_messages,
        Runs::Once,
    ),
    (
        "children started from a thread that ends work on, and the thread count comes back",
        started_from_an_ended_thread,
        Runs::Only(Spawn),
    ),
];

#[cfg(windows)]
const UNIX_SCENARIOS: &[Scenario] = &[];

fn main() -> ExitCode {
    shared::main_guard(); // a spawned child runs its target here, and exits
    // Assertion messages are reported below; children's panics are expected noise.
    panic::set_hook(Box::new(|_| {}));
    // `cargo test -p shared --test processes -- WORDS`: only the scenarios whose name
    // contains WORDS. Flags meant for libtest (`--nocapture`, ..) are not words.
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let only = words.join(" ");
    if !only.is_empty() {
        println!("only the scenarios whose name contains {only:?}");
    }
    let (mut passed, mut failed) = (0, 0);
    let all = SCENARIOS.iter().chain(UNIX_SCENARIOS);
    for &(name, scenario, runs) in all.filter(|s| s.0.contains(&only)) {
        let methods = match runs {
            Runs::Both if cfg!(windows) => vec![Some(Spawn)],
            Runs::Both => vec![Some(Fork), Some(Spawn)],
            Runs::Only(method) => vec![Some(method)],
            Runs::Once => vec![None],
        };
        for method in methods {
            let label = method.map_or("-", StartMethod::name);
            let start = Instant::now();
            let run = AssertUnwindSafe(|| scenario(method.unwrap_or(StartMethod::DEFAULT)));
            let outcome = panic::catch_unwind(run)
                .unwrap_or_else(|payload| Err(panic_message(&*payload)))
                .and_then(|()| no_children_left());
            let ms = start.elapsed().as_millis();
            match outcome {
                Ok(()) => {
                    passed += 1;
                    println!("ok   {label:5} {name} ({ms} ms)");
                }
                Err(why) => {
                    failed += 1;
                    println!("FAIL {label:5} {name} ({ms} ms): {why}");
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

macro_rules! check {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// `?` for any error: its message.
trait OrMessage<T> {
    fn or_message(self) -> Result<T, String>;
}

impl<T, E: Display> OrMessage<T> for Result<T, E> {
    fn or_message(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// `Process::start_by`, its error as a message.
fn start<F, A>(method: StartMethod, target: F, args: A) -> Result<Process, String>
where
    F: Target<A>,
    F::Output: shared::process::Outcome,
    A: Serialize + DeserializeOwned,
{
    Process::start_by(method, target, args).or_message()
}

/// `Pool::new_by`, its error as a message.
fn pool(method: StartMethod, processes: usize) -> Result<Pool, String> {
    Pool::new_by(method, processes).or_message()
}

/// The start method a child is told by name, to start its own children by.
fn by_name(name: &str) -> StartMethod {
    name.parse().expect("a start method's name")
}

/// Panics with `message`, silently: a spawned child has the default hook, which would
/// print it on stderr (a forked one has the parent's silent hook).
fn quiet_panic(message: &str) -> ! {
    panic::set_hook(Box::new(|_| {}));
    panic!("{message}")
}

/// Every process as (pid, parent pid, state letter): from /proc on Linux.
#[cfg(target_os = "linux")]
fn processes() -> Vec<(u32, u32, String)> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        let mut rest = stat[stat.rfind(')').map_or(0, |i| i + 1)..].split_whitespace();
        let state = rest.next().unwrap_or_default().to_string();
        if let Some(Ok(ppid)) = rest.next().map(str::parse) {
            found.push((pid, ppid, state));
        }
    }
    found
}

/// Every process as (pid, parent pid, state letter): from `ps` (macOS has no /proc).
#[cfg(all(unix, not(target_os = "linux")))]
fn processes() -> Vec<(u32, u32, String)> {
    let Ok(ps) = std::process::Command::new("ps")
        .args(["-A", "-o", "pid=,ppid=,stat="])
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        panic!("cannot run ps to list processes");
    };
    let me = ps.id(); // ps is our child while it runs: leave it out
    let out = ps.wait_with_output().expect("ps runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let pid = fields.next()?.parse().ok()?;
            let ppid = fields.next()?.parse().ok()?;
            Some((pid, ppid, fields.next().unwrap_or_default().to_string()))
        })
        .filter(|&(pid, _, _)| pid != me)
        .collect()
}

/// Every process as (pid, parent pid, no state letter): a Toolhelp snapshot on Windows.
#[cfg(windows)]
fn processes() -> Vec<(u32, u32, String)> {
    use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW,
        TH32CS_SNAPPROCESS,
    };
    let mut found = Vec::new();
    // SAFETY: a snapshot of every process; the handle is closed below.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    assert!(snapshot != INVALID_HANDLE_VALUE, "cannot list processes");
    // SAFETY: all-zero is a valid value of this C struct; its size field is set next.
    let mut entry: PROCESSENTRY32W = unsafe { std::mem::zeroed() };
    entry.dwSize = size_of::<PROCESSENTRY32W>() as u32;
    // SAFETY: `snapshot` is open and `entry` is a writable struct of the size it states.
    let mut more = unsafe { Process32FirstW(snapshot, &mut entry) } != 0;
    while more {
        found.push((
            entry.th32ProcessID,
            entry.th32ParentProcessID,
            String::new(),
        ));
        // SAFETY: as above.
        more = unsafe { Process32NextW(snapshot, &mut entry) } != 0;
    }
    // SAFETY: the snapshot made above, closed once.
    unsafe { CloseHandle(snapshot) };
    found
}

/// The pids whose parent is this process.
fn children() -> Vec<u32> {
    let me = std::process::id();
    processes()
        .into_iter()
        .filter(|&(_, ppid, _)| ppid == me)
        .map(|(pid, _, _)| pid)
        .collect()
}

fn no_children_left() -> Checked {
    let left = children();
    check!(left.is_empty(), "children left behind: {left:?}");
    Ok(())
}

/// Whether `pid` is running (not gone, not a zombie).
fn running(pid: u32) -> bool {
    processes()
        .iter()
        .any(|(p, _, state)| *p == pid && !state.starts_with(['Z', 'X']))
}

fn nothing() {}

fn sleep_ms(ms: u64) {
    thread::sleep(Duration::from_millis(ms));
}

fn sleep_a_minute() {
    thread::sleep(Duration::from_secs(60));
}

fn crash() {
    quiet_panic("boom at item 7");
}

fn join_reports_a_panic(method: StartMethod) -> Checked {
    match start(method, crash, ())?.join() {
        Err(ProcessError::Panicked { message, .. }) if message == "boom at item 7" => Ok(()),
        other => Err(format!("join gave {other:?}")),
    }
}

fn exit_3() {
    std::process::exit(3);
}

#[cfg(unix)]
fn sigkill_myself() {
    let _ = raise(Signal::SIGKILL);
}

fn no_such_file() -> Result<(), &'static str> {
    Err("no such file")
}

#[cfg(unix)]
fn join_reports_other_ends(method: StartMethod) -> Checked {
    let exit = start(method, exit_3, ())?.join();
    check!(
        matches!(exit, Err(ProcessError::Exited { code: 3, .. })),
        "exit(3) gave {exit:?}"
    );
    let killed = start(method, sigkill_myself, ())?.join();
    check!(
        matches!(
            killed,
            Err(ProcessError::Killed {
                signal: Signal::SIGKILL,
                ..
            })
        ),
        "SIGKILL gave {killed:?}"
    );
    let failed = start(method, no_such_file, ())?.join();
    check!(
        matches!(&failed, Err(ProcessError::Failed { message, .. }) if message == "no such file"),
        "an Err gave {failed:?}"
    );
    let fine = start(method, nothing, ())?.join();
    check!(fine.is_ok(), "a normal end gave {fine:?}");
    Ok(())
}

fn drop_kills_and_reaps(method: StartMethod) -> Checked {
    let child = start(method, sleep_a_minute, ())?;
    let pid = child.pid();
    check!(
        children() == [pid],
        "the child is not ours: {:?}",
        children()
    );
    let start = Instant::now();
    drop(child);
    check!(
        start.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        start.elapsed()
    );
    Ok(())
}

fn join_timeout_is_bounded(method: StartMethod) -> Checked {
    let mut child = start(method, sleep_ms, (300,))?;
    let start = Instant::now();
    let ended = child.join_timeout(Duration::from_millis(50)).or_message()?;
    let waited = start.elapsed();
    check!(!ended, "a 300 ms child ended within 50 ms");
    check!(
        (Duration::from_millis(50)..Duration::from_millis(250)).contains(&waited),
        "join_timeout(50 ms) took {waited:?}"
    );
    check!(child.is_alive().or_message()?, "not alive mid-sleep");
    let ended = child.join_timeout(Duration::from_secs(5)).or_message()?;
    check!(
        ended && start.elapsed() < Duration::from_secs(2),
        "did not end in time"
    );
    child.join().or_message()
}

fn join_timeout_max_is_no_limit(method: StartMethod) -> Checked {
    let mut child = start(method, sleep_ms, (50,))?;
    let ended = child.join_timeout(Duration::MAX).or_message()?;
    check!(ended, "join_timeout(MAX) returned before the child ended");
    check!(
        child.join_timeout(Duration::MAX).or_message()?,
        "a second join_timeout(MAX) on an ended child"
    );
    child.join().or_message()
}

fn exit_7() {
    std::process::exit(7);
}

/// With SIGCHLD ignored the kernel reaps children itself, so their exit status is gone:
/// `join` returns the `waitpid` error (ECHILD), as the README says, rather than a made-up
/// end or a hang.
#[cfg(unix)]
fn join_with_sigchld_ignored(method: StartMethod) -> Checked {
    // SAFETY: ignoring a signal installs no handler; the default is restored below.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) }.or_message()?;
    let outcome = (|| {
        let end = start(method, exit_7, ())?.join();
        match end {
            Err(ProcessError::Os {
                call: "waitpid",
                source,
            }) if source.raw_os_error() == Some(nix::libc::ECHILD) => Ok(()),
            other => Err(format!("join gave {other:?}")),
        }
    })();
    // SAFETY: as above.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }.or_message()?;
    outcome
}

/// In a child: starts a grandchild, tells its pid, and is SIGKILLed: no destructor runs.
fn start_a_grandchild_then_wait(method: String, grandchild: Value<u32>) -> Checked {
    let g = start(by_name(&method), sleep_a_minute, ())?;
    grandchild.set(g.pid());
    thread::sleep(Duration::from_secs(60)); // killed long before
    drop(g);
    Ok(())
}

/// A child starts a grandchild, then is killed: the grandchild dies with it (Linux: by its
/// PDEATHSIG; Windows: by the child's job object, whose handle closes as the child dies).
fn children_die_with_parent(method: StartMethod) -> Checked {
    let grandchild = Value::new(0u32).or_message()?;
    let args = (method.name().to_string(), grandchild.clone());
    let child = start(method, start_a_grandchild_then_wait, args)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while grandchild.get() == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    let g = grandchild.get();
    check!(g != 0, "the grandchild was not started");
    child.kill().or_message()?;
    let end = child.join();
    check!(
        matches!(end, Err(ProcessError::Killed { .. })),
        "child ended {end:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while running(g) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    if running(g) {
        #[cfg(unix)]
        let _ = kill(Pid::from_raw(g as i32), Signal::SIGKILL);
        // macOS has no PDEATHSIG: the grandchild outlives its parent, as process.rs says.
        if cfg!(target_os = "macos") {
            return Ok(());
        }
        return Err(format!("grandchild {g} outlived its parent"));
    }
    check!(
        !cfg!(target_os = "macos"),
        "the grandchild died with its parent, which process.rs says macOS does not do"
    );
    Ok(())
}

/// A value whose `Drop` shows from any process: it counts itself in shared memory. As a
/// process argument it travels as its counter.
struct Counted {
    drops: Value<usize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1);
    }
}

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.drops.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Counted, D::Error> {
        Value::deserialize(d).map(|drops| Counted { drops })
    }
}

/// In a child: by now the parent has dropped its copy (once), and this one is not yet.
fn hold_counted(counted: Counted) -> Checked {
    thread::sleep(Duration::from_millis(100));
    let drops = counted.drops.get();
    check!(drops == 1, "{drops} drops before the child's own");
    Ok(())
}

fn arguments_are_dropped_once_in_each_process(method: StartMethod) -> Checked {
    let drops = Value::new(0usize).or_message()?;
    let child = start(
        method,
        hold_counted,
        (Counted {
            drops: drops.clone(),
        },),
    )?;
    check!(
        drops.get() == 1,
        "{} drops when start returned: the parent's copy is dropped then",
        drops.get()
    );
    child.join().or_message()?;
    check!(
        drops.get() == 2,
        "{} drops in all: once in the parent, once in the child",
        drops.get()
    );
    Ok(())
}

/// Points this process's stdout at a pipe whose reader is already closed.
#[cfg(unix)]
fn close_my_stdout() {
    let (read, write) = nix::unistd::pipe().expect("pipe");
    drop(read);
    nix::unistd::dup2_stdout(&write).expect("dup2");
}

#[cfg(unix)]
fn print_to_a_closed_stdout() {
    close_my_stdout();
    println!("nobody reads this");
}

/// Rust ignores SIGPIPE, so a write to a pipe without a reader fails with `EPIPE`, and
/// `println!` panics on it (as Python's `print` raises `BrokenPipeError`).
#[cfg(unix)]
fn print_to_a_closed_stdout_panics(method: StartMethod) -> Checked {
    let printing = start(method, print_to_a_closed_stdout, ())?.join();
    check!(
        matches!(
            &printing,
            Err(ProcessError::Panicked { message, .. })
                if message.starts_with("failed printing to stdout: Broken pipe")
        ),
        "printing to a closed stdout gave {printing:?}"
    );
    Ok(())
}

/// In a forked child: the parent's pipe ends, by number, not handed over.
#[cfg(unix)]
fn use_the_parents_pipe(read: i32, write: i32) -> Checked {
    // SAFETY: a forked child has the parent's descriptor table: the numbers are open here
    // (revoked, not closed) for as long as the child runs.
    let (read, write) = unsafe { (BorrowedFd::borrow_raw(read), BorrowedFd::borrow_raw(write)) };
    let wrote = nix::unistd::write(write, b"stolen");
    let mut buf = [0; 8];
    let got = nix::unistd::read(read, &mut buf);
    check!(wrote == Err(Errno::EBADF), "a write gave {wrote:?}");
    // Linux fails the read too; elsewhere the dead descriptor is /dev/null: end-of-file.
    if cfg!(target_os = "linux") {
        check!(got == Err(Errno::EBADF), "a read gave {got:?}");
    } else {
        check!(got == Ok(0), "a read gave {got:?}");
    }
    Ok(())
}

/// Fork only: a spawned child has none of the parent's descriptors but its arguments'.
#[cfg(unix)]
fn private_fd_not_handed_over(method: StartMethod) -> Checked {
    use std::io::{Read, Write};
    let (read, write) = shared::process::pipe().or_message()?;
    let args = (read.as_raw_fd(), write.as_raw_fd());
    start(method, use_the_parents_pipe, args)?
        .join()
        .or_message()?;
    (&write).write_all(b"mine").or_message()?;
    drop(write);
    let mut got = String::new();
    (&read).read_to_string(&mut got).or_message()?;
    check!(got == "mine", "the parent read {got:?}");
    Ok(())
}

fn square(n: u64) -> u64 {
    n * n
}

fn exclaim(s: String) -> (usize, String) {
    (s.len(), format!("{s}!"))
}

fn minus_one(n: i32) -> i32 {
    n - 1
}

fn pool_maps_in_order(method: StartMethod) -> Checked {
    let mut pool = pool(method, 4)?;
    let items: Vec<u64> = (0..100_003).collect();
    let squares = pool.map(square, &items).or_message()?;
    check!(
        squares == (0..100_003u64).map(|n| n * n).collect::<Vec<_>>(),
        "squares out of order"
    );
    let names = ["ada", "grace", "linus"].map(String::from);
    let out = pool.map(exclaim, &names).or_message()?;
    check!(
        out == [
            (3, "ada!".into()),
            (5, "grace!".into()),
            (5, "linus!".into())
        ],
        "{out:?}"
    );
    let empty = pool.map(square, &[]).or_message()?;
    check!(empty.is_empty(), "{empty:?}");
    let single = self::pool(method, 1)?
        .map(minus_one, &[1, 2, 3])
        .or_message()?;
    check!(single == [0, 1, 2], "{single:?}");
    let more_workers_than_items = self::pool(method, 6)?
        .map(minus_one, &[1, 2])
        .or_message()?;
    check!(
        more_workers_than_items == [0, 1],
        "{more_workers_than_items:?}"
    );
    Ok(())
}

fn my_pid(_: u32) -> u32 {
    std::process::id()
}

/// A map whose results fill 8 MB faults their pages in on a thread of its own (see
/// `Populating` in pool.rs) while the results are written; they come back whole, and the
/// call has joined the thread, so a fork right after is allowed.
#[cfg(unix)]
fn pool_big_map_leaves_one_thread(method: StartMethod) -> Checked {
    let mut pool = pool(method, 2)?;
    let items: Vec<u64> = (0..1_000_000).collect();
    let squares = pool.map(square, &items).or_message()?;
    check!(
        squares.iter().zip(&items).all(|(s, n)| *s == n * n),
        "squares out of order"
    );
    drop(pool);
    let forked = self::pool(StartMethod::Fork, 1)?
        .map(minus_one, &[1, 2])
        .or_message()?;
    check!(forked == [0, 1], "{forked:?}");
    Ok(())
}

/// The same workers serve every call (`pids` and the pids they report stay the same), and
/// dropping the pool ends them: each pid is gone (ESRCH) once it returns.
#[cfg(unix)]
fn pool_keeps_its_workers(method: StartMethod) -> Checked {
    let mut pool = pool(method, 3)?;
    let pids = pool.pids();
    let mut distinct = pids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    check!(distinct.len() == 3, "pids {pids:?}");
    let mut ours = children();
    ours.sort_unstable();
    check!(
        ours == distinct,
        "our children {ours:?}, the pool's {pids:?}"
    );
    let items: Vec<u32> = (0..1000).collect();
    for call in 1..=2 {
        let got = pool.map(my_pid, &items).or_message()?;
        let mut strangers: Vec<u32> = got.into_iter().filter(|p| !pids.contains(p)).collect();
        strangers.sort_unstable();
        strangers.dedup();
        check!(
            strangers.is_empty(),
            "call {call}: results from {strangers:?}, not the pool's {pids:?}"
        );
        check!(
            pool.pids() == pids,
            "after call {call}: pids {:?}, were {pids:?}",
            pool.pids()
        );
    }
    let applied = pool.apply(my_pid, (0,)).or_message()?;
    check!(
        pids.contains(&applied),
        "apply ran in {applied}, not in {pids:?}"
    );
    drop(pool);
    for pid in pids {
        let looked = kill(Pid::from_raw(pid as i32), None);
        check!(
            looked == Err(Errno::ESRCH),
            "worker {pid} after the pool was dropped: kill(pid, None) gave {looked:?}"
        );
    }
    Ok(())
}

/// One worker is stuck on item 0 for a minute, another is SIGKILLed at item 500.
#[cfg(unix)]
fn stuck_at_0_killed_at_500(n: u32) -> u32 {
    if n == 0 {
        thread::sleep(Duration::from_secs(60));
    }
    if n == 500 {
        let _ = raise(Signal::SIGKILL);
    }
    n
}

#[cfg(unix)]
fn pool_worker_sigkilled(method: StartMethod) -> Checked {
    let mut pool = pool(method, 4)?;
    let items: Vec<u32> = (0..1000).collect();
    // map must neither wait for the stuck one nor for results the dead one owed.
    let start = Instant::now();
    let result = pool.map(stuck_at_0_killed_at_500, &items);
    let took = start.elapsed();
    check!(took < Duration::from_secs(1), "map took {took:?}");
    match result {
        Err(PoolError::Worker(ProcessError::Killed {
            signal: Signal::SIGKILL,
            ..
        })) => {}
        other => return Err(format!("map gave {other:?}")),
    }
    check!(children().is_empty(), "workers left: {:?}", children());
    Ok(())
}

fn panic_at_42(n: i32) -> i32 {
    if n == 42 {
        quiet_panic("no answers here")
    }
    n
}

fn abort_at_7(n: i32) -> i32 {
    if n == 7 {
        std::process::abort()
    }
    n
}

fn same_i32(n: i32) -> i32 {
    n
}

#[cfg(unix)]
fn pool_worker_panic_and_abort(method: StartMethod) -> Checked {
    let mut pool = pool(method, 3)?;
    let pids = pool.pids();
    let items: Vec<i32> = (0..100).collect();
    match &pool.map(panic_at_42, &items) {
        Err(e @ PoolError::Worker(ProcessError::Panicked { message, .. }))
            if message == "no answers here" =>
        {
            check!(e.to_string().contains("no answers here"), "{e}");
        }
        other => return Err(format!("a panic gave {other:?}")),
    }
    // A panic is caught in the worker: the same workers take the next call.
    let again = pool.map(same_i32, &items).or_message()?;
    check!(again == items, "after a panic: {again:?}");
    check!(
        pool.pids() == pids,
        "after a panic: pids {:?}, were {pids:?}",
        pool.pids()
    );
    let aborted = pool.map(abort_at_7, &items[..10]);
    check!(
        matches!(
            aborted,
            Err(PoolError::Worker(ProcessError::Killed {
                signal: Signal::SIGABRT,
                ..
            }))
        ),
        "an abort gave {aborted:?}"
    );
    // A worker that dies breaks the pool: its other workers are gone, calls fail.
    check!(children().is_empty(), "workers left: {:?}", children());
    match pool.map(same_i32, &items) {
        Err(PoolError::Broken(why)) if why.contains("SIGABRT") => Ok(()),
        other => Err(format!("a call after the abort gave {other:?}")),
    }
}

/// Sleeps for a minute: a worker that would hang an unbounded call.
fn stuck(n: u32) -> u32 {
    thread::sleep(Duration::from_secs(60));
    n
}

fn stuck_at_600(n: u32) -> u32 {
    if n == 600 { stuck(n) } else { n }
}

fn stuck_string(n: u32) -> String {
    stuck(n).to_string()
}

fn stuck_pair(a: u32, _: u32) -> u32 {
    stuck(a)
}

fn double(n: u32) -> u32 {
    n * 2
}

/// `call` on a pool bounded by 200 ms gives `Timeout { limit: 200 ms }` well within 1 s,
/// with every worker killed and reaped by then, and the pool broken after.
fn times_out<R: Debug>(
    method: StartMethod,
    call: impl FnOnce(&mut Pool) -> Result<R, PoolError>,
) -> Checked {
    let limit = Duration::from_millis(200);
    let mut pool = pool(method, 3)?.timeout(limit);
    let start = Instant::now();
    let result = call(&mut pool);
    let took = start.elapsed();
    check!(
        (limit..Duration::from_secs(1)).contains(&took),
        "took {took:?}"
    );
    match result {
        Err(e @ PoolError::Timeout { limit: l }) if l == limit => {
            check!(e.to_string().contains("200ms"), "{e}");
        }
        other => return Err(format!("gave {other:?}")),
    }
    check!(children().is_empty(), "workers left: {:?}", children());
    let after = pool.map(double, &[1]);
    check!(
        matches!(after, Err(PoolError::Broken(_))),
        "a call after the timeout gave {after:?}"
    );
    Ok(())
}

fn pool_timeout_kills_a_stuck_worker(method: StartMethod) -> Checked {
    let items: Vec<u32> = (0..1000).collect();
    // One worker stuck on item 600, the others done.
    times_out(method, |pool| pool.map(stuck_at_600, &items))?;
    times_out(method, |pool| pool.map(stuck, &items))?;
    times_out(method, |pool| pool.map(stuck_string, &items))?;
    times_out(method, |pool| pool.apply(stuck, (1,)))?;
    times_out(method, |pool| pool.starmap(stuck_pair, &[(1, 2), (3, 4)]))?;
    // A bound that is not reached changes nothing.
    let mut bounded = pool(method, 4)?.timeout(Duration::from_secs(30));
    let out = bounded.map(double, &items).or_message()?;
    check!(
        out == items.iter().map(|n| n * 2).collect::<Vec<_>>(),
        "{out:?}"
    );
    Ok(())
}

fn plus_one(n: i32) -> i32 {
    n + 1
}

fn times_7(n: i32) -> i32 {
    n * 7
}

fn pool_timeout_max_is_no_limit(method: StartMethod) -> Checked {
    let mut unbounded = pool(method, 2)?.timeout(Duration::MAX);
    let out = unbounded.map(plus_one, &[1, 2, 3]).or_message()?;
    check!(out == [2, 3, 4], "{out:?}");
    let mut far = pool(method, 2)?.timeout(Duration::from_secs(u64::MAX / 4));
    let out = far.apply(times_7, (6,)).or_message()?;
    check!(out == 42, "{out}");
    Ok(())
}

fn power(base: u64, exp: u32) -> u64 {
    base.pow(exp)
}

fn label(name: String, n: usize, sep: char) -> String {
    format!("{name}{sep}{n}")
}

fn pool_starmap_and_apply(method: StartMethod) -> Checked {
    let mut pool = pool(method, 4)?;
    let pairs: Vec<(u64, u32)> = (0..10_007).map(|i| (i % 13, (i % 4) as u32)).collect();
    let powers = pool.starmap(power, &pairs).or_message()?;
    check!(
        powers == pairs.iter().map(|(b, e)| b.pow(*e)).collect::<Vec<_>>(),
        "starmap out of order"
    );
    // Three arguments, not all of them Copy.
    let labels = pool
        .starmap(
            label,
            &[("a".to_string(), 1, '-'), ("b".to_string(), 2, '+')],
        )
        .or_message()?;
    check!(labels == ["a-1", "b+2"], "{labels:?}");
    let one = pool.apply(power, (2, 10)).or_message()?;
    check!(one == 1024, "apply gave {one}");
    // A closure that captures nothing is a target too.
    let square = pool.apply(|n: i32| n * n, (7,)).or_message()?;
    check!(square == 49, "apply gave {square}");
    Ok(())
}

fn panic_on_zero(n: i32) -> i32 {
    if n == 0 {
        quiet_panic("apply on zero")
    }
    n
}

#[cfg(unix)]
fn sigkill_in_apply(_: i32) -> i32 {
    let _ = raise(Signal::SIGKILL);
    0
}

fn abort_at_50(a: u32, b: u32) -> u32 {
    if a == 50 {
        std::process::abort()
    }
    a + b
}

#[cfg(unix)]
fn pool_apply_and_starmap_worker_dies(method: StartMethod) -> Checked {
    let mut pool = pool(method, 2)?;
    let applied = pool.apply(panic_on_zero, (0,));
    check!(
        matches!(&applied, Err(PoolError::Worker(ProcessError::Panicked { message, .. })) if message == "apply on zero"),
        "a panic in apply gave {applied:?}"
    );
    let killed = pool.apply(sigkill_in_apply, (1,));
    check!(
        matches!(
            killed,
            Err(PoolError::Worker(ProcessError::Killed {
                signal: Signal::SIGKILL,
                ..
            }))
        ),
        "SIGKILL in apply gave {killed:?}"
    );
    let broken = pool.apply(panic_on_zero, (1,));
    check!(
        matches!(broken, Err(PoolError::Broken(_))),
        "apply on a broken pool gave {broken:?}"
    );
    let pairs: Vec<(u32, u32)> = (0..100).map(|i| (i, i + 1)).collect();
    let starred = self::pool(method, 2)?.starmap(abort_at_50, &pairs);
    check!(
        matches!(
            starred,
            Err(PoolError::Worker(ProcessError::Killed {
                signal: Signal::SIGABRT,
                ..
            }))
        ),
        "an abort in starmap gave {starred:?}"
    );
    Ok(())
}

/// `f` over `items` on the pool, and wrapped in `Some`, agree with `f` here.
fn same_here<R, F>(pool: &mut Pool, items: &[u32], f: F) -> Checked
where
    R: PartialEq + Debug + Serialize + DeserializeOwned + 'static,
    F: Fn(u32) -> R + Copy + 'static,
{
    let expected: Vec<R> = items.iter().map(|&n| f(n)).collect();
    let plain = pool.map(f, items).or_message()?;
    check!(plain == expected, "plain: {:?}", &plain[..5]);
    // The closure captures only `f`, a fn item with no size: it captures nothing.
    let wrapped = pool.map(move |n| Some(f(n)), items).or_message()?;
    check!(
        wrapped.into_iter().map(Option::unwrap).eq(expected),
        "wrapped in Some: differ"
    );
    Ok(())
}

fn pool_number_types(method: StartMethod) -> Checked {
    let mut pool = pool(method, 3)?;
    let items: Vec<u32> = (0..20_011).collect();
    same_here(&mut pool, &items, |n| n as u8)?;
    same_here(&mut pool, &items, |n| -(n as i16))?;
    same_here(&mut pool, &items, |n| u64::from(n) << 31)?;
    same_here(&mut pool, &items, |n| i128::from(n) * -(1 << 100))?;
    same_here(&mut pool, &items, |n| n as usize)?;
    same_here(&mut pool, &items, |n| n as f32 / 7.0)?;
    same_here(&mut pool, &items, |n| f64::from(n).sqrt())?;
    Ok(())
}

fn count_to_100_000(counter: Value<u64>) {
    for _ in 0..100_000 {
        counter.fetch_add(1);
    }
}

fn value_fetch_add_is_exact(method: StartMethod) -> Checked {
    let counter = Value::new(0u64).or_message()?;
    let workers = (0..4)
        .map(|_| start(method, count_to_100_000, (counter.clone(),)))
        .collect::<Result<Vec<_>, _>>()?;
    for w in workers {
        w.join().or_message()?;
    }
    check!(counter.get() == 400_000, "counter is {}", counter.get());
    Ok(())
}

fn add_to_each(num: i32, arr: Array<i32>, max: Value<i64>) {
    for i in 0..arr.len() {
        arr.fetch_add(i, num);
    }
    max.update(|m| m.max(i64::from(num) * 100));
}

fn array_updates(method: StartMethod) -> Checked {
    let arr = Array::new([1i32, 2, 3, 4, 5]).or_message()?;
    let max = Value::new(i64::MIN).or_message()?;
    let workers = (0..5)
        .map(|num| start(method, add_to_each, (num, arr.clone(), max.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    for w in workers {
        w.join().or_message()?;
    }
    check!(arr.to_vec() == [11, 12, 13, 14, 15], "array is {arr:?}");
    check!(max.get() == 400, "max is {}", max.get());
    Ok(())
}

const N: u64 = 100_000;

fn put_0_to_n(mut tx: Sender<u64>) -> std::io::Result<()> {
    for i in 0..N {
        tx.put(&i)?;
    }
    tx.close()
}

fn queue_carries_items_in_order(method: StartMethod) -> Checked {
    let (tx, mut rx) = Queue::<u64>::new().or_message()?.split();
    let producer = start(method, put_0_to_n, (tx,))?;
    let mut expected = 0;
    while let Some(item) = rx.get().or_message()? {
        check!(item == expected, "got {item}, expected {expected}");
        expected += 1;
    }
    check!(expected == N, "got {expected} items");
    producer.join().or_message()
}

fn sum_to_4950(mut rx: Receiver<u32>) -> Checked {
    let mut sum = 0;
    while let Some(item) = rx.get().or_message()? {
        sum += item;
    }
    check!(sum == 4950, "sum {sum}");
    Ok(())
}

/// The fork trap: the consumer child is started while the parent still holds the sender,
/// and an unrelated child is started while it does too. Neither keeps the write end, so
/// the consumer sees the end as soon as the parent closes its sender.
fn queue_fork_trap(method: StartMethod) -> Checked {
    let (mut tx, rx) = Queue::<u32>::new().or_message()?.split();
    let mut consumer = start(method, sum_to_4950, (rx,))?;
    let bystander = start(method, sleep_a_minute, ())?;
    for i in 0..100 {
        tx.put(&i).or_message()?;
    }
    tx.close().or_message()?;
    let ended = consumer.join_timeout(Duration::from_secs(5)).or_message()?;
    check!(
        ended,
        "the consumer never saw the end: an inherited write end is open"
    );
    consumer.join().or_message()?;
    drop(bystander);
    Ok(())
}

/// Every 10th item is 10 KB: three fragments, interleaved with the others'.
fn big_item_size(i: u32) -> usize {
    if i.is_multiple_of(10) {
        10_000
    } else {
        (i % 50) as usize
    }
}

fn put_300_big_items(p: u32, mut tx: Sender<(u32, u32, Vec<u8>)>) -> std::io::Result<()> {
    for i in 0..300u32 {
        tx.put(&(p, i, vec![p as u8; big_item_size(i)]))?;
    }
    tx.close()
}

fn queue_many_producers_big_items(method: StartMethod) -> Checked {
    let (tx, mut rx) = Queue::<(u32, u32, Vec<u8>)>::new().or_message()?.split();
    let mut producers = Vec::new();
    for p in 0..3u32 {
        let mine = tx.try_clone().or_message()?;
        producers.push(start(method, put_300_big_items, (p, mine))?);
    }
    drop(tx);
    let mut next = [0u32; 3];
    while let Some((p, i, bytes)) = rx.get().or_message()? {
        let p = p as usize;
        check!(
            i == next[p],
            "producer {p}: got item {i}, expected {}",
            next[p]
        );
        check!(
            bytes == vec![p as u8; big_item_size(i)],
            "producer {p} item {i} garbled"
        );
        next[p] += 1;
    }
    check!(next == [300; 3], "got {next:?} items");
    for producer in producers {
        producer.join().or_message()?;
    }
    Ok(())
}

thread_local! {
    /// A sender a forked child finds in the memory it copied, not in its arguments.
    static IN_MEMORY: RefCell<Option<Sender<u8>>> = const { RefCell::new(None) };
}

#[cfg(unix)]
fn put_through_memory() -> Checked {
    IN_MEMORY.with_borrow_mut(|tx| {
        let tx = tx.as_mut().ok_or("no sender in memory")?;
        tx.put(&2).or_message()
    })
}

/// Fork only: a spawned child has none of the parent's memory.
#[cfg(unix)]
fn queue_end_not_handed_over(method: StartMethod) -> Checked {
    let (mut tx, mut rx) = Queue::<u8>::new().or_message()?.split();
    tx.put(&1).or_message()?; // buffered in the parent when the child forks
    IN_MEMORY.set(Some(tx));
    let end = start(method, put_through_memory, ())?.join();
    let tx = IN_MEMORY.take().ok_or("the sender is gone")?;
    check!(
        matches!(&end, Err(ProcessError::Failed { message, .. }) if message.contains("belongs to another process")),
        "{end:?}"
    );
    tx.close().or_message()?;
    check!(rx.get().or_message()? == Some(1), "item 1");
    check!(rx.get().or_message()?.is_none(), "only item 1, once");
    Ok(())
}

fn put_late(mut tx: Sender<String>) -> std::io::Result<()> {
    thread::sleep(Duration::from_millis(300));
    tx.put(&"late".to_string())?;
    tx.close()
}

fn queue_empty_vs_closed(method: StartMethod) -> Checked {
    let (tx, mut rx) = Queue::<String>::new().or_message()?.split();
    let producer = start(method, put_late, (tx,))?;
    let got = rx.get_timeout(Duration::from_millis(50)).or_message()?;
    check!(got == Got::Empty, "first look: {got:?}");
    let got = rx.get_timeout(Duration::from_secs(5)).or_message()?;
    check!(got == Got::Item("late".to_string()), "second look: {got:?}");
    let got = rx.get_timeout(Duration::from_secs(5)).or_message()?;
    check!(got == Got::Closed, "third look: {got:?}");
    producer.join().or_message()
}

/// Producer `p`'s item `i`: 1 B to 200 KiB (mostly under 1 KiB, every 100th up to
/// 200 KiB, and both extremes), every byte the same letter. A `String` is encoded and
/// checked with one copy and one compare, so the test is quick in a debug build too.
fn mixed_item(p: u32, i: u32) -> String {
    let mut h = (u64::from(p) << 32) | u64::from(i);
    h = (h ^ (h >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let h = (h ^ (h >> 29)) as usize;
    let size = match i {
        0 => 200 * 1024,
        1 => 1,
        i if i.is_multiple_of(100) => 1 + h % (200 * 1024),
        _ => 1 + h % 1024,
    };
    let letter = b'a' + ((p * 7 + i) % 26) as u8;
    String::from_utf8(vec![letter; size]).expect("ASCII")
}

const PRODUCERS: u32 = 4;
const ITEMS: u32 = 20_000;

fn put_mixed_items(p: u32, mut tx: Sender<(u32, u32, String)>) -> std::io::Result<()> {
    for i in 0..ITEMS {
        tx.put(&(p, i, mixed_item(p, i)))?;
    }
    tx.close()
}

fn queue_four_producers_mixed_sizes(method: StartMethod) -> Checked {
    let (tx, mut rx) = Queue::<(u32, u32, String)>::new().or_message()?.split();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let mine = tx.try_clone().or_message()?;
        producers.push(start(method, put_mixed_items, (p, mine))?);
    }
    drop(tx);
    let mut next = [0u32; PRODUCERS as usize];
    while let Some((p, i, item)) = rx.get().or_message()? {
        check!(p < PRODUCERS, "an item from producer {p}");
        let expected = next[p as usize];
        check!(
            i == expected,
            "producer {p}: got item {i}, expected {expected}"
        );
        check!(
            item == mixed_item(p, i),
            "producer {p} item {i} is not whole ({} bytes)",
            item.len()
        );
        next[p as usize] += 1;
    }
    check!(
        next == [ITEMS; PRODUCERS as usize],
        "got {next:?} items of each producer"
    );
    for producer in producers {
        producer.join().or_message()?;
    }
    Ok(())
}

/// One item of 48 KiB, written as the sender closes, and the process exits: the writers'
/// lock is held for a whole write, and let go just before the holder ends. A writer that
/// waited and then found the holder ended must look at the lock again, not call the queue
/// broken.
fn put_once_and_exit(p: u32, mut tx: Sender<(u32, String)>) -> std::io::Result<()> {
    tx.put(&(p, "x".repeat(48 << 10)))?;
    tx.close()
}

fn queue_writers_that_exit_at_once(method: StartMethod) -> Checked {
    const WRITERS: u32 = 32;
    let (tx, mut rx) = Queue::<(u32, String)>::new().or_message()?.split();
    let mut producers = Vec::new();
    for p in 0..WRITERS {
        let mine = tx.try_clone().or_message()?;
        producers.push(start(method, put_once_and_exit, (p, mine))?);
    }
    drop(tx);
    let mut seen = vec![false; WRITERS as usize];
    while let Some((p, item)) = rx.get().or_message()? {
        check!(item.len() == 48 << 10, "producer {p}'s item is torn");
        seen[p as usize] = true;
    }
    let mut failures = Vec::new();
    for producer in producers {
        if let Err(e) = producer.join() {
            failures.push(e.to_string());
        }
    }
    check!(failures.is_empty(), "producers failed: {failures:?}");
    check!(seen.iter().all(|s| *s), "items missing: {seen:?}");
    Ok(())
}

/// The state letter of `pid` in /proc/PID/stat (`R`, `S`, `Z`, ...).
#[cfg(unix)]
fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.trim_start().chars().next()
}

/// Puts one item, says it is writing, then writes 1 MiB that no one reads yet: its write
/// waits, holding the writers' lock.
fn write_a_megabyte(mut tx: Sender<String>, writing: Value<u32>) -> std::io::Result<()> {
    tx.put(&"first".to_string())?;
    tx.flush()?;
    let big = "x".repeat(1 << 20);
    writing.set(1);
    tx.put(&big) // more than the buffer holds: written now, and the write waits
}

/// A producer is SIGKILLed in the middle of writing a 1 MiB item (the pipe holds 64 KiB
/// and nobody reads yet, so its write waits holding the writers' lock). Another sender's
/// flush fails naming it, even before it is reaped; the receiver gets the whole item
/// before it, then an error, not a torn item and not a hang.
#[cfg(unix)]
fn queue_producer_killed_mid_write(method: StartMethod) -> Checked {
    let (tx, mut rx) = Queue::<String>::new().or_message()?.split();
    let mut other = tx.try_clone().or_message()?;
    let writing = Value::new(0u32).or_message()?;
    let victim = start(method, write_a_megabyte, (tx, writing.clone()))?;
    let pid = victim.pid();
    // Sleeping after it said it is writing: waiting in `write(2)` for room in the pipe.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(writing.get() == 1 && state(pid) == Some('S')) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    check!(
        state(pid) == Some('S'),
        "the victim never waited in its write"
    );
    victim.kill().or_message()?;
    other.put(&"late".to_string()).or_message()?;
    let start = Instant::now();
    let flushed = other.flush();
    check!(
        start.elapsed() < Duration::from_secs(2),
        "flush took {:?}",
        start.elapsed()
    );
    match flushed {
        Err(e) if e.to_string().contains(&format!("process {pid} died")) => {}
        other => return Err(format!("the other sender's flush gave {other:?}")),
    }
    let end = victim.join();
    check!(
        matches!(end, Err(ProcessError::Killed { .. })),
        "victim ended {end:?}"
    );
    drop(other);
    let first = rx.get().or_message()?;
    check!(first.as_deref() == Some("first"), "first item: {first:?}");
    match rx.get() {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        other => Err(format!("after the torn item, get gave {other:?}")),
    }
}

fn doubler(mut conn: Connection<u64>) -> std::io::Result<()> {
    while let Some(n) = conn.recv()? {
        conn.send(&(n * 2))?;
    }
    Ok(())
}

fn pipe_round_trip(method: StartMethod) -> Checked {
    let (mut here, there) = Pipe::<u64>::new().or_message()?.split();
    let child = start(method, doubler, (there,))?;
    for n in [21, 0, u64::MAX / 2] {
        here.send(&n).or_message()?;
        let got = here.recv_timeout(Duration::from_secs(5)).or_message()?;
        check!(got == Got::Item(n * 2), "{n} came back as {got:?}");
    }
    drop(here); // the child's `recv` returns `None`, and it ends
    child.join().or_message()
}

#[cfg(unix)]
fn say_last_words(mut there: Connection<String>) -> std::io::Result<()> {
    there.send(&"last words".to_string())?;
    let _ = raise(Signal::SIGKILL);
    Ok(())
}

#[cfg(unix)]
fn pipe_peer_died(method: StartMethod) -> Checked {
    let (mut here, there) = Pipe::<String>::new().or_message()?.split();
    let child = start(method, say_last_words, (there,))?;
    let got = here.recv_timeout(Duration::from_secs(5)).or_message()?;
    check!(got == Got::Item("last words".to_string()), "first: {got:?}");
    let got = here.recv_timeout(Duration::from_secs(5)).or_message()?;
    check!(got == Got::Closed, "then: {got:?}");
    // Reaped, the child has closed every descriptor; at `Closed` it may still be closing
    // them (its write end first, then its read end), so a send could still go through.
    let end = child.join();
    check!(
        matches!(end, Err(ProcessError::Killed { .. })),
        "child ended {end:?}"
    );
    check!(here.recv().or_message()?.is_none(), "recv after closed");
    let sent = here.send(&"anyone?".to_string());
    check!(
        matches!(&sent, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
        "send to a dead end gave {sent:?}"
    );
    Ok(())
}

fn megabyte(letter: u8) -> String {
    String::from_utf8(vec![letter; 1 << 20]).expect("ASCII")
}

/// Sends four 1 MiB items, then receives four.
fn talk(end: &mut Connection<String>, mine: u8, theirs: u8) -> Checked {
    for i in 0..4 {
        end.send(&megabyte(mine + i)).or_message()?;
    }
    for i in 0..4 {
        let got = end.recv().or_message()?;
        if got != Some(megabyte(theirs + i)) {
            let what = got.map(|s| (s.len(), s.bytes().next()));
            return Err(format!("item {i}: got {what:?}"));
        }
    }
    Ok(())
}

fn talk_lower(mut end: Connection<String>) -> Checked {
    talk(&mut end, b'a', b'A')
}

/// In a child: talks with a grandchild over a pipe, both sending before receiving.
fn drive_both_ways(method: String) -> Checked {
    let (mut a, b) = Pipe::new().or_message()?.split();
    let peer = start(by_name(&method), talk_lower, (b,))?;
    talk(&mut a, b'A', b'a')?;
    peer.join().or_message()
}

/// Each side sends four 1 MiB items before it receives any. Run in a child of its own, so
/// that a deadlock is seen (and killed) after 20 s instead of hanging the tests.
fn pipe_megabytes_both_ways(method: StartMethod) -> Checked {
    let mut driver = start(method, drive_both_ways, (method.name().to_string(),))?;
    let ended = driver.join_timeout(Duration::from_secs(20)).or_message()?;
    check!(ended, "no end after 20 s: a deadlock");
    driver.join().or_message()
}

/// Sleeps on item 1, so that its chunk is still out when a later chunk is refused.
fn slow_at_1((i, _): (u32, Option<Value<u32>>)) -> u32 {
    if i == 1 {
        thread::sleep(Duration::from_millis(300));
    }
    i
}

/// A result whose decoding refuses 0, as a type that checks what it reads may.
#[derive(Debug, PartialEq)]
struct NonZero(u32);

impl Serialize for NonZero {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for NonZero {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NonZero, D::Error> {
        match u32::deserialize(d)? {
            0 => Err(serde::de::Error::custom("zero")),
            n => Ok(NonZero(n)),
        }
    }
}

/// Sleeps on item 1, so that its chunk is still out when item 0's result is refused.
fn non_zero_slow_at_1(i: u32) -> NonZero {
    if i == 1 {
        thread::sleep(Duration::from_millis(300));
    }
    NonZero(i)
}

fn add(a: u32, b: u32) -> u32 {
    a + b
}

fn set_to_7(v: Value<u32>) {
    v.set(7);
}

/// Queue and pipe ends, shared memory and private descriptors serialize only as process
/// arguments: elsewhere (postcard here, or a pool's items) they are refused. A pool whose
/// call was refused that way still works, as does one whose results could not be decoded,
/// and the handles are unharmed.
#[cfg(unix)]
fn handles_travel_only_as_arguments(method: StartMethod) -> Checked {
    let (tx, rx) = Queue::<u8>::new().or_message()?.split();
    let (here, there) = Pipe::<u8>::new().or_message()?.split();
    let value = Value::new(0u32).or_message()?;
    let array = Array::new([1u8, 2]).or_message()?;
    let (read, _write) = shared::process::pipe().or_message()?;
    for (what, encoded) in [
        ("a queue Sender", postcard::to_stdvec(&tx)),
        ("a queue Receiver", postcard::to_stdvec(&rx)),
        ("a pipe Connection", postcard::to_stdvec(&here)),
        ("a Value", postcard::to_stdvec(&value)),
        ("an Array", postcard::to_stdvec(&array)),
        ("a PrivateFd", postcard::to_stdvec(&read)),
        (
            "a Value in a tuple",
            postcard::to_stdvec(&(1u8, Some(&value))),
        ),
    ] {
        check!(
            matches!(encoded, Err(postcard::Error::SerdeSerCustom)),
            "{what} serialized outside a process argument gave {encoded:?}"
        );
    }
    // As a pool item: items 0 and 1 go out, item 2's chunk is refused while item 1's is
    // still out.
    let mut pool = pool(method, 2)?;
    let items: Vec<(u32, Option<Value<u32>>)> = (0..4)
        .map(|i| (i, (i >= 2).then(|| value.clone())))
        .collect();
    let refused = pool.map(slow_at_1, &items);
    check!(
        matches!(
            &refused,
            Err(PoolError::Io {
                what: "encoding items",
                ..
            })
        ),
        "a Value as a pool item gave {refused:?}"
    );
    let sum = pool.apply(add, (2, 3)).or_message()?;
    check!(sum == 5, "the next apply gave {sum}");
    let doubled = pool.map(double, &[1, 2, 3, 4, 5]).or_message()?;
    check!(doubled == [2, 4, 6, 8, 10], "the next map gave {doubled:?}");
    // Likewise a result refused while item 1's chunk is still out.
    let undecoded = pool.map(non_zero_slow_at_1, &[0, 1, 2, 3]);
    check!(
        matches!(
            &undecoded,
            Err(PoolError::Io {
                what: "decoding results",
                ..
            })
        ),
        "a result that cannot be decoded gave {undecoded:?}"
    );
    let sum = pool.apply(add, (4, 5)).or_message()?;
    check!(sum == 9, "the apply after gave {sum}");
    let non_zero = pool.map(non_zero_slow_at_1, &[2, 3]).or_message()?;
    check!(non_zero == [NonZero(2), NonZero(3)], "{non_zero:?}");
    // The handle itself is fine: as a process argument it goes to the child.
    start(method, set_to_7, (value.clone(),))?
        .join()
        .or_message()?;
    check!(value.get() == 7, "the child set {}", value.get());
    drop((tx, there));
    Ok(())
}

/// A second thread that runs until told to stop: fork refuses at once (after its brief
/// wait for a joined thread), spawn starts as usual; with one thread again, fork works.
#[cfg(unix)]
fn second_thread(method: StartMethod) -> Checked {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = thread::spawn(move || stopped.recv());
    let start = Instant::now();
    let started = Process::start_by(method, nothing, ()).map(Process::join);
    let took = start.elapsed();
    stop.send(()).or_message()?;
    let _ = thread.join();
    match (method, started) {
        (Fork, Err(e @ ProcessError::Threaded { threads: 2 })) => {
            check!(took < Duration::from_secs(1), "took {took:?}");
            check!(e.to_string().contains("threads"), "{e}");
        }
        (Spawn, Ok(Ok(()))) => {}
        (_, other) => return Err(format!("start gave {other:?}")),
    }
    // One thread again: forking works again.
    self::start(Fork, nothing, ())?.join().or_message()
}

/// Starting a thread, joining it, then forking at once, a thousand times: the joined
/// thread may still be listed by the kernel for a moment, and `start` waits that out
/// instead of refusing.
#[cfg(unix)]
fn fork_after_join(method: StartMethod) -> Checked {
    for round in 0..1000 {
        thread::spawn(nothing)
            .join()
            .map_err(|_| "the thread panicked")?;
        let child =
            Process::start_by(method, nothing, ()).map_err(|e| format!("round {round}: {e}"))?;
        child.join().map_err(|e| format!("round {round}: {e}"))?;
    }
    Ok(())
}

/// This test run started again with the spawned-child argument, as someone other than
/// `Process` might, given a start it cannot take: each is refused with a message and exit
/// code 1 before any target runs. (The handles come with the message, `SCM_RIGHTS`, so
/// there are no numbers to forge.)
#[cfg(unix)]
fn forged_start_messages(_: StartMethod) -> Checked {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    // The start message's shape: parent pid, executable id, entry offset, arguments.
    type Wire = (u32, Option<(u64, u128)>, u64, Vec<u8>);
    let message = |entry: u64| {
        let wire: Wire = (std::process::id(), None, entry, Vec::new());
        postcard::to_stdvec(&wire).unwrap()
    };
    // (stdin a socket, not a pipe; a handle sent with it; the bytes; what is refused)
    let mut cases = vec![
        (false, false, message(0), "could not read what to run"),
        (true, false, message(0), "came with no handles"),
        (
            true,
            true,
            b"not a message".to_vec(),
            "is not a start message",
        ),
    ];
    if cfg!(target_os = "linux") {
        // Half the address space away from `main_guard`: no code of this program.
        cases.push((
            true,
            true,
            message(1 << 62),
            "names a target outside this program's code",
        ));
    }
    for (socket, with_handle, bytes, why) in cases {
        let mut command = std::process::Command::new(std::env::current_exe().or_message()?);
        command
            .arg("--shared-spawned-child")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let ours = if socket {
            let (ours, theirs) = UnixStream::pair().or_message()?;
            command.stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(
                theirs,
            )));
            Some(ours)
        } else {
            command.stdin(std::process::Stdio::piped());
            None
        };
        let mut child = command.spawn().or_message()?;
        match ours {
            Some(mut ours) => {
                let (read, _write) = nix::unistd::pipe().or_message()?;
                let fds = [read.as_raw_fd()];
                let rights = [ControlMessage::ScmRights(&fds)];
                let rights = if with_handle { &rights[..] } else { &[] };
                let first = [std::io::IoSlice::new(&bytes)];
                let sent = sendmsg::<()>(ours.as_raw_fd(), &first, rights, MsgFlags::empty(), None)
                    .or_message()?;
                ours.write_all(&bytes[sent..]).or_message()?;
            }
            None => {
                let mut input = child.stdin.take().expect("piped");
                input.write_all(&bytes).or_message()?;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().or_message()?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the child given a start that {why} did not end"));
            }
            thread::sleep(Duration::from_millis(5));
        }
        let out = child.wait_with_output().or_message()?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        check!(
            out.status.code() == Some(1) && stderr.contains(why),
            "a start that {why}: exit {:?}, stderr {stderr:?}",
            out.status
        );
    }
    Ok(())
}

/// A `Process` and a `Pool` started from a thread that ends before they are used: on
/// Linux the kernel kills a child whose starting *thread* ends (`PR_SET_PDEATHSIG`), so
/// this fails unless they were started from a thread that lasts. Once all are reaped, the
/// process is back to one thread, and a fork is allowed again.
#[cfg(unix)]
fn started_from_an_ended_thread(method: StartMethod) -> Checked {
    let done = Value::<u32>::new(0).or_message()?;
    let given = done.clone();
    let started = thread::spawn(move || -> Result<(Process, Pool), String> {
        let process = Process::start_by(method, set_after_200_ms, (given,)).or_message()?;
        let pool = Pool::new_by(method, 2).or_message()?;
        Ok((process, pool))
    })
    .join()
    .map_err(|_| "the starting thread panicked")?;
    let (process, mut pool) = started?;
    // The starting thread has ended; its children must not have.
    thread::sleep(Duration::from_millis(50));
    let squares = pool.map(square, &[1, 2, 3]).or_message()?;
    check!(squares == [1, 4, 9], "the pool answered {squares:?}");
    process.join().or_message()?;
    check!(
        done.get() == 7,
        "the child did not finish: the value is {}",
        done.get()
    );
    drop(pool);
    Process::start_by(Fork, nothing, ())
        .or_message()?
        .join()
        .or_message()
}

/// Four threads at once, each making queues and handing each one's sender to a spawned
/// child that puts one item, drops the sender and lingers. A pipe end that leaked into
/// another thread's child (made inheritable in two steps, as on macOS, while that child
/// was being started) would keep its queue open while that child lingers: the receiver
/// would find it empty, not closed.
fn queues_from_many_threads(method: StartMethod) -> Checked {
    let runs: Vec<Checked> = thread::scope(|scope| {
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                scope.spawn(move || -> Checked {
                    for round in 0..8 {
                        let (tx, mut rx) = Queue::<u32>::new().or_message()?.split();
                        let child =
                            Process::start_by(method, put_and_linger, (tx, t)).or_message()?;
                        let got = rx.get_timeout(Duration::from_secs(10)).or_message()?;
                        check!(
                            matches!(got, Got::Item(n) if n == t),
                            "thread {t} round {round}: got {got:?}"
                        );
                        // The child has dropped its sender, the only one, and lingers.
                        let end = rx.get_timeout(Duration::from_millis(100)).or_message()?;
                        check!(
                            matches!(end, Got::Closed),
                            "thread {t} round {round}: with its only sender dropped, the \
                             queue is {end:?}, not closed: an end leaked into another child"
                        );
                        child.join().or_message()?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    runs.into_iter().collect()
}

fn put_and_linger(mut tx: Sender<u32>, n: u32) -> std::io::Result<()> {
    tx.put(&n)?;
    drop(tx);
    thread::sleep(Duration::from_millis(150));
    Ok(())
}

fn set_after_200_ms(value: Value<u32>) {
    thread::sleep(Duration::from_millis(200));
    value.set(7);
}

/// Whether this process is a spawned child (run with the argument `main_guard` looks for).
fn started_by_spawn() -> bool {
    std::env::args().nth(1).as_deref() == Some("--shared-spawned-child")
}

fn check_started_by_spawn(expected: bool) -> Checked {
    let spawned = started_by_spawn();
    check!(
        spawned == expected,
        "started by spawn: {spawned}, expected {expected}"
    );
    Ok(())
}

/// `Process::start` and `Pool::new` take the method in force: `set_start_method`'s, else
/// `SHARED_START_METHOD`'s. `set_start_method` cannot be undone, which changes nothing for
/// the other scenarios: each names its method.
#[cfg(unix)]
fn method_in_force(_: StartMethod) -> Checked {
    const ENV: &str = shared::start_method::ENV;
    let before = std::env::var_os(ENV);
    let set_env = |value: &str| {
        // SAFETY: this test has one thread: nothing reads the environment meanwhile.
        unsafe { std::env::set_var(ENV, value) }
    };
    let outcome = (|| {
        for method in [Spawn, Fork] {
            set_env(method.name());
            let got = get_start_method().or_message()?;
            check!(got == method, "{ENV}={method}: get_start_method gave {got}");
            let spawn = method == Spawn;
            Process::start(check_started_by_spawn, (spawn,))
                .or_message()?
                .join()
                .or_message()?;
            let mut pool = Pool::new(1).or_message()?;
            let worker_spawned = pool.apply(started_by_spawn, ()).or_message()?;
            check!(worker_spawned == spawn, "{ENV}={method}: a pool worker");
        }
        set_env("forkserver");
        let refused = Process::start(nothing, ()).map(drop);
        check!(
            matches!(&refused, Err(e @ ProcessError::Method(_)) if e.to_string().contains(ENV)),
            "{ENV}=forkserver: start gave {refused:?}"
        );
        set_env("fork");
        set_start_method(Spawn);
        check!(
            get_start_method().or_message()? == Spawn,
            "set_start_method(spawn) does not win over {ENV}=fork"
        );
        Process::start(check_started_by_spawn, (true,))
            .or_message()?
            .join()
            .or_message()
    })();
    match before {
        // SAFETY: as above.
        Some(value) => unsafe { std::env::set_var(ENV, value) },
        // SAFETY: as above.
        None => unsafe { std::env::remove_var(ENV) },
    }
    outcome
}
