//! What one traced run did, on one clock: every thread it created (a process is the
//! threads that share a pid), and every line it wrote to stdout or stderr.

use std::time::Duration;

/// One traced run. Times are since the program started (just after its `execve`).
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The command as run: the program, then its arguments.
    pub command: Vec<String>,
    /// The pid of the process the tracer started.
    pub root: i32,
    /// Every thread, in the order the tracer first saw it; a process's first thread has
    /// `tid == pid`.
    pub threads: Vec<Thread>,
    /// Every line written to fd 1 or 2, in the order written.
    pub lines: Vec<Line>,
    /// When the last thread ended.
    pub end: Duration,
    /// How the started process ended: its exit code, or `None` for a signal.
    pub code: Option<i32>,
    /// What the run printed, as read from its stdout and stderr pipes.
    pub stdout: String,
    pub stderr: String,
    /// It ran past its time limit and the tracer killed it.
    pub timed_out: bool,
    /// Processes that ran a new program (`execve`) after the command's own start, as a
    /// spawned child runs its parent's program again: (pid, when).
    pub execs: Vec<(i32, Duration)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Thread {
    pub tid: i32,
    /// Its process: the thread group id.
    pub pid: i32,
    /// The thread that created it (by fork, vfork or clone); `None` for the first one.
    pub parent: Option<i32>,
    pub born: Duration,
    pub ended: Duration,
    /// Its name (`/proc/TID/comm`) when it ended.
    pub name: String,
    pub end: End,
}

/// How a thread ended.
#[derive(Clone, Debug, PartialEq)]
pub enum End {
    /// It called `exit`: a thread that returned.
    Exit,
    /// It called `exit_group`: its process exited, taking any other threads with it.
    ExitGroup,
    /// It was still running when another thread of its process called `exit_group` or
    /// `execve`, or a signal killed its process.
    TakenDown,
    /// A signal killed it.
    Signal(String),
    /// It was still running when the started process had ended; the tracer killed it.
    LeftRunning,
}

/// One line written to stdout or stderr: a `write` that ends in a newline, or several
/// writes of the same thread that together make one line.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub tid: i32,
    pub pid: i32,
    /// When its first byte was written.
    pub at: Duration,
    /// 1 for stdout, 2 for stderr.
    pub fd: i32,
    /// The text, without its newline.
    pub text: String,
}

/// A process: its pid, and its threads in birth order, the first one first.
pub struct Process<'t> {
    pub pid: i32,
    pub threads: Vec<&'t Thread>,
}

impl Process<'_> {
    /// The first thread: the one fork created.
    pub fn main(&self) -> &Thread {
        self.threads[0]
    }

    pub fn born(&self) -> Duration {
        self.main().born
    }

    /// When its last thread ended.
    pub fn ended(&self) -> Duration {
        self.threads
            .iter()
            .map(|t| t.ended)
            .max()
            .unwrap_or_default()
    }

    /// The process that forked it, if the trace saw that.
    pub fn parent(&self, trace: &Trace) -> Option<i32> {
        let parent = self.main().parent?;
        trace.thread(parent).map(|t| t.pid)
    }
}

impl Trace {
    pub fn thread(&self, tid: i32) -> Option<&Thread> {
        self.threads.iter().find(|t| t.tid == tid)
    }

    /// Whether process `pid` ran a new program during the run (see [`Trace::execs`]).
    pub fn execed(&self, pid: i32) -> bool {
        self.execs.iter().any(|&(p, _)| p == pid)
    }

    /// Every process, in the order each was born, the started one first.
    pub fn processes(&self) -> Vec<Process<'_>> {
        let mut processes: Vec<Process<'_>> = Vec::new();
        for thread in &self.threads {
            match processes.iter_mut().find(|p| p.pid == thread.pid) {
                Some(p) => p.threads.push(thread),
                None => processes.push(Process {
                    pid: thread.pid,
                    threads: vec![thread],
                }),
            }
        }
        for p in &mut processes {
            // The thread whose tid is the pid is the one fork made, even if seen late.
            p.threads.sort_by_key(|t| (t.tid != p.pid, t.born));
        }
        processes
    }
}

/// Joins each thread's writes into whole lines, per thread and per fd, as written.
#[derive(Default)]
pub struct LineSplitter {
    partial: Vec<(i32, i32, i32, Duration, Vec<u8>)>,
    pub lines: Vec<Line>,
}

impl LineSplitter {
    pub fn write(&mut self, tid: i32, pid: i32, fd: i32, at: Duration, bytes: &[u8]) {
        let slot = match self
            .partial
            .iter()
            .position(|(t, _, f, _, _)| *t == tid && *f == fd)
        {
            Some(i) => i,
            None => {
                self.partial.push((tid, pid, fd, at, Vec::new()));
                self.partial.len() - 1
            }
        };
        for &byte in bytes {
            let (_, _, _, started, text) = &mut self.partial[slot];
            if text.is_empty() {
                *started = at;
            }
            if byte == b'\n' {
                let text = std::mem::take(text);
                let started = *started;
                self.push(tid, pid, fd, started, &text);
            } else {
                text.push(byte);
            }
        }
    }

    /// Ends every unfinished line, e.g. at the end of the run.
    pub fn finish(mut self) -> Vec<Line> {
        for (tid, pid, fd, at, text) in std::mem::take(&mut self.partial) {
            if !text.is_empty() {
                self.push(tid, pid, fd, at, &text);
            }
        }
        self.lines.sort_by_key(|l| l.at);
        self.lines
    }

    fn push(&mut self, tid: i32, pid: i32, fd: i32, at: Duration, text: &[u8]) {
        self.lines.push(Line {
            tid,
            pid,
            at,
            fd,
            text: String::from_utf8_lossy(text).into_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_become_whole_lines_per_thread() {
        let ms = Duration::from_millis;
        let mut s = LineSplitter::default();
        s.write(7, 7, 1, ms(1), b"Worker 0");
        s.write(8, 7, 1, ms(2), b"other\n");
        s.write(7, 7, 1, ms(3), b" is starting\nsecond\nthird");
        s.write(7, 7, 2, ms(4), b"err\n");
        let lines = s.finish();
        let got: Vec<(i32, u64, &str)> = lines
            .iter()
            .map(|l| (l.tid, l.at.as_millis() as u64, l.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (7, 1, "Worker 0 is starting"),
                (8, 2, "other"),
                (7, 3, "second"),
                (7, 3, "third"),
                (7, 4, "err"),
            ]
        );
        assert_eq!(lines[4].fd, 2);
    }

    #[test]
    fn processes_group_threads_by_pid() {
        let thread = |tid, pid, parent, born| Thread {
            tid,
            pid,
            parent,
            born: Duration::from_millis(born),
            ended: Duration::from_millis(born + 10),
            name: String::new(),
            end: End::Exit,
        };
        let trace = Trace {
            root: 10,
            threads: vec![
                thread(10, 10, None, 0),
                thread(12, 10, Some(10), 2),
                thread(11, 11, Some(10), 1),
            ],
            ..Trace::default()
        };
        let processes = trace.processes();
        assert_eq!(processes.len(), 2);
        assert_eq!(processes[0].threads.len(), 2);
        assert_eq!(processes[0].ended(), Duration::from_millis(12));
        assert_eq!(processes[1].parent(&trace), Some(10));
        assert_eq!(processes[0].parent(&trace), None);
    }
}
