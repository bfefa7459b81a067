//! `cargo xtask bench`: each tutorial pattern at a scale where its cost shows, as whole
//! processes, Rust (the `bench` package, built `--release`) against the project's Python
//! scripts of the same pattern (bench/python/) and, where there are some, Rust peers: the
//! same model from another crate (procspawn for the pool) and the limit of a cheaper model
//! (rayon's threads).
//!
//! Each run's printed result is checked, so a fast wrong answer fails its row. The runs of
//! a row alternate between the contenders; the report gives medians, peak memory and the
//! ratios, checks each target, and goes to `target/bench/report.md` with a chart beside it.

mod measure;
mod report;
mod svg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use measure::Sample;

use xtask::workspace;

pub struct Options {
    pub quick: bool,
    /// `None`: the default for the mode (5 runs, 3 with `--quick`).
    pub runs: Option<usize>,
    pub names: Vec<String>,
}

const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--runs N] [ROW...]

Times each pattern at scale (release build), Rust against Python and its Rust peers;
writes target/bench/report.md and speedup.svg. --quick: small sizes, a smoke test;
--runs N: runs per contender (default 5, 3 with --quick); ROW runs only those rows.";

impl Options {
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        use lexopt::Arg::{Long, Value};
        let mut options = Options {
            quick: false,
            runs: None,
            names: Vec::new(),
        };
        let mut parser = xtask::args::parser(args);
        while let Some(arg) = parser.next()? {
            match arg {
                Long("quick") => options.quick = true,
                Long("runs") => options.runs = Some(xtask::args::count(&mut parser, "--runs")?),
                Value(name) => {
                    let name = xtask::args::word(name)?;
                    if !ROWS.iter().any(|r| r.name == name) {
                        let known: Vec<&str> = ROWS.iter().map(|r| r.name).collect();
                        bail!(
                            "no bench row named `{name}`; the rows are: {}",
                            known.join(", ")
                        );
                    }
                    options.names.push(name);
                }
                other => return Err(xtask::args::unexpected(other)),
            }
        }
        Ok(options)
    }

    fn runs(&self) -> usize {
        self.runs.unwrap_or(if self.quick { 3 } else { 5 })
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if xtask::args::asks_for_help(&args) {
        println!("{USAGE}");
        return std::process::ExitCode::SUCCESS;
    }
    xtask::exit_code(Options::parse(&args).and_then(|o| run(&o)))
}

/// A Rust contender: a binary of the `bench` package and the workload it runs.
pub struct Rust {
    pub label: &'static str,
    pub bin: &'static str,
    pub workload: &'static str,
}

/// What a peer is to the workspace's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The same model from another crate: what a user would choose instead (procspawn's
    /// process pool, an ipc-channel channel, std's `mpsc`).
    SameModel,
    /// A cheaper model that bounds what the pattern can reach (rayon's threads for a
    /// process pool, a raw pipe for a process queue): the limit, not a rival.
    Limit,
}

impl Kind {
    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SameModel => "same-model peer",
            Kind::Limit => "limit",
        }
    }
}

/// A Rust peer a row is measured against.
pub struct Peer {
    pub kind: Kind,
    pub rust: Rust,
    /// The peer's median time over Rust's must reach this: 3.0 is "3× the peer's
    /// throughput", 0.5 "at least half of it".
    pub target: Option<f64>,
    /// What bounds the peer, and so the gap between it and the workspace's code.
    pub note: &'static str,
}

pub struct Row {
    pub name: &'static str,
    pub pattern: &'static str,
    pub full: u64,
    pub quick: u64,
    /// What the workload does at size n, for the report.
    pub workload: fn(u64) -> String,
    /// The result each run must print.
    pub expected: fn(u64) -> u128,
    pub rust: Rust,
    /// The script in bench/python/, run as `python3 <script> <n>`.
    pub python: &'static str,
    /// Python's median time over Rust's must reach this.
    pub vs_python: f64,
    /// At most one of each [`Kind`], same-model peer first.
    pub peers: &'static [Peer],
    /// A process row: run once per start method ([`start_methods`]), Rust under
    /// `SHARED_START_METHOD`, Python under `multiprocessing.get_context`.
    pub processes: bool,
    /// Where the Rust time goes.
    pub note: &'static str,
}

