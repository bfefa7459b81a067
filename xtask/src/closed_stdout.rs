//! A test, run by `cargo test`: every example, its stdout piped into a reader that closes
//! at once or after one line (`example | head -1`), does what the README says: once the
//! reader has gone, its next write to stdout fails with `EPIPE` (Rust ignores SIGPIPE),
//! and the example ends with an error naming the broken pipe ("failed printing to
//! stdout: Broken pipe" when `println!` panics on it), as Python's `print` ends in a
//! `BrokenPipeError`; or, if it printed nothing more, it ends as usual. It is never killed by a signal, never hangs,
//! and leaves no process of its behind.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::catalogue::{self, Env};
use crate::exec;
use crate::http_server::Server;
use crate::verify::example_bins;
use crate::workspace;

/// What the README says a run whose reader went away prints on stderr: the error's name.
const BROKEN_PIPE: &str = "Broken pipe";

/// `Ok` if a run whose reader went away ended as the README says.
fn ended_as_said(status: ExitStatus, stderr: &str, left_behind: bool) -> Result<(), String> {
    let as_usual = status.success() && stderr.is_empty();
    let broken_pipe =
        !status.success() && status.signal().is_none() && stderr.contains(BROKEN_PIPE);
    if (as_usual || broken_pipe) && !left_behind {
        return Ok(());
    }
    let left = if left_behind {
        ", leaving processes behind"
    } else {
        ""
    };
    Err(format!("ended with {status}{left}; stderr:\n{stderr}"))
}

/// Runs `exe args`, its stdout a pipe whose reader reads `lines` lines and then closes (0:
/// closed before the start), in a process group of its own; kills it after 30 s.
fn run_with_reader_gone(exe: &Path, args: &[String], lines: usize) -> anyhow::Result<()> {
    let (read, write) = std::io::pipe().context("opening a pipe")?;
    let reader = (lines > 0).then(|| {
        thread::spawn(move || {
            let _ = BufReader::new(read).lines().take(lines).count();
        })
    });
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(write)
        .stderr(Stdio::piped())
        .process_group(0)
        .env_remove("RUST_BACKTRACE")
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let stderr = exec::reader(child.stderr.take());
    let group = Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = killpg(group, Signal::SIGKILL);
            bail!("still running after 30 s");
        }
        thread::sleep(Duration::from_millis(2));
    };
    // A parent that ends early leaves its children to end (by PDEATHSIG, or by their own
    // broken pipe) and their zombies to init: give them a moment, then look for any still
    // running.
    let gone_by = Instant::now() + Duration::from_secs(1);
    while running_in_group(child.id()) && Instant::now() < gone_by {
        thread::sleep(Duration::from_millis(5));
    }
    let left_behind = running_in_group(child.id());
    let _ = killpg(group, Signal::SIGKILL);
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    let stderr = stderr.join().expect("stderr reader panicked");
    ended_as_said(status, &stderr, left_behind).map_err(anyhow::Error::msg)
}

/// Whether a process of group `pgid` is running (a zombie is not): from /proc on Linux.
#[cfg(target_os = "linux")]
fn running_in_group(pgid: u32) -> bool {
    let mut procs = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    procs.any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // "pid (comm) state ppid pgrp ...": comm may hold spaces; split after the last ')'.
        let fields: Vec<&str> = stat[stat.rfind(')').map_or(0, |i| i + 1)..]
            .split_whitespace()
            .collect();
        fields.get(2) == Some(&pgid.to_string().as_str()) && fields[0] != "Z"
    })
}

/// Whether a process of group `pgid` is running (a zombie is not): from `ps`.
#[cfg(not(target_os = "linux"))]
fn running_in_group(pgid: u32) -> bool {
    let out = Command::new("ps")
        .args(["-A", "-o", "pgid=,stat="])
        .output()
        .expect("running ps");
    String::from_utf8_lossy(&out.stdout).lines().any(|line| {
        let mut fields = line.split_whitespace();
        fields.next() == Some(pgid.to_string().as_str())
            && !fields.next().is_some_and(|stat| stat.starts_with('Z'))
    })
}

#[test]
fn every_example_ends_as_the_readme_says_when_its_reader_goes() {
    let status = Command::new(workspace::cargo())
        .args(["build", "--quiet", "--workspace", "--bins"])
        .args(["--exclude", "xtask", "--exclude", "bench"])
        .status()
        .expect("running cargo build");
    assert!(status.success(), "building the examples failed");
    let server = Server::start().unwrap(); // async_fetch's pages, on 127.0.0.1
    let env = Env {
        http: server.base_url(),
        refused: server.refused_url(),
    };
    let cases = catalogue::cases(&env);
    let bins = example_bins().unwrap();
    let problems: Vec<String> = thread::scope(|scope| {
        let runs: Vec<_> = bins
            .iter()
            .flat_map(|bin| [0, 1].map(|lines| (bin, lines)))
            .map(|(bin, lines)| {
                // The plain run its header shows: the binary's first case.
                let args = cases
                    .iter()
                    .find(|c| c.bin == bin.name)
                    .map_or(&[][..], |c| &c.args[..]);
                let run = scope.spawn(move || run_with_reader_gone(&bin.exe, args, lines));
                (bin, lines, run)
            })
            .collect();
        runs.into_iter()
            .filter_map(
                |(bin, lines, run)| match run.join().expect("a run panicked") {
                    Ok(()) => None,
                    Err(why) => Some(format!("{} | head -{lines}: {why:#}", bin.name)),
                },
            )
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_check_refuses_ends_other_than_the_readme_says() {
    let exit = ExitStatus::from_raw;
    let killed_by = |signal: Signal| ExitStatus::from_raw(signal as i32);
    let panicked = "thread 'main' panicked at src/main.rs:3:5:\nfailed printing to stdout: \
                    Broken pipe (os error 32)\n";
    assert!(ended_as_said(exit(0), "", false).is_ok());
    assert!(ended_as_said(exit(101 << 8), panicked, false).is_ok());
    let from_a_child = "Error: process 7 panicked: failed printing to stdout: Broken pipe \
                        (os error 32)\n";
    assert!(ended_as_said(exit(1 << 8), from_a_child, false).is_ok());
    let returned = "Error: Broken pipe (os error 32)\n";
    assert!(ended_as_said(exit(1 << 8), returned, false).is_ok());
    // Killed by a signal (SIGPIPE too: the README says it panics), another error, an error
    // without its message, success with a broken pipe's message, children left behind.
    assert!(ended_as_said(killed_by(Signal::SIGPIPE), "", false).is_err());
    assert!(ended_as_said(killed_by(Signal::SIGSEGV), panicked, false).is_err());
    assert!(ended_as_said(exit(1 << 8), "Error: no such file\n", false).is_err());
    assert!(ended_as_said(exit(1 << 8), "", false).is_err());
    assert!(ended_as_said(exit(0), panicked, false).is_err());
    assert!(ended_as_said(exit(101 << 8), panicked, true).is_err());
    assert!(ended_as_said(exit(0), "", true).is_err());
}
