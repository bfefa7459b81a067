//! What a trace proves that printed output cannot: how many processes a pool forked and
//! whether they ran at once, which threads a run used, and that nothing outlived it.

use std::time::Duration;

use super::model::{End, Trace};
use super::tasks::{self, Span};

/// One property of a traced run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    /// The run forks exactly this many worker processes.
    Forks(usize),
    /// That many worker processes are alive at one time.
    AliveTogether(usize),
    /// One process with one thread: tasks take turns on it, as on asyncio's loop.
    OneThread,
    /// Besides the main thread, the process runs at least one and at most this many.
    PoolThreads(usize),
    /// Exactly this many task lanes overlap at most: the limit holds, and is reached.
    TasksAtOnce(usize),
    /// No process or thread is still running once the started process has exited.
    NothingLeftRunning,
}

/// The checks an example's trace must pass; `package` is its chapter's package.
pub fn for_example(name: &str, package: &str) -> Vec<Check> {
    // rayon's global pool keeps its threads until the process exits, by design
    // (rayon-rs/rayon#483): they end with it. verify still checks that no process is left.
    let mut checks = if name == "pool_rayon" {
        Vec::new()
    } else {
        vec![Check::NothingLeftRunning]
    };
    // asyncio runs on one thread, and so do these examples (tokio's current_thread
    // runtime), but for the one that moves a blocking call onto tokio's blocking threads.
    if package == "async" && name != "async_blocking" {
        checks.push(Check::OneThread);
    }
    match name {
        "process_pool" => checks.extend([Check::Forks(4), Check::AliveTogether(4)]),
        "thread_pool" => checks.push(Check::PoolThreads(4)),
        "async_semaphore" => checks.push(Check::TasksAtOnce(2)),
        _ => {}
    }
    checks
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Forks(n) => write!(f, "forks exactly {n} worker processes"),
            Check::AliveTogether(n) => write!(f, "has {n} worker processes alive at once"),
            Check::OneThread => write!(f, "runs on one thread"),
            Check::PoolThreads(n) => write!(f, "runs its jobs on at most {n} threads"),
            Check::TasksAtOnce(n) => write!(f, "runs {n} task lanes at once, never more"),
            Check::NothingLeftRunning => write!(f, "leaves no process or thread running"),
        }
    }
}

impl Check {
    pub fn check(self, trace: &Trace, spans: &[Span]) -> Result<(), String> {
        match self {
            Check::Forks(n) => forks(trace, n),
            Check::AliveTogether(n) => alive_together(trace, n),
            Check::OneThread => one_thread(trace),
            Check::PoolThreads(n) => pool_threads(trace, n),
            Check::TasksAtOnce(n) => tasks_at_once(spans, n),
            Check::NothingLeftRunning => nothing_left_running(trace),
        }
    }
}

/// Every process but the started one: its workers.
fn workers(trace: &Trace) -> Vec<(Duration, Duration)> {
    trace
        .processes()
        .iter()
        .filter(|p| p.pid != trace.root)
        .map(|p| (p.born(), p.ended()))
        .collect()
}

fn forks(trace: &Trace, n: usize) -> Result<(), String> {
    match workers(trace).len() {
        k if k == n => Ok(()),
        k => Err(format!(
            "it forked {k} worker process(es); the pool has {n}"
        )),
    }
}

fn alive_together(trace: &Trace, n: usize) -> Result<(), String> {
    let workers = workers(trace);
    let most = tasks::most_overlapping(workers.iter().copied());
    if most == n {
        Ok(())
    } else {
        Err(format!(
            "at most {most} of its {} worker process(es) were alive at the same time, not {n}",
            workers.len()
        ))
    }
}

fn one_thread(trace: &Trace) -> Result<(), String> {
    let processes = trace.processes().len();
    let threads = trace.threads.len();
    if (processes, threads) != (1, 1) {
        let names: Vec<String> = trace
            .threads
            .iter()
            .map(|t| format!("{} ({})", t.tid, t.name))
            .collect();
        return Err(format!(
            "it ran on {threads} threads in {processes} process(es), not on one: {}",
            names.join(", ")
        ));
    }
    Ok(())
}

fn pool_threads(trace: &Trace, n: usize) -> Result<(), String> {
    let others = trace
        .threads
        .iter()
        .filter(|t| t.pid == trace.root && t.tid != trace.root)
        .count();
    match others {
        0 => Err("it started no thread: the jobs ran on the main thread".to_string()),
        k if k > n => Err(format!(
            "it started {k} threads besides the main one; the pool has at most {n}"
        )),
        _ => Ok(()),
    }
}

fn tasks_at_once(spans: &[Span], n: usize) -> Result<(), String> {
    let tasks: Vec<Span> = spans.iter().filter(|s| s.tid.is_some()).cloned().collect();
    match tasks::most_at_once(&tasks) {
        most if most == n => Ok(()),
        most if most > n => Err(format!(
            "{most} task lanes overlap at one time; the limit is {n}"
        )),
        most => Err(format!(
            "at most {most} task lane(s) overlap; {n} should run at once"
        )),
    }
}

