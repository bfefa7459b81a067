//! The gallery's captions, held to the runs they describe. Under each picture in
//! `docs/timeline/README.md` and `README.zh-CN.md`, a comment lists what its caption says
//! that a trace can check:
//!
//! ```markdown
//! ![process_pool](process_pool.svg)
//! <!-- trace: processes 5; children alive together 4; children span every line -->
//! ```
//!
//! `cargo xtask timeline --gallery` and the tests check every claim against the traced
//! run of the same picture, so a change that changes a picture fails until its caption
//! (and the claims beside it) are rewritten. A count is `N` or a range `N-M`.

use std::ops::RangeInclusive;

use super::model::Trace;
use super::tasks::{self, Span};

/// The two captioned galleries, from the workspace root.
pub const READMES: [&str; 2] = ["docs/timeline/README.md", "docs/timeline/README.zh-CN.md"];

/// One checkable thing a caption says about its picture.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// `processes N`: the run had N processes, the program's own included.
    Processes(RangeInclusive<usize>),
    /// `threads N`: N threads in all, over every process.
    Threads(RangeInclusive<usize>),
    /// `program threads N`: the program's own process had N threads, the main one included.
    ProgramThreads(RangeInclusive<usize>),
    /// `children alive together N`: at most N child processes were alive at one time.
    ChildrenAliveTogether(RangeInclusive<usize>),
    /// `lines N`: N lines printed in all.
    Lines(RangeInclusive<usize>),
    /// `each child prints N`: every child process printed N lines.
    EachChildPrints(RangeInclusive<usize>),
    /// `children exec`: every child ran the program anew (spawn), not only forked.
    ChildrenExec,
    /// `no child execs`: every child is a forked copy that ran no new program.
    NoChildExecs,
    /// `last line after every child`: the program printed its last line once every child
    /// had ended.
    LastLineAfterEveryChild,
    /// `children span every line`: every child was born before the first line and ended
    /// after the last, so every printed result came while all of them were alive.
    ChildrenSpanEveryLine,
    /// `tasks at once N`: at most N task lanes overlapped.
    TasksAtOnce(RangeInclusive<usize>),
}

impl Claim {
    pub fn parse(text: &str) -> Result<Claim, String> {
        let text = text.trim();
        type Counted = fn(RangeInclusive<usize>) -> Claim;
        let counted: [(&str, Counted); 7] = [
            ("processes ", Claim::Processes),
            ("threads ", Claim::Threads),
            ("program threads ", Claim::ProgramThreads),
            ("children alive together ", Claim::ChildrenAliveTogether),
            ("lines ", Claim::Lines),
            ("each child prints ", Claim::EachChildPrints),
            ("tasks at once ", Claim::TasksAtOnce),
        ];
        for (prefix, claim) in counted {
            if let Some(count) = text.strip_prefix(prefix) {
                return count_range(count).map(claim);
            }
        }
        match text {
            "children exec" => Ok(Claim::ChildrenExec),
            "no child execs" => Ok(Claim::NoChildExecs),
            "last line after every child" => Ok(Claim::LastLineAfterEveryChild),
            "children span every line" => Ok(Claim::ChildrenSpanEveryLine),
            _ => Err(format!(
                "`{text}` is not a claim this check knows (see captions.rs)"
            )),
        }
    }

