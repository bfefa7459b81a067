//! Expectations: what an example must print, and the checker that holds a run against it.
//!
//! Output is matched whole line by whole line, so a torn or interleaved line never passes.
//! A [`Block`] is a group of lines made of one or more *streams*: each stream's lines
//! must appear in its own order, and the streams may interleave in any way. One stream is
//! "in this order", one-line streams are "in any order", and two streams model a producer
//! and a consumer racing. Blocks follow one another in order.

use std::fmt::Write as _;
use std::time::Duration;

/// One expected line: literal text, or a pattern where `{name}` matches an integer
/// (captured under `name` for [`Prop`] checks) and `{..}` matches any text.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    Exact(String),
    Pattern(String),
}

/// A line that must read exactly `text`.
pub fn exact(text: impl Into<String>) -> Line {
    Line::Exact(text.into())
}

/// A line matching `pattern`: `{name}` is a captured integer, `{..}` any text.
pub fn pattern(pattern: impl Into<String>) -> Line {
    Line::Pattern(pattern.into())
}

/// Lines that come together; see the module docs.
#[derive(Clone, Debug)]
pub struct Block {
    streams: Vec<Vec<Line>>,
}

impl Block {
    /// These lines, in this order.
    pub fn ordered(lines: impl IntoIterator<Item = Line>) -> Block {
        Block {
            streams: vec![lines.into_iter().collect()],
        }
    }

    /// These lines, each exactly once, in any order.
    pub fn unordered(lines: impl IntoIterator<Item = Line>) -> Block {
        Block {
            streams: lines.into_iter().map(|line| vec![line]).collect(),
        }
    }

    /// Several sequences, each in its own order, interleaved in any way.
    pub fn interleaved(streams: impl IntoIterator<Item = Vec<Line>>) -> Block {
        Block {
            streams: streams.into_iter().collect(),
        }
    }

    fn len(&self) -> usize {
        self.streams.iter().map(Vec::len).sum()
    }
}

/// Integers captured by `{name}` patterns, in the order their lines came.
pub type Captures = Vec<(String, String)>;

/// What one run of an example did, or (with `wall` and `pid` unset) a sample output
/// such as the one in an example's header.
#[derive(Debug)]
pub struct Run<'a> {
    pub stdout: &'a str,
    pub stderr: &'a str,
    /// Exit code; `None` if a signal ended the process.
    pub code: Option<i32>,
    pub wall: Option<Duration>,
    pub pid: Option<u32>,
}

impl Run<'_> {
    /// A sample output, such as an example header's: exit code 0, no stderr, no timing.
    #[cfg(test)]
    pub fn sample(stdout: &str) -> Run<'_> {
        Run {
            stdout,
            stderr: "",
            code: Some(0),
            wall: None,
            pid: None,
        }
    }
}

