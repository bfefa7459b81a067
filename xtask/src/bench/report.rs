//! The bench report: the table, the targets met or missed, the machine, as Markdown.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{RowResult, Runs};

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

    /// The peer's median time over Rust's (below 1: Rust is slower than the peer).
    pub fn vs_peer(&self) -> Option<f64> {
        speedup(&self.rust, self.peer.as_ref()?)
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
}

pub fn verdicts(r: &RowResult) -> Vec<Verdict> {
    let t = &r.row.target;
    let mut out = Vec::new();
    let what = if t.vs_python > 1.0 {
        format!("≥ {}× faster than Python", t.vs_python)
    } else {
        "faster than Python".to_string()
    };
    out.push(match r.vs_python() {
        Some(x) => Verdict {
            what,
            met: Some(x >= t.vs_python),
            measured: if x >= t.vs_python {
                fmt_ratio(x)
            } else {
                format!("{}, short by {}", fmt_ratio(x), fmt_ratio(t.vs_python / x))
            },
        },
        None => Verdict {
            what,
            met: None,
            measured: "not measured".to_string(),
        },
    });
    if let (Some(min), Some(peer)) = (t.vs_peer, &r.peer) {
        let what = format!("≥ {:.0}% of the {}'s throughput", min * 100.0, peer.label);
        out.push(match r.vs_peer() {
            Some(x) => Verdict {
                what,
                met: Some(x >= min),
                measured: format!("{:.0}%", x * 100.0),
            },
            None => Verdict {
                what,
                met: None,
                measured: "not measured".to_string(),
            },
        });
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

/// The results as a Markdown table.
pub fn table(results: &[RowResult]) -> String {
    let mut out = String::from(
        "| pattern | workload | Rust: median · peak RSS | Python: median · peak RSS \
         | Rust vs Python | Rust peer: median · peak RSS | Rust vs peer | target |\n\
         |---|---|---|---|---:|---|---:|---|\n",
    );
    for r in results {
        let peer = r
            .peer
            .as_ref()
            .map_or("–".to_string(), |p| format!("{}: {}", p.label, cell(p)));
        let _ = writeln!(
            out,
            "| {} | {} | {}: {} | {} | {} | {} | {} | {} |",
            r.row.pattern,
            (r.row.workload)(r.n),
            r.rust.label,
            cell(&r.rust),
            cell(&r.python),
            r.vs_python()
                .map_or("–".to_string(), |x| format!("**{}**", fmt_ratio(x))),
            peer,
            r.vs_peer().map_or("–".to_string(), peer_words),
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
                r.row.name, r.row.pattern, v.what, v.measured
            );
            if v.met == Some(false) {
                let _ = writeln!(out, "  - what bounds it: {}", r.row.note);
            }
        }
    }
    out
}

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
    for r in results {
        let peer = match (&r.peer, r.vs_peer()) {
            (Some(p), Some(x)) => format!(" Against {}: {}.", p.label, peer_words(x)),
            _ => String::new(),
        };
        let _ = writeln!(out, "- **{}**: {}{peer}", r.row.pattern, r.row.note);
    }
    for r in results {
        for runs in [Some(&r.rust), Some(&r.python), r.peer.as_ref()]
            .into_iter()
            .flatten()
        {
            if let Some(why) = &runs.failure {
                let _ = writeln!(
                    out,
                    "\n**FAILED: {} / {}**:\n\n```text\n{why}\n```",
                    r.row.name, runs.label
                );
            }
        }
    }
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
    pub peer: Option<(String, f64)>,
}

pub fn bars(results: &[RowResult]) -> Vec<Bar> {
    results
        .iter()
        .map(|r| Bar {
            label: r.row.pattern.to_string(),
            sublabel: (r.row.workload)(r.n),
            vs_python: r.vs_python(),
            target: r.row.target.vs_python,
            met: verdicts(r).first().and_then(|v| v.met),
            peer: r
                .peer
                .as_ref()
                .zip(r.vs_peer())
                .map(|(p, x)| (p.label.clone(), x)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