    /// `Ok` when the trace bears the claim out; else what the trace shows instead.
    pub fn check(&self, trace: &Trace, spans: &[Span]) -> Result<(), String> {
        let children: Vec<_> = trace
            .processes()
            .into_iter()
            .filter(|p| p.pid != trace.root)
            .collect();
        let in_range = |what: &str, n: usize, want: &RangeInclusive<usize>| {
            if want.contains(&n) {
                Ok(())
            } else {
                Err(format!("{what} {n}, not {}", show(want)))
            }
        };
        match self {
            Claim::Processes(want) => in_range("processes", trace.processes().len(), want),
            Claim::Threads(want) => in_range("threads", trace.threads.len(), want),
            Claim::ProgramThreads(want) => {
                let n = trace.threads.iter().filter(|t| t.pid == trace.root).count();
                in_range("program threads", n, want)
            }
            Claim::ChildrenAliveTogether(want) => {
                let lives = children.iter().map(|p| (p.born(), p.ended()));
                let most = tasks::most_overlapping(lives);
                in_range("children alive together", most, want)
            }
            Claim::Lines(want) => in_range("lines", trace.lines.len(), want),
            Claim::EachChildPrints(want) => {
                for child in &children {
                    let n = trace.lines.iter().filter(|l| l.pid == child.pid).count();
                    in_range(&format!("child {} printed", child.pid), n, want)?;
                }
                Ok(())
            }
            Claim::ChildrenExec => match children.iter().find(|p| !trace.execed(p.pid)) {
                Some(p) => Err(format!("child {} ran no new program", p.pid)),
                None if children.is_empty() => Err("there is no child".to_string()),
                None => Ok(()),
            },
            Claim::NoChildExecs => match children.iter().find(|p| trace.execed(p.pid)) {
                Some(p) => Err(format!("child {} ran a new program (exec)", p.pid)),
                None => Ok(()),
            },
            Claim::LastLineAfterEveryChild => {
                let last = trace
                    .lines
                    .iter()
                    .rfind(|l| l.pid == trace.root)
                    .ok_or("the program printed nothing")?;
                match children.iter().find(|p| p.ended() > last.at) {
                    Some(p) => Err(format!(
                        "child {} ended at {} ms, after the program's last line ({} ms)",
                        p.pid,
                        p.ended().as_millis(),
                        last.at.as_millis()
                    )),
                    None => Ok(()),
                }
            }
            Claim::ChildrenSpanEveryLine => {
                let (Some(first), Some(last)) = (trace.lines.first(), trace.lines.last()) else {
                    return Err("nothing was printed".to_string());
                };
                if children.is_empty() {
                    return Err("there is no child".to_string());
                }
                match children
                    .iter()
                    .find(|p| p.born() > first.at || p.ended() < last.at)
                {
                    Some(p) => Err(format!(
                        "child {} lived from {} to {} ms, not from before the first line \
                         ({} ms) to after the last ({} ms)",
                        p.pid,
                        p.born().as_millis(),
                        p.ended().as_millis(),
                        first.at.as_millis(),
                        last.at.as_millis()
                    )),
                    None => Ok(()),
                }
            }
            Claim::TasksAtOnce(want) => {
                let lanes: Vec<Span> = spans.iter().filter(|s| s.tid.is_some()).cloned().collect();
                in_range("tasks at once", tasks::most_at_once(&lanes), want)
            }
        }
    }
}

fn count_range(text: &str) -> Result<RangeInclusive<usize>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| format!("`{s}` is not a count"))
    };
    match text.split_once('-') {
        Some((low, high)) => Ok(number(low)?..=number(high)?),
        None => number(text).map(|n| n..=n),
    }
}

fn show(range: &RangeInclusive<usize>) -> String {
    if range.start() == range.end() {
        range.start().to_string()
    } else {
        format!("{}-{}", range.start(), range.end())
    }
}

/// One picture's claims, each with its text as written.
type Claims = Vec<(String, Claim)>;

/// Each picture of a gallery README and the claims beside it, in order:
/// (`process_pool` or `python/mp_pool`, its claims). A picture without claims, or with
/// one this check does not know, is an error.
pub fn pictures(readme: &str) -> Result<Vec<(String, Claims)>, String> {
    let mut pictures = Vec::new();
    let mut lines = readme.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let Some(name) = picture(line) else { continue };
        while lines.peek().is_some_and(|(_, l)| l.trim().is_empty()) {
            lines.next();
        }
        let claims = lines
            .peek()
            .and_then(|(_, l)| l.trim().strip_prefix("<!-- trace:"))
            .and_then(|l| l.strip_suffix("-->"))
            .ok_or_else(|| {
                format!(
                    "line {}: the picture {name} has no `<!-- trace: CLAIM; ... -->` under it",
                    n + 1
                )
            })?;
        let claims = claims
            .split(';')
            .map(|text| Ok((text.trim().to_string(), Claim::parse(text)?)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| format!("line {}: {e}", n + 2))?;
        pictures.push((name, claims));
    }
    Ok(pictures)
}

/// `![alt](NAME.svg)` alone on a line: NAME.
fn picture(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("![")?;
    let (_, target) = rest.split_once("](")?;
    let target = target.strip_suffix(')')?;
    target.strip_suffix(".svg").map(str::to_string)
}

