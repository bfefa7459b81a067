//! `Pool`: apply a function to many items on worker processes, results in input order,
//! like Python's `multiprocessing.Pool(n).map(f, items)`.
//!
//! ```
//! use shared::pool::Pool;
//!
//! fn square(n: &i64) -> i64 {
//!     n * n
//! }
//!
//! let pool = Pool::new(4);
//! assert_eq!(pool.map(square, &[1, 2, 3, 4, 5])?, [1, 4, 9, 16, 25]);
//! // Any item type; results need only be serde types.
//! let words = ["fork", "pipe", "mmap"];
//! assert_eq!(pool.map(|w| w.to_uppercase(), &words)?, ["FORK", "PIPE", "MMAP"]);
//! // A worker that dies is an error, not a hang (Python's Pool hangs: CPython gh-66587).
//! let numbers: Vec<i32> = (0..10).collect();
//! assert!(pool.map(|&n| if n == 3 { std::process::abort() } else { n }, &numbers).is_err());
//! # Ok::<(), shared::pool::PoolError>(())
//! ```
//!
//! # Copying it
//!
//! Copy `pool.rs`, `process.rs`, `private_fd.rs`, `os.rs` and `shared_memory.rs` into one
//! folder of your crate, as sibling modules (they reach each other through `super::`), and
//! add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//! ```
//!
//! # How `map` runs
//!
//! Each `map` forks its workers after the function and the items exist, so neither is
//! sent anywhere: every worker has a copy. `f` can be any `Fn`, a closure borrowing local
//! data included, and items need no serde at all. The items are cut into chunks (4 per
//! worker, as Python's default `chunksize`); a worker claims the next chunk from a counter
//! in shared memory, applies `f`, and writes the chunk's results, postcard-encoded, in one
//! message on its own pipe. The parent reads whichever pipe is ready and puts each chunk
//! in its place. A million small items is a few dozen messages, not a million.
//!
//! The items stay the caller's: `map` takes a slice, each worker passes `f` a reference to
//! its copy of an item and never drops it (see `process`'s "Who drops what"), and the
//! caller drops each item once, when it is done with it.
//!
//! # A worker that dies
//!
//! If `f` panics, or a worker is killed or aborts, its pipe reaches end-of-file before
//! all its results came, and `map` returns [`PoolError::Worker`] saying how the worker
//! ended (the panic message, the signal) at once, killing and reaping the other workers;
//! this is what Python's `ProcessPoolExecutor` does with `BrokenProcessPool`. Workers are
//! started like any [`Process`]: the caller must be single-threaded, and workers die with it.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::process::{self, PrivateFd, Process, ProcessError};
use super::shared_memory::Value;

/// Chunks per worker: enough to even out uneven items, few enough to be cheap.
const CHUNKS_PER_WORKER: usize = 4;
/// A result message's header: chunk index and payload length, u64 LE each.
const HEADER: usize = 16;

/// A number of worker processes to `map` on; Python's `Pool(processes)`.
///
/// The workers are forked by each [`map`](Pool::map) and gone when it returns, so a
/// `Pool` holds no processes and needs no closing.
#[derive(Debug, Clone)]
pub struct Pool {
    processes: usize,
}

/// Why a [`Pool::map`] failed.
#[derive(Debug)]
pub enum PoolError {
    /// A worker could not be started (e.g. the caller has threads).
    Start(ProcessError),
    /// A worker ended before sending its results: how it ended.
    Worker(ProcessError),
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
            PoolError::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for PoolError {}

fn io_error(what: &'static str) -> impl FnOnce(io::Error) -> PoolError {
    move |source| PoolError::Io { what, source }
}

impl Pool {
    /// A pool of `processes` workers.
    ///
    /// # Panics
    /// If `processes` is 0 (Python raises `ValueError`).
    pub fn new(processes: usize) -> Pool {
        assert!(processes > 0, "Pool::new: processes must be at least 1");
        Pool { processes }
    }

    /// The number of worker processes.
    pub fn processes(&self) -> usize {
        self.processes
    }

    /// Applies `f` to every item on the workers; the results in input order.
    pub fn map<T, R, F>(&self, f: F, items: &[T]) -> Result<Vec<R>, PoolError>
    where
        F: Fn(&T) -> R,
        R: Serialize + DeserializeOwned,
    {
        let total = items.len();
        if total == 0 {
            return Ok(Vec::new());
        }
        let chunk = total.div_ceil(self.processes * CHUNKS_PER_WORKER);
        let chunks = total.div_ceil(chunk);
        // The next chunk to claim, in memory the workers share.
        let next_chunk = Value::new(0usize).map_err(io_error("mapping the chunk counter"))?;

        let mut workers = Vec::new();
        for _ in 0..self.processes.min(chunks) {
            let (read, write) = process::pipe().map_err(io_error("opening a result pipe"))?;
            let process = Process::start_with(write, |out| {
                work(&f, items, &next_chunk, chunk, chunks, &out)
            })
            .map_err(PoolError::Start)?;
            workers.push(Worker {
                process: Some(process),
                results: read,
            });
        }

        let mut slots: Vec<Option<Vec<R>>> = (0..chunks).map(|_| None).collect();
        let mut received = 0;
        let mut payload = Vec::new();
        while received < chunks {
            let ready = ready_workers(&workers)?;
            for i in ready {
                let worker = &mut workers[i];
                match read_message(&worker.results, &mut payload) {
                    Ok(Some(index)) => {
                        let slot = slots.get_mut(index).filter(|slot| slot.is_none());
                        let slot = slot.ok_or_else(|| {
                            io_error("reading results")(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("unexpected chunk {index}"),
                            ))
                        })?;
                        let len = chunk.min(total - index * chunk);
                        *slot = Some(decode(&payload, len).map_err(io_error("decoding results"))?);
                        received += 1;
                    }
                    // End-of-file: the worker is done, or died; `join` tells which.
                    Ok(None) => worker.join()?,
                    Err(e) => {
                        worker.join()?;
                        return Err(io_error("reading results")(e));
                    }
                }
            }
        }
        for worker in &mut workers {
            worker.join()?;
        }

