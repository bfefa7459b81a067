//! Stand-ins for `Process`, `Pool`, `Queue`, `Pipe`, `Value` and `Array` where there is no `fork`
//! (Windows), so that the multiprocessing chapter's examples still compile there and say
//! in one line why they cannot run:
//!
//! ```text
//! Error: the multiprocessing chapter needs fork, which Windows lacks: run it under WSL2
//! ```
//!
//! Each stand-in has the names and signatures the examples use. What creates one fails
//! with [`NoFork`]; the types themselves cannot exist (they hold an uninhabited field), so
//! their methods are never called, and the compiler knows it.
//!
//! # Copying it
//!
//! Copy `no_fork.rs` into your crate; it needs no dependencies:
//!
//! ```toml
//! [dependencies]
//! ```

use std::fmt;
use std::io;
use std::marker::PhantomData;

/// The error every stand-in returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFork;

impl fmt::Display for NoFork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the multiprocessing chapter needs fork, which Windows lacks: run it under WSL2",
        )
    }
}

impl std::error::Error for NoFork {}

fn unsupported() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, NoFork)
}

/// No value of this type exists, so neither does any value holding one.
#[derive(Debug)]
enum Never {}

/// Stands in for `process::Process`: [`start`](Process::start) fails with [`NoFork`].
#[derive(Debug)]
pub struct Process<'a> {
    never: Never,
    _closure: PhantomData<&'a ()>,
}

impl<'a> Process<'a> {
    pub fn start<F: FnMut() -> R + 'a, R>(_f: F) -> Result<Process<'a>, NoFork> {
        Err(NoFork)
    }

    pub fn start_with<A, F: FnMut(A) -> R + 'a, R>(_args: A, _f: F) -> Result<Process<'a>, NoFork> {
        Err(NoFork)
    }

    pub fn join(self) -> Result<(), NoFork> {
        match self.never {}
    }
}

/// Stands in for `pool::Pool`: [`map`](Pool::map) fails with [`NoFork`].
#[derive(Debug, Clone)]
pub struct Pool {
    processes: usize,
}

impl Pool {
    pub fn new(processes: usize) -> Pool {
        Pool { processes }
    }

    pub fn processes(&self) -> usize {
        self.processes
    }

    pub fn map<T, R, F: Fn(&T) -> R>(&self, _f: F, _items: &[T]) -> Result<Vec<R>, NoFork> {
        Err(NoFork)
    }
}

/// Stands in for `shared_memory::Value`: [`new`](Value::new) fails with [`NoFork`].
#[derive(Debug)]
pub struct Value<T> {
    never: Never,
    _value: PhantomData<T>,
}

impl<T> Value<T> {
    pub fn new(_v: T) -> io::Result<Value<T>> {
        Err(unsupported())
    }

    pub fn get(&self) -> T {
        match self.never {}
    }

    pub fn set(&self, _v: T) {
        match self.never {}
    }

    pub fn fetch_add(&self, _v: T) -> T {
        match self.never {}
    }
}

/// Stands in for `shared_memory::Array`: [`new`](Array::new) fails with [`NoFork`].
#[derive(Debug)]
pub struct Array<T> {
    never: Never,
    _values: PhantomData<T>,
}

impl<T> Array<T> {
    pub fn new(_values: impl IntoIterator<Item = T>) -> io::Result<Array<T>> {
        Err(unsupported())
    }

    pub fn len(&self) -> usize {
        match self.never {}
    }

    pub fn is_empty(&self) -> bool {
        match self.never {}
    }

    pub fn get(&self, _i: usize) -> T {
        match self.never {}
    }

    pub fn set(&self, _i: usize, _v: T) {
        match self.never {}
    }

    pub fn fetch_add(&self, _i: usize, _v: T) -> T {
        match self.never {}
    }

    pub fn to_vec(&self) -> Vec<T> {
        match self.never {}
    }
}

/// Stands in for the `queue` module: [`Queue::new`](queue::Queue::new) fails with [`NoFork`].
pub mod queue {
    use std::io;
    use std::marker::PhantomData;

    use super::Never;

    #[derive(Debug)]
    pub struct Queue<T> {
        never: Never,
        _items: PhantomData<T>,
    }

    impl<T> Queue<T> {
        pub fn new() -> io::Result<Queue<T>> {
            Err(super::unsupported())
        }

        pub fn split(self) -> (Sender<T>, Receiver<T>) {
            match self.never {}
        }
    }

    #[derive(Debug)]
    pub struct Sender<T> {
        never: Never,
        _items: PhantomData<T>,
    }

    impl<T> Sender<T> {
        pub fn put(&mut self, _item: &T) -> io::Result<()> {
            match self.never {}
        }

        pub fn close(self) -> io::Result<()> {
            match self.never {}
        }
    }

    #[derive(Debug)]
    pub struct Receiver<T> {
        never: Never,
        _items: PhantomData<T>,
    }

    impl<T> Receiver<T> {
        pub fn get(&mut self) -> io::Result<Option<T>> {
            match self.never {}
        }
    }
}

pub use queue::Queue;

/// Stands in for the `pipe` module: [`Pipe::new`](pipe::Pipe::new) fails with [`NoFork`].
pub mod pipe {
    use std::io;
    use std::marker::PhantomData;

    use super::Never;

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
    fn everything_that_would_fork_says_why_it_cannot() {
        let message =
            "the multiprocessing chapter needs fork, which Windows lacks: run it under WSL2";
        assert_eq!(Process::start(|| ()).unwrap_err().to_string(), message);
        assert_eq!(
            Process::start_with(1, |_| ()).unwrap_err().to_string(),
            message
        );
        assert_eq!(
            Pool::new(2).map(|n| n + 1, &[1]).unwrap_err().to_string(),
            message
        );
        assert_eq!(Value::new(0).unwrap_err().to_string(), message);
        assert_eq!(Array::new([1, 2]).unwrap_err().to_string(), message);
        assert_eq!(Queue::<i32>::new().unwrap_err().to_string(), message);
        assert_eq!(Pipe::<i32>::new().unwrap_err().to_string(), message);
    }
}
