//! `cargo xtask timeline`: runs each example (or any command) under a ptrace tracer and
//! draws what ran when: every process and thread it created, every line it printed, and
//! the tasks and requests the OS cannot see. Writes `target/timeline/NAME.json` (Chrome's
//! trace event format, for Perfetto) and `target/timeline/NAME.svg`.
//!
//! - [`model`]: the trace, on one clock. [`ptrace`]: the tracer (Linux only).
//! - [`tasks`]: task lanes from paired lines, request lanes from the test server.
//! - [`chrome`], [`svg`], [`labels`]: the two files, and the names both use.
//! - [`props`]: what a trace proves that output cannot; shown here, asserted by the tests.
//! - [`examples`]: builds and traces the workspace's examples, as verify runs them.

mod chrome;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod examples;
mod labels;
mod model;
mod props;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod ptrace;
mod svg;
mod tasks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use model::Trace;
use tasks::Span;

/// The tutorial's Python originals drawn beside the Rust in the gallery: the ones whose
/// picture shows something the Rust one does not (the interpreter's helper threads, the
/// pool's thread count, a consumer that stops early, asyncio's one thread).
const PYTHON_GALLERY: [&str; 8] = [
    "mp_basic.py",
    "mp_pool.py",
    "mp_queue.py",
    "th_basic.py",
    "th_pool.py",
    "th_queue.py",
    "as_basic.py",
    "as_semaphore.py",
];

/// Where the gallery's pictures are, from the workspace root.
const GALLERY: &str = "docs/timeline";

pub struct Options {
    pub names: Vec<String>,
    /// `-- CMD ARGS...`: trace this command instead of the examples.
    pub command: Vec<String>,
    /// `--gallery`: every example and the Python originals, copied into docs/timeline.
    pub gallery: bool,
    /// `--name NAME`: the files' name for a traced command.
    pub name: Option<String>,
}

impl Options {
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut options = Options {
            names: Vec::new(),
            command: Vec::new(),
            gallery: false,
            name: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--" => {
                    options.command = args.by_ref().cloned().collect();
                    if options.command.is_empty() {
                        bail!("`--` needs a command after it, e.g. `-- python3 mp_pool.py`");
                    }
                }
                "--gallery" => options.gallery = true,
                "--name" => {
                    let name = args.next().context("--name needs a name")?;
                    options.name = Some(name.clone());
                }
                flag if flag.starts_with('-') => {
                    bail!("unknown option `{flag}` (try `cargo xtask --help`)")
                }
                name => options.names.push(name.to_string()),
            }
        }
        let modes = [
            !options.names.is_empty(),
            !options.command.is_empty(),
            options.gallery,
        ];
        if modes.iter().filter(|m| **m).count() > 1 {
            bail!("give example names, `--gallery` or `-- CMD ARGS...`, not more than one");
        }
        if options.name.is_some() && options.command.is_empty() {
            bail!("--name names the files of a traced command (`--name NAME -- CMD ...`)");
        }
        Ok(options)
    }
}

/// One traced run, ready to draw.
pub struct Traced {
    pub name: String,
    pub trace: Trace,
    pub spans: Vec<Span>,
}

impl Traced {
    /// Writes `DIR/NAME.json` and `DIR/NAME.svg`; returns the SVG's path.
    fn save(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let base = dir.join(&self.name);
        if let Some(parent) = base.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let json = chrome::write(&self.trace, &self.spans);
        let json_path = base.with_extension("json");
        std::fs::write(&json_path, serde_json::to_string(&json)?)
            .with_context(|| format!("writing {}", json_path.display()))?;
        let svg_path = base.with_extension("svg");
        std::fs::write(&svg_path, svg::write(&self.name, &self.trace, &self.spans))
            .with_context(|| format!("writing {}", svg_path.display()))?;
        Ok(svg_path)
    }

