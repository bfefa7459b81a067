//! Runs one example process with a time limit. On Unix it leads a process group of its
//! own, so that a hung example and anything it started are killed together. Windows
//! gives it no group here: only the example itself can be killed, and a process it left
//! running shows only if it still holds the example's output open.

use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long the output pipes may stay open after the example has exited (and, on Unix,
/// its group was killed): open longer, a process outside our reach still holds them.
pub const PIPES_CLOSE_WITHIN: Duration = Duration::from_secs(5);

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
    /// Unix only: on Windows this is always false.
    pub left_behind: bool,
    /// A process it started still held its stdout or stderr open [`PIPES_CLOSE_WITHIN`]
    /// after it exited, and could not be killed; what it printed could not be read whole.
    pub output_held: bool,
}

pub fn run(
    program: &Path,
    args: &[String],
    env: &[(&str, &str)],
    timeout: Duration,
) -> io::Result<Outcome> {
    let start = Instant::now();
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A failing example prints `Error: ...`; with these set, anyhow adds a backtrace.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    tree::isolate(&mut command);
    let mut child = command.spawn()?;
    let pid = child.id();
    let stdout = reader(child.stdout.take());
    let stderr = reader(child.stderr.take());

    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() >= timeout {
            timed_out = true;
            tree::kill(&mut child);
            break child.wait()?;
        }
        thread::sleep(Duration::from_millis(2));
    };
    let wall = start.elapsed();
    let left_behind = !timed_out && still_left(&child);
    tree::kill(&mut child);
    let deadline = Instant::now() + PIPES_CLOSE_WITHIN;
    let (stdout, stderr) = (finish(stdout, deadline), finish(stderr, deadline));

    Ok(Outcome {
        output_held: stdout.is_none() || stderr.is_none(),
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
        code: status.code(),
        wall,
        pid,
        timed_out,
        left_behind,
    })
}

/// How long processes the example started may take to finish exiting after it has: a
/// child reaped by the example can still be tearing down (wine's do, for a few
/// milliseconds, and longer on a loaded machine). One still there after this was left
/// running.
const EXITS_FINISH_WITHIN: Duration = Duration::from_millis(500);

/// Whether processes of the example's group are still there [`EXITS_FINISH_WITHIN`] after
/// it exited.
fn still_left(child: &Child) -> bool {
    let deadline = Instant::now() + EXITS_FINISH_WITHIN;
    while tree::any_left(child) {
        if Instant::now() >= deadline {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    false
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

/// What a [`reader`] read, once its pipe has closed; `None` if it is still open at
/// `deadline` (the thread is then left to end when the pipe closes).
fn finish(reader: thread::JoinHandle<String>, deadline: Instant) -> Option<String> {
    while !reader.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(2));
    }
    Some(reader.join().expect("output reader panicked"))
}

/// The example and the processes it starts, as one group that signals reach together.
#[cfg(unix)]
mod tree {
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};

    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;

    /// Starts the example as the leader of a new process group, which its children join.
    pub fn isolate(command: &mut Command) {
        command.process_group(0);
    }

    /// Kills every process of the group, the example's own too if it still runs.
    pub fn kill(child: &mut Child) {
        let _ = killpg(group(child), Signal::SIGKILL);
    }

    /// Whether any process of the group is left running (signal 0 only asks). On Linux a
    /// zombie does not count: it has ended, and waits only for its parent (or, an orphan,
    /// init) to reap it, which under wine comes a moment after the example has exited,
    /// since wine reaps no Windows child itself.
    pub fn any_left(child: &Child) -> bool {
        killpg(group(child), None).is_ok() && !(cfg!(target_os = "linux") && all_zombies(child))
    }

    /// Whether every process of the group is a zombie (`Z` in `/proc/PID/stat`); false if
    /// `/proc` cannot tell.
    fn all_zombies(child: &Child) -> bool {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return false;
        };
        let group = child.id().to_string();
        for entry in entries.flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses.
            let Some((_, after)) = stat.rsplit_once(')') else {
                continue;
            };
            let fields: Vec<&str> = after.split_whitespace().collect();
            if fields.get(2) == Some(&group.as_str()) && fields.first() != Some(&"Z") {
                return false;
            }
        }
        true
    }

    fn group(child: &Child) -> Pid {
        Pid::from_raw(child.id() as i32)
    }
}

