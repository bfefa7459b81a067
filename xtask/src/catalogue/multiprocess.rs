//! 多进程: the multiprocessing chapter.

use super::Case;
use crate::expect::{Block, Expect, distinct, exact, not_own_pid, pattern};

/// Every case, and each that starts processes run again under the start method that is
/// not this system's default (on Linux, spawn; on macOS, fork), so that both are checked
/// where both exist.
pub fn cases() -> Vec<Case> {
    let other = if cfg!(target_os = "linux") {
        Some("spawn")
    } else if cfg!(unix) {
        Some("fork")
    } else {
        None // Windows: spawn only
    };
    let mut cases = Vec::new();
    for (case, again) in plain_cases().into_iter().zip(plain_cases()) {
        let starts_processes = case.bin != "pool_rayon";
        cases.push(case);
        if let Some(method) = other.filter(|_| starts_processes) {
            cases.push(Case {
                name: format!("{}/{method}", again.name),
                env: vec![("SHARED_START_METHOD", method)],
                ..again
            });
        }
    }
    cases
}

fn plain_cases() -> Vec<Case> {
    let lines = |f: fn(i32) -> String| (0..5).map(move |i| exact(f(i))).collect::<Vec<_>>();
    vec![
        // Each worker prints once, from a process of its own: five different pids, none
        // of them the parent's.
        Case::new(
            "process_basic",
            Expect::stdout([
                Block::unordered(
                    (0..5).map(|i| pattern(format!("Worker {i} is running in process {{pid}}"))),
                ),
                Block::ordered([exact("All processes have finished.")]),
            ])
            .prop(distinct("pid"))
            .prop(not_own_pid("pid")),
        ),
        Case::new(
            "process_pool",
            Expect::stdout([Block::ordered([exact("[1, 4, 9, 16, 25]")])]),
        ),
        // The Rust way: rayon's threads, results in input order.
        Case::new(
            "pool_rayon",
            Expect::stdout([Block::ordered([exact("[1, 4, 9, 16, 25]")])]),
        ),
        // The tutorial's text names apply and starmap too: one call, then tuples unpacked
        // into arguments, results in input order.
        Case::new(
            "pool_apply_starmap",
            Expect::stdout([Block::ordered([exact("49"), exact("[8, 9, 1000]")])]),
        ),
        // Updates from five processes, none lost.
        Case::new(
            "shared_memory",
            Expect::stdout([Block::ordered([
                exact("shared_num: 10"),
                exact("shared_arr: [11, 12, 13, 14, 15]"),
            ])]),
        ),
        // The producer is joined before the consumer starts, so all of one side comes
        // first; every item arrives, once, in order.
        Case::new(
            "process_queue",
            Expect::stdout([
                Block::ordered(lines(|i| format!("Produced {i}"))),
                Block::ordered(lines(|i| format!("Consumed {i}"))),
            ]),
        ),
        // Each reply comes back before the next number goes out, and the child sees the
        // end only after the parent has printed and closed: one order only.
        Case::new(
            "process_pipe",
            Expect::stdout([Block::ordered([
                exact("Sent 1, got back 1"),
                exact("Sent 2, got back 4"),
                exact("Sent 3, got back 9"),
                exact("Child: the parent closed its end"),
                exact("Done"),
            ])]),
        ),
    ]
}