        let mut results = Vec::with_capacity(total);
        for slot in slots {
            results.extend(slot.expect("every chunk was received"));
        }
        Ok(results)
    }
}

/// A running worker and the read end of its result pipe. Dropping it (on an error)
/// kills and reaps the process.
struct Worker<'a> {
    process: Option<Process<'a>>,
    results: PrivateFd,
}

impl Worker<'_> {
    fn join(&mut self) -> Result<(), PoolError> {
        match self.process.take() {
            Some(process) => process.join().map_err(PoolError::Worker),
            None => Ok(()),
        }
    }
}

/// Waits until some running worker's pipe has data or has hung up; their indices.
fn ready_workers(workers: &[Worker<'_>]) -> Result<Vec<usize>, PoolError> {
    let running: Vec<usize> = (0..workers.len())
        .filter(|&i| workers[i].process.is_some())
        .collect();
    if running.is_empty() {
        return Err(io_error("collecting results")(io::Error::other(
            "every worker ended and some chunks never came",
        )));
    }
    loop {
        let mut fds: Vec<PollFd<'_>> = running
            .iter()
            .map(|&i| PollFd::new(workers[i].results.as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {
                return Ok(running
                    .iter()
                    .zip(&fds)
                    .filter(|(_, fd)| fd.any().unwrap_or(true))
                    .map(|(&i, _)| i)
                    .collect());
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io_error("waiting for results")(e.into())),
        }
    }
}

/// One message into `payload`: its chunk index, or `None` at end-of-file before it.
fn read_message(mut fd: &PrivateFd, payload: &mut Vec<u8>) -> io::Result<Option<usize>> {
    let mut header = [0u8; HEADER];
    let mut got = 0;
    while got < HEADER {
        match fd.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let [index, len] = [0, 8].map(|at| {
        let bytes: [u8; 8] = header[at..at + 8].try_into().expect("8 bytes");
        u64::from_le_bytes(bytes) as usize
    });
    payload.clear();
    payload.resize(len, 0);
    fd.read_exact(payload)?;
    Ok(Some(index))
}

fn decode<R: DeserializeOwned>(bytes: &[u8], len: usize) -> io::Result<Vec<R>> {
    // One deserializer for the whole chunk: per item it is then just the decoding.
    let mut de = postcard::Deserializer::from_bytes(bytes);
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        match R::deserialize(&mut de) {
            Ok(item) => out.push(item),
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
    Ok(out)
}

/// postcard's output appended to a message buffer (postcard's `ExtendFlavor` goes through
/// `Extend` a byte at a time).
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    #[inline(always)]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    #[inline(always)]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// The worker's loop, in the child: claim a chunk, map it, send it; until none is left.
fn work<T, R, F>(
    f: &F,
    items: &[T],
    next_chunk: &Value<usize>,
    chunk: usize,
    chunks: usize,
    mut out: &PrivateFd,
) -> io::Result<()>
where
    F: Fn(&T) -> R,
    R: Serialize,
{
    let mut message = Vec::new();
    loop {
        let index = next_chunk.as_atomic().fetch_add(1, Ordering::Relaxed);
        if index >= chunks {
            return Ok(());
        }
        let start = index * chunk;
        let end = (start + chunk).min(items.len());
        message.clear();
        message.extend_from_slice(&[0; HEADER]);
        let mut serializer = postcard::Serializer {
            output: Append(&mut message),
        };
        for item in &items[start..end] {
            f(item)
                .serialize(&mut serializer)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        let len = (message.len() - HEADER) as u64;
        message[..8].copy_from_slice(&(index as u64).to_le_bytes());
        message[8..HEADER].copy_from_slice(&len.to_le_bytes());
        out.write_all(&message)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // libtest's threads make `map` refuse to fork; tests/processes.rs runs it for real.
    #[test]
    fn map_needs_a_single_threaded_caller() {
        std::thread::scope(|s| {
            s.spawn(|| std::thread::sleep(std::time::Duration::from_millis(200)));
            let err = Pool::new(2).map(|&n: &i32| n, &[1]).unwrap_err();
            assert!(matches!(
                err,
                PoolError::Start(ProcessError::Threaded { .. })
            ));
        });
    }

    #[test]
    fn an_empty_map_forks_nothing() {
        assert!(Pool::new(3).map(|&n: &i32| n, &[]).unwrap().is_empty());
    }

    #[test]
    fn messages_round_trip() {
        let (r, w) = process::pipe().unwrap();
        let counter = Value::new(0usize).unwrap();
        work(
            &|s: &&str| s.len() as u32,
            &["a", "bb", "ccc"],
            &counter,
            2,
            2,
            &w,
        )
        .unwrap();
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
