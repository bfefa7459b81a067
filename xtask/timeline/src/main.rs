//! `cargo xtask timeline`: runs each example (or any command) under a ptrace tracer and
//! draws what ran when: every process and thread it created, every line it printed, and
//! the tasks and requests the OS cannot see. Writes `target/timeline/NAME.json` (Chrome's
//! trace event format, for Perfetto) and `target/timeline/NAME.svg`.
//!
//! - [`model`]: the trace, on one clock. [`ptrace`]: the tracer (Linux only).
//! - [`tasks`]: task lanes from paired lines, request lanes from the test server.
//! - [`chrome`], [`svg`], [`labels`]: the two files, and the names both use.
//! - [`props`]: what a trace proves that output cannot; shown here, asserted by the tests.
//! - [`examples`]: builds and traces the workspace's examples, as verify runs them;
//!   [`cli`]: the command itself.

// Only Linux runs the tracer; elsewhere the pictures' code is built but not called.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

mod captions;
mod chrome;
#[cfg(target_os = "linux")]
mod cli;
#[cfg(target_os = "linux")]
mod examples;
mod labels;
mod model;
mod props;
#[cfg(target_os = "linux")]
mod ptrace;
mod svg;
mod tasks;
#[cfg(all(test, target_os = "linux"))]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use model::Trace;
use tasks::Span;

pub struct Options {
    pub names: Vec<String>,
    /// `-- CMD ARGS...`: trace this command instead of the examples.
    pub command: Vec<String>,
    /// `--gallery`: every example and the Python programs beside them (python/), copied
    /// into docs/timeline.
    pub gallery: bool,
    /// `--name NAME`: the files' name for a traced command.
    pub name: Option<String>,
}

const USAGE: &str = "\
usage: cargo xtask timeline [NAME...] | --gallery | [--name NAME] -- CMD ARGS...

Runs each example (or CMD) under a ptrace tracer (Linux) and draws every process, thread,
task and printed line on a time axis: writes target/timeline/NAME.json (Perfetto) and
NAME.svg. --gallery also draws the project's Python versions (xtask/timeline/python/)
and copies the pictures to docs/timeline/.";

impl Options {
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        use lexopt::Arg::{Long, Value};
        let mut options = Options {
            names: Vec::new(),
            command: Vec::new(),
            gallery: false,
            name: None,
        };
        let mut parser = xtask::args::parser(args);
        loop {
            // What follows `--` is the command, whatever it looks like.
            let mut raw = parser.raw_args()?;
            if raw.peek().is_some_and(|a| a == "--") {
                raw.next();
                options.command = raw.map(xtask::args::word).collect::<Result<_, _>>()?;
                if options.command.is_empty() {
                    bail!("`--` needs a command after it, e.g. `-- python3 mp_pool.py`");
                }
                break;
            }
            match parser.next()? {
                None => break,
                Some(Long("gallery")) => options.gallery = true,
                Some(Long("name")) => {
                    let name = parser.value().context("--name needs a name")?;
                    options.name = Some(xtask::args::word(name)?);
                }
                Some(Value(name)) => options.names.push(xtask::args::word(name)?),
                Some(other) => return Err(xtask::args::unexpected(other)),
            }
        }
        let modes = [
            !options.names.is_empty(),
            !options.command.is_empty(),
            options.gallery,
        ];
        if modes.iter().filter(|m| **m).count() > 1 {
            bail!("give example names, `--gallery` or `-- CMD ARGS...`, not more than one");
        }
        if options.name.is_some() && options.command.is_empty() {
            bail!("--name names the files of a traced command (`--name NAME -- CMD ...`)");
        }
        Ok(options)
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if xtask::args::asks_for_help(&args) {
        println!("{USAGE}");
        return std::process::ExitCode::SUCCESS;
    }
    xtask::exit_code(Options::parse(&args).and_then(|o| run(&o)))
}

/// One traced run, ready to draw.
pub struct Traced {
    pub name: String,
    pub trace: Trace,
    pub spans: Vec<Span>,
}

impl Traced {
    /// Writes `DIR/NAME.json` and `DIR/NAME.svg`; returns the SVG's path.
    fn save(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let base = dir.join(&self.name);
        if let Some(parent) = base.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let json = chrome::write(&self.trace, &self.spans);
        let json_path = base.with_extension("json");
        std::fs::write(&json_path, serde_json::to_string(&json)?)
            .with_context(|| format!("writing {}", json_path.display()))?;
        let svg_path = base.with_extension("svg");
        std::fs::write(&svg_path, svg::write(&self.name, &self.trace, &self.spans))
            .with_context(|| format!("writing {}", svg_path.display()))?;
        Ok(svg_path)
    }

    /// "1 process, 5 threads, 6 lines, 1012 ms".
    fn summary(&self) -> String {
        let tasks = self.spans.iter().filter(|s| s.tid.is_some()).count();
        let requests = self.spans.len() - tasks;
        let mut s = format!(
            "{} process(es), {} thread(s), {} line(s)",
            self.trace.processes().len(),
            self.trace.threads.len(),
            self.trace.lines.len()
        );
        if tasks > 0 {
            s += &format!(", {tasks} task lane(s)");
        }
        if requests > 0 {
            s += &format!(", {requests} request lane(s)");
        }
        s + &format!(", {} ms", self.trace.end.as_millis())
    }
}

#[cfg(target_os = "linux")]
pub use cli::run;

/// Elsewhere: a clear error.
#[cfg(not(target_os = "linux"))]
pub fn run(_: &Options) -> anyhow::Result<bool> {
    bail!(
        "cargo xtask timeline needs Linux: it follows a run's processes and threads with \
         ptrace and a seccomp filter, which {} does not offer. Run it on Linux (a VM, or \
         a container started with --cap-add=SYS_PTRACE); `cargo xtask verify` works here.",
        std::env::consts::OS
    )
}

/// How to run several traces.
#[derive(Clone, Copy, PartialEq)]
pub enum Jobs {
    /// One after another: the pictures' timings are not disturbed by each other.
    OneAtATime,
    /// All at once: a quick test.
    #[cfg_attr(not(test), allow(dead_code))]
    AllAtOnce,
}

#[cfg(test)]
mod options_tests {
    use super::*;

    fn parse(args: &str) -> anyhow::Result<Options> {
        let args: Vec<String> = args.split_whitespace().map(String::from).collect();
        Options::parse(&args)
    }

    #[test]
    fn names_a_command_or_the_gallery_and_bad_ones_are_refused() {
        let o = parse("async_basic thread_pool").unwrap();
        assert_eq!(o.names, ["async_basic", "thread_pool"]);
        let o = parse("--name pool -- python3 -u mp_pool.py --gallery").unwrap();
        assert_eq!(o.command, ["python3", "-u", "mp_pool.py", "--gallery"]);
        assert_eq!((o.name.as_deref(), o.gallery), (Some("pool"), false));
        assert!(parse("--gallery").unwrap().gallery);
        for bad in [
            "--",
            "--fast",
            "--name",
            "--name x",
            "async_basic --gallery",
            "async_basic -- true",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
