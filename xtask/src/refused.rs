//! The programs the compiler refuses, checked: each `refused/NAME.rs` of a chapter (the
//! program a Python programmer writes first) must fail to compile with the error lines its
//! `refused/NAME.error` holds, which its book page shows beside it.
//!
//! Only the lines a reader needs are pinned, not rustc's whole output (which shifts
//! between compiler versions): each `.error` line must be a line of rustc's output (leading
//! and trailing spaces aside), in that order; `error[E0373]: closure may outlive ...` is
//! typically the one. Each program is compiled as the workspace's crates are: the same
//! edition, the workspace's `[workspace.lints.rust]` levels, and the workspace's own builds
//! of the crates a chapter's programs use (`shared` for the multiprocessing chapter, tokio
//! for the asyncio chapter).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A package, and those of its dependencies (as cargo builds them for it) that a refused
/// program may use.
type Uses = Option<(&'static str, &'static [&'static str])>;

/// The chapters' folders of refused programs, and what their programs may use.
const FOLDERS: [(&str, Uses); 3] = [
    (
        "multiprocess/refused",
        Some(("multiprocess", &["anyhow", "shared"])),
    ),
    ("multithread/refused", None),
    ("async/refused", Some(("async", &["tokio"]))),
];

/// The edition the workspace's crates use, so that a program is refused for the reason it
/// would be in them.
const EDITION: &str = "2024";

/// Why a refused program's check failed, or `None` when rustc refused it as its `.error`
/// file says.
fn problem(expected: &str, compiled: bool, stderr: &str) -> Option<String> {
    if compiled {
        return Some("it compiled: its page says the compiler refuses it".to_string());
    }
    let mut lines = stderr.lines();
    for want in expected.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !lines.any(|line| line.trim() == want) {
            return Some(format!(
                "rustc did not print the line `{want}` (after the lines before it in the \
                 .error file); what it printed:\n{stderr}"
            ));
        }
    }
    None
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A refused program: its source, its `.error` file, and the crates it may use.
struct Program {
    source: PathBuf,
    error: PathBuf,
    uses: Uses,
}

/// Every refused program.
fn programs() -> Vec<Program> {
    let mut found = Vec::new();
    for (folder, uses) in FOLDERS {
        let entries = fs::read_dir(root().join(folder)).expect("a refused folder");
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                found.push(Program {
                    error: path.with_extension("error"),
                    source: path,
                    uses,
                });
            }
        }
    }
    found.sort_by(|a, b| a.source.cmp(&b.source));
    found
}

/// rustc's flags for the workspace's `[workspace.lints.rust]` levels: `-D` for each lint
/// set to deny, `-W` for warn, `-A` for allow.
fn lint_flags(cargo_toml: &str) -> Vec<String> {
    let mut flags = Vec::new();
    let mut in_table = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[workspace.lints.rust]";
            continue;
        }
        let Some((name, value)) = line.split_once('=').filter(|_| in_table) else {
            continue;
        };
        let level = ["deny", "warn", "allow", "forbid"]
            .into_iter()
            .find(|level| value.contains(&format!("\"{level}\"")));
        let flag = match level {
            Some("deny") => "-D",
            Some("warn") => "-W",
            Some("allow") => "-A",
            Some("forbid") => "-F",
            _ => continue,
        };
        flags.push(flag.to_string());
        flags.push(name.trim().to_string());
    }
    flags
}

/// rustc's `--extern` and `-L` flags for `crates`, as cargo built them for `package`.
fn extern_flags(package: &str, crates: &[&str]) -> Vec<String> {
    let output = Command::new(crate::workspace::cargo())
        .args(["build", "--quiet", "--message-format=json", "-p", package])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo build -p {package} failed");
    let mut flags = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let name = message["target"]["name"].as_str().unwrap_or_default();
        if message["reason"] != "compiler-artifact" || !crates.contains(&name) {
            continue;
        }
        let files = message["filenames"].as_array().cloned().unwrap_or_default();
        let rlib = files
            .iter()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".rlib"))
            .expect("a library's artifact has an .rlib");
        let deps = Path::new(rlib).parent().expect("an rlib is in a folder");
        flags.push("--extern".to_string());
        flags.push(format!("{name}={rlib}"));
        flags.push("-L".to_string());
        flags.push(format!("dependency={}", deps.display()));
    }
    assert_eq!(
        flags.len(),
        crates.len() * 4,
        "cargo built {crates:?} for {package}"
    );
    flags
}