/// The start methods the process rows run under: both of Python's that `shared` has, or
/// only the one `SHARED_START_METHOD` names when it is set.
pub fn start_methods() -> anyhow::Result<Vec<&'static str>> {
    start_methods_for(std::env::var("SHARED_START_METHOD").ok().as_deref())
}

/// [`start_methods`], given the variable's value.
fn start_methods_for(variable: Option<&str>) -> anyhow::Result<Vec<&'static str>> {
    const BOTH: [&str; 2] = ["fork", "spawn"];
    match variable {
        None => Ok(BOTH.to_vec()),
        Some(name) => match BOTH.iter().find(|m| **m == name) {
            Some(method) => Ok(vec![*method]),
            None => bail!(
                "SHARED_START_METHOD is `{name}`; the bench runs the process rows under \
                 `fork` or `spawn` (unset it to run both)"
            ),
        },
    }
}

fn sum_below(n: u64) -> u128 {
    let n = u128::from(n);
    n * n.saturating_sub(1) / 2
}

fn sum_of_squares_below(n: u64) -> u128 {
    let n = u128::from(n);
    if n == 0 {
        0
    } else {
        (n - 1) * n * (2 * n - 1) / 6
    }
}

/// `1000000` as `1 000 000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The target of a row with no bigger claim: faster than Python.
const FASTER_THAN_PYTHON: f64 = 1.0;

