//! `Pool`: run a function on worker processes, like Python's `multiprocessing.Pool(n)` with
//! its `map`, `starmap` and `apply`; results in input order.
//!
//! ```
//! use std::time::Duration;
//! use shared::pool::{Pool, PoolError};
//!
//! fn square(n: &i64) -> i64 {
//!     n * n
//! }
//! fn power(base: &i64, exp: &u32) -> i64 {
//!     base.pow(*exp)
//! }
//!
//! let pool = Pool::new(4);
//! assert_eq!(pool.map(square, &[1, 2, 3, 4, 5])?, [1, 4, 9, 16, 25]);
//! // Each tuple's fields become the arguments: Python's `starmap` and `apply`.
//! assert_eq!(pool.starmap(power, &[(2, 3), (3, 2)])?, [8, 9]);
//! assert_eq!(pool.apply(power, &(2, 10))?, 1024);
//! // Any item type; results need only be serde types.
//! let words = ["fork", "pipe", "mmap"];
//! assert_eq!(pool.map(|w| w.to_uppercase(), &words)?, ["FORK", "PIPE", "MMAP"]);
//! // A worker that dies is an error, not a hang (Python's Pool hangs: CPython gh-66587).
//! let numbers: Vec<i32> = (0..10).collect();
//! assert!(pool.map(|&n| if n == 3 { std::process::abort() } else { n }, &numbers).is_err());
//! // A bound on the whole call: past it the workers are killed.
//! let bounded = Pool::new(2).timeout(Duration::from_millis(100));
//! let stuck = bounded.apply(|_: &i32| loop { std::thread::sleep(Duration::from_secs(1)) }, &(0,));
//! assert!(matches!(stuck, Err::<(), _>(PoolError::Timeout { .. })));
//! # Ok::<(), PoolError>(())
//! ```
//!
//! # Copying it
//!
//! Copy `pool.rs`, `pool_plain.rs`, `process.rs`, `private_fd.rs`, `os.rs` and
//! `shared_memory.rs` into one folder of your crate, as sibling modules (they reach each
//! other through `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//! ```
//!
//! # Python's names
//!
//! | Python | here |
//! |---|---|
//! | `Pool(4)` | [`Pool::new(4)`](Pool::new) |
//! | `pool.map(f, items)` | [`pool.map(f, &items)`](Pool::map): `f` takes `&item` |
//! | `pool.starmap(f, [(a, b), ..])` | [`pool.starmap(f, &[(a, b), ..])`](Pool::starmap): `f(&a, &b)` |
//! | `pool.apply(f, (a, b))` | [`pool.apply(f, &(a, b))`](Pool::apply): `f(&a, &b)`, once |
//! | `pool.map_async(f, items).get(timeout)` | [`Pool::new(4).timeout(limit)`](Pool::timeout), then any call |
//!
//! Python's `f(*args)` unpacks a tuple into arguments; Rust has no such call, so the
//! [`StarFn`] trait does it for functions of one to four arguments: `starmap` calls
//! `f(&a, &b)` for each `(a, b)`. A closure passed there needs its parameter types written
//! out (`|a: &i64, b: &u32| ..`): the compiler takes a closure's signature from an `Fn`
//! bound, `starmap`'s bound is `StarFn`, and without them it reports that the closure's
//! `Fn` "is not general enough". The other way to write `*args` is a closure over the
//! tuple, which is all `starmap` does: `pool.map(|(a, b)| power(a, b), &pairs)` gives the
//! same results.
//!
//! # How a call runs
//!
//! Each call forks its workers after the function and the items exist, so neither is
//! sent anywhere: every worker has a copy. `f` can be any `Fn`, a closure borrowing local
//! data included, and items need no serde at all. The items are cut into chunks (4 per
//! worker, as Python's default `chunksize`, but at most 4096 items); a worker claims the
//! next chunk from a counter in shared memory, applies `f`, and writes the chunk's results,
//! postcard-encoded, in one message on its own pipe. The parent reads whichever pipe is
//! ready and puts each chunk in its place. A million items is a few hundred messages, not a
//! million. `apply` is one item: one worker. Unlike Python's, the workers live for one call
//! only, so a `Pool` holds no processes. (Integer and float results skip postcard: the
//! workers send their raw bytes; `pool_plain.rs` is that speed-up, and can be skipped.)
//!
//! The items stay the caller's: each worker passes `f` a reference to its copy of an item
//! and never drops it (see `process`'s "Who drops what"), and the caller drops each item
//! once, when it is done with it.
//!
//! # A worker that dies, or never ends
//!
//! If `f` panics, or a worker is killed or aborts, its pipe reaches end-of-file before
//! all its results came, and the call returns [`PoolError::Worker`] saying how the worker
//! ended (the panic message, the signal) at once, killing and reaping the other workers;
//! this is what Python's `ProcessPoolExecutor` does with `BrokenProcessPool`. A worker
//! stuck in a loop would make a call wait forever: [`Pool::timeout`] bounds every call,
//! and past it the call kills the workers and returns [`PoolError::Timeout`]. (Python's
//! `get(timeout)` raises `multiprocessing.TimeoutError` and leaves the workers running.)
//! Workers are started like any [`Process`]: the caller must be single-threaded, and
//! workers die with it.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::pool_plain;
use super::process::{self, PrivateFd, Process, ProcessError, poll_timeout};
use super::shared_memory::Value;

