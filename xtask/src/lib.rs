//! What `cargo xtask verify` needs, as a library that the other tasks' packages use too:
//! the catalogue of every example's expectation, the checks, the runner and the local HTTP
//! server. The tasks verify does not run (bench, export, timeline) are packages of their
//! own under this folder, built only when asked for (see `main.rs`).

pub mod args;
#[cfg(test)]
mod book;
pub mod catalogue;
#[cfg(all(test, unix))]
mod closed_stdout;
pub mod exec;
pub mod expect;
pub mod http_server;
#[cfg(test)]
mod readme;
#[cfg(test)]
mod refused;
pub mod verify;
pub mod workspace;

use std::process::ExitCode;

/// A task's exit code: 0 when it passed, 1 when it ran and something failed, 2 when it
/// could not run (the error is printed).
pub fn exit_code(result: anyhow::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