pub static ROWS: &[Row] = &[
    Row {
        name: "process_spawn",
        pattern: "process spawn + join",
        full: 200,
        quick: 20,
        workload: |n| format!("{} processes started, then joined", grouped(n)),
        expected: |n| u128::from(n),
        rust: Rust {
            label: "shared::Process",
            bin: "bench_processes",
            workload: "process_spawn",
        },
        python: "process_spawn.py",
        vs_python: FASTER_THAN_PYTHON,
        peers: &[],
        processes: true,
        note: "Under fork both fork; Python's `Process.start` also sets up a sentinel pipe \
               and runs its bootstrap in the child, and the interpreter's pages make each \
               fork dearer. Under spawn each child is the program started again (`execve` \
               of `/proc/self/exe`; Python starts a fresh interpreter that imports the \
               script): perf puts about half the CPU in the dynamic loader, most of it glibc \
               and libgcc asking the CPU its features and cache sizes with `cpuid`, which \
               traps to the hypervisor on a virtual machine like this one.",
    },
    Row {
        name: "pool_map",
        pattern: "process pool map",
        full: 1_000_000,
        quick: 20_000,
        workload: |n| format!("`square` over {} items, 4 workers", grouped(n)),
        expected: sum_of_squares_below,
        rust: Rust {
            label: "shared::Pool",
            bin: "bench_processes",
            workload: "pool_map",
        },
        python: "pool_map.py",
        vs_python: 15.0,
        peers: &[
            Peer {
                kind: Kind::SameModel,
                rust: Rust {
                    label: "procspawn Pool",
                    bin: "bench_procspawn",
                    workload: "procspawn_map",
                },
                target: Some(2.0),
                note: "procspawn's `Pool` keeps 4 workers, each this binary executed again \
                       (`execve`, then `procspawn::init` connects it back through \
                       ipc-channel); starting and stopping them takes about 11 ms (`perf \
                       stat` of `bench_procspawn procspawn_map 0`). A job is a serde call: \
                       its argument goes to a worker and its result comes back, each \
                       postcard-encoded in an ipc-channel message on a Unix socket. One job \
                       per item, procspawn's own unit, is a round trip of several messages, \
                       two of them carrying the job's new channels as file descriptors: \
                       about 70 µs a job (1.4 s for `bench_procspawn procspawn_each 20000`), \
                       over a minute for a million, and a million jobs submitted at once run \
                       out of file descriptors. So the row sends batches, as a user would: \
                       16 per worker, the fastest of 1 to 64 per worker here. What bounds it \
                       then is moving the data through serde both ways (`shared::Pool` sends \
                       plain numbers as their bytes): perf finds about 30% of the cycles in \
                       serde (mostly decoding), 20% in copies, 15% in page faults on fresh \
                       buffers and 10% in the socket calls. It starts its workers the same \
                       way under either start method, so its time is the same in both rows.",
            },
            Peer {
                kind: Kind::Limit,
                rust: Rust {
                    label: "rayon",
                    bin: "bench_threads",
                    workload: "rayon_map",
                },
                target: Some(1.0 / 3.0),
                note: "rayon's threads read the items and write the results in place, in \
                       memory they share: no process to start, nothing copied. Threads are \
                       the limit a process pool is measured against, not a rival to it.",
            },
        ],
        processes: true,
        note: "`Pool::new(4)` starts the four workers that serve the call (forked: about \
               0.6 ms for the four; spawned: 1.5 to 2 ms, one `posix_spawn` after another, \
               each sent its handles with its start message), before the items are made, \
               as in the Python and procspawn rows. `map` cuts the million items into 123 \
               chunks of 8192; plain numbers travel as their bytes, through an area of \
               shared memory beside each worker's pipe (the pipe carries a frame of a few \
               words, and each frame wakes its worker), and each chunk's squares come back \
               the same way and are copied from the area straight into their place in the \
               `Vec` that `map` returns, whose pages a thread of the call's own faults in \
               meanwhile (huge pages where the kernel allows). perf (the parent's main \
               thread) puts about a third of its CPU in making the 8 MB of items (the row's \
               own `collect`, a page fault per 4 KiB), 12% in copying the items into the \
               areas, 10 to 11% in copying the results out, 11% (fork) to 13% (spawn) in \
               the pipe writes that wake the workers, 7% in its own start-up and 6% in \
               freeing memory at the end. Under spawn each worker's start-up (1 to 2 ms of \
               CPU here, `perf sched`: mostly `execve` and the C library's) competes with \
               the parent for the two cores (see process spawn + join).",
    },
    Row {
        name: "shared_value",
        pattern: "shared Value",
        full: 1_000_000,
        quick: 20_000,
        workload: |n| format!("4 processes × {} increments", grouped(n)),
        expected: |n| 4 * u128::from(n),
        rust: Rust {
            label: "shared::Value",
            bin: "bench_processes",
            workload: "shared_value",
        },
        python: "shared_value.py",
        vs_python: 100.0,
        peers: &[],
        processes: true,
        note: "`shared::Value::fetch_add` is one atomic add on a `MAP_SHARED` page, no lock \
               (Python takes `get_lock()`, a semaphore, and still runs bytecode per add): the \
               cost left is the cache line moving between the 2 cores.",
    },
    Row {
        name: "lock_counter",
        pattern: "lock counter",
        full: 1_000_000,
        quick: 20_000,
        workload: |n| format!("4 threads × {} `Mutex` increments", grouped(n)),
        expected: |n| 4 * u128::from(n),
        rust: Rust {
            label: "std Mutex",
            bin: "bench_threads",
            workload: "lock_counter",
        },
        python: "lock_counter.py",
        vs_python: FASTER_THAN_PYTHON,
        peers: &[],
        processes: false,
        note: "An uncontended `Mutex` lock is one atomic instruction, but 4 threads on 2 \
               cores contend for real and some locks end in a futex wait; Python's GIL runs \
               one thread at a time, so its lock is almost never contended.",
    },
    Row {
        name: "thread_queue",
        pattern: "thread queue",
        full: 1_000_000,
        quick: 50_000,
        workload: |n| format!("{} items, 1 producer → 1 consumer", grouped(n)),
        expected: sum_below,
        rust: Rust {
            label: "crossbeam unbounded",
            bin: "bench_threads",
            workload: "thread_queue",
        },
        python: "thread_queue.py",
        vs_python: FASTER_THAN_PYTHON,
        peers: &[Peer {
            kind: Kind::SameModel,
            rust: Rust {
                label: "std mpsc",
                bin: "bench_threads",
                workload: "mpsc_queue",
            },
            target: None,
            note: "std's `mpsc::channel` is crossbeam's list channel ported into std (Rust \
                   1.67), the same design, so the gap is between two builds of it, not a \
                   wrapper's cost.",
        }],
        processes: false,
        note: "The example's queue *is* a raw crossbeam-channel `unbounded()`, no wrapper: \
               a producer appends to a linked list of blocks of slots and a consumer takes \
               from its head, with no syscall unless the consumer has to sleep.",
    },
    Row {
        name: "process_queue",
        pattern: "process queue",
        full: 1_000_000,
        quick: 50_000,
        workload: |n| format!("{} items, child process → parent", grouped(n)),
        expected: sum_below,
        rust: Rust {
            label: "shared::Queue",
            bin: "bench_processes",
            workload: "process_queue",
        },
        python: "process_queue.py",
        vs_python: 100.0,
        peers: &[
            Peer {
                kind: Kind::SameModel,
                rust: Rust {
                    label: "ipc-channel",
                    bin: "bench_ipc_channel",
                    workload: "ipc_channel",
                },
                target: Some(2.0),
                note: "Its natural use, one `send` per item: a postcard encode into a new \
                       `Vec`, then one `sendmsg` of a `SOCK_SEQPACKET` packet (a 16-byte \
                       header and the 1-3 byte varint); the parent makes one `recvmsg` per \
                       item and decodes it (perf counts exactly one of each per item). The kernel \
                       allocates, fills, queues and frees a socket buffer per packet: about \
                       6 µs of CPU an item, 90% of it in the kernel, where the queue makes \
                       one `write` per 64 KiB of items.",
            },
            Peer {
                kind: Kind::Limit,
                rust: Rust {
                    label: "raw buffered pipe",
                    bin: "bench_processes",
                    workload: "pipe",
                },
                target: Some(0.5),
                note: "The raw pipe writes fixed 8-byte integers through a 64 KiB \
                       `BufWriter` and reads them through a `BufReader`: no framing, no \
                       encoding, no lock, the least a byte stream between two processes \
                       costs.",
            },
        ],
        processes: true,
        note: "`shared::Queue` writes each item as a frame, a 4-byte length and then \
               postcard's 1-3 byte varint, into a 64 KiB buffer that goes out under a \
               writers' lock in shared memory (one uncontended compare-and-swap per 64 \
               KiB), so that several producers never tear each other's frames: about 7 MB \
               of frames in 108 `write`s, taken in 217 `read`s (strace), fewer bytes than \
               the pipe's 8 MB. Syscalls do not bound it, then; the work per item does: \
               perf puts over 40% of the cycles in the producer's `put` (a frame pushed, \
               the item encoded) and about 30% in the consumer's `get` and postcard's \
               decode, where the pipe copies 8 bytes each side.",
    },
    Row {
        name: "async_tasks",
        pattern: "async tasks",
        full: 100_000,
        quick: 5_000,
        workload: |n| format!("{} tasks, each yielding once", grouped(n)),
        expected: sum_below,
        rust: Rust {
            label: "tokio::spawn",
            bin: "bench_async",
            workload: "async_tasks",
        },
        python: "async_tasks.py",
        vs_python: FASTER_THAN_PYTHON,
        peers: &[],
        processes: false,
        note: "Each tokio task is one allocation and a few atomic operations; an asyncio task \
               is a Python object scheduled through the event loop's ready queue.",
    },
    Row {
        name: "async_queue",
        pattern: "async queue",
        full: 1_000_000,
        quick: 50_000,
        workload: |n| format!("{} items, producer task → consumer task", grouped(n)),
        expected: sum_below,
        rust: Rust {
            label: "tokio mpsc",
            bin: "bench_async",
            workload: "async_queue",
        },
        python: "async_queue.py",
        vs_python: FASTER_THAN_PYTHON,
        peers: &[],
        processes: false,
        note: "tokio's channel hands items over without a syscall; a waiting consumer is woken \
               through the runtime, not the OS.",
    },
];

