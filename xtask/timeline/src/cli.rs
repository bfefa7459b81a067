//! The `cargo xtask timeline` command: traces the examples, a command, or the gallery
//! (the examples and the project's Python versions of the tutorial's programs, in
//! `xtask/timeline/python/`), and writes the pictures.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};

use super::{Jobs, Options, Traced, captions, examples, ptrace, tasks};

/// The Python programs drawn beside the Rust in the gallery, from [`python_dir`]: the
/// tutorial's programs whose picture shows something the Rust one does not (the
/// interpreter's helper threads, the pool's thread count, a consumer that stops early,
/// asyncio's one thread), written for this repository with the same calls.
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

pub fn run(options: &Options) -> anyhow::Result<bool> {
    let meta = xtask::workspace::metadata()?;
    let path = |key: &str| {
        meta[key]
            .as_str()
            .map(PathBuf::from)
            .context(key.to_string())
    };
    let (root, out) = (
        path("workspace_root")?,
        path("target_directory")?.join("timeline"),
    );
    if !options.command.is_empty() {
        trace_one_command(options, &out)?;
        return Ok(true);
    }
    let reports = examples::trace_all(&options.names, Jobs::OneAtATime)?;
    let mut pictures = Vec::new();
    for report in &reports {
        pictures.push(show(report, &out)?);
    }
    let mut captions_hold = true;
    if options.gallery {
        let python = trace_python_versions(&out)?;
        pictures.extend(python.iter().map(|(_, svg)| svg.clone()));
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
        let traced: Vec<&Traced> = (reports.iter().map(|r| &r.traced))
            .chain(python.iter().map(|(t, _)| t))
            .collect();
        let problems = caption_contradictions(&root, &traced, true)?;
        for problem in &problems {
            println!("✗ {problem}");
        }
        if problems.is_empty() {
            println!("every caption's claims hold in these runs");
        } else {
            println!(
                "rewrite those captions (and the claims under their pictures) to what the new pictures show"
            );
            captions_hold = false;
        }
    }
    Ok(captions_hold && reports.iter().all(|r| r.output.is_ok()))
}

/// `-- CMD ARGS...`: traces it, passes on what it printed, saves the pictures.
fn trace_one_command(options: &Options, out: &Path) -> anyhow::Result<()> {
    let name = match &options.name {
        Some(name) => name.clone(),
        None => command_name(&options.command),
    };
    let traced = trace_command(&name, &options.command, None)?;
    // What it printed, as it would have without the tracer.
    print!("{}", traced.trace.stdout);
    eprint!("{}", traced.trace.stderr);
    let svg = traced.save(out)?;
    println!("{name}: {} → {}", traced.summary(), svg.display());
    match traced.trace.code {
        Some(0) => {}
        Some(code) => println!("(it exited with code {code})"),
        None => println!("(a signal ended it)"),
    }
    Ok(())
}

/// Saves an example's pictures and prints its row: whether tracing left its output as
/// the catalogue expects, and which properties of its trace hold.
fn show(report: &examples::Report, out: &Path) -> anyhow::Result<PathBuf> {
    let traced = &report.traced;
    let svg = traced.save(out)?;
    let row = if report.output.is_ok() {
        "ok  "
    } else {
        "FAIL"
    };
    let (name, summary) = (&traced.name, traced.summary());
    println!("{row}  {name:<20} {summary} → {}", svg.display());
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
    Ok(svg)
}

/// Where the gallery's Python programs are: `xtask/timeline/python/`.
fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// What contradicts the traced runs in either gallery README ([`captions`]): every traced
/// picture must be captioned in both, and when `whole` (the whole gallery was traced)
/// every captioned picture must have been traced.
pub fn caption_contradictions(
    root: &Path,
    traced: &[&Traced],
    whole: bool,
) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for readme in captions::READMES {
        let text = std::fs::read_to_string(root.join(readme))
            .with_context(|| format!("reading {readme}"))?;
        let trace_of = |name: &str| {
            traced
                .iter()
                .find(|t| t.name == name)
                .map(|t| (&t.trace, &t.spans[..]))
        };
        problems.extend(captions::contradictions(readme, &text, trace_of));
        // A README that does not parse is reported once, above.
        let Ok(pictures) = captions::pictures(&text) else {
            continue;
        };
        let shown: Vec<String> = pictures.into_iter().map(|(name, _)| name).collect();
        for t in traced {
            if !shown.contains(&t.name) {
                problems.push(format!("{readme}: no caption for the picture {}", t.name));
            }
        }
        for name in shown
            .iter()
            .filter(|n| whole && !traced.iter().any(|t| &t.name == *n))
        {
            problems.push(format!(
                "{readme}: shows {name}, which the gallery no longer draws"
            ));
        }
    }
    Ok(problems)
}

/// The gallery's Python pictures, from the programs in [`python_dir`]: each run and where
/// its picture is.
fn trace_python_versions(out: &Path) -> anyhow::Result<Vec<(Traced, PathBuf)>> {
    let dir = python_dir();
    let interpreter = python()?;
    let mut pictures = Vec::new();
    for file in PYTHON_GALLERY {
        let name = format!("python/{}", file.trim_end_matches(".py"));
        let command = [interpreter.clone(), "-u".to_string(), file.to_string()];
        let mut traced = trace_command(&name, &command, Some(&dir))?;
        // Shown as typed, not as the interpreter's full path on this machine.
        traced.trace.command[0] = "python3".to_string();
        let svg = traced.save(out)?;
        println!("ok    {name:<20} {} → {}", traced.summary(), svg.display());
        pictures.push((traced, svg));
    }
    Ok(pictures)
}

/// The Python interpreter itself (`sys.executable`), not a wrapper such as pyenv's
/// `python3` shim, which is a shell script that would be traced too.
pub fn python() -> anyhow::Result<String> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .context("running `python3` (the gallery draws its Python programs with it)")?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || path.is_empty() {
        bail!("`python3` did not say where its interpreter is (sys.executable)");
    }
    Ok(path)
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
fn trace_command(name: &str, command: &[String], dir: Option<&Path>) -> anyhow::Result<Traced> {
    let program = std::ffi::OsString::from(&command[0]);
    let (trace, _) = ptrace::run(&program, &command[1..], Duration::from_secs(60), dir, &[])?;
    let spans = tasks::from_lines(&trace.lines);
    Ok(Traced {
        name: name.to_string(),
        trace,
        spans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh clone has every program the gallery draws, and no other.
    #[test]
    fn the_gallerys_python_programs_are_in_the_repository() {
        let mut found: Vec<String> = std::fs::read_dir(python_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".py"))
            .collect();
        found.sort();
        let mut listed = PYTHON_GALLERY.to_vec();
        listed.sort();
        assert_eq!(found, listed);
    }

    #[test]
    fn a_command_is_named_after_its_script_else_its_program() {
        let command = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli.rs");
        let script = format!("python3 -u {}", here.display());
        assert_eq!(command_name(&command(&script)), "cli");
        assert_eq!(command_name(&command("/usr/bin/sleep 1")), "sleep");
    }
}
