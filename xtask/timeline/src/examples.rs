//! Tracing the workspace's examples: built and found as `cargo xtask verify` does, each
//! run with its first case's arguments (async_fetch against the local test server), and
//! those in [`SPAWN_PICTURES`] again under the spawn start method; each one's output held
//! against the catalogue's check, its trace against [`props`].

use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};

use super::props::{self, Check};
use super::{Jobs, Traced, ptrace, tasks};
use xtask::catalogue::{self, Case, Env};
use xtask::expect::Run;
use xtask::http_server::Server;
use xtask::verify::{self, Bin};

/// The examples drawn again under the spawn start method, as `spawn/NAME` from their
/// catalogue case `NAME/spawn` (`SHARED_START_METHOD=spawn`): each child is the program
/// started anew, where fork's children are copies of the parent.
pub const SPAWN_PICTURES: [&str; 5] = [
    "process_basic",
    "process_pool",
    "shared_memory",
    "process_queue",
    "process_pipe",
];

/// One example's trace, and what was checked.
pub struct Report {
    pub traced: Traced,
    /// What it printed under the tracer, against its catalogue check: tracing must not
    /// change it.
    pub output: Result<(), String>,
    /// The trace's properties for this example ([`props::for_example`]).
    pub checks: Vec<(Check, Result<(), String>)>,
}

/// Builds and traces the named examples (all if none).
pub fn trace_all(names: &[String], jobs: Jobs) -> anyhow::Result<Vec<Report>> {
    verify::build(None)?;
    let bins = verify::example_bins()?;
    for name in names {
        if !bins.iter().any(|b| &b.name == name) {
            let known: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
            bail!(
                "no example named `{name}`; the examples are: {}",
                known.join(", ")
            );
        }
    }
    let server = Server::start()?;
    let env = Env {
        http: server.base_url(),
        refused: server.refused_url(),
    };
    let cases = catalogue::cases(&env);
    let mut selected: Vec<(String, &Bin, Option<&Case>)> = Vec::new();
    for bin in bins
        .iter()
        .filter(|b| names.is_empty() || names.contains(&b.name))
    {
        selected.push((
            bin.name.clone(),
            bin,
            cases.iter().find(|c| c.bin == bin.name),
        ));
        if SPAWN_PICTURES.contains(&bin.name.as_str()) {
            let spawn = format!("{}/spawn", bin.name);
            let case = cases.iter().find(|c| c.name == spawn).with_context(|| {
                format!(
                    "xtask/src/catalogue has no case {spawn} to draw spawn/{}",
                    bin.name
                )
            })?;
            selected.push((format!("spawn/{}", bin.name), bin, Some(case)));
        }
    }
    let server = &server;
    let results: Vec<anyhow::Result<Report>> = match jobs {
        Jobs::OneAtATime => selected
            .iter()
            .map(|(name, bin, case)| trace_one(name, bin, *case, server, jobs))
            .collect(),
        Jobs::AllAtOnce => thread::scope(|scope| {
            let handles: Vec<_> = selected
                .iter()
                .map(|(name, bin, case)| {
                    scope.spawn(move || trace_one(name, bin, *case, server, jobs))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a tracer thread panicked"))
                .collect()
        }),
    };
    results.into_iter().collect()
}

/// Traces one example with its case's arguments and environment (none if it has no
/// case), as the picture `name`.
fn trace_one(
    name: &str,
    bin: &Bin,
    case: Option<&Case>,
    server: &Server,
    jobs: Jobs,
) -> anyhow::Result<Report> {
    let (args, env, limit) = match case {
        Some(case) => (case.args.clone(), case.env.clone(), case.timeout),
        None => (Vec::new(), Vec::new(), Duration::from_secs(30)),
    };
    let (mut trace, origin) = ptrace::run(bin.exe.as_os_str(), &args, limit, None, &env)?;
    // Shown from the workspace (target/debug/NAME), not as this machine's full path.
    if let Ok(here) = std::env::current_dir()
        && let Ok(relative) = bin.exe.strip_prefix(here)
    {
        trace.command[0] = relative.display().to_string();
    }
    let mut spans = tasks::from_lines(&trace.lines);
    spans.extend(tasks::from_requests(&server.requests(), origin, trace.end));
    let run = Run {
        stdout: &trace.stdout,
        stderr: &trace.stderr,
        code: trace.code,
        // Run all at once on a small machine, the wall times are the machine's, not the
        // example's: only runs one at a time are held to the catalogue's time bounds.
        wall: (jobs == Jobs::OneAtATime).then_some(trace.end),
        pid: Some(trace.root as u32),
    };
    let output = match case {
        Some(case) => case.expect.check(&run),
        None => Err(format!(
            "no expectation in xtask/src/catalogue/{}.rs: its output is unchecked",
            bin.package
        )),
    };
    let checks = props::for_example(&bin.name, &bin.package)
        .into_iter()
        .map(|check| (check, check.check(&trace, &spans)))
        .collect();
    Ok(Report {
        traced: Traced {
            name: name.to_string(),
            trace,
            spans,
        },
        output,
        checks,
    })
}