/// A contender's runs.
#[derive(Debug, Default)]
pub struct Runs {
    pub label: String,
    pub walls: Vec<Duration>,
    pub max_rss_kib: u64,
    /// The first failed run: what it printed against what was expected, or how it died.
    pub failure: Option<String>,
    /// Why it was not run at all (no python3 on PATH).
    pub skipped: Option<String>,
}

impl Runs {
    fn new(label: &str) -> Runs {
        Runs {
            label: label.to_string(),
            ..Runs::default()
        }
    }

    /// The median wall time of the runs, if they all succeeded.
    pub fn median(&self) -> Option<Duration> {
        if self.failure.is_some() || self.skipped.is_some() {
            return None;
        }
        median(&self.walls)
    }
}

pub struct RowResult {
    pub row: &'static Row,
    /// The start method a process row ran under.
    pub method: Option<&'static str>,
    pub n: u64,
    pub rust: Runs,
    pub python: Runs,
    /// One per peer of the row, in its order.
    pub peers: Vec<(&'static Peer, Runs)>,
}

impl RowResult {
    /// The row's name, with its start method: `pool_map/spawn`.
    pub fn name(&self) -> String {
        match self.method {
            Some(method) => format!("{}/{method}", self.row.name),
            None => self.row.name.to_string(),
        }
    }

