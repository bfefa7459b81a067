//! The Rust side of `cargo xtask bench`: each binary runs one workload, named on its
//! command line with its size, and prints the workload's result (a count or a sum) as
//! its last line, which the harness checks, so a fast wrong answer cannot win.
//!
//! ```text
//! bench_threads lock_counter 1000000
//! 4000000
//! ```
//!
//! These binaries are not examples: `cargo xtask verify` skips this package.

use anyhow::{Context, bail};

/// The workload name and size from `argv`: `<binary> <workload> <n>`.
pub fn workload_args() -> anyhow::Result<(String, u64)> {
    parse(std::env::args().skip(1))
}

fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<(String, u64)> {
    let usage = "usage: <binary> <workload> <n>";
    let name = args.next().context(usage)?;
    let n = args.next().context(usage)?;
    let n = n
        .parse()
        .with_context(|| format!("the size must be a whole number, got `{n}`"))?;
    if args.next().is_some() {
        bail!("{usage}");
    }
    Ok((name, n))
}

/// The error for a workload name a binary does not know.
pub fn unknown(name: &str, known: &[&str]) -> anyhow::Error {
    anyhow::anyhow!(
        "unknown workload `{name}`; this binary runs: {}",
        known.join(", ")
    )
}

/// `x * x`: the work each pool item does, as in the tutorial's pool example.
pub fn square(x: u64) -> u64 {
    x * x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_a_name_and_a_size() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            parse(args("lock_counter 10").into_iter()).unwrap(),
            ("lock_counter".to_string(), 10)
        );
        for bad in ["", "lock_counter", "lock_counter ten", "a 1 2"] {
            assert!(parse(args(bad).into_iter()).is_err(), "{bad} was accepted");
        }
    }
}
