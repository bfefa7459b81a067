//! The bench report: the table, the targets met or missed, the machine, as Markdown.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{Kind, Peer, RowResult, Runs};

/// The machine a run was measured on.
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub python: String,
}

impl Machine {
    pub fn probe(python: Option<&str>) -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let memory = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".to_string());
        let rustc = Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory,
            kernel: format!("Linux {}", read("/proc/sys/kernel/osrelease").trim()),
            rustc,
            python: python.map_or_else(
                || "none (no python3 on PATH)".to_string(),
                |v| format!("Python {v}"),
            ),
        }
    }
}

/// `12.3×`, with fewer decimals as it grows.
pub fn fmt_ratio(ratio: f64) -> String {
    if ratio >= 100.0 {
        format!("{ratio:.0}×")
    } else if ratio >= 10.0 {
        format!("{ratio:.1}×")
    } else {
        format!("{ratio:.2}×")
    }
}

pub fn fmt_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.01 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

fn fmt_mem(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `b`'s median over `a`'s: how many times faster `a` is.
fn speedup(a: &Runs, b: &Runs) -> Option<f64> {
    Some(b.median()?.as_secs_f64() / a.median()?.as_secs_f64())
}

impl RowResult {
    /// Python's median time over Rust's.
    pub fn vs_python(&self) -> Option<f64> {
        speedup(&self.rust, &self.python)
    }

    /// The peer of this kind, its runs, and its median time over Rust's (below 1: Rust
    /// is slower than the peer), if both were measured.
    pub fn peer(&self, kind: Kind) -> Option<(&'static Peer, &Runs, Option<f64>)> {
        self.peers
            .iter()
            .find(|(p, _)| p.kind == kind)
            .map(|(p, runs)| (*p, runs, speedup(&self.rust, runs)))
    }
}

/// A contender's cell: its median time and peak memory, or why there is none.
fn cell(runs: &Runs) -> String {
    if let Some(why) = &runs.skipped {
        return format!("not run: {why}");
    }
    if runs.failure.is_some() {
        return "**FAILED**".to_string();
    }
    match runs.median() {
        Some(t) => format!("{} · {}", fmt_time(t), fmt_mem(runs.max_rss_kib)),
        None => "no runs".to_string(),
    }
}

/// How far Rust is from its peer, in words.
pub fn peer_words(ratio: f64) -> String {
    if ratio >= 1.0 {
        format!("{} (Rust {} faster)", fmt_ratio(ratio), fmt_ratio(ratio))
    } else {
        format!(
            "{} (Rust {} slower)",
            fmt_ratio(ratio),
            fmt_ratio(1.0 / ratio)
        )
    }
}

/// One target of a row, checked.
pub struct Verdict {
    pub what: String,
    /// `None`: not measured (a side failed or was not run).
    pub met: Option<bool>,
    pub measured: String,
    /// The peer the target is against, if it is against one.
    pub peer: Option<&'static Peer>,
}

impl Verdict {
    /// `ratio` (the other side's time over Rust's) checked against `min`, shown by `show`.
    fn check(
        what: String,
        ratio: Option<f64>,
        min: f64,
        show: fn(f64) -> String,
        peer: Option<&'static Peer>,
    ) -> Verdict {
        let (met, measured) = match ratio {
            Some(x) if x >= min => (Some(true), show(x)),
            Some(x) => (
                Some(false),
                format!("{}, short by {}", show(x), fmt_ratio(min / x)),
            ),
            None => (None, "not measured".to_string()),
        };
        Verdict {
            what,
            met,
            measured,
            peer,
        }
    }
}

pub fn verdicts(r: &RowResult) -> Vec<Verdict> {
    let target = r.row.vs_python;
    let what = if target > 1.0 {
        format!("≥ {target}× faster than Python")
    } else {
        "faster than Python".to_string()
    };
    let mut out = vec![Verdict::check(what, r.vs_python(), target, fmt_ratio, None)];
    for (peer, runs) in &r.peers {
        let Some(min) = peer.target else { continue };
        let label = peer.rust.label;
        // 3.0 reads "≥ 3× procspawn Pool's throughput", 0.5 "≥ 50% of ...".
        let (what, show): (String, fn(f64) -> String) = if min >= 1.0 {
            (format!("≥ {min}× {label}'s throughput"), fmt_ratio)
        } else {
            (
                format!("≥ {:.0}% of {label}'s throughput", min * 100.0),
                |x| format!("{:.0}%", x * 100.0),
            )
        };
        out.push(Verdict::check(
            what,
            speedup(&r.rust, runs),
            min,
            show,
            Some(peer),
        ));
    }
    out
}

fn verdict_cell(v: &Verdict) -> String {
    let mark = match v.met {
        Some(true) => "met",
        Some(false) => "**MISSED**",
        None => "n/a",
    };
    format!("{}: {mark} ({})", v.what, v.measured)
}

/// The results as a Markdown table: Rust, Python, then the same-model peer and the limit,
/// each with its median, peak memory and ratio.
pub fn table(results: &[RowResult]) -> String {
    let mut out = String::from(
        "| pattern | workload | Rust: median · peak RSS | Python: median · peak RSS \
         | Rust vs Python | same-model peer: median · peak RSS | Rust vs it \
         | limit: median · peak RSS | Rust vs it | target |\n\
         |---|---|---|---|---:|---|---:|---|---:|---|\n",
    );
    for r in results {
        let peer = |kind| match r.peer(kind) {
            Some((p, runs, ratio)) => (
                format!("{}: {}", p.rust.label, cell(runs)),
                ratio.map_or("–".to_string(), peer_words),
            ),
            None => ("–".to_string(), "–".to_string()),
        };
        let (same, vs_same) = peer(Kind::SameModel);
        let (limit, vs_limit) = peer(Kind::Limit);
        let _ = writeln!(
            out,
            "| {} | {} | {}: {} | {} | {} | {same} | {vs_same} | {limit} | {vs_limit} | {} |",
            r.pattern(),
            (r.row.workload)(r.n),
            r.rust.label,
            cell(&r.rust),
            cell(&r.python),
            r.vs_python()
                .map_or("–".to_string(), |x| format!("**{}**", fmt_ratio(x))),
            verdicts(r)
                .iter()
                .map(verdict_cell)
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    out
}

/// Every target, met or missed; for a miss, by how much and what bounds the Rust time.
pub fn targets(results: &[RowResult]) -> String {
    let mut out = String::new();
    for r in results {
        for v in verdicts(r) {
            let mark = match v.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "not measured",
            };
            let _ = writeln!(
                out,
                "- {} ({}): {}: **{mark}**, {}",
                r.name(),
                r.pattern(),
                v.what,
                v.measured
            );
            if v.met == Some(false) {
                let _ = writeln!(out, "  - what bounds it: {}", r.row.note);
                if let Some(peer) = v.peer {
                    let _ = writeln!(out, "  - what bounds {}: {}", peer.rust.label, peer.note);
                }
            }
        }
    }
    out
}

/// What the pool that keeps its workers costs and saves against the one it replaced,
/// measured once, side by side, on the machine of the table.
const POOL_THAT_STAYS: &str = "\n## The pool that keeps its workers, against the one that forked per call\n\n\
Until b794d13 `shared::Pool` forked its workers for each call (measured at 2dd3a2f), with the \
items already in their memory. Since then it keeps them from `Pool::new` to the drop. Measured \
side by side (`perf stat -r 15`, fork, 4 workers, `square` over `u64`s, a program that \
makes one pool and calls `map` on it again and again; each pool built from its own \
commit): one call of 1 000 000 items took 12.8 ms with the old pool and 12.6 ms with \
the one at f197f40 (before chunks went through shared memory); 100 calls of 10 000 items took 67.5 ms against 14.7 ms (4.6× less); 1 000 calls \
of 100 items 567 ms against 103 ms (5.5× less). So one big call costs the same (what the \
old pool saved by forking with the items in memory, today's pool saves by sending plain \
numbers as their bytes), and every further call no longer pays four forks and four exits. \
Under spawn, which the old pool did not have, the same three took 16.4, 16.8 and 106 ms.\n";

/// The whole report.
pub fn markdown(
    results: &[RowResult],
    table: &str,
    machine: &Machine,
    quick: bool,
    runs: usize,
    chart: &Path,
) -> String {
    let mut out = String::from("# cargo xtask bench\n\n");
    if quick {
        out.push_str(
            "**Quick sizes** (`--quick`): a smoke test that every workload runs and is right, \
             not a measurement. Run `cargo xtask bench` for the real table.\n\n",
        );
    }
    let _ = writeln!(
        out,
        "Each pattern as whole processes, {runs} runs of each contender, alternating, on one \
         machine in one run. Times are medians of the wall time from starting the process to \
         reaping it (interpreter and process start-up included). Peak RSS is `wait4`'s \
         `ru_maxrss`, taken by bench's small launcher (`bench_run`): the largest single \
         process among the workload and the children it waited for (not a sum), the highest \
         over the runs; its floor is the launcher's own size, about 2 MiB. Every run's printed result (the \
         count, the sum) is checked; a wrong one fails the row.\n"
    );
    out.push_str(table);
    let name = chart.file_name().map_or_else(
        || "speedup.svg".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let _ = writeln!(
        out,
        "\n![Rust's speedup over Python, per pattern]({name})\n"
    );
    out.push_str("## Targets\n\n");
    out.push_str(&targets(results));
    out.push_str("\n## Why each row is where it is\n\n");
    // Once per row: a process row's start methods share its notes.
    for (i, r) in results.iter().enumerate() {
        if results[..i].iter().any(|e| e.row.name == r.row.name) {
            continue;
        }
        let runs_of_row: Vec<&RowResult> = results
            .iter()
            .filter(|e| e.row.name == r.row.name)
            .collect();
        let _ = writeln!(
            out,
            "- **{}** ({}): {}",
            r.row.pattern, r.rust.label, r.row.note
        );
        for (k, (peer, _)) in r.peers.iter().enumerate() {
            let measured: Vec<String> = runs_of_row
                .iter()
                .filter_map(|e| {
                    let x = speedup(&e.rust, &e.peers[k].1)?;
                    Some(match e.method {
                        Some(method) => format!("{} under {method}", peer_words(x)),
                        None => peer_words(x),
                    })
                })
                .collect();
            let measured = if measured.is_empty() {
                String::new()
            } else {
                format!(" Rust against it: {}.", measured.join("; "))
            };
            let _ = writeln!(
                out,
                "  - {} ({}): {}{measured}",
                peer.rust.label,
                peer.kind.name(),
                peer.note
            );
        }
    }
    for r in results {
        for runs in r.all_runs() {
            if let Some(why) = &runs.failure {
                let _ = writeln!(
                    out,
                    "\n**FAILED: {} / {}**:\n\n```text\n{why}\n```",
                    r.name(),
                    runs.label
                );
            }
        }
    }
    out.push_str(POOL_THAT_STAYS);
    let _ = writeln!(
        out,
        "\n## Machine\n\n\
         - CPU: {} ({} cores available)\n\
         - memory: {}\n\
         - kernel: {}\n\
         - {}\n\
         - {} (`python3` on PATH)\n\n\
         ## Reproduce\n\n\
         ```sh\n\
         cargo xtask bench                 # every row, 5 runs each\n\
         cargo xtask bench --quick         # small sizes: a smoke test\n\
         cargo xtask bench --runs 9 pool_map shared_value   # some rows, more runs\n\
         SHARED_START_METHOD=spawn cargo xtask bench pool_map   # the process rows under one method\n\
         ```",
        machine.cpu, machine.cores, machine.memory, machine.kernel, machine.rustc, machine.python
    );
    out
}

/// What the chart draws for one row.
pub struct Bar {
    pub label: String,
    pub sublabel: String,
    pub vs_python: Option<f64>,
    pub target: f64,
    pub met: Option<bool>,
    /// Each measured peer: its kind, its label, its median time over Rust's.
    pub peers: Vec<(Kind, String, f64)>,
}

pub fn bars(results: &[RowResult]) -> Vec<Bar> {
    results
        .iter()
        .map(|r| Bar {
            label: r.pattern(),
            sublabel: (r.row.workload)(r.n),
            vs_python: r.vs_python(),
            target: r.row.vs_python,
            met: verdicts(r).first().and_then(|v| v.met),
            peers: r
                .peers
                .iter()
                .filter_map(|(p, runs)| {
                    Some((p.kind, p.rust.label.to_string(), speedup(&r.rust, runs)?))
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::ROWS;
    use super::*;

    fn runs(label: &str, millis: &[u64]) -> Runs {
        Runs {
            label: label.to_string(),
            walls: millis.iter().map(|&m| Duration::from_millis(m)).collect(),
            max_rss_kib: 2048,
            ..Runs::default()
        }
    }

    /// The pool row with Rust at 10 ms, Python at `python` ms and its peers at `peers` ms.
    fn pool_result(python: u64, peers: [u64; 2]) -> RowResult {
        let row = ROWS.iter().find(|r| r.name == "pool_map").unwrap();
        RowResult {
            row,
            method: Some("fork"),
            n: 1_000_000,
            rust: runs("shared::Pool", &[10, 10, 11]),
            python: runs("Python", &[python]),
            peers: row
                .peers
                .iter()
                .zip(peers)
                .map(|(p, ms)| (p, runs(p.rust.label, &[ms])))
                .collect(),
        }
    }

    #[test]
    fn each_peer_target_is_checked_and_a_miss_says_what_bounds_both() {
        // Python 40× slower, procspawn 5× slower, rayon 2× faster: every target met.
        let met = verdicts(&pool_result(400, [50, 5]));
        let shown: Vec<_> = met.iter().map(|v| (v.what.as_str(), v.met)).collect();
        assert_eq!(
            shown,
            [
                ("≥ 15× faster than Python", Some(true)),
                ("≥ 2× procspawn Pool's throughput", Some(true)),
                ("≥ 33% of rayon's throughput", Some(true)),
            ]
        );
        assert_eq!(met[1].measured, "5.00×");
        assert_eq!(met[2].measured, "50%");
        // procspawn only 1.5× slower and rayon 4× faster: both peer targets missed.
        let missed = pool_result(400, [15, 2]);
        let v = verdicts(&missed);
        assert_eq!(
            v.iter().map(|v| v.met).collect::<Vec<_>>(),
            [Some(true), Some(false), Some(false)]
        );
        assert_eq!(v[1].measured, "1.50×, short by 1.33×");
        let text = targets(&[missed]);
        assert_eq!(text.matches("**MISSED**").count(), 2, "{text}");
        assert!(text.contains("what bounds procspawn Pool:"), "{text}");
        assert!(text.contains("what bounds rayon:"), "{text}");
    }

    #[test]
    fn the_table_gives_the_same_model_peer_and_the_limit_their_own_columns() {
        let results = [pool_result(400, [50, 5])];
        let text = table(&results);
        let lines: Vec<&str> = text.lines().collect();
        let columns = |line: &str| line.matches('|').count() - 1;
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("same-model peer") && lines[0].contains("limit"));
        assert!(lines.iter().all(|l| columns(l) == 10), "{text}");
        let cells: Vec<&str> = lines[2].split(" | ").collect();
        assert!(
            cells[5].starts_with("procspawn Pool: 50.0 ms"),
            "{}",
            cells[5]
        );
        assert_eq!(cells[6], "5.00× (Rust 5.00× faster)");
        assert!(cells[7].starts_with("rayon: 5.00 ms"), "{}", cells[7]);
        assert_eq!(cells[8], "0.50× (Rust 2.00× slower)");
        // A row without peers has dashes there.
        let value = ROWS.iter().find(|r| r.name == "shared_value").unwrap();
        let lone = RowResult {
            row: value,
            method: None,
            n: 10,
            rust: runs("shared::Value", &[1]),
            python: runs("Python", &[200]),
            peers: Vec::new(),
        };
        let row = table(&[lone]).lines().nth(2).unwrap().to_string();
        assert_eq!(row.matches("| – ").count(), 4, "{row}");
    }

    #[test]
    fn ratios_and_times_are_formatted_for_reading() {
        assert_eq!(fmt_ratio(123.4), "123×");
        assert_eq!(fmt_ratio(12.34), "12.3×");
        assert_eq!(fmt_ratio(1.234), "1.23×");
        assert_eq!(fmt_ratio(0.5), "0.50×");
        assert_eq!(peer_words(0.5), "0.50× (Rust 2.00× slower)");
        assert_eq!(peer_words(2.0), "2.00× (Rust 2.00× faster)");
        assert_eq!(fmt_time(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(fmt_time(Duration::from_millis(42)), "42.0 ms");
        assert_eq!(fmt_time(Duration::from_micros(1234)), "1.23 ms");
    }
}
