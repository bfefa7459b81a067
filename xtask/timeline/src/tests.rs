//! Traces of real runs: the examples' properties hold, a deliberately wrong program fails
//! each check, and tracing changes nothing a program prints.
//!
//! Where this system does not permit ptrace, each test says so on stderr and skips;
//! any other failure to trace fails the test.

use std::ffi::OsStr;
use std::thread;
use std::time::Duration;

use super::cli::{caption_contradictions, python};
use super::examples;
use super::model::{End, Trace};
use super::props::Check;
use super::ptrace::{self, NotPermitted};
use super::{Jobs, tasks};

/// Traces `program args`; `None` (after saying why) where ptrace is not permitted.
fn trace(program: &str, args: &[&str]) -> Option<Trace> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    match ptrace::run(
        OsStr::new(program),
        &args,
        Duration::from_secs(20),
        None,
        &[],
    ) {
        Ok((trace, _)) => Some(trace),
        Err(err) if err.is::<NotPermitted>() => {
            eprintln!("SKIPPED: this system does not permit ptrace, so nothing is traced: {err}");
            None
        }
        Err(err) => panic!("tracing `{program}` failed: {err:#}"),
    }
}

/// Traces several `python3 -c CODE` programs at once, with the interpreter itself (not a
/// wrapper script that would add processes of its own).
fn python_traces(programs: &[&str]) -> Option<Vec<Trace>> {
    let python = python().expect("the tests run deliberately wrong programs with python3");
    let traces: Vec<Option<Trace>> = thread::scope(|scope| {
        let handles: Vec<_> = programs
            .iter()
            .map(|code| scope.spawn(|| trace(&python, &["-c", code])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    traces.into_iter().collect()
}

fn holds(check: Check, trace: &Trace) -> Result<(), String> {
    check.check(trace, &tasks::from_lines(&trace.lines))
}

#[test]
fn every_example_is_traced_and_its_properties_hold() {
    if trace("true", &[]).is_none() {
        return;
    }
    let reports = examples::trace_all(&[], Jobs::AllAtOnce).unwrap();
    let examples = xtask::verify::example_bins().unwrap().len();
    assert_eq!(
        reports.len(),
        examples + examples::SPAWN_PICTURES.len(),
        "one trace per example, and one more under spawn for each in SPAWN_PICTURES"
    );
    let mut problems = Vec::new();
    for report in &reports {
        let name = &report.traced.name;
        if let Err(diff) = &report.output {
            problems.push(format!(
                "{name}: traced, its output fails its check:\n{diff}"
            ));
        }
        for (check, result) in &report.checks {
            if let Err(why) = result {
                problems.push(format!("{name}: it should {check}, but {why}"));
            }
        }
    }
    let asserted = |name: &str, check: Check| {
        reports
            .iter()
            .any(|r| r.traced.name == name && r.checks.iter().any(|(c, _)| *c == check))
    };
    assert!(asserted("process_pool", Check::Forks(4)));
    assert!(asserted("thread_pool", Check::PoolThreads(4)));
    assert!(asserted("async_semaphore", Check::TasksAtOnce(2)));
    for async_example in [
        "async_basic",
        "async_fetch",
        "async_queue",
        "async_semaphore",
    ] {
        assert!(asserted(async_example, Check::OneThread), "{async_example}");
    }
    // The gallery's captions of these pictures say what these runs show.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let traced: Vec<_> = reports.iter().map(|r| &r.traced).collect();
    problems.extend(caption_contradictions(&root, &traced, false).unwrap());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_pool_with_the_wrong_workers_fails() {
    let Some(traces) = python_traces(&[
        "import multiprocessing as mp\nwith mp.Pool(4) as p: p.map(abs, range(5))",
        "import multiprocessing as mp\nwith mp.Pool(1) as p: p.map(abs, range(5))",
    ]) else {
        return;
    };
    let [four, one] = &traces[..] else {
        unreachable!()
    };
    assert_eq!(holds(Check::Forks(4), four), Ok(()));
    assert_eq!(holds(Check::AliveTogether(4), four), Ok(()));
    let err = holds(Check::Forks(4), one).unwrap_err();
    assert!(err.contains("forked 1 worker process(es)"), "{err}");
    // Four workers, one after another: never alive together.
    let Some(serial) = trace("sh", &["-c", "for i in 1 2 3 4; do sleep 0.01; done"]) else {
        return;
    };
    assert_eq!(holds(Check::Forks(4), &serial), Ok(()));
    let err = holds(Check::AliveTogether(4), &serial).unwrap_err();
    assert!(err.contains("at most 1 of its 4"), "{err}");
}

#[test]
fn a_run_with_threads_fails_one_thread_and_too_many_fail_the_pool() {
    let jobs = |workers: usize| {
        format!(
            "from concurrent.futures import ThreadPoolExecutor\nimport time\n\
             with ThreadPoolExecutor({workers}) as e: list(e.map(time.sleep, [0.1] * 8))"
        )
    };
    let (four, eight) = (jobs(4), jobs(8));
    let Some(traces) = python_traces(&[
        "import asyncio\nasyncio.run(asyncio.sleep(0.01))",
        "import asyncio\nasyncio.run(asyncio.to_thread(print, 'on a thread'))",
        &four,
        &eight,
    ]) else {
        return;
    };
    let [loop_only, to_thread, four, eight] = &traces[..] else {
        unreachable!()
    };
    assert_eq!(holds(Check::OneThread, loop_only), Ok(()));
    let err = holds(Check::OneThread, to_thread).unwrap_err();
    assert!(err.contains("in 1 process(es), not on one"), "{err}");
    assert_eq!(holds(Check::PoolThreads(4), four), Ok(()));
    let err = holds(Check::PoolThreads(4), eight).unwrap_err();
    assert!(
        err.contains("threads besides the main one; the pool has at most 4"),
        "{err}"
    );
    let err = holds(Check::PoolThreads(4), loop_only).unwrap_err();
    assert!(err.contains("no thread"), "{err}");
}

#[test]
fn a_process_or_thread_outliving_the_run_fails() {
    let Some(clean) = trace("sh", &["-c", "sleep 0.01 & wait"]) else {
        return;
    };
    assert_eq!(
        holds(Check::NothingLeftRunning, &clean),
        Ok(()),
        "{clean:#?}"
    );
    let Some(orphan) = trace("sh", &["-c", "sleep 5 >/dev/null 2>&1 &"]) else {
        return;
    };
    let err = holds(Check::NothingLeftRunning, &orphan).unwrap_err();
    // (named `sh` or `sleep`: the orphan may not have exec'd sleep yet when sh exits)
    assert!(
        err.contains("was still running after the program ended"),
        "{err}"
    );
    assert!(
        orphan.end < Duration::from_secs(4),
        "the orphan was killed at once"
    );
    let Some(traces) = python_traces(&[
        "import threading, time\nthreading.Thread(target=time.sleep, args=(5,), daemon=True).start()",
    ]) else {
        return;
    };
    let err = holds(Check::NothingLeftRunning, &traces[0]).unwrap_err();
    assert!(
        err.contains("was still running when its process exited"),
        "{err}"
    );
}

#[test]
fn overlapping_task_lanes_past_the_limit_fail() {
    let script = "for w in A B C; do echo \"$w is starting\"; done; sleep 0.01; \
                  for w in A B C; do echo \"$w is finished\"; done";
    let Some(three) = trace("sh", &["-c", script]) else {
        return;
    };
    let spans = tasks::from_lines(&three.lines);
    assert_eq!(spans.len(), 3, "{spans:?}");
    let err = Check::TasksAtOnce(2).check(&three, &spans).unwrap_err();
    assert!(err.contains("3 task lanes overlap"), "{err}");
}

#[test]
fn tracing_records_each_line_with_its_thread_and_changes_no_output() {
    let script = "echo one; echo two >&2; (echo three) & wait; printf 'no newline'";
    let Some(traced) = trace("sh", &["-c", script]) else {
        return;
    };
    let untraced = std::process::Command::new("sh")
        .args(["-c", script])
        .output()
        .unwrap();
    assert_eq!(traced.stdout.as_bytes(), untraced.stdout);
    assert_eq!(traced.stderr.as_bytes(), untraced.stderr);
    assert_eq!(traced.code, Some(0));
    let lines: Vec<(&str, i32, bool)> = traced
        .lines
        .iter()
        .map(|l| (l.text.as_str(), l.fd, l.pid == traced.root))
        .collect();
    assert_eq!(
        lines,
        [
            ("one", 1, true),
            ("two", 2, true),
            ("three", 1, false),
            ("no newline", 1, true)
        ]
    );
    let processes = traced.processes();
    assert_eq!(processes.len(), 2);
    assert_eq!(processes[1].parent(&traced), Some(traced.root));
    assert!(processes[1].born() >= processes[0].born());
    assert!(processes[1].ended() <= processes[0].ended());
    assert_eq!(processes[0].main().end, End::ExitGroup);
}

#[test]
fn writev_and_python_threads_are_recorded() {
    let Some(traces) = python_traces(&[
        "import os\nos.writev(1, [b'vec', b'tored\\n'])",
        "import threading\nt = threading.Thread(target=print, args=('from a thread',))\nt.start(); t.join()",
    ]) else {
        return;
    };
    assert_eq!(traces[0].lines[0].text, "vectored");
    let threaded = &traces[1];
    assert_eq!(threaded.threads.len(), 2);
    let helper = &threaded.threads[1];
    assert_eq!((helper.pid, helper.end.clone()), (threaded.root, End::Exit));
    assert_eq!(helper.parent, Some(threaded.root));
    let line = &threaded.lines[0];
    assert_eq!(
        (line.text.as_str(), line.tid),
        ("from a thread", helper.tid)
    );
    assert!(helper.born <= line.at && line.at <= helper.ended);
}

#[test]
fn a_run_past_its_limit_is_killed() {
    let started = std::time::Instant::now();
    let args = ["-c".to_string(), "echo started; sleep 30".to_string()];
    let result = ptrace::run(
        OsStr::new("sh"),
        &args,
        Duration::from_millis(300),
        None,
        &[],
    );
    let trace = match result {
        Ok((trace, _)) => trace,
        Err(err) if err.is::<NotPermitted>() => return eprintln!("SKIPPED: {err}"),
        Err(err) => panic!("{err:#}"),
    };
    assert!(trace.timed_out);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(trace.stdout, "started\n");
    assert!(holds(Check::NothingLeftRunning, &trace).is_err());
}

#[test]
fn a_program_that_does_not_exist_is_a_clear_error() {
    let missing = OsStr::new("no-such-program-here");
    let err = ptrace::run(missing, &[], Duration::from_secs(5), None, &[]).unwrap_err();
    if err.is::<NotPermitted>() {
        return eprintln!("SKIPPED: {err}");
    }
    let message = format!("{err:#}");
    assert!(
        message.contains("starting `no-such-program-here`"),
        "{message}"
    );
}