type PropFn = dyn Fn(&Run<'_>, &Captures) -> Result<(), String> + Send + Sync;

/// A property the example exists to show, checked once its output has matched.
pub struct Prop {
    name: &'static str,
    check: Box<PropFn>,
}

impl Prop {
    pub fn new(
        name: &'static str,
        check: impl Fn(&Run<'_>, &Captures) -> Result<(), String> + Send + Sync + 'static,
    ) -> Prop {
        Prop {
            name,
            check: Box::new(check),
        }
    }
}

/// Every value captured as `{name}` differs from every other.
pub fn distinct(name: &'static str) -> Prop {
    Prop::new("captured values are distinct", move |_, caps| {
        let mut seen: Vec<&str> = Vec::new();
        for value in values(caps, name) {
            if seen.contains(&value) {
                return Err(format!("`{{{name}}}` = {value} appears more than once"));
            }
            seen.push(value);
        }
        Ok(())
    })
}

/// No value captured as `{name}` is the pid of the example's own process.
pub fn not_own_pid(name: &'static str) -> Prop {
    Prop::new("not the parent's pid", move |run, caps| match run.pid {
        Some(pid) if values(caps, name).any(|v| v == pid.to_string()) => Err(format!(
            "`{{{name}}}` = {pid} is the example's own pid, not a child's"
        )),
        _ => Ok(()),
    })
}

fn values<'c>(caps: &'c Captures, name: &'c str) -> impl Iterator<Item = &'c str> {
    caps.iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// All an example's run must satisfy.
pub struct Expect {
    stdout: Vec<Block>,
    stderr: Vec<Block>,
    code: i32,
    /// Wall-time bounds: at least the first; under the second, if there is one.
    wall: Option<(Duration, Option<Duration>)>,
    props: Vec<Prop>,
}

impl Expect {
    /// Exit code 0, nothing on stderr, and on stdout these blocks in order.
    pub fn stdout(blocks: impl IntoIterator<Item = Block>) -> Expect {
        Expect {
            stdout: blocks.into_iter().collect(),
            stderr: Vec::new(),
            code: 0,
            wall: None,
            props: Vec::new(),
        }
    }

    /// On stderr these blocks in order (instead of nothing).
    pub fn stderr(mut self, blocks: impl IntoIterator<Item = Block>) -> Expect {
        self.stderr = blocks.into_iter().collect();
        self
    }

    /// This exit code (instead of 0).
    pub fn code(mut self, code: i32) -> Expect {
        self.code = code;
        self
    }

    /// A run takes between `min` and `max` seconds of wall time. A machine busy with
    /// other work only makes runs slower, so `max` is for a property that a slow run would
    /// disprove (such as "these sleeps overlapped"), set where that property fails.
    pub fn wall(mut self, min: f64, max: f64) -> Expect {
        self.wall = Some((
            Duration::from_secs_f64(min),
            Some(Duration::from_secs_f64(max)),
        ));
        self
    }

    /// A run takes at least `min` seconds of wall time, and may take any longer up to the
    /// case's time limit (where it is reported as hung).
    pub fn at_least(mut self, min: f64) -> Expect {
        self.wall = Some((Duration::from_secs_f64(min), None));
        self
    }

    pub fn prop(mut self, prop: Prop) -> Expect {
        self.props.push(prop);
        self
    }

    /// Checks a run; the error lists every difference found.
    pub fn check(&self, run: &Run<'_>) -> Result<(), String> {
        let mut problems = Vec::new();
        if run.code != Some(self.code) {
            let got = match run.code {
                Some(code) => format!("exit code {code}"),
                None => "killed by a signal".to_string(),
            };
            problems.push(format!("expected exit code {}, got {got}", self.code));
        }
        let stdout = match_blocks("stdout", run.stdout, &self.stdout);
        if let Err(diff) = &stdout {
            problems.push(diff.clone());
        }
        if let Err(diff) = match_blocks("stderr", run.stderr, &self.stderr) {
            problems.push(diff);
        }
        if let (Some((min, max)), Some(wall)) = (self.wall, run.wall)
            && (wall < min || max.is_some_and(|max| wall > max))
        {
            let expected = match max {
                Some(max) => format!("{:.1}s to {:.1}s", min.as_secs_f64(), max.as_secs_f64()),
                None => format!("at least {:.1}s", min.as_secs_f64()),
            };
            problems.push(format!(
                "expected a run of {expected}, took {:.2}s",
                wall.as_secs_f64()
            ));
        }
        if let Ok(caps) = &stdout {
            for prop in &self.props {
                if let Err(why) = (prop.check)(run, caps) {
                    problems.push(format!("{}: {why}", prop.name));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// Matches `text` line by line against `blocks`, or explains the first difference.
fn match_blocks(what: &str, text: &str, blocks: &[Block]) -> Result<Captures, String> {
    let lines: Vec<&str> = text.lines().collect();
    let fail = |at: usize, why: String| Err(report(what, &lines, at, blocks, &why));
    if !text.is_empty() && !text.ends_with('\n') {
        return fail(
            lines.len() - 1,
            "the last line has no newline (torn output?)".into(),
        );
    }
    let mut caps = Captures::new();
    let mut at = 0;
    for block in blocks {
        let mut next = vec![0; block.streams.len()];
        for _ in 0..block.len() {
            let candidates: Vec<&Line> = block
                .streams
                .iter()
                .zip(&next)
                .filter_map(|(stream, &i)| stream.get(i))
                .collect();
            let Some(line) = lines.get(at) else {
                return fail(
                    at,
                    format!("{what} ended early; expected next {}", one_of(&candidates)),
                );
            };
            let found = block.streams.iter().zip(&mut next).find_map(|(stream, i)| {
                let got = matches(stream.get(*i)?, line)?;
                *i += 1;
                Some(got)
            });
            match found {
                Some(got) => caps.extend(got),
                None => {
                    return fail(
                        at,
                        format!("unexpected line; expected {}", one_of(&candidates)),
                    );
                }
            }
            at += 1;
        }
    }
    if at < lines.len() {
        return fail(at, "unexpected extra line".into());
    }
    Ok(caps)
}

fn one_of(candidates: &[&Line]) -> String {
    let shown: Vec<String> = candidates
        .iter()
        .map(|l| format!("{:?}", show(l)))
        .collect();
    match shown.len() {
        1 => shown[0].clone(),
        _ => format!("one of {}", shown.join(", ")),
    }
}

fn show(line: &Line) -> &str {
    match line {
        Line::Exact(s) | Line::Pattern(s) => s,
    }
}

/// The difference, then the expectation, then what came with the failing line marked.
fn report(what: &str, lines: &[&str], at: usize, blocks: &[Block], why: &str) -> String {
    let mut out = format!("{what} line {}: {why}\n  expected {what}:\n", at + 1);
    if blocks.is_empty() {
        out.push_str("    (nothing)\n");
    }
    for block in blocks {
        let indent = match (block.streams.len(), block.len()) {
            (1, _) | (_, 1) => "    ",
            (n, len) if n == len => {
                out.push_str("    in any order:\n");
                "      "
            }
            _ => {
                out.push_str("    these sequences interleaved, each in its own order:\n");
                "      "
            }
        };
        for (i, stream) in block.streams.iter().enumerate() {
            if block.streams.len() > 1 && block.streams.len() < block.len() {
                let _ = writeln!(out, "{indent}sequence {}:", i + 1);
            }
            for line in stream {
                let _ = writeln!(out, "{indent}{}", show(line));
            }
        }
    }
    let _ = writeln!(out, "  got {what}:");
    if lines.is_empty() {
        out.push_str("    (nothing)\n");
    }
    for (i, line) in lines.iter().enumerate() {
        let mark = if i == at { ">" } else { " " };
        let _ = writeln!(out, "  {mark} {line}");
    }
    if at >= lines.len() && !lines.is_empty() {
        out.push_str("  > (end of output)\n");
    }
    out.trim_end().to_string()
}

/// Matches one line, returning what its `{name}`s captured.
fn matches(expected: &Line, line: &str) -> Option<Captures> {
    match expected {
        Line::Exact(text) => (text == line).then(Captures::new),
        Line::Pattern(pattern) => {
            let mut caps = Captures::new();
            match_pattern(pattern, line, &mut caps).then_some(caps)
        }
    }
}

fn match_pattern(pattern: &str, text: &str, caps: &mut Captures) -> bool {
    let Some(open) = pattern.find('{') else {
        return pattern == text;
    };
    let close = open
        + pattern[open..]
            .find('}')
            .expect("a pattern's `{` has a closing `}`");
    let (literal, name, rest) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let Some(text) = text.strip_prefix(literal) else {
        return false;
    };
    if name == ".." {
        return text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .any(|i| match_pattern(rest, &text[i..], caps));
    }
    let sign = usize::from(text.starts_with('-'));
    let digits = text[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let mark = caps.len();
    caps.push((name.to_string(), text[..sign + digits].to_string()));
    if match_pattern(rest, &text[sign + digits..], caps) {
        return true;
    }
    caps.truncate(mark);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stdout: &str) -> Run<'_> {
        Run::sample(stdout)
    }

    fn queue() -> Expect {
        let seq = |word: &str| (0..3).map(|i| exact(format!("{word} {i}"))).collect();
        Expect::stdout([Block::interleaved([seq("Produced"), seq("Consumed")])])
    }

    fn workers() -> Expect {
        Expect::stdout([
            Block::unordered((0..3).map(|i| exact(format!("Worker {i} is running")))),
            Block::ordered([exact("All done.")]),
        ])
    }

    #[test]
    fn right_outputs_pass() {
        queue()
            .check(&run(
                "Produced 0\nConsumed 0\nProduced 1\nProduced 2\nConsumed 1\nConsumed 2\n",
            ))
            .unwrap();
        queue()
            .check(&run(
                "Consumed 0\nProduced 0\nConsumed 1\nConsumed 2\nProduced 1\nProduced 2\n",
            ))
            .unwrap();
        workers()
            .check(&run(
                "Worker 2 is running\nWorker 0 is running\nWorker 1 is running\nAll done.\n",
            ))
            .unwrap();
    }

    #[test]
    fn a_missing_line_fails_and_says_what_was_expected() {
        let err = workers()
            .check(&run(
                "Worker 2 is running\nWorker 0 is running\nAll done.\n",
            ))
            .unwrap_err();
        assert!(
            err.contains("stdout line 3: unexpected line; expected \"Worker 1 is running\""),
            "{err}"
        );
        assert!(err.contains("  > All done."), "{err}");
        let err = workers().check(&run("Worker 0 is running\n")).unwrap_err();
        assert!(err.contains("stdout ended early"), "{err}");
        assert!(err.contains("> (end of output)"), "{err}");
    }

    #[test]
    fn a_lost_item_fails() {
        let err = queue()
            .check(&run(
                "Produced 0\nProduced 1\nProduced 2\nConsumed 0\nConsumed 2\n",
            ))
            .unwrap_err();
        assert!(
            err.contains("stdout line 5: unexpected line; expected \"Consumed 1\""),
            "{err}"
        );
        let err = queue()
            .check(&run("Produced 0\nProduced 1\nProduced 2\n"))
            .unwrap_err();
        assert!(
            err.contains("stdout ended early; expected next \"Consumed 0\""),
            "{err}"
        );
    }

    #[test]
    fn an_item_consumed_twice_or_out_of_order_fails() {
        let twice =
            "Produced 0\nConsumed 0\nConsumed 0\nProduced 1\nProduced 2\nConsumed 1\nConsumed 2\n";
        assert!(
            queue()
                .check(&run(twice))
                .unwrap_err()
                .contains("stdout line 3")
        );
        let swapped = "Produced 0\nProduced 1\nProduced 2\nConsumed 1\nConsumed 0\nConsumed 2\n";
        assert!(
            queue()
                .check(&run(swapped))
                .unwrap_err()
                .contains("stdout line 4")
        );
        let doubled = "Worker 0 is running\nWorker 0 is running\nWorker 1 is running\nAll done.\n";
        assert!(
            workers()
                .check(&run(doubled))
                .unwrap_err()
                .contains("stdout line 2")
        );
    }

    #[test]
    fn a_torn_line_fails() {
        let torn = "Worker 0 is Worker 1 is running\nrunning\nWorker 2 is running\nAll done.\n";
        let err = workers().check(&run(torn)).unwrap_err();
        assert!(err.contains("stdout line 1: unexpected line"), "{err}");
        assert!(err.contains("  > Worker 0 is Worker 1 is running"), "{err}");
        let unterminated =
            "Worker 0 is running\nWorker 1 is running\nWorker 2 is running\nAll done.";
        let err = workers().check(&run(unterminated)).unwrap_err();
        assert!(err.contains("the last line has no newline"), "{err}");
    }

    #[test]
    fn a_wrong_value_fails_showing_both() {
        let expect = Expect::stdout([Block::ordered([exact("Final counter value: 1000")])]);
        let err = expect
            .check(&run("Final counter value: 999\n"))
            .unwrap_err();
        assert!(
            err.contains("expected \"Final counter value: 1000\""),
            "{err}"
        );
        assert!(err.contains("> Final counter value: 999"), "{err}");
    }

    #[test]
    fn extra_output_and_stderr_fail() {
        let err = workers()
            .check(&run(
                "Worker 0 is running\nWorker 1 is running\nWorker 2 is running\nAll done.\nmore\n",
            ))
            .unwrap_err();
        assert!(
            err.contains("stdout line 5: unexpected extra line"),
            "{err}"
        );
        let noisy = Run {
            stderr: "warning: oops\n",
            ..run("[1]\n")
        };
        let err = Expect::stdout([Block::ordered([exact("[1]")])])
            .check(&noisy)
            .unwrap_err();
        assert!(
            err.contains("stderr line 1: unexpected extra line"),
            "{err}"
        );
        assert!(err.contains("(nothing)"), "{err}");
    }

    #[test]
    fn exit_code_and_wall_time_are_checked() {
        let expect = Expect::stdout([Block::ordered([exact("Hello")])]).wall(0.9, 2.0);
        let crashed = Run {
            code: Some(101),
            wall: Some(Duration::from_secs(1)),
            ..run("Hello\n")
        };
        assert!(
            expect
                .check(&crashed)
                .unwrap_err()
                .contains("expected exit code 0, got exit code 101")
        );
        let killed = Run {
            code: None,
            ..run("Hello\n")
        };
        assert!(
            expect
                .check(&killed)
                .unwrap_err()
                .contains("killed by a signal")
        );
        let slow = Run {
            wall: Some(Duration::from_secs(5)),
            ..run("Hello\n")
        };
        assert!(expect.check(&slow).unwrap_err().contains("took 5.00s"));
        let fast = Run {
            wall: Some(Duration::from_millis(10)),
            ..run("Hello\n")
        };
        assert!(expect.check(&fast).is_err());
        let on_time = Run {
            wall: Some(Duration::from_millis(1050)),
            ..run("Hello\n")
        };
        expect.check(&on_time).unwrap();
    }

    #[test]
    fn at_least_bounds_only_from_below() {
        let expect = Expect::stdout([Block::ordered([exact("Hello")])]).at_least(0.9);
        let took = |millis| Run {
            wall: Some(Duration::from_millis(millis)),
            ..run("Hello\n")
        };
        expect.check(&took(1000)).unwrap();
        expect.check(&took(25_000)).unwrap();
        let err = expect.check(&took(500)).unwrap_err();
        assert!(
            err.contains("expected a run of at least 0.9s, took 0.50s"),
            "{err}"
        );
        let err = expect
            .check(&Run {
                code: Some(1),
                ..took(25_000)
            })
            .unwrap_err();
        assert!(err.contains("expected exit code 0"), "{err}");
    }

    #[test]
    fn patterns_capture_integers_and_props_check_them() {
        let expect = Expect::stdout([Block::unordered(
            (0..2).map(|i| pattern(format!("Worker {i} is running in process {{pid}}"))),
        )])
        .prop(distinct("pid"))
        .prop(not_own_pid("pid"));
        let ok = "Worker 1 is running in process 12\nWorker 0 is running in process 13\n";
        expect
            .check(&Run {
                pid: Some(11),
                ..run(ok)
            })
            .unwrap();
        let same = "Worker 1 is running in process 12\nWorker 0 is running in process 12\n";
        let err = expect.check(&run(same)).unwrap_err();
        assert!(err.contains("`{pid}` = 12 appears more than once"), "{err}");
        let err = expect
            .check(&Run {
                pid: Some(13),
                ..run(ok)
            })
            .unwrap_err();
        assert!(err.contains("13 is the example's own pid"), "{err}");
        let not_a_number = "Worker 1 is running in process x\nWorker 0 is running in process 13\n";
        assert!(expect.check(&run(not_a_number)).is_err());
    }

    #[test]
    fn wildcards_match_any_text() {
        let mut caps = Captures::new();
        assert!(match_pattern(
            "error: {..} (code {n})",
            "error: a (b) (code -3)",
            &mut caps
        ));
        assert_eq!(caps, [("n".to_string(), "-3".to_string())]);
        assert!(!match_pattern(
            "error: {..}!",
            "error: none",
            &mut Captures::new()
        ));
        assert!(match_pattern("{..}", "", &mut Captures::new()));
    }
}