/// Chunks per worker: enough to even out uneven items, few enough to be cheap.
const CHUNKS_PER_WORKER: usize = 4;
/// Items per chunk at most: 32 KiB of 8-byte numbers, which a pipe (64 KiB on Linux) holds
/// whole, so a worker hands a chunk over without waiting for the parent to read it.
const MAX_CHUNK: usize = 4096;
/// A result message's header: chunk index and payload length, u64 LE each.
const HEADER: usize = 16;

/// A number of worker processes to run calls on; Python's `Pool(processes)`.
///
/// The workers are forked by each call and gone when it returns, so a `Pool` holds no
/// processes and needs no closing.
#[derive(Debug, Clone)]
pub struct Pool {
    processes: usize,
    timeout: Duration,
}

/// Why a [`Pool`] call failed.
#[derive(Debug)]
pub enum PoolError {
    /// A worker could not be started (e.g. the caller has threads).
    Start(ProcessError),
    /// A worker ended before sending its results: how it ended.
    Worker(ProcessError),
    /// The call did not finish within the pool's [`timeout`](Pool::timeout); its workers
    /// were killed.
    Timeout { limit: Duration },
    /// Reading results failed.
    Io {
        what: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Start(e) => write!(f, "could not start a pool worker: {e}"),
            PoolError::Worker(e) => write!(f, "a pool worker died: {e}"),
            PoolError::Timeout { limit } => write!(
                f,
                "the pool did not finish within its timeout of {limit:?}; its workers were killed"
            ),
            PoolError::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for PoolError {}

fn io_error(what: &'static str) -> impl FnOnce(io::Error) -> PoolError {
    move |source| PoolError::Io { what, source }
}

impl Pool {
    /// A pool of `processes` workers, with no time limit.
    ///
    /// # Panics
    /// If `processes` is 0 (Python raises `ValueError`).
    pub fn new(processes: usize) -> Pool {
        assert!(processes > 0, "Pool::new: processes must be at least 1");
        Pool {
            processes,
            timeout: Duration::MAX,
        }
    }

    /// This pool with every call bounded by `limit`: a call still running after it kills
    /// its workers and returns [`PoolError::Timeout`]. `Duration::MAX` means no limit.
    /// Python's `map_async(f, items).get(limit)`.
    pub fn timeout(self, limit: Duration) -> Pool {
        Pool {
            timeout: limit,
            ..self
        }
    }

    /// The number of worker processes.
    pub fn processes(&self) -> usize {
        self.processes
    }

    /// Applies `f` to every item on the workers; the results in input order. Python's
    /// `pool.map(f, items)`.
    pub fn map<T, R, F>(&self, f: F, items: &[T]) -> Result<Vec<R>, PoolError>
    where
        F: Fn(&T) -> R,
        R: Serialize + DeserializeOwned + 'static,
    {
        // Integers and floats skip encoding and decoding: workers send their raw bytes.
        if pool_plain::is_plain::<R>() {
            return pool_plain::map(self, f, items);
        }
        let mut chunks = BTreeMap::new(); // by first item: in input order
        self.run(
            items.len(),
            |range, message| encode(items[range].iter().map(&f), message),
            |range, payload| {
                chunks.insert(range.start, decode(payload, range.len())?);
                Ok(())
            },
        )?;
        Ok(chunks.into_values().flatten().collect())
    }

    /// Calls `f` with each item's fields as its arguments (see [`StarFn`]); the results in
    /// input order. Python's `pool.starmap(f, items)`.
    ///
    /// ```
    /// # use shared::pool::Pool;
    /// let pairs = [(2, 3), (3, 2)];
    /// let pool = Pool::new(2);
    /// let powers = pool.starmap(|base: &u64, exp: &u32| base.pow(*exp), &pairs)?;
    /// assert_eq!(powers, [8, 9]);
    /// // The same with `map` and a closure over the tuple.
    /// assert_eq!(pool.map(|(base, exp)| base.pow(*exp), &pairs)?, powers);
    /// # Ok::<(), shared::pool::PoolError>(())
    /// ```
    pub fn starmap<T, F>(&self, f: F, items: &[T]) -> Result<Vec<F::Output>, PoolError>
    where
        F: StarFn<T>,
        F::Output: Serialize + DeserializeOwned + 'static,
    {
        self.map(|args| f.call_with(args), items)
    }

    /// Calls `f` with `args`' fields as its arguments, once, on a worker, and waits for
    /// the result. Python's `pool.apply(f, args)`.
    pub fn apply<A, F>(&self, f: F, args: &A) -> Result<F::Output, PoolError>
    where
        F: StarFn<A>,
        F::Output: Serialize + DeserializeOwned + 'static,
    {
        let mut results = self.starmap(f, std::slice::from_ref(args))?;
        Ok(results.pop().expect("one call, one result"))
    }

    /// Forks the workers and collects their messages: the items `0..total` are cut into
    /// chunks, each worker claims chunks and `fill`s a message for each, and the parent
    /// `take`s each message, with its chunk's range, as it arrives. `Ok` once every
    /// chunk's message has been taken, each exactly once, and every worker has ended well.
    pub(super) fn run<W, P>(&self, total: usize, fill: W, mut take: P) -> Result<(), PoolError>
    where
        W: Fn(Range<usize>, &mut Vec<u8>) -> io::Result<()>,
        P: FnMut(Range<usize>, &[u8]) -> io::Result<()>,
    {
        let chunks = Chunks::new(total, self.processes);
        let deadline = Deadline::new(self.timeout);
        // The next chunk to claim, in memory the workers share.
        let next_chunk = Value::new(0usize).map_err(io_error("mapping the chunk counter"))?;
        // Workers stay until the parent closes `release`, so a call's workers are all alive
        // together, however few items there are, as a Python pool's are until it closes.
        let (release, hold) = process::pipe().map_err(io_error("opening the release pipe"))?;
        let mut workers = Vec::new();
        for _ in 0..self.processes.min(chunks.count) {
            let (read, write) = process::pipe().map_err(io_error("opening a result pipe"))?;
            let release = release
                .try_clone()
                .map_err(io_error("handing over a pipe"))?;
            let process = Process::start_with((write, release), |(out, release)| {
                work(&fill, chunks, &next_chunk, &out)?;
                wait_for_release(&release)
            })
            .map_err(PoolError::Start)?;
            workers.push(Worker {
                process: Some(process),
                results: read,
            });
        }
        drop(release);

        // Until every chunk is in; returning early drops `workers`, killing them.
        let mut taken = vec![false; chunks.count];
        let mut left = chunks.count;
        let mut payload = Vec::new();
        while left > 0 {
            if workers.iter().all(|worker| worker.process.is_none()) {
                return Err(io_error("collecting results")(io::Error::other(
                    "every worker ended and some chunks never came",
                )));
            }
            for i in ready(&workers, deadline)? {
                let Worker { process, results } = &mut workers[i];
                match read_message(results, &mut payload) {
                    Ok(Some(index)) => {
                        // Each chunk exactly once: `pool_plain` relies on it.
                        match taken.get_mut(index) {
                            Some(seen @ false) => *seen = true,
                            _ => {
                                let e = invalid(format_args!("unexpected chunk {index}"));
                                return Err(io_error("reading results")(e));
                            }
                        }
                        left -= 1;
                        take(chunks.range(index), &payload)
                            .map_err(io_error("decoding results"))?;
                    }
                    // End-of-file before the release: the worker died; `join` tells how.
                    Ok(None) => join(process.take(), deadline)?,
                    Err(e) => {
                        join(process.take(), deadline)?;
                        return Err(io_error("reading results")(e));
                    }
                }
            }
        }
        drop(hold); // releases the workers
        for worker in &mut workers {
            join(worker.process.take(), deadline)?;
        }
        Ok(())
    }
}

/// A function that takes a tuple's fields as its arguments, by reference: Python's
/// `f(*args)`, for [`Pool::starmap`] and [`Pool::apply`].
///
/// Implemented for every function or closure `Fn(&A) -> R` with `(A,)`, `Fn(&A, &B) -> R`
/// with `(A, B)`, and so on up to four arguments.
pub trait StarFn<Args> {
    type Output;
    /// `f(&args.0, &args.1, ..)`.
    fn call_with(&self, args: &Args) -> Self::Output;
}

macro_rules! star_fn {
    ($($arg:ident $field:tt),+) => {
        impl<F, R, $($arg),+> StarFn<($($arg,)+)> for F
        where
            F: Fn($(&$arg),+) -> R,
        {
            type Output = R;
            fn call_with(&self, args: &($($arg,)+)) -> R {
                self($(&args.$field),+)
            }
        }
    };
}

star_fn!(A 0);
star_fn!(A 0, B 1);
star_fn!(A 0, B 1, C 2);
star_fn!(A 0, B 1, C 2, D 3);

/// How a call cuts `total` items: `count` chunks of `size` items (the last may be shorter).
#[derive(Debug, Clone, Copy)]
struct Chunks {
    total: usize,
    size: usize,
    count: usize,
}

impl Chunks {
    fn new(total: usize, processes: usize) -> Chunks {
        // Saturating: `Pool::new(usize::MAX)` is allowed, and forks one worker per chunk.
        let size = total
            .div_ceil(processes.saturating_mul(CHUNKS_PER_WORKER))
            .clamp(1, MAX_CHUNK);
        let count = total.div_ceil(size);
        Chunks { total, size, count }
    }

    fn range(&self, index: usize) -> Range<usize> {
        let start = index * self.size;
        start..(start + self.size).min(self.total)
    }
}

/// When a call must have finished: `at` is `None` for no limit (`Duration::MAX`, or any
/// limit too far away for an `Instant`).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Option<Instant>,
    limit: Duration,
}

impl Deadline {
    fn new(limit: Duration) -> Deadline {
        let at = Instant::now().checked_add(limit);
        Deadline { at, limit }
    }