/// Windows: std starts no process group or job, so the example is a tree of one.
#[cfg(not(unix))]
mod tree {
    use std::process::{Child, Command};

    pub fn isolate(_: &mut Command) {}

    pub fn kill(child: &mut Child) {
        let _ = child.kill();
    }

    /// Cannot tell: a process the example started is seen only through its output pipes.
    pub fn any_left(_: &Child) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_pipe_held_open_is_given_up_on_at_the_deadline() {
        let (pipe, mut writer) = io::pipe().unwrap();
        writer.write_all(b"partial").unwrap();
        let soon = Instant::now() + Duration::from_millis(200);
        assert_eq!(finish(reader(Some(pipe)), soon), None);
        assert!(Instant::now() < soon + Duration::from_secs(2));

        let (pipe, mut writer) = io::pipe().unwrap();
        writer.write_all(b"whole").unwrap();
        drop(writer);
        let later = Instant::now() + Duration::from_secs(10);
        assert_eq!(finish(reader(Some(pipe)), later).as_deref(), Some("whole"));
    }

    #[cfg(unix)]
    #[test]
    fn captures_output_and_exit_code() {
        let args = [
            "-c".to_string(),
            "echo out; echo err >&2; exit 3".to_string(),
        ];
        let out = run(Path::new("sh"), &args, &[], Duration::from_secs(10)).unwrap();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert_eq!(out.code, Some(3));
        assert!(!out.timed_out && !out.left_behind && !out.output_held);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_escapes_not_replaced() {
        assert_eq!(decode("café\n".as_bytes()), "café\n");
        assert_eq!(decode(b"caf\xe9\n"), "caf\\xE9\n");
        assert_eq!(decode(b"\xff\xfe!"), "\\xFF\\xFE!");
        // A U+FFFD that was really printed stays one, distinct from a raw byte.
        assert_eq!(decode("caf\u{FFFD}".as_bytes()), "caf\u{FFFD}");
    }

    #[cfg(unix)]
    #[test]
    fn a_hung_run_is_killed_at_its_limit() {
        let args = ["-c".to_string(), "echo started; sleep 30".to_string()];
        let out = run(Path::new("sh"), &args, &[], Duration::from_millis(300)).unwrap();
        assert!(out.timed_out);
        assert_eq!(out.code, None);
        assert_eq!(out.stdout, "started\n");
        assert!(out.wall < Duration::from_secs(5), "{:?}", out.wall);
    }

    /// A process that has ended but is not reaped (a zombie: here of this test, which
    /// waits for it only at the end) is not left running.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_group_of_zombies_has_nothing_left_running() {
        let mut command = Command::new("true");
        tree::isolate(&mut command);
        let mut child = command.spawn().unwrap();
        let zombie = || {
            std::fs::read_to_string(format!("/proc/{}/stat", child.id())).is_ok_and(|stat| {
                stat.rsplit_once(')')
                    .is_some_and(|(_, s)| s.trim_start().starts_with('Z'))
            })
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !zombie() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        assert!(zombie(), "`true` did not end");
        assert!(!tree::any_left(&child));
        child.wait().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_process_left_running_is_reported_and_killed() {
        let args = [
            "-c".to_string(),
            "sleep 30 >/dev/null 2>&1 & echo $!".to_string(),
        ];
        let out = run(Path::new("sh"), &args, &[], Duration::from_secs(10)).unwrap();
        assert!(out.left_behind);
        // Killed: gone, or a zombie its new parent has yet to reap (/proc tells those apart).
        #[cfg(target_os = "linux")]
        {
            let orphan: i32 = out.stdout.trim().parse().unwrap();
            thread::sleep(Duration::from_millis(100));
            let status =
                std::fs::read_to_string(format!("/proc/{orphan}/stat")).unwrap_or_default();
            assert!(
                status.is_empty() || status.contains(") Z "),
                "orphan {orphan} still runs: {status}"
            );
        }
    }
}
