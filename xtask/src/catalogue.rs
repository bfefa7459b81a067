//! Every example's expectation, one file per chapter. Each binary the workspace builds
//! must have at least one [`Case`]; its first case is the plain run its header shows.

mod multithread;

use std::time::Duration;

use crate::expect::Expect;

/// One way of running one example binary, and what that run must do.
pub struct Case {
    /// The row name: the binary's name, or `bin/variant` for a further run of it.
    pub name: String,
    pub bin: &'static str,
    pub args: Vec<String>,
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
            timeout: Duration::from_secs(30),
            expect,
        }
    }
}

/// Every case, for every chapter.
pub fn cases() -> Vec<Case> {
    multithread::cases()
}
