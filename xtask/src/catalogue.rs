//! Every example's expectation, one file per chapter. Each binary the workspace builds
//! must have at least one [`Case`]; its first case is the plain run its header shows.

mod r#async;
mod multiprocess;
mod multithread;

use std::time::Duration;

use crate::expect::Expect;

/// One way of running one example binary, and what that run must do.
pub struct Case {
    /// The row name: the binary's name, or `bin/variant` for a further run of it.
    pub name: String,
    pub bin: &'static str,
    pub args: Vec<String>,
    /// Environment variables set for the run.
    pub env: Vec<(&'static str, &'static str)>,
    /// The run is killed and reported as hung after this long.
    pub timeout: Duration,
    pub expect: Expect,
}

impl Case {
    pub fn new(bin: &'static str, expect: Expect) -> Case {
        Case {
            name: bin.to_string(),
            bin,
            args: Vec::new(),
            env: Vec::new(),
            timeout: Duration::from_secs(30),
            expect,
        }
    }
}

/// What cases need from the verify run: the URLs of its local HTTP server
/// (`crate::http_server`), which starts before the cases are made.
pub struct Env {
    /// `http://127.0.0.1:PORT` of the test server, with no slash at the end.
    pub http: String,
    /// A URL on 127.0.0.1 where connecting is refused.
    pub refused: String,
}

impl Env {
    /// For checks that run no example (such as the header test): URLs nothing fetches.
    #[cfg(test)]
    pub fn offline() -> Env {
        Env {
            http: "http://127.0.0.1:1".to_string(),
            refused: "http://127.0.0.1:2/".to_string(),
        }
    }
}

/// Every case, for every chapter.
pub fn cases(env: &Env) -> Vec<Case> {
    let mut cases = multithread::cases();
    cases.extend(multiprocess::cases());
    cases.extend(r#async::cases(env));
    cases
}