    /// "1 process, 5 threads, 6 lines, 1012 ms".
    fn summary(&self) -> String {
        let tasks = self.spans.iter().filter(|s| s.tid.is_some()).count();
        let requests = self.spans.len() - tasks;
        let mut s = format!(
            "{} process(es), {} thread(s), {} line(s)",
            self.trace.processes().len(),
            self.trace.threads.len(),
            self.trace.lines.len()
        );
        if tasks > 0 {
            s += &format!(", {tasks} task lane(s)");
        }
        if requests > 0 {
            s += &format!(", {requests} request lane(s)");
        }
        s + &format!(", {} ms", self.trace.end.as_millis())
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub fn run(_: &Options) -> anyhow::Result<bool> {
    bail!(
        "cargo xtask timeline needs Linux on x86_64 or aarch64: it follows a run's \
         processes and threads with ptrace and a seccomp filter, which {} on {} does not \
         offer. Run it on such a Linux (a VM, or a container started with \
         --cap-add=SYS_PTRACE); `cargo xtask verify` works here.",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub fn run(options: &Options) -> anyhow::Result<bool> {
    let meta = crate::workspace::metadata()?;
    let root = PathBuf::from(
        meta["workspace_root"]
            .as_str()
            .context("no workspace_root")?,
    );
    let out = PathBuf::from(
        meta["target_directory"]
            .as_str()
            .context("no target_directory")?,
    )
    .join("timeline");
    if !options.command.is_empty() {
        let name = match &options.name {
            Some(name) => name.clone(),
            None => command_name(&options.command),
        };
        let traced = trace_command(&name, &options.command, None)?;
        // What it printed, as it would have without the tracer.
        print!("{}", traced.trace.stdout);
        eprint!("{}", traced.trace.stderr);
        let svg = traced.save(&out)?;
        println!("{name}: {} → {}", traced.summary(), svg.display());
        match traced.trace.code {
            Some(0) => {}
            Some(code) => println!("(it exited with code {code})"),
            None => println!("(a signal ended it)"),
        }
        return Ok(true);
    }
    let reports = examples::trace_all(&options.names, Jobs::OneAtATime)?;
    let mut pictures = Vec::new();
    for report in &reports {
        let traced = &report.traced;
        let svg = traced.save(&out)?;
        let row = if report.output.is_ok() {
            "ok  "
        } else {
            "FAIL"
        };
        println!(
            "{row}  {:<16} {} → {}",
            traced.name,
            traced.summary(),
            svg.display()
        );
        if let Err(diff) = &report.output {
            println!("      traced, it printed what its check in the catalogue refuses:");
            for line in diff.lines() {
                println!("      {line}");
            }
        }
        for (check, result) in &report.checks {
            match result {
                Ok(()) => println!("      ✓ {check}"),
                Err(why) => println!("      ✗ {check}: {why}"),
            }
        }
        pictures.push(svg);
    }
    if options.gallery {
        let python = root.join("../shared/tutorial/python");
        if !python.is_dir() {
            bail!(
                "the tutorial's Python originals are not at {}; the gallery draws them \
                 beside the Rust",
                python.display()
            );
        }
        for file in PYTHON_GALLERY {
            let name = format!("python/{}", file.trim_end_matches(".py"));
            let command = ["python3", "-u", file].map(String::from);
            let traced = trace_command(&name, &command, Some(&python))?;
            let svg = traced.save(&out)?;
            println!("ok    {name:<16} {} → {}", traced.summary(), svg.display());
            pictures.push(svg);
        }
        let gallery = root.join(GALLERY);
        for svg in &pictures {
            let to = gallery.join(svg.strip_prefix(&out).expect("saved under out"));
            std::fs::create_dir_all(to.parent().expect("a file in a folder"))?;
            std::fs::copy(svg, &to).with_context(|| format!("copying to {}", to.display()))?;
        }
        println!(
            "the gallery's {} pictures are in {GALLERY}/",
            pictures.len()
        );
    }
    Ok(reports.iter().all(|r| r.output.is_ok()))
}

/// The files' name for a traced command: its first argument that is a file (the script
/// an interpreter runs), else the program's name.
fn command_name(command: &[String]) -> String {
    let stem = |arg: &String| {
        Path::new(arg)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
    };
    command[1..]
        .iter()
        .find(|a| Path::new(a).is_file())
        .and_then(stem)
        .or_else(|| stem(&command[0]))
        .unwrap_or_else(|| "command".to_string())
}

/// Traces `command` (run in `dir` if given), with task lanes from its lines.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn trace_command(name: &str, command: &[String], dir: Option<&Path>) -> anyhow::Result<Traced> {
    let program = std::ffi::OsString::from(&command[0]);
    let (trace, _) = ptrace::run(&program, &command[1..], Duration::from_secs(60), dir)?;
    let spans = tasks::from_lines(&trace.lines);
    Ok(Traced {
        name: name.to_string(),
        trace,
        spans,
    })
}

/// How to run several traces.
#[derive(Clone, Copy, PartialEq)]
pub enum Jobs {
    /// One after another: the pictures' timings are not disturbed by each other.
    OneAtATime,
    /// All at once: a quick test.
    #[cfg_attr(not(test), allow(dead_code))]
    AllAtOnce,
}