    /// The time left (`None`: no limit), or the timeout error once none is left.
    fn left(&self) -> Result<Option<Duration>, PoolError> {
        let Some(at) = self.at else { return Ok(None) };
        match at.saturating_duration_since(Instant::now()) {
            Duration::ZERO => Err(PoolError::Timeout { limit: self.limit }),
            left => Ok(Some(left)),
        }
    }
}

/// A worker (`None` once reaped) and the read end of its result pipe. Dropping it (on an
/// error) kills and reaps the process.
struct Worker<'a> {
    process: Option<Process<'a>>,
    results: PrivateFd,
}

/// Reaps a worker that has closed its pipe (so it is ending): how it ended.
fn join(process: Option<Process<'_>>, deadline: Deadline) -> Result<(), PoolError> {
    let Some(mut process) = process else {
        return Ok(());
    };
    if let Some(left) = deadline.left()?
        && !process.join_timeout(left).map_err(PoolError::Worker)?
    {
        return Err(PoolError::Timeout {
            limit: deadline.limit,
        });
    }
    process.join().map_err(PoolError::Worker)
}

/// Waits until some running worker's pipe has data or has hung up; their indices.
fn ready(workers: &[Worker<'_>], deadline: Deadline) -> Result<Vec<usize>, PoolError> {
    let running: Vec<usize> = (0..workers.len())
        .filter(|&i| workers[i].process.is_some())
        .collect();
    loop {
        let timeout = deadline.left()?.map_or(PollTimeout::NONE, poll_timeout);
        let mut fds: Vec<PollFd<'_>> = running
            .iter()
            .map(|&i| PollFd::new(workers[i].results.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, timeout) {
            Ok(0) | Err(Errno::EINTR) => continue, // `left` says whether time is up
            Ok(_) => {
                let ready = fds.iter().map(|fd| fd.any().unwrap_or(true));
                return Ok(running
                    .iter()
                    .zip(ready)
                    .filter(|(_, r)| *r)
                    .map(|(&i, _)| i)
                    .collect());
            }
            Err(e) => return Err(io_error("waiting for results")(e.into())),
        }
    }
}

/// One message into `payload`: its chunk index, or `None` at end-of-file before a whole
/// header (the worker has ended, or died mid-message: `join` tells).
fn read_message(mut fd: &PrivateFd, payload: &mut Vec<u8>) -> io::Result<Option<usize>> {
    let mut header = [0u8; HEADER];
    match fd.read_exact(&mut header) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        result => result?,
    }
    let [index, len] = [0, 8].map(|at| {
        let bytes: [u8; 8] = header[at..at + 8].try_into().expect("8 bytes");
        u64::from_le_bytes(bytes) as usize
    });
    payload.resize(len, 0); // zeroes only what the last message did not fill
    fd.read_exact(payload)?;
    Ok(Some(index))
}

fn invalid(what: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// The worker's loop, in the child: claim a chunk, fill its message, send it; until none
/// is left.
fn work<W>(fill: &W, chunks: Chunks, next: &Value<usize>, mut out: &PrivateFd) -> io::Result<()>
where
    W: Fn(Range<usize>, &mut Vec<u8>) -> io::Result<()>,
{
    let mut message = Vec::new();
    loop {
        let index = next.as_atomic().fetch_add(1, Ordering::Relaxed);
        if index >= chunks.count {
            return Ok(());
        }
        message.clear();
        message.extend_from_slice(&[0; HEADER]);
        fill(chunks.range(index), &mut message)?;
        let len = (message.len() - HEADER) as u64;
        message[..8].copy_from_slice(&(index as u64).to_le_bytes());
        message[8..HEADER].copy_from_slice(&len.to_le_bytes());
        out.write_all(&message)?;
    }
}

/// In the child, once its work is done: waits until the parent closes the release pipe.
fn wait_for_release(mut release: &PrivateFd) -> io::Result<()> {
    loop {
        match release.read(&mut [0; 1]) {
            Ok(0) => return Ok(()),
            Ok(_) => {} // nothing is ever written; only the end counts
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn encode<R: Serialize>(results: impl Iterator<Item = R>, message: &mut Vec<u8>) -> io::Result<()> {
    for result in results {
        postcard::to_io(&result, &mut *message).map_err(invalid)?;
    }
    Ok(())
}

fn decode<R: DeserializeOwned>(bytes: &[u8], len: usize) -> io::Result<Vec<R>> {
    // One deserializer for the whole chunk: per item it is then just the decoding.
    let mut de = postcard::Deserializer::from_bytes(bytes);
    (0..len)
        .map(|_| R::deserialize(&mut de).map_err(invalid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // libtest's threads make a call refuse to fork; tests/processes.rs runs them for real.
    #[test]
    fn calls_need_a_single_threaded_caller() {
        std::thread::scope(|s| {
            s.spawn(|| std::thread::sleep(Duration::from_millis(200)));
            let pool = Pool::new(2);
            let refused = |r: Result<(), PoolError>| {
                matches!(r, Err(PoolError::Start(ProcessError::Threaded { .. })))
            };
            assert!(refused(pool.map(|&n: &i32| n, &[1]).map(drop)));
            assert!(refused(
                pool.starmap(|a: &i32, b: &i32| a + b, &[(1, 2)]).map(drop)
            ));
            assert!(refused(pool.apply(|a: &i32| *a, &(1,)).map(drop)));
        });
    }

    #[test]
    fn an_empty_map_forks_nothing() {
        assert!(Pool::new(3).map(|&n: &i32| n, &[]).unwrap().is_empty());
        let none: &[(i32, i32)] = &[];
        assert!(
            Pool::new(3)
                .starmap(|a: &i32, b: &i32| a + b, none)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn star_fn_unpacks_tuples_in_order() {
        fn join3(a: &char, b: &&str, c: &u8) -> String {
            format!("{a}{b}{c}")
        }
        assert_eq!(join3.call_with(&('x', "y", 3)), "xy3");
        assert_eq!((|a: &i32| a * 2).call_with(&(21,)), 42);
        assert_eq!((|a: &i32, b: &i32| a - b).call_with(&(5, 3)), 2);
        let four = |a: &u8, b: &u8, c: &u8, d: &u8| [*a, *b, *c, *d];
        assert_eq!(four.call_with(&(1, 2, 3, 4)), [1, 2, 3, 4]);
    }

    #[test]
    fn chunks_cover_the_items_once_in_order() {
        for (total, processes) in [(1, 4), (10, 3), (16_000, 1), (100_003, 4), (5, usize::MAX)] {
            let chunks = Chunks::new(total, processes);
            let covered: Vec<usize> = (0..chunks.count).flat_map(|i| chunks.range(i)).collect();
            assert_eq!(
                covered,
                (0..total).collect::<Vec<_>>(),
                "{total} on {processes}"
            );
            assert!((1..=MAX_CHUNK).contains(&chunks.size));
            let fewest = total.div_ceil(MAX_CHUNK);
            assert!(chunks.count <= processes.saturating_mul(CHUNKS_PER_WORKER).max(fewest));
        }
        assert_eq!(Chunks::new(0, 2).count, 0);
    }

    #[test]
    fn a_deadline_of_duration_max_is_no_limit() {
        assert!(Deadline::new(Duration::MAX).left().unwrap().is_none());
        assert!(
            Deadline::new(Duration::from_secs(60))
                .left()
                .unwrap()
                .is_some()
        );
        let err = Deadline::new(Duration::ZERO).left().unwrap_err();
        assert!(matches!(
            err,
            PoolError::Timeout {
                limit: Duration::ZERO
            }
        ));
        let message = PoolError::Timeout {
            limit: Duration::from_millis(250),
        }
        .to_string();
        assert!(message.contains("timeout of 250ms"), "{message}");
    }

    #[test]
    fn messages_round_trip() {
        let (r, w) = process::pipe().unwrap();
        let counter = Value::new(0usize).unwrap();
        let items = ["a", "bb", "ccc"];
        let fill = |range: Range<usize>, message: &mut Vec<u8>| {
            encode(items[range].iter().map(|s| s.len() as u32), message)
        };
        let chunks = Chunks {
            total: 3,
            size: 2,
            count: 2,
        };
        work(&fill, chunks, &counter, &w).unwrap();
        drop(w);
        let mut payload = Vec::new();
        assert_eq!(read_message(&r, &mut payload).unwrap(), Some(0));
        assert_eq!(decode::<u32>(&payload, 2).unwrap(), [1, 2]);
        assert_eq!(read_message(&r, &mut payload).unwrap(), Some(1));
        assert_eq!(decode::<u32>(&payload, 1).unwrap(), [3]);
        assert_eq!(read_message(&r, &mut payload).unwrap(), None);
    }

    #[test]
    #[should_panic(expected = "at least 1")]
    fn zero_processes_is_refused() {
        Pool::new(0);
    }
}
