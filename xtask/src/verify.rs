//! `cargo xtask verify`: build every example, run them all at once, check each run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::catalogue::{self, Case, Env};
use crate::exec::{self, Outcome};
use crate::expect::Run;
use crate::http_server::Server;
use crate::workspace;

pub struct Options {
    pub repeat: usize,
    pub jobs: usize,
    /// `--target TRIPLE`: build the examples for that target (`cargo build --target`);
    /// `None` builds them for this machine.
    pub target: Option<String>,
    /// `--runner CMD`: start each example as `CMD EXE ARGS...` (CMD split at spaces), as
    /// `wine` runs a Windows build on Linux; empty starts the example itself.
    pub runner: Vec<String>,
    pub names: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            repeat: 1,
            jobs: 16,
            target: None,
            runner: Vec::new(),
            names: Vec::new(),
        }
    }
}

impl Options {
    /// Reads verify's arguments with lexopt (see `crate::args`).
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        use lexopt::Arg::{Long, Value};
        let mut options = Options::default();
        let mut parser = crate::args::parser(args);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("repeat") => options.repeat = crate::args::count(&mut parser, "--repeat")?,
                Long("jobs") => options.jobs = crate::args::count(&mut parser, "--jobs")?,
                Long("target") => {
                    let triple = match parser.value() {
                        Ok(v) => crate::args::word(v)?,
                        Err(_) => String::new(),
                    };
                    let part = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
                    if !triple.contains('-') || triple.starts_with('-') || !triple.chars().all(part)
                    {
                        bail!(
                            "--target needs a target triple such as x86_64-pc-windows-gnu, \
                             got `{triple}`"
                        );
                    }
                    options.target = Some(triple);
                }
                Long("runner") => {
                    let command = match parser.value() {
                        Ok(v) => crate::args::word(v)?,
                        Err(_) => String::new(),
                    };
                    options.runner = command.split_whitespace().map(String::from).collect();
                    if options.runner.is_empty() || command.starts_with('-') {
                        bail!(
                            "--runner needs a command to start each example with, such as wine, got `{command}`"
                        );
                    }
                }
                Value(name) => options.names.push(crate::args::word(name)?),
                other => return Err(crate::args::unexpected(other)),
            }
        }
        Ok(options)
    }
}

/// Whether the examples are built for Windows: `--target`'s triple says, else this machine.
fn targets_windows(target: Option<&str>) -> bool {
    match target {
        Some(triple) => triple.contains("-windows"),
        None => cfg!(windows),
    }
}

/// What the target's executables end in (`cargo build` names them so): ".exe" on Windows.
fn exe_suffix(target: Option<&str>) -> &'static str {
    match target {
        None => std::env::consts::EXE_SUFFIX,
        Some(_) if targets_windows(target) => ".exe",
        Some(triple) if triple.starts_with("wasm") => ".wasm",
        Some(_) => "",
    }
}

/// The packages whose binaries are not examples: the tasks and bench's workloads.
pub const NOT_EXAMPLES: [&str; 5] = [
    "xtask",
    "xtask-bench",
    "xtask-export",
    "xtask-timeline",
    "bench",
];

/// An example binary, as the workspace metadata describes it.
pub struct Bin {
    pub name: String,
    pub package: String,
    pub src: PathBuf,
    pub exe: PathBuf,
}

/// Every binary of every workspace package but those of [`NOT_EXAMPLES`].
pub fn example_bins() -> anyhow::Result<Vec<Bin>> {
    example_bins_for(None)
}

/// [`example_bins`] as `cargo build --target TRIPLE` builds them, in target/TRIPLE/debug.
fn example_bins_for(triple: Option<&str>) -> anyhow::Result<Vec<Bin>> {
    let meta = workspace::metadata()?;
    let target_dir = Path::new(
        meta["target_directory"]
            .as_str()
            .context("metadata has no target_directory")?,
    );
    let out_dir = match triple {
        Some(triple) => target_dir.join(triple).join("debug"),
        None => target_dir.join("debug"),
    };
    let suffix = exe_suffix(triple);
    let mut bins = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let package_name = package["name"].as_str().unwrap_or_default();
        if NOT_EXAMPLES.contains(&package_name) {
            continue;
        }
        for target in package["targets"].as_array().into_iter().flatten() {
            if target["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
            {
                let name = target["name"].as_str().unwrap_or_default().to_string();
                bins.push(Bin {
                    exe: out_dir.join(format!("{name}{suffix}")),
                    src: PathBuf::from(target["src_path"].as_str().unwrap_or_default()),
                    package: package_name.to_string(),
                    name,
                });
            }
        }
    }
    bins.sort_by(|a, b| (&a.package, &a.name).cmp(&(&b.package, &b.name)));
    Ok(bins)
}