/// Compiles `program` with `flags`, first as `cargo check` does (no code generated) and,
/// if that passes, as `cargo build` does: some refusals come only then, such as a `const`
/// assertion in a generic function, which is evaluated for each type it is used with.
/// Whether it compiled, and rustc's standard error.
fn compile(program: &Path, flags: &[String], scratch: &Path) -> (bool, String) {
    let checked = rustc(program, "--emit=metadata", flags, scratch);
    if !checked.0 {
        return checked;
    }
    rustc(program, "--emit=link", flags, scratch)
}

/// rustc run on `program` with `emit` and `flags`: whether it compiled, and its stderr.
fn rustc(program: &Path, emit: &str, flags: &[String], scratch: &Path) -> (bool, String) {
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string()))
        .args(["--edition", EDITION, "--crate-type", "bin", emit])
        .args(["--color", "never"])
        .args(flags)
        .arg("--out-dir")
        .arg(scratch)
        .arg(program)
        .output()
        .expect("rustc runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refused_program_fails_as_its_page_says() {
        let scratch = std::env::temp_dir().join(format!("xtask-refused-{}", std::process::id()));
        fs::create_dir_all(&scratch).unwrap();
        let lints = lint_flags(&fs::read_to_string(root().join("Cargo.toml")).unwrap());
        assert!(lints.contains(&"unused_must_use".to_string()), "{lints:?}");
        let programs = programs();
        assert!(programs.len() >= 10, "found {}", programs.len());
        // The crates each chapter's programs use, as cargo built them: asked once a chapter.
        let mut externs = std::collections::HashMap::new();
        let mut failures = Vec::new();
        for program in &programs {
            let Ok(expected) = fs::read_to_string(&program.error) else {
                let (source, error) = (program.source.display(), program.error.display());
                failures.push(format!("{source}: no {error}"));
                continue;
            };
            assert!(
                expected.contains("error"),
                "{}: no error",
                program.error.display()
            );
            let mut flags = lints.clone();
            if let Some((package, crates)) = program.uses {
                let found = externs
                    .entry(package)
                    .or_insert_with(|| extern_flags(package, crates));
                flags.extend(found.iter().cloned());
            }
            let (compiled, stderr) = compile(&program.source, &flags, &scratch);
            if let Some(why) = problem(&expected, compiled, &stderr) {
                failures.push(format!("{}: {why}", program.source.display()));
            }
        }
        let _ = fs::remove_dir_all(&scratch);
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    #[test]
    fn lint_levels_become_rustc_flags() {
        let toml = "[workspace.lints.rust]\nunused_must_use = \"deny\"\n\
                    rust_2018_idioms = { level = \"warn\", priority = -1 }\n\
                    [workspace.lints.clippy]\nall = \"deny\"\n";
        assert_eq!(
            lint_flags(toml),
            ["-D", "unused_must_use", "-W", "rust_2018_idioms"]
        );
    }

    #[test]
    fn a_refusal_other_than_the_page_says_is_caught() {
        let stderr = "error[E0382]: borrow of moved value: `names`\n  --> x.rs:11:20\n";
        let expected = "error[E0382]: borrow of moved value: `names`\n";
        assert_eq!(problem(expected, false, stderr), None);
        // Another code, another message, a line out of order, or no error at all.
        let other_code = "error[E0499]: borrow of moved value: `names`\n";
        assert!(problem(other_code, false, stderr).is_some());
        assert!(problem("error[E0382]: borrow of moved value: `v`", false, stderr).is_some());
        let out_of_order = "  --> x.rs:11:20\nerror[E0382]: borrow of moved value: `names`\n";
        assert!(problem(out_of_order, false, stderr).is_some());
        let compiled = problem(expected, true, "");
        assert!(compiled.is_some_and(|why| why.contains("it compiled")));
    }
}