/// What contradicts the traces in one README (`label` names it in the messages): each
/// picture that was traced, checked claim by claim. `trace_of` finds a picture's run.
pub fn contradictions<'a>(
    label: &str,
    readme: &str,
    trace_of: impl Fn(&str) -> Option<(&'a Trace, &'a [Span])>,
) -> Vec<String> {
    let pictures = match pictures(readme) {
        Ok(pictures) => pictures,
        Err(e) => return vec![format!("{label}: {e}")],
    };
    let mut problems = Vec::new();
    for (name, claims) in pictures {
        let Some((trace, spans)) = trace_of(&name) else {
            continue;
        };
        for (text, claim) in claims {
            if let Err(why) = claim.check(trace, spans) {
                problems.push(format!(
                    "{label}: {name}'s caption claims `{text}`, but the trace shows {why}"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{End, Line, Thread};
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A program (pid 1) with four children alive from 5 to 90 ms, each printing one line
    /// at 20 ms, and the program's line at 95 ms.
    fn pool(execs: bool) -> Trace {
        let thread = |tid, born, ended| Thread {
            tid,
            pid: tid,
            parent: (tid != 1).then_some(1),
            born: ms(born),
            ended: ms(ended),
            name: "p".to_string(),
            end: End::ExitGroup,
        };
        let line = |pid, at| Line {
            tid: pid,
            pid,
            at: ms(at),
            fd: 1,
            text: "x".to_string(),
        };
        let children = 2..6;
        Trace {
            root: 1,
            threads: std::iter::once(thread(1, 0, 100))
                .chain(children.clone().map(|c| thread(c, 5, 90)))
                .collect(),
            lines: children
                .clone()
                .map(|c| line(c, 20))
                .chain([line(1, 95)])
                .collect(),
            execs: if execs {
                children.map(|c| (c, ms(6))).collect()
            } else {
                Vec::new()
            },
            ..Trace::default()
        }
    }

    fn check(claim: &str, trace: &Trace) -> Result<(), String> {
        Claim::parse(claim).unwrap().check(trace, &[])
    }

    #[test]
    fn true_claims_hold_and_wrong_ones_fail() {
        let forked = pool(false);
        for claim in [
            "processes 5",
            "threads 5",
            "program threads 1",
            "children alive together 4",
            "lines 5",
            "lines 4-6",
            "each child prints 1",
            "no child execs",
            "last line after every child",
        ] {
            assert_eq!(check(claim, &forked), Ok(()), "{claim}");
        }
        for (claim, why) in [
            ("processes 6", "processes 5, not 6"),
            ("program threads 2-3", "program threads 1, not 2-3"),
            (
                "children alive together 1",
                "children alive together 4, not 1",
            ),
            ("each child prints 2", "printed 1, not 2"),
            ("children exec", "ran no new program"),
            ("children span every line", "lived from 5 to 90 ms"),
        ] {
            let err = check(claim, &forked).unwrap_err();
            assert!(err.contains(why), "{claim}: {err}");
        }
        let spawned = pool(true);
        assert_eq!(check("children exec", &spawned), Ok(()));
        assert!(check("no child execs", &spawned).is_err());
    }

    #[test]
    fn a_wrong_caption_in_a_readme_is_reported() {
        let trace = pool(false);
        let readme = "# Gallery\n\n![pool](pool.svg)\n<!-- trace: processes 5; children alive \
                      together 4 -->\n\nFour workers.\n\n![other](other.svg)\n<!-- trace: \
                      lines 1 -->\n";
        let found = |name: &str| (name == "pool").then_some((&trace, &[][..]));
        assert!(contradictions("README", readme, found).is_empty());
        // The caption says the workers ran one at a time; the trace says four at once.
        let wrong = readme.replace("together 4", "together 1");
        let problems = contradictions("README", &wrong, found);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("pool's caption claims `children alive together 1`")
                && problems[0].contains("children alive together 4, not 1"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn pictures_without_claims_or_with_unknown_ones_are_refused() {
        let err = pictures("![a](a.svg)\n\nA caption.\n").unwrap_err();
        assert!(err.contains("the picture a has no `<!-- trace:"), "{err}");
        let err = pictures("![a](a.svg)\n<!-- trace: fast -->\n").unwrap_err();
        assert!(err.contains("`fast` is not a claim"), "{err}");
        let err = pictures("![a](a.svg)\n<!-- trace: lines x -->\n").unwrap_err();
        assert!(err.contains("`x` is not a count"), "{err}");
        let found = pictures("![a](python/a.svg)\n<!-- trace: children exec -->\n").unwrap();
        let exec = ("children exec".to_string(), Claim::ChildrenExec);
        assert_eq!(found, [("python/a".to_string(), vec![exec])]);
    }
}