/// `cargo build` of every example, for this machine or (`target`) for `--target TRIPLE`.
pub fn build(target: Option<&str>) -> anyhow::Result<()> {
    let mut args = vec!["build", "--workspace", "--bins"];
    for package in NOT_EXAMPLES {
        args.extend(["--exclude", package]);
    }
    if let Some(triple) = target {
        args.extend(["--target", triple]);
    }
    eprintln!("building the examples: cargo {}", args.join(" "));
    let status = Command::new(workspace::cargo())
        .arg("--quiet")
        .args(&args)
        .status()
        .context("running `cargo build`")?;
    if !status.success() {
        bail!(
            "building the examples failed; fix the errors above, then run `cargo xtask verify` again"
        );
    }
    Ok(())
}

/// Builds, runs and checks; `Ok(true)` when every selected example passed.
pub fn run(options: &Options) -> anyhow::Result<bool> {
    let target = options.target.as_deref();
    build(target)?;
    let all_bins = example_bins_for(target)?;
    // Serves async_fetch's pages on 127.0.0.1 until `run` returns.
    let server = Server::start()?;
    let env = Env {
        http: server.base_url(),
        refused: server.refused_url(),
    };
    let all_cases = catalogue::cases(&env);
    let selected = |name: &str, bin: &str| {
        options.names.is_empty() || options.names.iter().any(|n| n == name || n == bin)
    };
    for name in &options.names {
        if !all_cases.iter().any(|c| &c.name == name || c.bin == name)
            && !all_bins.iter().any(|b| &b.name == name)
        {
            let known: Vec<&str> = all_bins.iter().map(|b| b.name.as_str()).collect();
            bail!(
                "no example named `{name}`; the examples are: {}",
                known.join(", ")
            );
        }
    }

    let (runs, unmatched) = pair_up(&all_bins, &all_cases, &selected);
    for row in &unmatched {
        println!("FAIL  {row}");
    }
    let mut failed = unmatched.len();
    let passed = run_all(&runs, options.repeat, options.jobs, &options.runner);
    failed += runs.len() - passed;
    println!("{passed} passed, {failed} failed");
    Ok(failed == 0)
}

/// Each selected case with its binary, and a failure row for every selected binary with
/// no case (an example nobody checks) and every case whose binary does not exist.
fn pair_up<'a>(
    bins: &'a [Bin],
    cases: &'a [Case],
    selected: &dyn Fn(&str, &str) -> bool,
) -> (Vec<(&'a Case, &'a Path)>, Vec<String>) {
    let mut unmatched = Vec::new();
    for bin in bins.iter().filter(|b| selected(&b.name, &b.name)) {
        if !cases.iter().any(|c| c.bin == bin.name) {
            unmatched.push(format!(
                "{:<28} no expectation for {}: add a Case in xtask/src/catalogue/{}.rs",
                bin.name,
                bin.src.display(),
                bin.package
            ));
        }
    }
    let mut runs = Vec::new();
    for case in cases.iter().filter(|c| selected(&c.name, c.bin)) {
        match bins.iter().find(|b| b.name == case.bin) {
            Some(bin) => runs.push((case, bin.exe.as_path())),
            None => unmatched.push(format!(
                "{:<28} names binary `{}`, which no workspace package builds",
                case.name, case.bin
            )),
        }
    }
    (runs, unmatched)
}

/// One case's runs so far.
#[derive(Default)]
struct Tally {
    done: usize,
    failures: usize,
    first_failure: Option<String>,
    slowest: Duration,
}

