//! 异步编程: the asyncio chapter. Timings are the point of these examples, so each case
//! has a lower bound on its wall time (the sleeps it must wait out). A busy machine only
//! makes runs slower, so an upper bound is set only where a slower run would disprove what
//! the example shows, and then at the time that disproves it (the sleeps one after
//! another), not at the usual time plus some slack: a stall that leaves the property
//! visible still passes. Each upper bound's comment says what it proves.

use super::{Case, Env};
use crate::expect::{Block, Expect, Line, Prop, exact, pattern};
use crate::http_server::{NOT_UTF8_BODY, PAGES, page_body};

/// A refused connection, as the end of the error's chain says it. Windows words it in the
/// user's language, so there only its code (WSAECONNREFUSED) is matched.
const REFUSED: &str = if cfg!(windows) {
    "(os error 10061)"
} else {
    "Connection refused"
};

pub fn cases(env: &Env) -> Vec<Case> {
    let workers = |word: &str| {
        (0..5)
            .map(|i| exact(format!("Worker {i} is {word}")))
            .collect::<Vec<_>>()
    };
    let page = |n: usize| format!("{}/page/{n}", env.http);
    let body = |n: usize| exact(page_body(n).trim_end());
    vec![
        // Five one-second sleeps overlap: all five start before any finishes (the output),
        // and the run (about 1 s) takes under 5 s, what the sleeps take one after another.
        Case::new(
            "async_basic",
            Expect::stdout([
                Block::unordered(workers("starting")),
                Block::unordered(workers("finished")),
            ])
            .wall(0.9, 5.0),
        ),
        // Pages 0..3 take 1.5, 1 and 0.5 s, so they arrive last to first: printed in URL
        // order, and fetched at once: the run (about 1.5 s) takes under 3 s, what fetching
        // them one after another takes (1.5 + 1 + 0.5).
        with_args(
            "async_fetch",
            "async_fetch",
            (0..PAGES).map(page).collect(),
            Expect::stdout([Block::ordered((0..PAGES).map(body))]).wall(1.4, 3.0),
        ),
        // The failure cases show that one bad URL loses no other body; that the fetches
        // overlap is the case above's to show, so they have no upper bound.
        with_args(
            "async_fetch/one-fails",
            "async_fetch",
            vec![page(0), env.refused.clone(), page(2)],
            Expect::stdout([Block::ordered([body(0), body(2)])])
                .stderr([Block::ordered([
                    pattern(format!("failed: {}: {{..}}{REFUSED}{{..}}", env.refused)),
                    exact("Error: 1 of 3 URLs could not be fetched"),
                ])])
                .code(1)
                .at_least(1.4),
        ),
        with_args(
            "async_fetch/http-500",
            "async_fetch",
            vec![page(2), format!("{}/fail", env.http), page(1)],
            Expect::stdout([Block::ordered([body(2), body(1)])])
                .stderr([Block::ordered([
                    exact(format!(
                        "failed: {}/fail: HTTP status server error (500 Internal Server Error)",
                        env.http
                    )),
                    exact("Error: 1 of 3 URLs could not be fetched"),
                ])])
                .code(1)
                .at_least(0.9),
        ),
        // A body that is not UTF-8 is printed as the bytes that came (shown here as
        // `\xNN` escapes, see `exec::decode`), not altered with U+FFFD, and is no failure.
        with_args(
            "async_fetch/not-utf8",
            "async_fetch",
            vec![page(2), format!("{}/not-utf8", env.http)],
            Expect::stdout([Block::ordered([
                body(2),
                exact(crate::exec::decode(NOT_UTF8_BODY).trim_end()),
            ])])
            .wall(0.4, 2.1),
        ),
        with_args(
            "async_fetch/not-a-url",
            "async_fetch",
            vec!["example.com".to_string()],
            Expect::stdout([])
                .stderr([Block::ordered(error_lines(
                    "`example.com` is not a URL (usage: async_fetch [http://URL...])",
                    "relative URL without a base",
                ))])
                .code(1),
        ),
        // Built without TLS (like the tutorial's URLs, the server's are plain http): an
        // https URL fails as any URL can, saying why, and the other bodies still print.
        with_args(
            "async_fetch/https",
            "async_fetch",
            vec![page(2), "https://127.0.0.1/".to_string()],
            Expect::stdout([Block::ordered([body(2)])])
                .stderr([Block::ordered([
                    exact(
                        "failed: https://127.0.0.1/: error sending request: client error \
                         (Connect): invalid URL, scheme is not http",
                    ),
                    exact("Error: 1 of 2 URLs could not be fetched"),
                ])])
                .code(1),
        ),
        // One item a second, each consumed before the next is produced (one thread: the
        // producer runs until it sleeps), none lost, and the run ends once all are consumed
        // (a consumer that never stops is caught by the case's time limit).
        Case::new(
            "async_queue",
            Expect::stdout([Block::ordered((0..5).flat_map(|i| {
                [
                    exact(format!("Produced {i}")),
                    exact(format!("Consumed {i}")),
                ]
            }))])
            .at_least(4.9),
        ),
        // Two permits: 2 + 2 + 1 workers, a second each, so at least 3 s. The output shows
        // exactly two workers between starting and finished at once; under 5 s, what the
        // five sleeps take one at a time, shows that the two really slept at once.
        Case::new(
            "async_semaphore",
            Expect::stdout([Block::interleaved((0..5).map(|i| {
                vec![
                    exact(format!("Worker {i} is starting")),
                    exact(format!("Worker {i} is finished")),
                ]
            }))])
            .prop(in_flight(2))
            .wall(2.9, 5.0),
        ),
        // The one sleep is waited out; it has nothing to overlap with, so no upper bound.
        Case::new(
            "async_hello",
            Expect::stdout([Block::ordered([exact("Hello")])]).at_least(0.9),
        ),
        // The Rust ways. A JoinSet gathers five overlapping sleeps: as async_basic, then the
        // count, in under 5 s (the sleeps one after another).
        Case::new(
            "async_joinset",
            Expect::stdout([
                Block::unordered(workers("starting")),
                Block::unordered(workers("finished")),
                Block::ordered([exact("5 workers finished")]),
            ])
            .wall(0.9, 5.0),
        ),
        // The wait ends at its half-second bound, not when the two-second worker would.
        Case::new(
            "async_timeout",
            Expect::stdout([Block::ordered([
                exact("Worker is starting"),
                exact("Worker timed out after 500 ms"),
            ])])
            .wall(0.45, 2.0),
        ),
        // Aborted after 0.1 s: the run ends long before the worker's ten-second sleep would.
        Case::new(
            "async_cancel",
            Expect::stdout([Block::ordered([
                exact("Worker is starting"),
                exact("Worker was cancelled"),
            ])])
            .wall(0.09, 10.0),
        ),
        // The loop ticks while the blocking work runs (every tick falls between its start
        // and its end), which it could not if the work blocked the loop's one thread.
        Case::new(
            "async_blocking",
            Expect::stdout([Block::ordered(
                [exact("Blocking work is starting")]
                    .into_iter()
                    .chain((1..=3).map(|i| exact(format!("Tick {i}"))))
                    .chain([exact("Blocking work is finished"), exact("Result: 42")]),
            )])
            .at_least(1.9),
        ),
        // Five read-pause-writes under the lock: none is lost.
        Case::new(
            "async_tokio_mutex",
            Expect::stdout([Block::ordered([exact("Final counter value: 5")])]).at_least(0.04),
        ),
    ]
}

