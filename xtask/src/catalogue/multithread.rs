//! 多线程: the threading chapter.

use super::Case;
use crate::expect::{Block, Expect, exact};

pub fn cases() -> Vec<Case> {
    let lines = |f: fn(i32) -> String| (0..5).map(move |i| exact(f(i))).collect::<Vec<_>>();
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
        Case::new(
            "lock_counter",
            Expect::stdout([Block::ordered([exact("Final counter value: 1000")])]),
        ),
        // The Rust ways of the same counter: each ends at 1000.
        Case::new(
            "counter_arc_mutex",
            Expect::stdout([Block::ordered([exact("Final counter value: 1000")])]),
        ),
        Case::new(
            "counter_scoped",
            Expect::stdout([Block::ordered([exact("Final counter value: 1000")])]),
        ),
        Case::new(
            "counter_atomic",
            Expect::stdout([Block::ordered([exact("Final counter value: 1000")])]),
        ),
        // Each item is produced once and consumed once, each side in order; how the two
        // sides' lines interleave is up to the scheduler.
        Case::new(
            "thread_queue",
            Expect::stdout([Block::interleaved([
                lines(|i| format!("Produced {i}")),
                lines(|i| format!("Consumed {i}")),
            ])]),
        ),
        Case::new(
            "thread_queue_mpsc",
            Expect::stdout([Block::interleaved([
                lines(|i| format!("Produced {i}")),
                lines(|i| format!("Consumed {i}")),
            ])]),
        ),
        Case::new(
            "thread_subclass",
            Expect::stdout([
                Block::unordered(lines(|i| format!("Thread {i} is running"))),
                Block::ordered([exact("All threads have finished.")]),
            ]),
        ),
    ]
}
