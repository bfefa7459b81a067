//! 多进程: the multiprocessing chapter.

use super::Case;
use crate::expect::{Block, Expect, distinct, exact, not_own_pid, pattern};

pub fn cases() -> Vec<Case> {
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
