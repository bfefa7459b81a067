//! The fork tests for `process`, `pool`, `queue`, `pipe` and `shared_memory`.
//!
//! libtest runs tests on threads, and `Process` (rightly) refuses to fork a multithreaded
//! process, so this is a plain `main` (`harness = false`): it runs each scenario on the
//! main thread, prints one line per scenario and an `N passed, N failed` line, and exits
//! non-zero if any failed. After every scenario it checks (in /proc on Linux, with `ps`
//! elsewhere) that the test process has no children left: everything was reaped.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigHandler, Signal, kill, raise, signal};
use nix::unistd::Pid;
use shared::pipe::{Connection, Pipe};
use shared::pool::{Pool, PoolError};
use shared::process::{Process, ProcessError};
use shared::queue::{Got, Queue, Receiver, Sender};
use shared::shared_memory::{Array, Value};

type Outcome = Result<(), String>;
type Scenario = (&'static str, fn() -> Outcome);

fn main() -> ExitCode {
    let scenarios: &[Scenario] = &[
        ("join reports a child's panic", join_reports_a_panic),
        (
            "join reports exit codes, signals and errors",
            join_reports_other_ends,
        ),
        (
            "dropping an unjoined process kills and reaps it",
            drop_kills_and_reaps,
        ),
        ("join_timeout waits a bounded time", join_timeout_is_bounded),
        (
            "join_timeout(Duration::MAX) waits without limit",
            join_timeout_max_is_no_limit,
        ),
        (
            "with SIGCHLD ignored, join says the end is lost and why",
            join_with_sigchld_ignored,
        ),
        (
            "children die with their parent (PDEATHSIG; not on macOS)",
            children_die_with_parent,
        ),
        (
            "end_quietly: a closed stdout ends a process like cat, other pipes stay errors",
            closed_stdout_ends_quietly,
        ),
        (
            "a child killed by SIGPIPE ends its parent only if their stdout is closed",
            child_sigpipe_and_closed_stdout,
        ),
        (
            "a PrivateFd not handed over is dead in the child",
            private_fd_not_handed_over,
        ),
        (
            "a closure's captures are dropped once, by the parent, after the child",
            captures_are_dropped_once_after_the_child,
        ),
        ("pool maps in order, any types", pool_maps_in_order),
        (
            "pool items are dropped once, by the caller, after every worker saw them",
            pool_items_are_dropped_once_after_use,
        ),
        (
            "pool worker SIGKILLed mid-map: error within 1 s",
            pool_worker_sigkilled,
        ),
        (
            "pool worker panic and abort are errors",
            pool_worker_panic_and_abort,
        ),
        (
            "Value: 4 processes x 100 000 fetch_add end exact",
            value_fetch_add_is_exact,
        ),
        ("Array: elements updated from 5 processes", array_updates),
        (
            "Queue: 100 000 items in order, each once",
            queue_carries_items_in_order,
        ),
        (
            "Queue: a child forked while the parent holds the sender",
            queue_fork_trap,
        ),
        (
            "Queue: several producers, big items",
            queue_many_producers_big_items,
        ),
        (
            "Queue: an end not handed over fails clearly",
            queue_end_not_handed_over,
        ),
        (
            "Queue: get_timeout tells empty from closed",
            queue_empty_vs_closed,
        ),
        (
            "Queue: 4 producers x 20 000 items of 1 B-200 KiB, whole, once, in order",
            queue_four_producers_mixed_sizes,
        ),
        (
            "Queue: a producer killed mid-write is an error for all, not a hang",
            queue_producer_killed_mid_write,
        ),
        (
            "Pipe: an end whose peer's process died reads closed",
            pipe_peer_died,
        ),
        (
            "Pipe: 1 MiB items both ways at once, whole, no deadlock",
            pipe_megabytes_both_ways,
        ),
        (
            "a second thread makes start fail, not hang",
            refuses_with_a_second_thread,
        ),
    ];
    // Assertion messages are reported below; children's panics are expected noise.
    panic::set_hook(Box::new(|_| {}));
    let (mut passed, mut failed) = (0, 0);
    for (name, scenario) in scenarios {
        let start = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(scenario))
            .unwrap_or_else(|payload| Err(panic_message(&*payload)))
            .and_then(|()| no_children_left());
        let ms = start.elapsed().as_millis();
        match outcome {
            Ok(()) => {
                passed += 1;
                println!("ok   {name} ({ms} ms)");
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {name} ({ms} ms): {why}");
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
#[cfg(not(target_os = "linux"))]
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

/// The pids whose parent is this process.
fn children() -> Vec<u32> {
    let me = std::process::id();
    processes()
        .into_iter()
        .filter(|&(_, ppid, _)| ppid == me)
        .map(|(pid, _, _)| pid)
        .collect()
}

fn no_children_left() -> Outcome {
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

fn crash() {
    panic!("boom at item 7");
}

fn join_reports_a_panic() -> Outcome {
    match Process::start(crash).map_err(|e| e.to_string())?.join() {
        Err(ProcessError::Panicked { message, .. }) if message == "boom at item 7" => Ok(()),
        other => Err(format!("join gave {other:?}")),
    }
}

fn join_reports_other_ends() -> Outcome {
    let start = |f: fn()| Process::start(f).map_err(|e| e.to_string());
    let exit = start(|| std::process::exit(3))?.join();
    check!(
        matches!(exit, Err(ProcessError::Exited { code: 3, .. })),
        "exit(3) gave {exit:?}"
    );
    let killed = start(|| {
        let _ = raise(Signal::SIGKILL);
    })?
    .join();
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
    let failed = Process::start(|| Err::<(), _>("no such file"))
        .map_err(|e| e.to_string())?
        .join();
    check!(
        matches!(&failed, Err(ProcessError::Failed { message, .. }) if message == "no such file"),
        "an Err gave {failed:?}"
    );
    let fine = start(|| ())?.join();
    check!(fine.is_ok(), "a normal end gave {fine:?}");
    Ok(())
}

fn drop_kills_and_reaps() -> Outcome {
    let child =
        Process::start(|| thread::sleep(Duration::from_secs(60))).map_err(|e| e.to_string())?;
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

fn join_timeout_is_bounded() -> Outcome {
    let mut child =
        Process::start(|| thread::sleep(Duration::from_millis(300))).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let ended = child
        .join_timeout(Duration::from_millis(50))
        .map_err(|e| e.to_string())?;
    let waited = start.elapsed();
    check!(!ended, "a 300 ms child ended within 50 ms");
    check!(
        (Duration::from_millis(50)..Duration::from_millis(250)).contains(&waited),
        "join_timeout(50 ms) took {waited:?}"
    );
    check!(
        child.is_alive().map_err(|e| e.to_string())?,
        "not alive mid-sleep"
    );
    let ended = child
        .join_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    check!(
        ended && start.elapsed() < Duration::from_secs(2),
        "did not end in time"
    );
    child.join().map_err(|e| e.to_string())
}

fn join_timeout_max_is_no_limit() -> Outcome {
    let mut child =
        Process::start(|| thread::sleep(Duration::from_millis(50))).map_err(|e| e.to_string())?;
    let ended = child
        .join_timeout(Duration::MAX)
        .map_err(|e| e.to_string())?;
    check!(ended, "join_timeout(MAX) returned before the child ended");
    check!(
        child
            .join_timeout(Duration::MAX)
            .map_err(|e| e.to_string())?,
        "a second join_timeout(MAX) on an ended child"
    );
    child.join().map_err(|e| e.to_string())
}

fn join_with_sigchld_ignored() -> Outcome {
    // SAFETY: ignoring a signal installs no handler; the default is restored below.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) }.map_err(|e| e.to_string())?;
    let outcome = (|| {
        let exit: fn() = || std::process::exit(7);
        let child = Process::start(exit).map_err(|e| e.to_string())?;
        let pid = child.pid();
        match child.join() {
            Err(e @ ProcessError::Lost { pid: p, .. }) if p == pid => {
                let message = e.to_string();
                check!(
                    message.contains("how it ended is lost") && message.contains("SIG_IGN"),
                    "{message}"
                );
                Ok(())
            }
            other => Err(format!("join gave {other:?}")),
        }
    })();
    // SAFETY: as above.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }.map_err(|e| e.to_string())?;
    outcome
}

/// A child starts a grandchild, then is SIGKILLed: no destructor of the child runs, and
/// the grandchild dies by its PDEATHSIG.
fn children_die_with_parent() -> Outcome {
    let grandchild = Value::new(0u32).map_err(|e| e.to_string())?;
    let child = Process::start(|| {
        let g = Process::start(|| thread::sleep(Duration::from_secs(60))).expect("grandchild");
        grandchild.set(g.pid());
        let _ = raise(Signal::SIGKILL);
        drop(g); // never reached
    })
    .map_err(|e| e.to_string())?;
    let end = child.join();
    check!(
        matches!(end, Err(ProcessError::Killed { .. })),
        "child ended {end:?}"
    );
    let g = grandchild.get();
    check!(g != 0, "the grandchild was not started");
    let deadline = Instant::now() + Duration::from_secs(2);
    while running(g) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    if running(g) {
        let _ = kill(Pid::from_raw(g as i32), Signal::SIGKILL);
        // macOS has no PDEATHSIG: the grandchild outlives its parent, as process.rs says.
        if cfg!(not(target_os = "linux")) {
            return Ok(());
        }
        return Err(format!("grandchild {g} outlived its parent"));
    }
    check!(
        cfg!(target_os = "linux"),
        "the grandchild died with its parent, which process.rs says only Linux does"
    );
    Ok(())
}

/// A value whose `Drop` has an effect outside its process: it deletes its file, and counts
/// itself in shared memory, so that a drop in any process shows.
struct Guard<'a> {
    path: std::path::PathBuf,
    drops: &'a Value<usize>,
}

impl<'a> Guard<'a> {
    fn new(name: &str, drops: &'a Value<usize>) -> Result<Guard<'a>, String> {
        let path = std::env::temp_dir().join(format!("shared-guard-{}-{name}", std::process::id()));
        fs::write(&path, name).map_err(|e| format!("creating {}: {e}", path.display()))?;
        Ok(Guard { path, drops })
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        self.drops.fetch_add(1);
    }
}

fn captures_are_dropped_once_after_the_child() -> Outcome {
    let drops = Value::new(0usize).map_err(|e| e.to_string())?;
    let guard = Guard::new("captured", &drops)?;
    let path = guard.path.clone();
    let child = Process::start(move || {
        // Long enough for a parent that dropped its copy at the fork to have done so.
        thread::sleep(Duration::from_millis(100));
        if guard.path.exists() {
            Ok(())
        } else {
            Err("the file was deleted while the child still used it")
        }
    })
    .map_err(|e| e.to_string())?;
    check!(path.exists(), "the parent dropped the closure at the fork");
    child.join().map_err(|e| e.to_string())?;
    check!(
        drops.get() == 1,
        "the guard was dropped {} times",
        drops.get()
    );
    check!(!path.exists(), "the guard was never dropped");
    Ok(())
}

fn pool_items_are_dropped_once_after_use() -> Outcome {
    let drops = Value::new(0usize).map_err(|e| e.to_string())?;
    let items = (0..40)
        .map(|i| Guard::new(&format!("item-{i}"), &drops))
        .collect::<Result<Vec<_>, _>>()?;
    let seen = Pool::new(4)
        .map(|item| item.path.exists(), &items)
        .map_err(|e| e.to_string())?;
    check!(
        seen.iter().all(|&existed| existed),
        "items dropped before f saw them: {seen:?}"
    );
    check!(
        drops.get() == 0,
        "{} items were dropped during map",
        drops.get()
    );
    drop(items);
    check!(
        drops.get() == 40,
        "40 items were dropped {} times",
        drops.get()
    );
    Ok(())
}

fn pool_maps_in_order() -> Outcome {
    let pool = Pool::new(4);
    let items: Vec<u64> = (0..100_003).collect();
    let squares = pool.map(|n| n * n, &items).map_err(|e| e.to_string())?;
    check!(
        squares == (0..100_003u64).map(|n| n * n).collect::<Vec<_>>(),
        "squares out of order"
    );
    // Items that are not serde types, a closure borrowing local data, struct-like results.
    let names = ["ada", "grace", "linus"];
    let suffix = String::from("!");
    let out = pool
        .map(|s| (s.len(), format!("{s}{suffix}")), &names)
        .map_err(|e| e.to_string())?;
    check!(
        out == [
            (3, "ada!".into()),
            (5, "grace!".into()),
            (5, "linus!".into())
        ],
        "{out:?}"
    );
    let single = Pool::new(1)
        .map(|n| n - 1, &[1, 2, 3])
        .map_err(|e| e.to_string())?;
    check!(single == [0, 1, 2], "{single:?}");
    Ok(())
}

fn pool_worker_sigkilled() -> Outcome {
    let start = Instant::now();
    // One worker is stuck on item 0 for a minute, another is SIGKILLed at item 500:
    // map must neither wait for the stuck one nor for results the dead one owed.
    let items: Vec<u32> = (0..1000).collect();
    let result = Pool::new(4).map(
        |&n| {
            if n == 0 {
                thread::sleep(Duration::from_secs(60));
            }
            if n == 500 {
                let _ = raise(Signal::SIGKILL);
            }
            n
        },
        &items,
    );
    let took = start.elapsed();
    check!(took < Duration::from_secs(1), "map took {took:?}");
    match result {
        Err(PoolError::Worker(ProcessError::Killed {
            signal: Signal::SIGKILL,
            ..
        })) => Ok(()),
        other => Err(format!("map gave {other:?}")),
    }
}

fn pool_worker_panic_and_abort() -> Outcome {
    let pool = Pool::new(3);
    let items: Vec<i32> = (0..100).collect();
    let panicked = pool.map(
        |&n| {
            if n == 42 {
                panic!("no answers here")
            } else {
                n
            }
        },
        &items,
    );
    match &panicked {
        Err(e @ PoolError::Worker(ProcessError::Panicked { message, .. }))
            if message == "no answers here" =>
        {
            check!(e.to_string().contains("no answers here"), "{e}");
        }
        other => return Err(format!("a panic gave {other:?}")),
    }
    let aborted = pool.map(
        |&n| if n == 7 { std::process::abort() } else { n },
        &items[..10],
    );
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
    Ok(())
}

fn value_fetch_add_is_exact() -> Outcome {
    let counter = Value::new(0u64).map_err(|e| e.to_string())?;
    let workers = (0..4)
        .map(|_| {
            Process::start(|| {
                for _ in 0..100_000 {
                    counter.fetch_add(1);
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    for w in workers {
        w.join().map_err(|e| e.to_string())?;
    }
    check!(counter.get() == 400_000, "counter is {}", counter.get());
    Ok(())
}

fn array_updates() -> Outcome {
    let arr = Array::new([1i32, 2, 3, 4, 5]).map_err(|e| e.to_string())?;
    let max = Value::new(i64::MIN).map_err(|e| e.to_string())?;
    let workers = (0..5)
        .map(|num| {
            let (arr, max) = (&arr, &max);
            Process::start(move || {
                for i in 0..arr.len() {
                    arr.fetch_add(i, num);
                }
                max.update(|m| m.max(i64::from(num) * 100));
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    for w in workers {
        w.join().map_err(|e| e.to_string())?;
    }
    check!(arr.to_vec() == [11, 12, 13, 14, 15], "array is {arr:?}");
    check!(max.get() == 400, "max is {}", max.get());
    Ok(())
}

fn queue_carries_items_in_order() -> Outcome {
    const N: u64 = 100_000;
    let (tx, mut rx) = Queue::<u64>::new().map_err(|e| e.to_string())?.split();
    let producer = Process::start_with(tx, |mut tx: Sender<u64>| {
        for i in 0..N {
            tx.put(&i)?;
        }
        tx.close()
    })
    .map_err(|e| e.to_string())?;
    let mut expected = 0;
    while let Some(item) = rx.get().map_err(|e| e.to_string())? {
        check!(item == expected, "got {item}, expected {expected}");
        expected += 1;
    }
    check!(expected == N, "got {expected} items");
    producer.join().map_err(|e| e.to_string())
}

/// The fork trap: the consumer child is forked while the parent still holds the sender,
/// and an unrelated child is forked while it does too. Neither keeps the write end, so the
/// consumer sees the end as soon as the parent closes its sender.
fn queue_fork_trap() -> Outcome {
    let (mut tx, rx) = Queue::<u32>::new().map_err(|e| e.to_string())?.split();
    let mut consumer = Process::start_with(rx, |mut rx: Receiver<u32>| {
        let mut sum = 0;
        while let Some(item) = rx.get().map_err(|e| e.to_string())? {
            sum += item;
        }
        if sum == 4950 {
            Ok(())
        } else {
            Err(format!("sum {sum}"))
        }
    })
    .map_err(|e| e.to_string())?;
    let bystander =
        Process::start(|| thread::sleep(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    for i in 0..100 {
        tx.put(&i).map_err(|e| e.to_string())?;
    }
    tx.close().map_err(|e| e.to_string())?;
    let ended = consumer
        .join_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    check!(
        ended,
        "the consumer never saw the end: an inherited write end is open"
    );
    consumer.join().map_err(|e| e.to_string())?;
    drop(bystander);
    Ok(())
}

fn queue_many_producers_big_items() -> Outcome {
    let (tx, mut rx) = Queue::<(u32, u32, Vec<u8>)>::new()
        .map_err(|e| e.to_string())?
        .split();
    let mut producers = Vec::new();
    for p in 0..3u32 {
        let mine = tx.try_clone().map_err(|e| e.to_string())?;
        let producer = Process::start_with(mine, move |mut tx: Sender<(u32, u32, Vec<u8>)>| {
            for i in 0..300u32 {
                // Every 10th item is 10 KB: three fragments, interleaved with the others'.
                let size = if i % 10 == 0 {
                    10_000
                } else {
                    (i % 50) as usize
                };
                tx.put(&(p, i, vec![p as u8; size]))?;
            }
            tx.close()
        })
        .map_err(|e| e.to_string())?;
        producers.push(producer);
    }
    drop(tx);
    let mut next = [0u32; 3];
    while let Some((p, i, bytes)) = rx.get().map_err(|e| e.to_string())? {
        let p = p as usize;
        check!(
            i == next[p],
            "producer {p}: got item {i}, expected {}",
            next[p]
        );
        let size = if i % 10 == 0 {
            10_000
        } else {
            (i % 50) as usize
        };
        check!(
            bytes == vec![p as u8; size],
            "producer {p} item {i} garbled"
        );
        next[p] += 1;
    }
    check!(next == [300; 3], "got {next:?} items");
    for producer in producers {
        producer.join().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn queue_end_not_handed_over() -> Outcome {
    let (mut tx, mut rx) = Queue::<u8>::new().map_err(|e| e.to_string())?.split();
    tx.put(&1).map_err(|e| e.to_string())?; // buffered in the parent when the child forks
    let child = Process::start(|| tx.put(&2)).map_err(|e| e.to_string())?;
    let end = child.join();
    check!(
        matches!(&end, Err(ProcessError::Failed { message, .. }) if message.contains("belongs to another process")),
        "{end:?}"
    );
    tx.close().map_err(|e| e.to_string())?;
    check!(rx.get().map_err(|e| e.to_string())? == Some(1), "item 1");
    check!(
        rx.get().map_err(|e| e.to_string())?.is_none(),
        "only item 1, once"
    );
    Ok(())
}

fn queue_empty_vs_closed() -> Outcome {
    let (tx, mut rx) = Queue::<String>::new().map_err(|e| e.to_string())?.split();
    let producer = Process::start_with(tx, |mut tx: Sender<String>| {
        thread::sleep(Duration::from_millis(300));
        tx.put(&"late".to_string())?;
        tx.close()
    })
    .map_err(|e| e.to_string())?;
    let got = rx
        .get_timeout(Duration::from_millis(50))
        .map_err(|e| e.to_string())?;
    check!(got == Got::Empty, "first look: {got:?}");
    let got = rx
        .get_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    check!(got == Got::Item("late".to_string()), "second look: {got:?}");
    let got = rx
        .get_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    check!(got == Got::Closed, "third look: {got:?}");
    producer.join().map_err(|e| e.to_string())
}

/// Producer `p`'s item `i`: 1 B to 200 KiB (mostly under 1 KiB, every 100th up to
/// 200 KiB, and both extremes), every byte the same letter. A `String` is encoded and
/// checked with one copy and one compare, so the test is quick in a debug build too.
fn mixed_item(p: u32, i: u32) -> String {
    let mut h = u64::from(p) << 32 | u64::from(i);
    h = (h ^ (h >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let h = (h ^ (h >> 29)) as usize;
    let size = match i {
        0 => 200 * 1024,
        1 => 1,
        i if i % 100 == 0 => 1 + h % (200 * 1024),
        _ => 1 + h % 1024,
    };
    let letter = b'a' + ((p * 7 + i) % 26) as u8;
    String::from_utf8(vec![letter; size]).expect("ASCII")
}

fn queue_four_producers_mixed_sizes() -> Outcome {
    const PRODUCERS: u32 = 4;
    const ITEMS: u32 = 20_000;
    let (tx, mut rx) = Queue::<(u32, u32, String)>::new()
        .map_err(|e| e.to_string())?
        .split();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let mine = tx.try_clone().map_err(|e| e.to_string())?;
        let producer = Process::start_with(mine, move |mut tx: Sender<(u32, u32, String)>| {
            for i in 0..ITEMS {
                tx.put(&(p, i, mixed_item(p, i)))?;
            }
            tx.close()
        })
        .map_err(|e| e.to_string())?;
        producers.push(producer);
    }
    drop(tx);
    let mut next = [0u32; PRODUCERS as usize];
    while let Some((p, i, item)) = rx.get().map_err(|e| e.to_string())? {
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
        producer.join().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The state letter of `pid` in /proc/PID/stat (`R`, `S`, `Z`, ...).
fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.trim_start().chars().next()
}

/// A producer is SIGKILLed in the middle of writing a 1 MiB item (the pipe holds 64 KiB
/// and nobody reads yet, so its write waits holding the writers' lock). Another sender's
/// flush fails naming it, even before it is reaped; the receiver gets the whole item
/// before it, then an error, not a torn item and not a hang.
fn queue_producer_killed_mid_write() -> Outcome {
    let (tx, mut rx) = Queue::<String>::new().map_err(|e| e.to_string())?.split();
    let mut other = tx.try_clone().map_err(|e| e.to_string())?;
    let writing = Value::new(0u32).map_err(|e| e.to_string())?;
    let victim = Process::start_with(tx, |mut tx: Sender<String>| {
        tx.put(&"first".to_string())?;
        tx.flush()?;
        let big = "x".repeat(1 << 20);
        writing.set(1);
        tx.put(&big) // more than the buffer holds: written now, and the write waits
    })
    .map_err(|e| e.to_string())?;
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
    victim.kill().map_err(|e| e.to_string())?;
    other.put(&"late".to_string()).map_err(|e| e.to_string())?;
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
    let first = rx.get().map_err(|e| e.to_string())?;
    check!(first.as_deref() == Some("first"), "first item: {first:?}");
    match rx.get() {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        other => Err(format!("after the torn item, get gave {other:?}")),
    }
}

fn pipe_peer_died() -> Outcome {
    let (mut here, there) = Pipe::<String>::new().map_err(|e| e.to_string())?.split();
    let child = Process::start_with(there, |mut there: Connection<String>| {
        there.send(&"last words".to_string())?;
        let _ = raise(Signal::SIGKILL);
        Ok::<(), std::io::Error>(())
    })
    .map_err(|e| e.to_string())?;
    let got = here
        .recv_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    check!(got == Got::Item("last words".to_string()), "first: {got:?}");
    let got = here
        .recv_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    check!(got == Got::Closed, "then: {got:?}");
    check!(
        here.recv().map_err(|e| e.to_string())?.is_none(),
        "recv after closed"
    );
    let sent = here.send(&"anyone?".to_string());
    check!(
        matches!(&sent, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
        "send to a dead end gave {sent:?}"
    );
    let end = child.join();
    check!(
        matches!(end, Err(ProcessError::Killed { .. })),
        "child ended {end:?}"
    );
    Ok(())
}

/// Each side sends four 1 MiB items before it receives any. Run in a child of its own, so
/// that a deadlock is seen (and killed) after 20 s instead of hanging the tests.
fn pipe_megabytes_both_ways() -> Outcome {
    fn item(letter: u8) -> String {
        String::from_utf8(vec![letter; 1 << 20]).expect("ASCII")
    }
    fn talk(end: &mut Connection<String>, mine: u8, theirs: u8) -> Result<(), String> {
        for i in 0..4 {
            end.send(&item(mine + i)).map_err(|e| e.to_string())?;
        }
        for i in 0..4 {
            let got = end.recv().map_err(|e| e.to_string())?;
            if got != Some(item(theirs + i)) {
                let what = got.map(|s| (s.len(), s.bytes().next()));
                return Err(format!("item {i}: got {what:?}"));
            }
        }
        Ok(())
    }
    let mut driver = Process::start(|| -> Result<(), String> {
        let (mut a, b) = Pipe::new().map_err(|e| e.to_string())?.split();
        let peer =
            Process::start_with(b, |mut b| talk(&mut b, b'a', b'A')).map_err(|e| e.to_string())?;
        talk(&mut a, b'A', b'a')?;
        peer.join().map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?;
    let ended = driver
        .join_timeout(Duration::from_secs(20))
        .map_err(|e| e.to_string())?;
    check!(ended, "no end after 20 s: a deadlock");
    driver.join().map_err(|e| e.to_string())
}

fn refuses_with_a_second_thread() -> Outcome {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = thread::spawn(move || stopped.recv());
    let start = Instant::now();
    let refused = Process::start(|| ());
    let took = start.elapsed();
    stop.send(()).map_err(|e| e.to_string())?;
    let _ = thread.join();
    check!(took < Duration::from_secs(1), "took {took:?}");
    match refused {
        Err(e @ ProcessError::Threaded { threads: 2 }) => {
            check!(e.to_string().contains("threads"), "{e}");
        }
        other => return Err(format!("start gave {other:?}")),
    }
    // One thread again: forking works again.
    Process::start(|| ())
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|e| e.to_string())
}

/// Points this process's stdout at a pipe whose reader is already closed.
fn close_my_stdout() {
    let (read, write) = nix::unistd::pipe().expect("pipe");
    drop(read);
    nix::unistd::dup2_stdout(&write).expect("dup2");
}

fn closed_stdout_ends_quietly() -> Outcome {
    let printing = Process::start(|| {
        shared::closed_stdout::end_quietly();
        close_my_stdout();
        println!("nobody reads this");
        Err::<(), _>("println! returned on a closed stdout")
    })
    .map_err(|e| e.to_string())?
    .join();
    check!(
        matches!(
            printing,
            Err(ProcessError::Killed {
                signal: Signal::SIGPIPE,
                ..
            })
        ),
        "printing to a closed stdout gave {printing:?}"
    );
    // A broken pipe that is not stdout is still an error to handle.
    let other_pipe = Process::start(|| {
        shared::closed_stdout::end_quietly();
        let (read, write) = nix::unistd::pipe().map_err(|e| e.to_string())?;
        drop(read);
        match nix::unistd::write(&write, b"x") {
            Err(nix::errno::Errno::EPIPE) => Ok(()),
            other => Err(format!("writing to a broken pipe gave {other:?}")),
        }
    })
    .map_err(|e| e.to_string())?
    .join();
    check!(other_pipe.is_ok(), "{other_pipe:?}");
    Ok(())
}

fn child_sigpipe_and_closed_stdout() -> Outcome {
    // Our stdout closed: the child's SIGPIPE ends us as well, inside join.
    let with_closed_stdout = Process::start(|| {
        shared::closed_stdout::end_quietly();
        close_my_stdout();
        let printer =
            Process::start(|| println!("nobody reads this")).map_err(|e| e.to_string())?;
        Err::<(), _>(format!("join returned {:?}", printer.join()))
    })
    .map_err(|e| e.to_string())?
    .join();
    check!(
        matches!(
            with_closed_stdout,
            Err(ProcessError::Killed {
                signal: Signal::SIGPIPE,
                ..
            })
        ),
        "with stdout closed: {with_closed_stdout:?}"
    );
    // Our stdout fine: a child killed by SIGPIPE is reported like any other signal.
    let reported = Process::start(|| {
        shared::closed_stdout::end_quietly();
        let _ = raise(Signal::SIGPIPE); // stdout is open: the handler returns
        // SAFETY: the default action installs no handler.
        let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
        let _ = raise(Signal::SIGPIPE);
    })
    .map_err(|e| e.to_string())?
    .join();
    check!(
        matches!(
            reported,
            Err(ProcessError::Killed {
                signal: Signal::SIGPIPE,
                ..
            })
        ),
        "with stdout open: {reported:?}"
    );
    Ok(())
}

fn private_fd_not_handed_over() -> Outcome {
    use std::io::{Read, Write};
    let (read, write) = shared::process::pipe().map_err(|e| e.to_string())?;
    let child = Process::start(|| {
        let wrote = (&write).write(b"stolen");
        let mut buf = [0; 8];
        let got = (&read).read(&mut buf);
        let ebadf = |r: &std::io::Result<usize>| {
            matches!(r, Err(e) if e.raw_os_error() == Some(nix::libc::EBADF))
        };
        check!(ebadf(&wrote), "a write gave {wrote:?}");
        // Linux fails the read too; elsewhere the dead descriptor is /dev/null: end-of-file.
        if cfg!(target_os = "linux") {
            check!(ebadf(&got), "a read gave {got:?}");
        } else {
            check!(matches!(got, Ok(0)), "a read gave {got:?}");
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    child.join().map_err(|e| e.to_string())?;
    (&write).write_all(b"mine").map_err(|e| e.to_string())?;
    drop(write);
    let mut got = String::new();
    (&read)
        .read_to_string(&mut got)
        .map_err(|e| e.to_string())?;
    check!(got == "mine", "the parent read {got:?}");
    Ok(())
}