fn with_args(name: &str, bin: &'static str, args: Vec<String>, expect: Expect) -> Case {
    Case {
        env: Vec::new(),
        name: name.to_string(),
        args,
        ..Case::new(bin, expect)
    }
}

/// What `fn main() -> anyhow::Result<()>` prints on stderr for an error with one cause.
fn error_lines(error: &str, cause: &str) -> [Line; 4] {
    [
        exact(format!("Error: {error}")),
        exact(""),
        exact("Caused by:"),
        exact(format!("    {cause}")),
    ]
}

/// The most workers between their `starting` and `finished` lines at one time is exactly
/// `limit`: never more (the limit holds) and sometimes that many (they do overlap).
fn in_flight(limit: usize) -> Prop {
    Prop::new("workers at once", move |run, _| {
        let (mut now, mut most) = (0usize, 0usize);
        for line in run.stdout.lines() {
            if line.ends_with(" is starting") {
                now += 1;
                most = most.max(now);
            } else if line.ends_with(" is finished") {
                now = now.saturating_sub(1);
            }
        }
        match most.cmp(&limit) {
            std::cmp::Ordering::Equal => Ok(()),
            std::cmp::Ordering::Greater => Err(format!(
                "{most} workers were between starting and finished at once; the limit is {limit}"
            )),
            std::cmp::Ordering::Less => Err(format!(
                "at most {most} worker(s) ran at once; {limit} should have overlapped"
            )),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::Run;

    fn run(stdout: &str) -> Run<'_> {
        Run::sample(stdout)
    }

    fn semaphore() -> Expect {
        let env = Env::offline();
        cases(&env)
            .into_iter()
            .find(|c| c.name == "async_semaphore")
            .unwrap()
            .expect
    }

    fn lines(events: &[(usize, &str)]) -> String {
        events
            .iter()
            .map(|(i, word)| format!("Worker {i} is {word}\n"))
            .collect()
    }

    #[test]
    fn two_at_a_time_passes() {
        let out = lines(&[
            (0, "starting"),
            (1, "starting"),
            (1, "finished"),
            (2, "starting"),
            (0, "finished"),
            (3, "starting"),
            (2, "finished"),
            (3, "finished"),
            (4, "starting"),
            (4, "finished"),
        ]);
        semaphore().check(&run(&out)).unwrap();
    }

    #[test]
    fn three_at_once_fails() {
        let out = lines(&[
            (0, "starting"),
            (1, "starting"),
            (2, "starting"),
            (0, "finished"),
            (1, "finished"),
            (2, "finished"),
            (3, "starting"),
            (4, "starting"),
            (3, "finished"),
            (4, "finished"),
        ]);
        let err = semaphore().check(&run(&out)).unwrap_err();
        assert!(
            err.contains("3 workers were between starting and finished at once; the limit is 2"),
            "{err}"
        );
    }

    #[test]
    fn one_at_a_time_fails() {
        let out: String = (0..5)
            .map(|i| lines(&[(i, "starting"), (i, "finished")]))
            .collect();
        let err = semaphore().check(&run(&out)).unwrap_err();
        assert!(err.contains("at most 1 worker(s) ran at once"), "{err}");
    }

    /// Each timed case at a few wall times: (case, stdout, slower than its old upper
    /// bound yet still showing the property, showing no overlap or too fast).
    #[test]
    fn slow_runs_pass_and_runs_without_overlap_fail() {
        let env = Env::offline();
        let cases = cases(&env);
        let basic: String = ["starting", "finished"]
            .iter()
            .flat_map(|word| (0..5).map(move |i| format!("Worker {i} is {word}\n")))
            .collect();
        let fetched: String = (0..PAGES).map(page_body).collect();
        let semaphore = lines(&[
            (0, "starting"),
            (1, "starting"),
            (0, "finished"),
            (1, "finished"),
            (2, "starting"),
            (3, "starting"),
            (2, "finished"),
            (3, "finished"),
            (4, "starting"),
            (4, "finished"),
        ]);
        let queue: String = (0..5)
            .map(|i| format!("Produced {i}\nConsumed {i}\n"))
            .collect();
        let table: [(&str, &str, &[f64], &[f64]); 5] = [
            // Old bound 2.5 s; one after another takes 5 s.
            ("async_basic", &basic, &[1.0, 3.9, 4.9], &[0.5, 5.1]),
            // Old bound 2.6 s; one after another takes 3 s.
            ("async_fetch", &fetched, &[1.5, 2.9], &[1.0, 3.1]),
            // Old bound 4.5 s; one at a time takes 5 s.
            ("async_semaphore", &semaphore, &[3.0, 4.9], &[2.0, 5.1]),
            // Old bounds 2.0 s and 6.5 s; no upper bound now.
            ("async_hello", "Hello\n", &[1.0, 3.9, 25.0], &[0.5]),
            ("async_queue", &queue, &[5.0, 9.0, 25.0], &[4.0]),
        ];
        for (name, stdout, pass, fail) in table {
            let case = cases.iter().find(|c| c.name == name).unwrap();
            let took = |secs: f64| Run {
                wall: Some(std::time::Duration::from_secs_f64(secs)),
                ..run(stdout)
            };
            for &secs in pass {
                if let Err(err) = case.expect.check(&took(secs)) {
                    panic!("{name} at {secs} s should pass: {err}");
                }
            }
            for &secs in fail {
                match case.expect.check(&took(secs)) {
                    Ok(()) => panic!("{name} at {secs} s should fail"),
                    Err(err) => assert!(err.contains("expected a run of"), "{name}: {err}"),
                }
            }
        }
    }

    #[test]
    fn a_body_printed_with_replacement_characters_fails() {
        let env = Env::offline();
        let case = cases(&env)
            .into_iter()
            .find(|c| c.name == "async_fetch/not-utf8")
            .unwrap();
        assert_eq!(case.args[1], format!("{}/not-utf8", env.http));
        let as_fetched = [page_body(2).as_bytes(), NOT_UTF8_BODY].concat();
        let out = crate::exec::decode(&as_fetched);
        assert!(out.contains("caf\\xE9"), "{out}");
        case.expect.check(&run(&out)).unwrap();
        let lossy = String::from_utf8_lossy(&as_fetched);
        let err = case.expect.check(&run(&lossy)).unwrap_err();
        assert!(err.contains("stdout line 2"), "{err}");
    }

    #[test]
    fn fetched_bodies_out_of_url_order_fail() {
        let env = Env::offline();
        let fetch = cases(&env)
            .into_iter()
            .find(|c| c.name == "async_fetch")
            .unwrap();
        assert_eq!(fetch.args[0], format!("{}/page/0", env.http));
        let in_order: String = (0..PAGES).map(page_body).collect();
        fetch.expect.check(&run(&in_order)).unwrap();
        let as_they_came: String = (0..PAGES).rev().map(page_body).collect();
        let err = fetch.expect.check(&run(&as_they_came)).unwrap_err();
        assert!(err.contains("stdout line 1: unexpected line"), "{err}");
    }
}
