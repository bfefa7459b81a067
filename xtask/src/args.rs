//! What the tasks' argument parsers share (they use lexopt, which has no dependencies).

use std::ffi::OsString;

use anyhow::{anyhow, bail};

/// A parser over `args` (the task's arguments, after its name).
pub fn parser(args: &[String]) -> lexopt::Parser {
    lexopt::Parser::from_args(args.iter().map(OsString::from))
}

/// Whether `args` ask for help (`-h`, `--help`) before any `--`.
pub fn asks_for_help(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
}

/// The value of `flag` as a whole number above 0.
pub fn count(parser: &mut lexopt::Parser, flag: &str) -> anyhow::Result<usize> {
    let value = parser
        .value()
        .map_err(|_| anyhow!("{flag} needs a number"))?;
    match value.to_str().map(str::parse) {
        Some(Ok(n)) if n > 0 => Ok(n),
        _ => bail!(
            "{flag} needs a whole number above 0, got `{}`",
            value.to_string_lossy()
        ),
    }
}

/// A plain (non-option) argument as text.
pub fn word(value: OsString) -> anyhow::Result<String> {
    value
        .into_string()
        .map_err(|v| anyhow!("`{}` is not valid UTF-8", v.to_string_lossy()))
}

/// The error for an option the task does not take.
pub fn unexpected(arg: lexopt::Arg<'_>) -> anyhow::Error {
    anyhow!("{} (try `cargo xtask --help`)", arg.unexpected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn counts_and_help_are_read_and_bad_ones_refused() {
        let mut p = parser(&args("--runs 3"));
        assert!(matches!(p.next().unwrap(), Some(lexopt::Arg::Long("runs"))));
        assert_eq!(count(&mut p, "--runs").unwrap(), 3);
        for bad in ["--runs", "--runs 0", "--runs many", "--runs -1"] {
            let mut p = parser(&args(bad));
            p.next().unwrap();
            assert!(count(&mut p, "--runs").is_err(), "{bad} was accepted");
        }
        assert!(asks_for_help(&args("a --help")));
        assert!(!asks_for_help(&args("-- python3 x.py --help")));
        let mut p = parser(&args("--fast"));
        let message = unexpected(p.next().unwrap().unwrap()).to_string();
        assert!(message.contains("--fast"), "{message}");
    }
}