/// Runs every case `repeat` times, `jobs` at once, printing a row as each case completes;
/// returns how many cases passed every run. A `runner` (`--runner`) that is not empty
/// starts each example.
pub fn run_all(runs: &[(&Case, &Path)], repeat: usize, jobs: usize, runner: &[String]) -> usize {
    let order: Vec<(usize, usize)> = (0..repeat)
        .flat_map(|rep| (0..runs.len()).map(move |i| (i, rep)))
        .collect();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut tallies: Vec<Tally> = runs.iter().map(|_| Tally::default()).collect();
    let mut passed = 0;
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..jobs.min(order.len()) {
            let tx = tx.clone();
            let (order, next) = (&order, &next);
            scope.spawn(move || {
                while let Some(&(i, rep)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let (case, exe) = runs[i];
                    let _ = tx.send((i, rep, run_case(case, exe, runner)));
                }
            });
        }
        drop(tx);
        let mut done = 0;
        let mut last_progress = Instant::now();
        loop {
            let (i, rep, result) = match rx.recv_timeout(Duration::from_secs(5)) {
                Ok(message) => message,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    eprintln!(
                        "  … {done}/{} runs done after {:.0}s",
                        order.len(),
                        started.elapsed().as_secs_f64()
                    );
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            done += 1;
            if repeat > 1 && last_progress.elapsed() > Duration::from_secs(5) {
                eprintln!("  … {done}/{} runs done", order.len());
                last_progress = Instant::now();
            }
            let tally = &mut tallies[i];
            tally.done += 1;
            let (wall, result) = result;
            if let Some(wall) = wall {
                tally.slowest = tally.slowest.max(wall);
            }
            if let Err(why) = result {
                tally.failures += 1;
                let why = if repeat > 1 {
                    format!("run {} of {repeat}:\n{why}", rep + 1)
                } else {
                    why
                };
                tally.first_failure.get_or_insert(why);
            }
            if tally.done == repeat {
                let name = if repeat > 1 {
                    format!("{} ×{repeat}", runs[i].0.name)
                } else {
                    runs[i].0.name.clone()
                };
                match &tally.first_failure {
                    None => {
                        passed += 1;
                        println!("ok    {name:<28} {:>7.2}s", tally.slowest.as_secs_f64());
                    }
                    Some(why) => {
                        let count = if repeat > 1 {
                            format!("  ({} of {repeat} runs failed)", tally.failures)
                        } else {
                            String::new()
                        };
                        println!(
                            "FAIL  {name:<28} {:>7.2}s{count}",
                            tally.slowest.as_secs_f64()
                        );
                        for line in why.lines() {
                            println!("      {line}");
                        }
                    }
                }
            }
        }
    });
    passed
}

/// Runs a case once (as `RUNNER... EXE ARGS...` if `runner` is not empty): its wall time
/// (if it started), and what went wrong if a check failed.
fn run_case(case: &Case, exe: &Path, runner: &[String]) -> (Option<Duration>, Result<(), String>) {
    let started = match runner.split_first() {
        None => exec::run(exe, &case.args, &case.env, case.timeout),
        Some((program, before)) => {
            let mut args = before.to_vec();
            args.push(exe.display().to_string());
            args.extend(case.args.iter().cloned());
            exec::run(Path::new(program), &args, &case.env, case.timeout)
        }
    };
    let out: Outcome = match started {
        Ok(out) => out,
        Err(e) if runner.is_empty() => {
            let why = format!("could not start {}: {e} (is it built?)", exe.display());
            return (None, Err(why));
        }
        Err(e) => {
            let why = format!(
                "could not start `{} {}`: {e} (is the runner installed?)",
                runner.join(" "),
                exe.display()
            );
            return (None, Err(why));
        }
    };
    let mut problems = Vec::new();
    if out.timed_out {
        problems.push(format!(
            "still running after {}s: killed (hung?)",
            case.timeout.as_secs()
        ));
    }
    if out.left_behind {
        problems.push("left processes running after it exited (they were killed)".to_string());
    }
    if out.output_held {
        // Its output is incomplete, so it is not compared.
        problems.push(format!(
            "a process it started still held its output open {}s after it exited, out of \
             xtask's reach (outside its process group; on Windows, anything but the example \
             itself): find it and end it",
            exec::PIPES_CLOSE_WITHIN.as_secs()
        ));
    } else if let Err(diff) = case.expect.check(&Run {
        stdout: &out.stdout,
        stderr: &out.stderr,
        code: out.code,
        wall: Some(out.wall),
        pid: Some(out.pid),
    }) {
        problems.push(diff);
    }
    let result = if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    };
    (Some(out.wall), result)
}