    /// The row's pattern, with its start method: `process pool map (spawn)`.
    pub fn pattern(&self) -> String {
        match self.method {
            Some(method) => format!("{} ({method})", self.row.pattern),
            None => self.row.pattern.to_string(),
        }
    }

    /// Every contender's runs: Rust, Python, then the peers.
    pub fn all_runs(&self) -> impl Iterator<Item = &Runs> {
        [&self.rust, &self.python]
            .into_iter()
            .chain(self.peers.iter().map(|(_, runs)| runs))
    }

    pub fn failed(&self) -> bool {
        self.all_runs().any(|r| r.failure.is_some())
    }
}

pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2),
    }
}

/// Checks a run's stdout: its last line must be the expected result.
pub fn check_result(stdout: &str, expected: u128) -> Result<(), String> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    match last.map(|l| l.trim().parse::<u128>()) {
        Some(Ok(got)) if got == expected => Ok(()),
        Some(Ok(got)) => Err(format!("printed {got}, expected {expected}: WRONG RESULT")),
        Some(Err(_)) => Err(format!(
            "its last line `{}` is not a number (expected {expected})",
            last.unwrap_or_default().trim()
        )),
        None => Err(format!("printed nothing (expected {expected})")),
    }
}

/// Why a sample does not count, if it does not.
fn judge(sample: &Sample, expected: u128, timeout: Duration) -> Result<(), String> {
    let tail = |s: &str| {
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    };
    let why = if sample.timed_out {
        format!("still running after {}s: killed", timeout.as_secs())
    } else if sample.code != Some(0) {
        match sample.code {
            Some(code) => format!("exited with code {code}"),
            None => "was killed by a signal".to_string(),
        }
    } else {
        check_result(&sample.stdout, expected)?;
        return Ok(());
    };
    let stderr = tail(&sample.stderr);
    Err(if stderr.is_empty() {
        why
    } else {
        format!("{why}; its stderr ends:\n{stderr}")
    })
}