fn nothing_left_running(trace: &Trace) -> Result<(), String> {
    let mut problems = Vec::new();
    if trace.timed_out {
        problems.push("it was still running at its time limit (killed)".to_string());
    }
    for t in &trace.threads {
        let what = if t.tid == t.pid {
            format!("process {} ({})", t.pid, t.name)
        } else {
            format!("thread {} ({}) of process {}", t.tid, t.name, t.pid)
        };
        match t.end {
            End::LeftRunning => {
                problems.push(format!("{what} was still running after the program ended"))
            }
            End::TakenDown => {
                problems.push(format!("{what} was still running when its process exited"))
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Thread;

    fn thread(tid: i32, pid: i32, born: u64, ended: u64, end: End) -> Thread {
        Thread {
            tid,
            pid,
            parent: (tid != 1).then_some(1),
            born: Duration::from_millis(born),
            ended: Duration::from_millis(ended),
            name: "t".to_string(),
            end,
        }
    }

    fn trace(threads: Vec<Thread>) -> Trace {
        Trace {
            root: 1,
            threads,
            ..Trace::default()
        }
    }

    #[test]
    fn a_pool_of_four_at_once_passes_and_a_wrong_one_fails() {
        let root = || thread(1, 1, 0, 100, End::ExitGroup);
        let workers = |n: i32, serial: bool| {
            (0..n).map(move |i| {
                // One after another: each ends as the next is born.
                let born = if serial { 9 * i as u64 } else { 1 };
                thread(10 + i, 10 + i, born, born + 9, End::ExitGroup)
            })
        };
        let good = trace(std::iter::once(root()).chain(workers(4, false)).collect());
        assert_eq!(Check::Forks(4).check(&good, &[]), Ok(()));
        assert_eq!(Check::AliveTogether(4).check(&good, &[]), Ok(()));
        let one = trace(std::iter::once(root()).chain(workers(1, false)).collect());
        let err = Check::Forks(4).check(&one, &[]).unwrap_err();
        assert!(err.contains("forked 1 worker process(es)"), "{err}");
        let serial = trace(std::iter::once(root()).chain(workers(4, true)).collect());
        assert_eq!(Check::Forks(4).check(&serial, &[]), Ok(()));
        let err = Check::AliveTogether(4).check(&serial, &[]).unwrap_err();
        assert!(
            err.contains("at most 1 of its 4 worker process(es)"),
            "{err}"
        );
    }

    #[test]
    fn thread_counts_are_checked() {
        let main = thread(1, 1, 0, 100, End::ExitGroup);
        let helper = |tid| thread(tid, 1, 5, 50, End::Exit);
        assert_eq!(
            Check::OneThread.check(&trace(vec![main.clone()]), &[]),
            Ok(())
        );
        let two = trace(vec![main.clone(), helper(2)]);
        let err = Check::OneThread.check(&two, &[]).unwrap_err();
        assert!(err.contains("ran on 2 threads in 1 process(es)"), "{err}");
        assert_eq!(Check::PoolThreads(4).check(&two, &[]), Ok(()));
        let five = trace(
            std::iter::once(main.clone())
                .chain((2..7).map(helper))
                .collect(),
        );
        let err = Check::PoolThreads(4).check(&five, &[]).unwrap_err();
        assert!(err.contains("5 threads besides the main one"), "{err}");
        let err = Check::PoolThreads(4)
            .check(&trace(vec![main]), &[])
            .unwrap_err();
        assert!(err.contains("no thread"), "{err}");
    }

    #[test]
    fn threads_and_processes_outliving_the_run_fail() {
        let clean = trace(vec![
            thread(1, 1, 0, 100, End::ExitGroup),
            thread(2, 1, 5, 50, End::Exit),
            thread(3, 3, 5, 60, End::Signal("SIGTERM".to_string())),
        ]);
        assert_eq!(Check::NothingLeftRunning.check(&clean, &[]), Ok(()));
        let leaky = trace(vec![
            thread(1, 1, 0, 100, End::ExitGroup),
            thread(2, 1, 5, 100, End::TakenDown),
            thread(3, 3, 5, 100, End::LeftRunning),
        ]);
        let err = Check::NothingLeftRunning.check(&leaky, &[]).unwrap_err();
        assert!(
            err.contains("thread 2 (t) of process 1 was still running when its process exited")
                && err.contains("process 3 (t) was still running after the program ended"),
            "{err}"
        );
    }

    #[test]
    fn task_overlap_must_reach_and_not_pass_the_limit() {
        let span = |start, end| Span {
            label: String::new(),
            tid: Some(1),
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
        };
        let two = [span(0, 10), span(0, 10), span(10, 20)];
        assert_eq!(Check::TasksAtOnce(2).check(&Trace::default(), &two), Ok(()));
        let three = [span(0, 10), span(1, 10), span(2, 20)];
        assert!(
            Check::TasksAtOnce(2)
                .check(&Trace::default(), &three)
                .is_err()
        );
        let one = [span(0, 10), span(10, 20)];
        assert!(
            Check::TasksAtOnce(2)
                .check(&Trace::default(), &one)
                .is_err()
        );
    }
}
