//! `bench_run OUT PROGRAM [ARGS...]`: the launcher `cargo xtask bench` measures each
//! workload through. It runs PROGRAM with this process's stdio, reaps it with `wait4`,
//! writes `<wall nanoseconds> <ru_maxrss KiB>` to OUT and exits with PROGRAM's code
//! (128 + the signal, if a signal ended it).
//!
//! Why a launcher: Linux folds the memory high-water mark of the address space a process
//! had before `exec` into its `ru_maxrss`, so a workload started straight from xtask would
//! report at least xtask's own resident size. Started from this small process instead,
//! the floor is this launcher's size, and the peak is the workload's (or the largest of
//! the children it waited for: `wait4` covers those too).

use std::ffi::OsString;
use std::io;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::Context;

fn main() -> anyhow::Result<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    let usage = "usage: bench_run OUT PROGRAM [ARGS...]";
    let out = args.next().context(usage)?;
    let program: OsString = args.next().context(usage)?;
    let start = Instant::now();
    let child = Command::new(&program)
        .args(args)
        .spawn()
        .with_context(|| format!("starting {}", program.to_string_lossy()))?;
    let (status, max_rss_kib) = wait4(child.id() as libc::pid_t).context("waiting for it")?;
    let wall = start.elapsed();
    std::fs::write(&out, format!("{} {max_rss_kib}\n", wall.as_nanos()))
        .with_context(|| format!("writing {}", out.to_string_lossy()))?;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok(ExitCode::from(code as u8))
}

/// Reaps `pid`: its wait status and `ru_maxrss` (KiB on Linux).
fn wait4(pid: libc::pid_t) -> io::Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: `rusage` is a struct of integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers point to live, writable locals of the types wait4 expects,
        // and `pid` is our own unreaped child (std's `Child` is never waited on after this).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage.ru_maxrss));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