struct Paths {
    root: PathBuf,
    target: PathBuf,
}

fn paths() -> anyhow::Result<Paths> {
    let meta = workspace::metadata()?;
    let dir = |key: &str| -> anyhow::Result<PathBuf> {
        Ok(PathBuf::from(
            meta[key]
                .as_str()
                .with_context(|| format!("cargo metadata has no {key}"))?,
        ))
    };
    Ok(Paths {
        root: dir("workspace_root")?,
        target: dir("target_directory")?,
    })
}

fn build() -> anyhow::Result<()> {
    eprintln!("building the workloads: cargo build --release -p bench --bins");
    let status = Command::new(workspace::cargo())
        .args(["build", "--quiet", "--release", "-p", "bench", "--bins"])
        .status()
        .context("running `cargo build`")?;
    if !status.success() {
        bail!(
            "the release build of the bench workloads failed; fix the errors above \
             (`cargo build --release -p bench` shows them again), then run `cargo xtask bench`"
        );
    }
    Ok(())
}

/// `python3 --version`, or why there is none.
fn python_version() -> Result<String, String> {
    match Command::new("python3").arg("--version").output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Ok(text.trim_start_matches("Python ").to_string())
        }
        Ok(out) => Err(format!(
            "`python3 --version` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(_) => Err("no python3 on PATH".to_string()),
    }
}

/// One contender, ready to run.
struct Contender<'a> {
    runs: &'a mut Runs,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
}

