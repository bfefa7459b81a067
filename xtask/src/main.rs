//! `cargo xtask`: the workspace's own tasks, in Rust, with no setup beyond cargo.
//!
//! - `cargo xtask verify [--repeat N] [--jobs N] [NAME...]`: build every example, run them
//!   concurrently and check what each prints against its expectation.
//! - `cargo xtask bench [--quick] [--runs N] [ROW...]`: each pattern at scale, Rust against
//!   Python and its Rust peers; writes target/bench/report.md and a chart.

mod bench;
mod catalogue;
#[cfg(all(test, unix))]
mod closed_stdout;
mod exec;
mod expect;
mod http_server;
#[cfg(test)]
mod readme;
mod verify;
mod workspace;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  verify [--repeat N] [--jobs N] [NAME...]
      build every example, run each (N times) and check its output;
      NAME runs only the examples with that binary or case name
  bench [--quick] [--runs N] [ROW...]
      time each pattern at scale (release build), Rust against Python and its
      Rust peers; writes target/bench/report.md and speedup.svg;
      --quick: small sizes, a smoke test; ROW runs only those rows";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("verify") => verify::Options::parse(&args[1..]).and_then(|o| verify::run(&o)),
        Some("bench") => bench::Options::parse(&args[1..]).and_then(|o| bench::run(&o)),
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
