//! A stand-in for `Pool` on Windows, until it runs there (`Process`, `Queue`, `Pipe`,
//! `Value` and `Array` do), so that the multiprocessing chapter's examples still compile
//! there and say in one line why they cannot run:
//!
//! ```text
//! Error: shared's Pool does not run on Windows yet: run this example under WSL2
//! ```
//!
//! It has the names and signatures the examples use. [`Pool::new`] fails with [`NoFork`];
//! the type itself cannot exist (it holds an uninhabited field), so its methods are never
//! called, and the compiler knows it.
//!
//! # Copying it
//!
//! Copy `no_fork.rs` into your crate; it needs no dependencies:
//!
//! ```toml
//! [dependencies]
//! ```

use std::fmt;

/// The error the stand-in returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFork;

impl fmt::Display for NoFork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shared's Pool does not run on Windows yet: run this example under WSL2")
    }
}

impl std::error::Error for NoFork {}

/// No value of this type exists, so neither does any value holding one.
#[derive(Debug)]
enum Never {}

/// Stands in for `pool::Pool`: [`new`](Pool::new) fails with [`NoFork`].
#[derive(Debug)]
pub struct Pool {
    never: Never,
}

impl Pool {
    pub fn new(_processes: usize) -> Result<Pool, NoFork> {
        Err(NoFork)
    }

    pub fn timeout(self, _limit: std::time::Duration) -> Pool {
        self
    }

    pub fn map<T, R, F: Fn(T) -> R>(&mut self, _f: F, _items: &[T]) -> Result<Vec<R>, NoFork> {
        match self.never {}
    }

    pub fn starmap<T, F: Target<T>>(
        &mut self,
        _f: F,
        _items: &[T],
    ) -> Result<Vec<F::Output>, NoFork> {
        match self.never {}
    }

    pub fn apply<A, F: Target<A>>(&mut self, _f: F, _args: A) -> Result<F::Output, NoFork> {
        match self.never {}
    }
}

/// Stands in for `process::Target`: a function of a tuple's fields.
pub trait Target<Args> {
    type Output;
}

macro_rules! target {
    ($($arg:ident),*) => {
        impl<F, R, $($arg),*> Target<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> R,
        {
            type Output = R;
        }
    };
}

target!();
target!(A);
target!(A, B);
target!(A, B, C);
target!(A, B, C, D);
target!(A, B, C, D, E);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_that_would_start_a_process_says_why_it_cannot() {
        let message = NoFork.to_string();
        assert!(message.contains("does not run on Windows yet"), "{message}");
        assert_eq!(Pool::new(2).unwrap_err().to_string(), message);
    }
}