/// Runs every selected row, writes the report; `Ok(true)` when every run's result was right.
pub fn run(options: &Options) -> anyhow::Result<bool> {
    if !cfg!(target_os = "linux") {
        bail!(
            "cargo xtask bench runs on Linux only: it reads peak memory as Linux reports it \
             (wait4's ru_maxrss in KiB) and the machine from /proc"
        );
    }
    let paths = paths()?;
    build()?;
    let python = python_version();
    if let Err(why) = &python {
        eprintln!("warning: {why}: the Python column will be empty; the Rust rows still run");
    }
    let release = paths.target.join("release");
    let out_dir = if options.quick {
        paths.target.join("bench").join("quick")
    } else {
        paths.target.join("bench")
    };
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let launcher_exe = release.join("bench_run");
    let report_file = out_dir.join("last-run.txt");
    let launcher = measure::Launcher {
        exe: &launcher_exe,
        report: &report_file,
    };
    let scripts = paths.root.join("bench").join("python");
    let runs = options.runs();
    let timeout = Duration::from_secs(if options.quick { 60 } else { 600 });
    let mode = if options.quick { "quick" } else { "full" };
    eprintln!("{mode} sizes, {runs} runs of each contender, alternating");

    let methods = start_methods()?;
    let mut results = Vec::new();
    let selected = ROWS
        .iter()
        .filter(|r| options.names.is_empty() || options.names.iter().any(|n| n == r.name));
    let runs_of: Vec<(&Row, Option<&'static str>)> = selected
        .flat_map(|row| -> Vec<(&Row, Option<&'static str>)> {
            if row.processes {
                methods.iter().map(|m| (row, Some(*m))).collect()
            } else {
                vec![(row, None)]
            }
        })
        .collect();
    for (row, method) in runs_of {
        let n = if options.quick { row.quick } else { row.full };
        let size = n.to_string();
        // Rust's start method by `shared`'s variable (a peer with its own way of starting
        // processes ignores it); Python's by an argument to its script.
        let env: Vec<(&'static str, &'static str)> = method
            .map(|m| ("SHARED_START_METHOD", m))
            .into_iter()
            .collect();
        let mut result = RowResult {
            row,
            method,
            n,
            rust: Runs::new(row.rust.label),
            python: Runs::new("Python"),
            peers: row
                .peers
                .iter()
                .map(|p| (p, Runs::new(p.rust.label)))
                .collect(),
        };
        let label = result.name();
        let rust_args = |r: &Rust| vec![r.workload.to_string(), size.clone()];
        let mut contenders = vec![Contender {
            program: release.join(row.rust.bin),
            args: rust_args(&row.rust),
            runs: &mut result.rust,
            env: env.clone(),
        }];
        match &python {
            Ok(_) => contenders.push(Contender {
                program: PathBuf::from("python3"),
                args: std::iter::once(scripts.join(row.python).display().to_string())
                    .chain([size.clone()])
                    .chain(method.map(String::from))
                    .collect(),
                runs: &mut result.python,
                env: Vec::new(),
            }),
            Err(why) => result.python.skipped = Some(why.clone()),
        }
        for (peer, runs) in &mut result.peers {
            contenders.push(Contender {
                program: release.join(peer.rust.bin),
                args: rust_args(&peer.rust),
                runs,
                env: env.clone(),
            });
        }
        eprint!("{label:<20} n={size:<8}");
        for run in 0..runs {
            // Alternate the order so that neither side always runs first.
            let order: Vec<usize> = if run % 2 == 0 {
                (0..contenders.len()).collect()
            } else {
                (0..contenders.len()).rev().collect()
            };
            for i in order {
                let c = &mut contenders[i];
                if c.runs.failure.is_some() {
                    continue;
                }
                match measure::run(Some(&launcher), &c.program, &c.args, &c.env, timeout) {
                    Ok(sample) => match judge(&sample, (row.expected)(n), timeout) {
                        Ok(()) => {
                            c.runs.walls.push(sample.wall);
                            c.runs.max_rss_kib = c.runs.max_rss_kib.max(sample.max_rss_kib);
                        }
                        Err(why) => c.runs.failure = Some(why),
                    },
                    Err(err) => {
                        c.runs.failure =
                            Some(format!("could not start {}: {err}", c.program.display()))
                    }
                }
            }
            eprint!(".");
        }
        eprintln!();
        for c in &contenders {
            if let Some(why) = &c.runs.failure {
                eprintln!(
                    "FAIL  {label} / {} (`{} {}`): {why}",
                    c.runs.label,
                    c.program.display(),
                    c.args.join(" ")
                );
            }
        }
        drop(contenders);
        results.push(result);
    }

    let _ = std::fs::remove_file(&report_file);
    let machine = report::Machine::probe(python.as_deref().ok());
    let chart = out_dir.join("speedup.svg");
    let report_path = out_dir.join("report.md");
    let table = report::table(&results);
    let markdown = report::markdown(&results, &table, &machine, options.quick, runs, &chart);
    write(&report_path, &markdown)?;
    write(
        &chart,
        &svg::chart(&report::bars(&results), options.quick, runs),
    )?;
    println!("{table}");
    println!("{}", report::targets(&results));
    println!("report: {}", report_path.display());
    println!("chart:  {}", chart.display());

    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.failed())
        .map(RowResult::name)
        .collect();
    if !failed.is_empty() {
        let mut rows: Vec<&str> = results
            .iter()
            .filter(|r| r.failed())
            .map(|r| r.row.name)
            .collect();
        rows.dedup();
        eprintln!(
            "bench: {} row(s) FAILED (a run crashed or printed a wrong result): {}; \
             see FAIL above, then rerun them with `cargo xtask bench {}`",
            failed.len(),
            failed.join(", "),
            rows.join(" ")
        );
    }
    Ok(failed.is_empty())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), Some(ms(3)));
        assert_eq!(
            median(&[ms(4), ms(1), ms(3), ms(100)]),
            Some(ms(3) + ms(500) / 1000)
        );
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn a_wrong_count_fails_and_the_right_one_passes() {
        assert!(check_result("4000000\n", 4_000_000).is_ok());
        assert!(check_result("starting\n4000000\n\n", 4_000_000).is_ok());
        let wrong = check_result("3999998\n", 4_000_000).unwrap_err();
        assert!(wrong.contains("WRONG RESULT"), "{wrong}");
        assert!(check_result("", 1).is_err());
        assert!(check_result("done\n", 1).is_err());
    }

    #[test]
    fn a_crash_or_timeout_fails_even_with_the_right_output() {
        let sample = |code, timed_out| Sample {
            wall: ms(1),
            max_rss_kib: 1,
            stdout: "10\n".to_string(),
            stderr: "boom".to_string(),
            code,
            timed_out,
        };
        assert!(judge(&sample(Some(0), false), 10, ms(1)).is_ok());
        let crashed = judge(&sample(Some(101), false), 10, ms(1)).unwrap_err();
        assert!(crashed.contains("code 101") && crashed.contains("boom"));
        assert!(judge(&sample(None, true), 10, ms(1)).is_err());
    }

    #[test]
    fn expected_results_are_the_closed_forms() {
        assert_eq!(sum_below(5), 10);
        assert_eq!(sum_of_squares_below(4), 1 + 4 + 9);
        assert_eq!(sum_of_squares_below(0), 0);
        assert_eq!(sum_of_squares_below(1_000_000), 333_332_833_333_500_000);
    }

    #[test]
    fn options_parse_and_bad_ones_are_refused() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = Options::parse(&args("--quick pool_map --runs 2")).unwrap();
        assert!(o.quick);
        assert_eq!((o.runs(), o.names), (2, vec!["pool_map".to_string()]));
        assert_eq!(Options::parse(&[]).unwrap().runs(), 5);
        assert_eq!(Options::parse(&args("--runs=7")).unwrap().runs, Some(7));
        for bad in [
            "--runs",
            "--runs 0",
            "--runs x",
            "--fast",
            "-q",
            "no_such_row",
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn every_contender_is_a_bench_binary_and_peers_come_one_of_each_kind() {
        let bins = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/src/bin");
        for row in ROWS {
            let rusts = std::iter::once(&row.rust).chain(row.peers.iter().map(|p| &p.rust));
            for rust in rusts {
                let file = bins.join(format!("{}.rs", rust.bin));
                assert!(file.is_file(), "{}: no {}", row.name, file.display());
            }
            let kinds: Vec<Kind> = row.peers.iter().map(|p| p.kind).collect();
            assert!(
                matches!(kinds.as_slice(), [] | [_] | [Kind::SameModel, Kind::Limit]),
                "{}: peers {kinds:?}",
                row.name
            );
        }
        let pool = ROWS.iter().find(|r| r.name == "pool_map").unwrap();
        let targets: Vec<_> = pool.peers.iter().map(|p| (p.kind, p.target)).collect();
        assert_eq!(
            targets,
            [(Kind::SameModel, Some(2.0)), (Kind::Limit, Some(1.0 / 3.0))]
        );
    }

    #[test]
    fn process_rows_run_under_both_methods_unless_one_is_named() {
        assert_eq!(start_methods_for(None).unwrap(), ["fork", "spawn"]);
        assert_eq!(start_methods_for(Some("spawn")).unwrap(), ["spawn"]);
        let err = start_methods_for(Some("forkserver"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`forkserver`"), "{err}");
        let processes: Vec<&str> = ROWS
            .iter()
            .filter(|r| r.processes)
            .map(|r| r.name)
            .collect();
        assert_eq!(
            processes,
            ["process_spawn", "pool_map", "shared_value", "process_queue"]
        );
    }

    #[test]
    fn grouped_thousands() {
        assert_eq!(grouped(1_000_000), "1 000 000");
        assert_eq!(grouped(200), "200");
        assert_eq!(grouped(5_000), "5 000");
    }
}
