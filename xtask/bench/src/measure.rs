//! Runs one workload process to completion and measures it: wall time, and peak memory
//! from `wait4`'s rusage.
//!
//! `ru_maxrss` from `wait4` covers the child and every descendant it waited for (Linux
//! folds reaped children's peaks into their parent's), and it is the peak of the largest
//! single process among them, not a sum: for a pool of 4 workers it is the biggest of
//! the 5 processes. Linux also folds in the high-water mark of the address space a process
//! had before `exec`, so workloads are started through bench's small `bench_run` launcher
//! (see its header), which does the `wait4` and reports the wall time and the peak.

use std::io;
use std::path::Path;
use std::time::Duration;

/// One finished (or killed) run.
#[derive(Debug)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident memory of the largest process of the tree, in KiB.
    pub max_rss_kib: u64,
    pub stdout: String,
    pub stderr: String,
    /// Exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub timed_out: bool,
}

/// The `bench_run` binary, and the file it writes its measurement to.
#[cfg_attr(
    not(unix),
    expect(dead_code, reason = "only the Unix `run` starts the launcher")
)]
pub struct Launcher<'a> {
    pub exe: &'a Path,
    pub report: &'a Path,
}

/// Runs `program` through `launcher`, if given, else straight from this process (then the
/// peak memory is at least this process's own resident size).
#[cfg(unix)]
pub fn run(
    launcher: Option<&Launcher<'_>>,
    program: &Path,
    args: &[String],
    env: &[(&str, &str)],
    timeout: Duration,
) -> io::Result<Sample> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;

    use xtask::exec;

    let mut command = match launcher {
        Some(l) => {
            let _ = std::fs::remove_file(l.report);
            let mut c = Command::new(l.exe);
            c.arg(l.report).arg(program);
            c
        }
        None => Command::new(program),
    };
    let start = Instant::now();
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pid = child.id() as i32;
    let stdout = exec::reader(child.stdout.take());
    let stderr = exec::reader(child.stderr.take());
    let (done, watch) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        let expired = watch.recv_timeout(timeout) == Err(mpsc::RecvTimeoutError::Timeout);
        if expired {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        expired
    });
    let waited = wait4(pid);
    let wall = start.elapsed();
    let _ = done.send(());
    let timed_out = watchdog.join().expect("the watchdog thread panicked");
    // Whatever the workload left running goes with it.
    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    let (status, mut max_rss_kib) = waited?;
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let mut wall = wall;
    if let Some(l) = launcher {
        let report = std::fs::read_to_string(l.report).unwrap_or_default();
        let mut fields = report.split_whitespace().map(str::parse::<u64>);
        if let (Some(Ok(nanos)), Some(Ok(kib))) = (fields.next(), fields.next()) {
            wall = Duration::from_nanos(nanos);
            max_rss_kib = kib;
        }
    }
    Ok(Sample {
        wall,
        max_rss_kib,
        stdout: stdout.join().expect("output reader panicked"),
        stderr: stderr.join().expect("output reader panicked"),
        code,
        timed_out,
    })
}

/// Elsewhere (Windows) there is no `wait4`; `bench::run` refuses before it gets here.
#[cfg(not(unix))]
pub fn run(
    _launcher: Option<&Launcher<'_>>,
    _program: &Path,
    _args: &[String],
    _env: &[(&str, &str)],
    _timeout: Duration,
) -> io::Result<Sample> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "measuring a run needs wait4, which this system lacks",
    ))
}

/// Reaps `pid`; its wait status and `ru_maxrss` (KiB on Linux).
#[cfg(unix)]
fn wait4(pid: i32) -> io::Result<(i32, u64)> {
    let mut status = 0;
    // SAFETY: `rusage` is a struct of integers, for which all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers point to live, writable locals of the types wait4 expects,
        // and `pid` is our own unreaped child (std's `Child` never waits for it after this).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, u64::try_from(usage.ru_maxrss).unwrap_or(0)));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Duration) -> Sample {
        run(
            None,
            Path::new("sh"),
            &["-c".to_string(), script.to_string()],
            &[("SHARED_START_METHOD", "spawn")],
            timeout,
        )
        .unwrap()
    }

    #[test]
    fn measures_output_code_and_memory() {
        let s = sh(
            "echo 42; echo $SHARED_START_METHOD; exit 3",
            Duration::from_secs(10),
        );
        assert_eq!(
            (s.stdout.as_str(), s.code, s.timed_out),
            ("42\nspawn\n", Some(3), false),
            "the output, the code, and the variable it was given"
        );
        assert!(s.max_rss_kib > 0);
    }

    #[test]
    fn peak_memory_includes_waited_for_children() {
        // `sh` itself is small; the `dd` it starts and waits for fills a 64 MiB buffer.
        let s = sh(
            "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo done",
            Duration::from_secs(30),
        );
        assert_eq!(s.stdout, "done\n");
        assert!(s.max_rss_kib >= 64 * 1024, "{} KiB", s.max_rss_kib);
    }

    #[test]
    fn a_hung_run_is_killed_at_its_limit() {
        let s = sh("echo started; sleep 30", Duration::from_millis(300));
        assert!(s.timed_out);
        assert_eq!(s.code, None);
        assert!(s.wall < Duration::from_secs(5), "{:?}", s.wall);
    }
}
