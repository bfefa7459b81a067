//! Stand-ins for `Pool` and `Pipe` on Windows, until they run there (`Process`, `Queue`,
//! `Value` and `Array` do), so that the multiprocessing chapter's examples still compile
//! there and say in one line why they cannot run:
//!
//! ```text
//! Error: shared's Pool and Pipe do not run on Windows yet: run this example under WSL2
//! ```
//!
//! Each stand-in has the names and signatures the examples use. What creates one fails
//! with [`NoFork`]; the types themselves cannot exist (they hold an uninhabited field), so
//! their methods are never called, and the compiler knows it.
//!
//! # Copying it
//!
//! Copy `no_fork.rs` into your crate, and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! serde = "1"
//! ```

use std::fmt;
use std::io;

/// The error every stand-in returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFork;

impl fmt::Display for NoFork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shared's Pool and Pipe do not run on Windows yet: run this example under WSL2")
    }
}

impl std::error::Error for NoFork {}

fn unsupported() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, NoFork)
}

/// No value of this type exists, so neither does any value holding one.
#[derive(Debug)]
enum Never {}

/// The stand-ins are `Process` arguments, as what they stand for are: never encoded (none
/// exists), and never decoded (decoding fails with [`NoFork`]).
macro_rules! process_argument {
    ($($stand_in:ident),*) => {$(
        impl<T> serde::Serialize for $stand_in<T> {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                match self.never {}
            }
        }

        impl<'de, T> serde::Deserialize<'de> for $stand_in<T> {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                Err(serde::de::Error::custom(NoFork))
            }
        }
    )*};
}

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

/// Stands in for the `pipe` module: [`Pipe::new`](pipe::Pipe::new) fails with [`NoFork`].
pub mod pipe {
    use std::io;
    use std::marker::PhantomData;

    use super::{Never, NoFork};

    process_argument!(Connection);

    #[derive(Debug)]
    pub struct Pipe<T> {
        never: Never,
        _items: PhantomData<T>,
    }

    impl<T> Pipe<T> {
        pub fn new() -> io::Result<Pipe<T>> {
            Err(super::unsupported())
        }

        pub fn split(self) -> (Connection<T>, Connection<T>) {
            match self.never {}
        }
    }

    #[derive(Debug)]
    pub struct Connection<T> {
        never: Never,
        _items: PhantomData<T>,
    }

    impl<T> Connection<T> {
        pub fn send(&mut self, _item: &T) -> io::Result<()> {
            match self.never {}
        }

        pub fn recv(&mut self) -> io::Result<Option<T>> {
            match self.never {}
        }
    }
}

pub use pipe::Pipe;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_that_would_start_a_process_says_why_it_cannot() {
        let message = NoFork.to_string();
        assert!(message.contains("do not run on Windows yet"), "{message}");
        assert_eq!(Pool::new(2).unwrap_err().to_string(), message);
        assert_eq!(Pipe::<i32>::new().unwrap_err().to_string(), message);
    }
}
