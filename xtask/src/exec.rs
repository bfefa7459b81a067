//! Runs one example process with a time limit, in a process group of its own so that
//! a hung example and anything it started can be killed together.

use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// What a finished (or killed) run did.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// Exit code; `None` if a signal ended it.
    pub code: Option<i32>,
    pub wall: Duration,
    pub pid: u32,
    /// It was still running at its time limit and was killed.
    pub timed_out: bool,
    /// Processes it started were still running after it exited (they were killed).
    pub left_behind: bool,
}

pub fn run(program: &Path, args: &[String], timeout: Duration) -> io::Result<Outcome> {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // A failing example prints `Error: ...`; with these set, anyhow adds a backtrace.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .spawn()?;
    let pid = child.id();
    let group = Pid::from_raw(pid as i32);
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());

    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            let _ = killpg(group, Signal::SIGKILL);
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(2));
    };
    let wall = start.elapsed();
    // Signal 0 only asks whether any process of the group is left.
    let left_behind = !timed_out && killpg(group, None).is_ok();
    let _ = killpg(group, Signal::SIGKILL);

    Ok(Outcome {
        stdout: stdout.join().expect("output reader panicked"),
        stderr: stderr.join().expect("output reader panicked"),
        code: status.code(),
        wall,
        pid,
        timed_out,
        left_behind,
    })
}

/// Reads a child's pipe to its end on a thread of its own, so a full pipe never blocks it.
pub fn reader(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        decode(&bytes)
    })
}

/// A child's output as text: UTF-8 as it is, and each byte that is not valid UTF-8 as
/// `\xNN`, so a check can tell bytes passed through unchanged from bytes replaced by
/// U+FFFD (which `String::from_utf8_lossy` would make them look like).
pub fn decode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_code() {
        let args = [
            "-c".to_string(),
            "echo out; echo err >&2; exit 3".to_string(),
        ];
        let out = run(Path::new("sh"), &args, Duration::from_secs(10)).unwrap();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert_eq!(out.code, Some(3));
        assert!(!out.timed_out && !out.left_behind);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_escapes_not_replaced() {
        assert_eq!(decode("café\n".as_bytes()), "café\n");
        assert_eq!(decode(b"caf\xe9\n"), "caf\\xE9\n");
        assert_eq!(decode(b"\xff\xfe!"), "\\xFF\\xFE!");
        // A U+FFFD that was really printed stays one, distinct from a raw byte.
        assert_eq!(decode("caf\u{FFFD}".as_bytes()), "caf\u{FFFD}");
    }

    #[test]
    fn a_hung_run_is_killed_at_its_limit() {
        let args = ["-c".to_string(), "echo started; sleep 30".to_string()];
        let out = run(Path::new("sh"), &args, Duration::from_millis(300)).unwrap();
        assert!(out.timed_out);
        assert_eq!(out.code, None);
        assert_eq!(out.stdout, "started\n");
        assert!(out.wall < Duration::from_secs(5), "{:?}", out.wall);
    }

    #[test]
    fn a_process_left_running_is_reported_and_killed() {
        let args = [
            "-c".to_string(),
            "sleep 30 >/dev/null 2>&1 & echo $!".to_string(),
        ];
        let out = run(Path::new("sh"), &args, Duration::from_secs(10)).unwrap();
        assert!(out.left_behind);
        let orphan: i32 = out.stdout.trim().parse().unwrap();
        thread::sleep(Duration::from_millis(100));
        let status = std::fs::read_to_string(format!("/proc/{orphan}/stat")).unwrap_or_default();
        assert!(
            status.is_empty() || status.contains(") Z "),
            "orphan {orphan} still runs: {status}"
        );
    }
}
