//! What every task asks cargo: which `cargo` to run, and the workspace's metadata.

use std::process::Command;

use anyhow::{Context, bail};

/// The cargo that started us (`cargo xtask`, `cargo test`), else the one on PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// `cargo metadata --no-deps`: the workspace's packages, targets and directories.
pub fn metadata() -> anyhow::Result<serde_json::Value> {
    let out = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running `cargo metadata`")?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("reading `cargo metadata`")
}