/// The ```text block of a source file's `//!` header: the output it shows a reader.
#[cfg(test)]
fn header_sample(source: &str) -> Option<String> {
    let header: Vec<&str> = source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            l.trim_start_matches("//!")
                .strip_prefix(' ')
                .unwrap_or(l.trim_start_matches("//!"))
        })
        .collect();
    let start = header.iter().position(|l| *l == "```text")? + 1;
    let len = header[start..].iter().position(|l| *l == "```")?;
    Some(
        header[start..start + len]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::fs;

    /// A run that fails its check still reports how long it took (its row shows it); one
    /// that cannot start has no time and says what to do.
    #[cfg(unix)]
    #[test]
    fn a_failed_run_keeps_its_time_and_one_that_cannot_start_has_none() {
        use crate::expect::{Block, Expect, exact};
        let case = Case::new("sleep", Expect::stdout([Block::ordered([exact("never")])]));
        let case = Case {
            args: vec!["0.2".to_string()],
            ..case
        };
        let (wall, result) = run_case(&case, Path::new("sleep"), &[]);
        assert!(
            wall.is_some_and(|w| w >= Duration::from_millis(200)),
            "{wall:?}"
        );
        assert!(result.is_err());
        let (wall, result) = run_case(&case, Path::new("/no/such/program"), &[]);
        assert_eq!(wall, None);
        assert!(result.unwrap_err().contains("is it built?"));
    }

    /// With a runner, the example is its first argument, before the case's own.
    #[cfg(unix)]
    #[test]
    fn a_runner_starts_the_example_and_one_missing_says_so() {
        use crate::expect::{Block, Expect, exact};
        let case = Case::new("echo", Expect::stdout([Block::ordered([exact("a b")])]));
        let case = Case {
            args: vec!["b".to_string()],
            ..case
        };
        let runner = [
            "sh".to_string(),
            "-c".to_string(),
            "echo a \"$1\"".to_string(),
        ];
        // `sh -c 'echo a "$1"' echo b`: $0 is the example, $1 the case's argument.
        let (_, result) = run_case(&case, Path::new("echo"), &runner);
        assert_eq!(result, Ok(()));
        let (wall, result) = run_case(&case, Path::new("echo"), &["/no/such/runner".to_string()]);
        assert_eq!(wall, None);
        let why = result.unwrap_err();
        assert!(
            why.contains("`/no/such/runner echo`") && why.contains("is the runner installed?"),
            "{why}"
        );
    }

    #[test]
    fn options_parse_and_bad_ones_are_refused() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = Options::parse(&args("--repeat 200 thread_queue --jobs 4")).unwrap();
        assert_eq!(
            (o.repeat, o.jobs, o.names),
            (200, 4, vec!["thread_queue".to_string()])
        );
        let o = Options::parse(&args("--jobs=2")).unwrap();
        assert_eq!((o.repeat, o.jobs), (1, 2));
        for bad in ["--repeat", "--repeat 0", "--repeat many", "--fast", "-r"] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad} was accepted");
        }
        let o = Options::parse(&args("thread_basic")).unwrap();
        assert_eq!((o.target, o.runner), (None, Vec::<String>::new()));
    }

    #[test]
    fn target_and_runner_parse_and_bad_ones_are_refused() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = Options::parse(&args(&[
            "--target",
            "x86_64-pc-windows-gnu",
            "--runner",
            "wine",
            "thread_basic",
        ]))
        .unwrap();
        assert_eq!(o.target.as_deref(), Some("x86_64-pc-windows-gnu"));
        assert_eq!(
            (o.runner, o.names),
            (vec!["wine".to_string()], vec!["thread_basic".to_string()])
        );
        // A runner with arguments of its own is one argument, split at spaces.
        let o = Options::parse(&args(&["--runner", " qemu-aarch64  -L /usr/aarch64 "])).unwrap();
        assert_eq!(o.runner, ["qemu-aarch64", "-L", "/usr/aarch64"]);
        assert_eq!(o.target, None);
        for bad in [
            &["--target"][..],
            &["--target", "--runner", "wine"],
            &["--target", ""],
            &["--target", "windows"],
            &["--target", "x86_64-pc-windows-gnu/debug"],
            &["--target", "x86_64 pc-windows-gnu"],
            &["--runner"],
            &["--runner", ""],
            &["--runner", "   "],
            &["--runner", "--jobs", "4"],
        ] {
            let err = Options::parse(&args(bad)).err();
            let err = err
                .unwrap_or_else(|| panic!("{bad:?} was accepted"))
                .to_string();
            let flag = bad[0];
            assert!(err.starts_with(flag), "{bad:?}: {err}");
        }
    }

    /// `--target` tells a Windows build by its triple; its programs end in .exe.
    #[test]
    fn a_windows_target_is_told_by_its_triple() {
        for windows in [
            "x86_64-pc-windows-gnu",
            "x86_64-pc-windows-msvc",
            "aarch64-pc-windows-msvc",
        ] {
            assert!(targets_windows(Some(windows)), "{windows}");
            assert_eq!(exe_suffix(Some(windows)), ".exe");
        }
        for other in ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin"] {
            assert!(!targets_windows(Some(other)), "{other}");
            assert_eq!(exe_suffix(Some(other)), "");
        }
        assert_eq!(exe_suffix(Some("wasm32-wasip1")), ".wasm");
        assert_eq!(targets_windows(None), cfg!(windows));
        assert_eq!(exe_suffix(None), std::env::consts::EXE_SUFFIX);
    }

    #[test]
    fn header_sample_is_the_text_block() {
        let src =
            "//! Shows a thing.\n//!\n//! ```text\n//! a\n//!\n//! b\n//! ```\n\nfn main() {}\n";
        assert_eq!(header_sample(src).as_deref(), Some("a\n\nb\n"));
        assert_eq!(header_sample("//! no block\nfn main() {}\n"), None);
    }

    #[test]
    fn every_header_shows_output_its_check_accepts() {
        let cases = catalogue::cases(&Env::offline());
        let mut problems = Vec::new();
        for bin in example_bins().unwrap() {
            let source = fs::read_to_string(&bin.src).unwrap();
            let Some(sample) = header_sample(&source) else {
                problems.push(format!(
                    "{}: its //! header has no ```text block of output",
                    bin.name
                ));
                continue;
            };
            let Some(case) = cases.iter().find(|c| c.bin == bin.name) else {
                problems.push(format!("{}: no case in the catalogue", bin.name));
                continue;
            };
            if let Err(diff) = case.expect.check(&Run::sample(&sample)) {
                problems.push(format!(
                    "{}: the header's output fails its check:\n{diff}",
                    bin.name
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    }

    #[test]
    fn a_binary_without_a_case_and_a_case_without_a_binary_fail() {
        let bin = |name: &str| Bin {
            name: name.to_string(),
            package: "multithread".to_string(),
            src: PathBuf::from(format!("multithread/src/bin/{name}.rs")),
            exe: PathBuf::from(format!("target/debug/{name}")),
        };
        let bins = [bin("thread_basic"), bin("thread_new")];
        let cases: Vec<Case> = catalogue::cases(&Env::offline())
            .into_iter()
            .filter(|c| c.bin == "thread_basic" || c.bin == "lock_counter")
            .collect();
        let (runs, unmatched) = pair_up(&bins, &cases, &|_, _| true);
        assert_eq!(runs.len(), 1, "only thread_basic has both");
        assert_eq!(unmatched.len(), 2, "{unmatched:?}");
        assert!(unmatched[0].starts_with("thread_new") && unmatched[0].contains("no expectation"));
        assert!(
            unmatched[1].starts_with("lock_counter")
                && unmatched[1].contains("no workspace package builds")
        );
        let (runs, unmatched) = pair_up(&bins, &cases, &|name, _| name == "thread_basic");
        assert_eq!(
            (runs.len(), unmatched.len()),
            (1, 0),
            "a subset checks only itself"
        );
    }

    #[test]
    fn the_catalogue_names_each_case_once() {
        let mut seen = HashSet::new();
        for case in catalogue::cases(&Env::offline()) {
            assert!(
                seen.insert(case.name.clone()),
                "two cases are named {}",
                case.name
            );
        }
    }

    /// `cargo test` runs the whole verify, so drift between an example and its
    /// expectation fails the tests as well as `cargo xtask verify`.
    #[test]
    fn every_example_passes_verify() {
        assert!(
            run(&Options::default()).unwrap(),
            "cargo xtask verify failed: see the rows above"
        );
    }
}
