//! 多线程: the threading chapter.

use super::Case;
use crate::expect::{Block, Expect, exact};

pub fn cases() -> Vec<Case> {
    let lines = |f: fn(i32) -> String| (0..5).map(move |i| exact(f(i))).collect::<Vec<_>>();
    let counter = |bin: &'static str| {
        Case::new(
            bin,
            Expect::stdout([Block::ordered([exact("Final counter value: 1000")])]),
        )
    };
    // Each item is produced once and consumed once, each side in order; how the two
    // sides' lines interleave is up to the scheduler.
    let queue = |bin: &'static str| {
        Case::new(
            bin,
            Expect::stdout([Block::interleaved([
                lines(|i| format!("Produced {i}")),
                lines(|i| format!("Consumed {i}")),
            ])]),
        )
    };
    vec![
        Case::new(
            "thread_basic",
            Expect::stdout([
                Block::unordered(lines(|i| format!("Worker {i} is running"))),
                Block::ordered([exact("All threads have finished.")]),
            ]),
        ),
        Case::new(
            "thread_pool",
            Expect::stdout([Block::ordered([exact("[1, 4, 9, 16, 25]")])]),
        ),
        // The Python's shape and the Rust ways of the same counter: each ends at 1000.
        counter("lock_counter"),
        counter("counter_arc_mutex"),
        counter("counter_scoped"),
        counter("counter_atomic"),
        // Crossbeam's channel and std's.
        queue("thread_queue"),
        queue("thread_queue_mpsc"),
        Case::new(
            "thread_subclass",
            Expect::stdout([
                Block::unordered(lines(|i| format!("Thread {i} is running"))),
                Block::ordered([exact("All threads have finished.")]),
            ]),
        ),
    ]
}
