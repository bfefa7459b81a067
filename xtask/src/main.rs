//! `cargo xtask`: the workspace's own tasks, in Rust, with no setup beyond cargo.
//!
//! - `cargo xtask verify [--repeat N] [--jobs N] [--target TRIPLE] [--runner CMD] [NAME...]`:
//!   build every example, run them concurrently and check what each prints against its
//!   expectation.
//! - `cargo xtask bench [--quick] [--runs N] [ROW...]`: each pattern at scale, Rust against
//!   Python and its Rust peers; writes target/bench/report.md and a chart.
//! - `cargo xtask export NAME DIR`, `cargo xtask export --all DIR`: an example as a Cargo
//!   project of its own, with the `shared` modules it needs.
//! - `cargo xtask timeline [NAME...] | --gallery | -- CMD ARGS...`: trace each example (or
//!   any command) with ptrace and draw its processes, threads, tasks and output in time.
//!
//! Only verify is built into this binary, so that `cargo xtask verify` from a fresh clone
//! compiles what it runs and nothing else. Each other task is a package of its own
//! (`xtask/bench`, `xtask/export`, `xtask/timeline`), which this binary builds and runs
//! with `cargo run` when that task is asked for.

use std::path::Path;
use std::process::{Command, ExitCode};

use xtask::{verify, workspace};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  verify [--repeat N] [--jobs N] [--target TRIPLE] [--runner CMD] [NAME...]
      build every example, run each (N times) and check its output;
      NAME runs only the examples with that binary or case name;
      --target: build them with `cargo build --target TRIPLE`; --runner: start
      each as `CMD EXE ARGS...` (`--target x86_64-pc-windows-gnu --runner wine`
      runs the Windows build on Linux, as .ci/windows does)
  bench [--quick] [--runs N] [ROW...]
      time each pattern at scale (release build), Rust against Python and its
      Rust peers; writes target/bench/report.md and speedup.svg;
      --quick: small sizes, a smoke test; ROW runs only those rows
  export NAME DIR | export --all DIR
      write example NAME (--all: every example, one folder each) into the new
      or empty folder DIR as a Cargo project of its own, with the shared
      modules it needs beside it; then `cd DIR && cargo run`
  timeline [NAME...] | --gallery | [--name NAME] -- CMD ARGS...
      run each example (or CMD) under a ptrace tracer (Linux) and draw every
      process, thread, task and printed line on a time axis: writes
      target/timeline/NAME.json (Perfetto) and NAME.svg; --gallery also draws
      the project's Python versions (xtask/timeline/python/) and copies the
      pictures to docs/timeline/";

/// The tasks built and run on demand, each the package `xtask-NAME`.
const OWN_PACKAGES: [&str; 3] = ["bench", "export", "timeline"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str);
    if let Some(task) = task.filter(|t| OWN_PACKAGES.contains(t)) {
        return run_package(task, &args[1..]);
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match task {
        Some("verify") => verify::Options::parse(&args[1..]).and_then(|o| verify::run(&o)),
        Some("help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(anyhow::anyhow!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(anyhow::anyhow!("no task given\n\n{USAGE}")),
    };
    xtask::exit_code(result)
}

/// `cargo run -q -p xtask-TASK -- ARGS`: builds that task's package (the first time, or
/// after a change) and runs it, passing its exit code on.
fn run_package(task: &str, args: &[String]) -> ExitCode {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let status = Command::new(workspace::cargo())
        .args(["run", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .args(["--package", &format!("xtask-{task}"), "--"])
        .args(args)
        .status();
    match status {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            // Ended by a signal (Ctrl-C): a failure, as a shell would count it.
            None => ExitCode::FAILURE,
        },
        Err(err) => {
            eprintln!("xtask: error: running `cargo run --package xtask-{task}`: {err}");
            ExitCode::from(2)
        }
    }
}
