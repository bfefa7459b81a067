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

mod bench;
mod catalogue;
#[cfg(all(test, unix))]
mod closed_stdout;
mod exec;
mod expect;
mod export;
mod http_server;
#[cfg(test)]
mod readme;
mod timeline;
mod verify;
mod workspace;

use std::process::ExitCode;

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
      the tutorial's Python originals and copies the pictures to docs/timeline/";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("verify") => verify::Options::parse(&args[1..]).and_then(|o| verify::run(&o)),
        Some("bench") => bench::Options::parse(&args[1..]).and_then(|o| bench::run(&o)),
        Some("export") => export::Options::parse(&args[1..]).and_then(|o| export::run(&o)),
        Some("timeline") => timeline::Options::parse(&args[1..]).and_then(|o| timeline::run(&o)),
        Some("help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(anyhow::anyhow!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(anyhow::anyhow!("no task given\n\n{USAGE}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
