//! The programs the compiler refuses, checked: each `refused/NAME.rs` of a chapter (the
//! program a Python programmer writes first) must fail to compile with the error lines its
//! `refused/NAME.error` holds, which its book page shows beside it.
//!
//! Only the lines a reader needs are pinned, not rustc's whole output (which shifts
//! between compiler versions): each `.error` line must be a line of rustc's output, in
//! that order; `error[E0373]: closure may outlive ...` is typically the one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The chapters' folders of refused programs.
const FOLDERS: [&str; 1] = ["multithread/refused"];

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
    for want in expected.lines().filter(|l| !l.trim().is_empty()) {
        if !lines.any(|line| line == want) {
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

/// Every refused program, with its `.error` file's path.
fn programs() -> Vec<(PathBuf, PathBuf)> {
    let mut found = Vec::new();
    for folder in FOLDERS {
        let entries = fs::read_dir(root().join(folder)).expect("a refused folder");
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.extension().is_some_and(|e| e == "rs") {
                found.push((path.clone(), path.with_extension("error")));
            }
        }
    }
    found.sort();
    found
}

/// Compiles `program` as far as rustc's checks go (no code is generated); whether it
/// compiled, and rustc's standard error.
fn compile(program: &Path, scratch: &Path) -> (bool, String) {
    let output = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string()))
        .args([
            "--edition",
            EDITION,
            "--crate-type",
            "bin",
            "--emit=metadata",
        ])
        .args(["--color", "never"])
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
        let programs = programs();
        assert!(programs.len() >= 5, "found {}", programs.len());
        let mut failures = Vec::new();
        for (program, error) in &programs {
            let Ok(expected) = fs::read_to_string(error) else {
                failures.push(format!("{}: no {}", program.display(), error.display()));
                continue;
            };
            assert!(
                expected.contains("error["),
                "{}: no error code",
                error.display()
            );
            let (compiled, stderr) = compile(program, &scratch);
            if let Some(why) = problem(&expected, compiled, &stderr) {
                failures.push(format!("{}: {why}", program.display()));
            }
        }
        let _ = fs::remove_dir_all(&scratch);
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
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
