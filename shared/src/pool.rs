//! `Pool`: worker processes that run a function over items, like Python's
//! `multiprocessing.Pool(n)` with its `map`, `starmap` and `apply`; results in input order.
//!
//! ```
//! use std::time::Duration;
//! use shared::pool::{Pool, PoolError};
//!
//! fn square(n: i64) -> i64 {
//!     n * n
//! }
//! fn power(base: i64, exp: u32) -> i64 {
//!     base.pow(exp)
//! }
//! fn shout(word: String) -> String {
//!     word.to_uppercase()
//! }
//! fn abort_at_3(n: i32) -> i32 {
//!     if n == 3 { std::process::abort() } else { n }
//! }
//! fn stuck(_: i32) {
//!     loop { std::thread::sleep(Duration::from_secs(1)) }
//! }
//!
//! fn main() -> Result<(), PoolError> {
//!     shared::main_guard(); // Python's `if __name__ == '__main__':`
//!     let mut pool = Pool::new(4)?; // four workers, until `pool` is dropped
//!     assert_eq!(pool.map(square, &[1, 2, 3, 4, 5])?, [1, 4, 9, 16, 25]);
//!     // Each tuple's fields become the arguments: Python's `starmap` and `apply`.
//!     assert_eq!(pool.starmap(power, &[(2, 3), (3, 2)])?, [8, 9]);
//!     assert_eq!(pool.apply(power, (2, 10))?, 1024);
//!     // Items and results of any serde type.
//!     let words = ["fork".to_string(), "spawn".to_string()];
//!     assert_eq!(pool.map(shout, &words)?, ["FORK", "SPAWN"]);
//!     // A worker that dies is an error, not a hang (Python's Pool hangs: CPython gh-66587).
//!     assert!(pool.map(abort_at_3, &[1, 2, 3, 4]).is_err());
//!     // A bound on every call: past it the workers are killed.
//!     let mut bounded = Pool::new(2)?.timeout(Duration::from_millis(200));
//!     assert!(matches!(bounded.apply(stuck, (0,)), Err(PoolError::Timeout { .. })));
//!     Ok(())
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `pool.rs`, `shared_memory.rs`, `frames.rs`, `process.rs`, `start_method.rs`,
//! `reduction.rs`, `private_fd.rs`, `os.rs`, `parent_thread.rs` and `spawn_lock.rs` into one folder of your crate, as sibling modules (they reach each
//! other through `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal", "socket", "uio"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//!
//! [target.'cfg(windows)'.dependencies]
//! windows-sys = { version = "0.61", features = ["Win32_Foundation", "Win32_Security", "Win32_System_JobObjects", "Win32_System_Memory", "Win32_System_Pipes", "Win32_System_Threading"] }
//! ```
//!
//! # Python's names
//!
//! | Python | here |
//! |---|---|
//! | `with Pool(4) as p:` | [`let mut p = Pool::new(4)?;`](Pool::new), until `p` is dropped |
//! | `p.map(f, items)` | [`p.map(f, &items)`](Pool::map) |
//! | `p.starmap(f, [(a, b), ..])` | [`p.starmap(f, &[(a, b), ..])`](Pool::starmap): `f(a, b)` |
//! | `p.apply(f, (a, b))` | [`p.apply(f, (a, b))`](Pool::apply): `f(a, b)`, once |
//! | `p.map_async(f, items).get(timeout)` | [`Pool::new(4)?.timeout(limit)`](Pool::timeout), then any call |
//! | `p.close(); p.join()` | [`p.join()`](Pool::join) |
//! | `p.terminate()` | [`p.terminate()`](Pool::terminate) |
//!
//! # How a call runs
//!
//! `Pool::new(n)` starts `n` workers, by the start method in force, and they live until the
//! pool is dropped (Python's `with` block's end), [`join`](Pool::join)ed or
//! [`terminate`](Pool::terminate)d: a hundred calls do not start a hundred processes. Each
//! worker has a pipe for tasks and one for results, and beside each pipe an area of shared
//! memory. A call cuts the items into chunks (4 per worker, as Python's default `chunksize`,
//! but at most 8192 items), and hands the next chunk to each worker that is free: which
//! function to run (as `start_method` finds a spawned child's target) and the chunk's items,
//! postcard-encoded (plain numbers travel as their bytes). The bytes go into the worker's
//! area, and the frame on the pipe says how many are there (any that do not fit follow on
//! the pipe). The worker sends back the chunk's results the same way, in one message, and
//! the parent puts each chunk in its place in the `Vec` it returns. A million items is a few
//! hundred messages, not a million. On Linux, when plain results fill 4 MiB or more, a thread
//! of the call's own faults that `Vec`'s pages in meanwhile; the call joins it before it
//! returns.
//!
//! The function is a plain `fn` (or a closure that captures nothing), and items and
//! results are serde types, as Python's must be picklable: the workers are other programs,
//! or copies made before the call.
//!
//! # A worker that dies, or never ends
//!
//! If `f` panics, the worker catches it and the call returns [`PoolError::Worker`] with the
//! panic message once the other chunks in flight are back (Python's `map` re-raises the
//! exception); the pool stays usable. If a worker is killed or aborts, its result pipe
//! reaches end-of-file, and the call returns [`PoolError::Worker`] saying how it ended, at
//! once, and the pool is broken: its other workers are killed, and later calls fail with
//! [`PoolError::Broken`] (Python's `map` waits forever here). A worker stuck in a loop would
//! make a call wait forever: [`Pool::timeout`] bounds every call, and past it the call kills
//! the workers and returns [`PoolError::Timeout`]. (Python's `get(timeout)` raises
//! `multiprocessing.TimeoutError` and leaves the workers running.)

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::frames::{Inbox, write_all_parts};
use super::os;
use super::process::{
    PrivateFd, Process, ProcessError, StartMethod, Target, get_start_method, pipe,
};
use super::shared_memory::Array;
use super::start_method::{address_at, conjure, offset_of};
use area::Area;

/// Chunks per worker: enough to even out uneven items, few enough to be cheap.
const CHUNKS_PER_WORKER: usize = 4;
/// Items per chunk at most.
const MAX_CHUNK: usize = 8192;
/// Bytes each [`Area`] holds: a chunk of the widest plain numbers (`u128`).
const AREA_BYTES: usize = MAX_CHUNK * 16;
/// How long dropping a pool waits for its workers to leave before it kills them.
const LEAVE_WITHIN: Duration = Duration::from_secs(2);

/// Worker processes to run calls on; Python's `Pool(processes)`. See the [module docs](self).
#[derive(Debug)]
pub struct Pool {
    workers: Vec<Worker>,
    timeout: Duration,
    /// Why the pool cannot take calls any more.
    broken: Option<String>,
}

#[derive(Debug)]
struct Worker {
    process: Option<Process>,
    /// Write end of its task pipe; dropping it tells the worker to leave.
    tasks: Option<PrivateFd>,
    /// Read end of its result pipe.
    results: PrivateFd,
    inbox: Inbox,
    /// Where a task's bytes go, and where its results come back.
    areas: (Area, Area),
    /// The stamp of the last task sent (see [`Area`]).
    stamp: u64,
    /// The chunk it is working on.
    busy: Option<usize>,
}

/// Why a [`Pool`] call failed.
#[derive(Debug)]
pub enum PoolError {
    /// A worker could not be started (e.g. under fork, the caller has threads).
    Start(ProcessError),
    /// A worker's function panicked, or a worker ended: how.
    Worker(ProcessError),
    /// The call did not finish within the pool's [`timeout`](Pool::timeout); its workers
    /// were killed.
    Timeout { limit: Duration },
    /// The pool lost its workers earlier (the reason) and takes no calls.
    Broken(String),
    /// Sending tasks or reading results failed.
    Io {
        what: &'static str,
        source: io::Error,
    },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Start(e) => write!(f, "could not start a pool worker: {e}"),
            PoolError::Worker(e) => write!(f, "a pool worker failed: {e}"),
            PoolError::Timeout { limit } => write!(
                f,
                "the pool did not finish within its timeout of {limit:?}; its workers were killed"
            ),
            PoolError::Broken(why) => write!(f, "the pool takes no more calls: {why}"),
            PoolError::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for PoolError {}

fn io_error(what: &'static str) -> impl FnOnce(io::Error) -> PoolError {
    move |source| PoolError::Io { what, source }
}

/// Why a call ends in an error once the chunks in flight are back.
enum Failed {
    /// A worker's function panicked.
    Worker(ProcessError),
    /// An item could not be encoded (say, a handle as an item).
    Encoding(io::Error),
    /// A result could not be decoded (its type refused what its worker wrote).
    Decoding(io::Error),
}

/// What a worker runs for a chunk: the items' bytes and count in, the results' bytes out.
type ChunkEntry = fn(&[u8], usize, &mut Vec<u8>) -> io::Result<()>;

impl Pool {
    /// Starts `processes` workers by the start method in force; Python's `Pool(processes)`.
    ///
    /// # Panics
    /// If `processes` is 0 (Python raises `ValueError`).
    pub fn new(processes: usize) -> Result<Pool, PoolError> {
        Pool::new_by(get_start_method().map_err(PoolError::Start)?, processes)
    }

    /// [`new`](Pool::new) by the given start method; Python's
    /// `get_context(method).Pool(processes)`.
    pub fn new_by(method: StartMethod, processes: usize) -> Result<Pool, PoolError> {
        assert!(processes > 0, "Pool::new: processes must be at least 1");
        let mut workers = Vec::with_capacity(processes);
        for _ in 0..processes {
            let (task_read, task_write) = pipe().map_err(io_error("opening a task pipe"))?;
            let (result_read, result_write) = pipe().map_err(io_error("opening a result pipe"))?;
            let new_area = || Area::new(AREA_BYTES).map_err(io_error("mapping a shared area"));
            let areas = (new_area()?, new_area()?);
            let process =
                Process::start_by(method, serve, (task_read, result_write, areas.clone()))
                    .map_err(PoolError::Start)?;
            workers.push(Worker {
                process: Some(process),
                tasks: Some(task_write),
                results: result_read,
                inbox: Inbox::new(),
                areas,
                stamp: 0,
                busy: None,
            });
        }
        Ok(Pool {
            workers,
            timeout: Duration::MAX,
            broken: None,
        })
    }

    /// This pool with every call bounded by `limit`: a call still running after it kills
    /// the workers and returns [`PoolError::Timeout`]. `Duration::MAX` means no limit.
    /// Python's `map_async(f, items).get(limit)`.
    pub fn timeout(mut self, limit: Duration) -> Pool {
        self.timeout = limit;
        self
    }

    /// The workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        let workers = self.workers.iter();
        workers
            .filter_map(|w| w.process.as_ref())
            .map(Process::pid)
            .collect()
    }

    /// Applies `f` to every item on the workers; the results in input order. Python's
    /// `pool.map(f, items)`.
    pub fn map<T, R, F>(&mut self, f: F, items: &[T]) -> Result<Vec<R>, PoolError>
    where
        F: Fn(T) -> R + Copy + 'static,
        T: Serialize + DeserializeOwned + 'static,
        R: Serialize + DeserializeOwned + 'static,
    {
        let _ = f; // only its type travels
        self.run(map_chunk::<F, T, R>, items)
    }

    /// Calls `f` with each item's fields as its arguments (see [`Target`]); the results in
    /// input order. Python's `pool.starmap(f, items)`.
    pub fn starmap<T, F>(&mut self, f: F, items: &[T]) -> Result<Vec<F::Output>, PoolError>
    where
        F: Target<T>,
        T: Serialize + DeserializeOwned + 'static,
        F::Output: Serialize + DeserializeOwned + 'static,
    {
        let _ = f;
        self.run(star_chunk::<F, T>, items)
    }

    /// Calls `f` with `args`' fields as its arguments, once, on a worker, and waits for
    /// the result. Python's `pool.apply(f, args)`.
    pub fn apply<A, F>(&mut self, f: F, args: A) -> Result<F::Output, PoolError>
    where
        F: Target<A>,
        A: Serialize + DeserializeOwned + 'static,
        F::Output: Serialize + DeserializeOwned + 'static,
    {
        let mut results = self.starmap(f, std::slice::from_ref(&args))?;
        Ok(results.pop().expect("one call, one result"))
    }

    /// Closes the task pipes and waits for every worker to leave; how the first one that
    /// did not end well ended. Python's `pool.close()` then `pool.join()`.
    pub fn join(mut self) -> Result<(), PoolError> {
        self.leave()
    }

    /// Kills the workers now; Python's `pool.terminate()`.
    pub fn terminate(mut self) {
        self.kill_all();
    }

    /// Sends the chunks of `items` to free workers and collects the results in order.
    fn run<T: Serialize + 'static, R: DeserializeOwned + 'static>(
        &mut self,
        entry: ChunkEntry,
        items: &[T],
    ) -> Result<Vec<R>, PoolError> {
        if let Some(why) = &self.broken {
            return Err(PoolError::Broken(why.clone()));
        }
        let chunks = Chunks::new(items.len(), self.workers.len());
        let deadline = Deadline::new(self.timeout);
        let mut results = wire::Assembly::<R>::new(chunks);
        let mut next = 0;
        let mut failure = None;
        let (mut head, mut encoded) = (Vec::new(), Vec::new());
        loop {
            for (i, worker) in self.workers.iter_mut().enumerate() {
                if worker.busy.is_some() || next == chunks.count || failure.is_some() {
                    continue;
                }
                let chunk = &items[chunks.range(next)];
                let sent = item_bytes(chunk, &mut encoded).and_then(|body| {
                    worker.stamp += 1;
                    let in_area = worker.areas.0.put(worker.stamp, body);
                    let entry = offset_of(entry as usize);
                    let count = chunk.len() as u64;
                    let words = [entry, next as u64, count, worker.stamp, in_area as u64];
                    frame_head(&mut head, words, body.len() - in_area)?;
                    Ok(&body[in_area..])
                });
                let inline = match sent {
                    Ok(inline) => inline,
                    Err(e) => {
                        // No further chunks go out; those in flight are collected first,
                        // so that the pool's next call starts with every worker free.
                        failure.get_or_insert(Failed::Encoding(e));
                        continue;
                    }
                };
                let tasks = worker
                    .tasks
                    .as_ref()
                    .expect("a working pool's pipes are open");
                if let Err(e) = write_all_parts(tasks, &head, inline) {
                    return Err(self.lost_worker(i, e));
                }
                worker.busy = Some(next);
                next += 1;
            }
            if self.workers.iter().all(|w| w.busy.is_none()) {
                break;
            }
            let ready = match self.ready(deadline) {
                Ok(ready) => ready,
                Err(e) => {
                    self.break_with(e.to_string());
                    return Err(e);
                }
            };
            for i in ready {
                let worker = &mut self.workers[i];
                if let Err(e) = worker.inbox.read_from(&worker.results) {
                    return Err(self.lost_worker(i, e));
                }
                while let Some(frame) = worker.inbox.take_bytes() {
                    let pid = worker.process.as_ref().map_or(0, Process::pid);
                    let read =
                        frame_words(frame).and_then(|([chunk, panicked, in_area], inline)| {
                            let chunk = chunk as usize;
                            if worker.busy != Some(chunk) {
                                return Err(invalid(format!(
                                    "a result for chunk {chunk}, which was not sent"
                                )));
                            }
                            let held = worker.areas.1.holding(worker.stamp, in_area as usize)?;
                            Ok((chunk, panicked, held, inline))
                        });
                    let (chunk, panicked, held, inline) = match read {
                        Ok(read) => read,
                        Err(e) => return Err(self.garbled(e)),
                    };
                    worker.busy = None;
                    let len = held.len() + inline.len();
                    let fill = |out: &mut [u8]| {
                        let (shared, rest) = out.split_at_mut(held.len());
                        held.copy_to(shared);
                        rest.copy_from_slice(inline);
                    };
                    if panicked == 0 {
                        if let Err(e) = results.put_with(chunk, len, fill) {
                            failure.get_or_insert(Failed::Decoding(e));
                        }
                    } else {
                        let mut message = vec![0; len];
                        fill(&mut message);
                        let message = String::from_utf8_lossy(&message).into_owned();
                        failure
                            .get_or_insert(Failed::Worker(ProcessError::Panicked { pid, message }));
                    }
                }
                if worker.inbox.at_eof() {
                    return Err(self.lost_worker(i, io::ErrorKind::UnexpectedEof.into()));
                }
            }
        }
        match failure {
            Some(Failed::Worker(e)) => Err(PoolError::Worker(e)),
            Some(Failed::Encoding(e)) => Err(io_error("encoding items")(e)),
            Some(Failed::Decoding(e)) => Err(io_error("decoding results")(e)),
            None => Ok(results
                .finish()
                .expect("with no failure, every chunk came back")),
        }
    }

    /// Waits until some busy worker's result pipe has data or has hung up; their indices.
    fn ready(&self, deadline: Deadline) -> Result<Vec<usize>, PoolError> {
        let busy: Vec<usize> = (0..self.workers.len())
            .filter(|&i| self.workers[i].busy.is_some())
            .collect();
        let ends: Vec<_> = busy
            .iter()
            .map(|&i| self.workers[i].results.as_handle())
            .collect();
        loop {
            let ready = os::wait_readable(&ends, deadline.left()?)
                .map_err(io_error("waiting for results"))?;
            if ready.contains(&true) {
                let ready = busy.iter().zip(ready).filter(|(_, r)| *r);
                return Ok(ready.map(|(&i, _)| i).collect());
            }
            // None yet: `deadline.left()` says whether time is up.
        }
    }

    /// Worker `dead`'s pipe failed: it died. Reaps it (how it ended is the error), kills
    /// the rest at once, and breaks the pool.
    fn lost_worker(&mut self, dead: usize, pipe_error: io::Error) -> PoolError {
        let mut how = None;
        for (i, worker) in self.workers.iter_mut().enumerate() {
            if let Some(mut process) = worker.process.take() {
                // The dead one has ended or is ending; the others are killed.
                if i != dead
                    || !process
                        .join_timeout(Duration::from_millis(500))
                        .unwrap_or(false)
                {
                    let _ = process.kill();
                }
                if let Err(e) = process.join()
                    && i == dead
                {
                    how = Some(e);
                }
            }
        }
        let error = match how {
            Some(e) => PoolError::Worker(e),
            None => io_error("talking to a worker")(pipe_error),
        };
        self.break_with(error.to_string());
        error
    }

    /// A worker sent what is not a result of this call: the pool breaks, since the chunks
    /// still in flight could not be told apart from the next call's.
    fn garbled(&mut self, e: io::Error) -> PoolError {
        let error = io_error("reading results")(e);
        self.break_with(error.to_string());
        error
    }

    fn break_with(&mut self, why: String) {
        self.kill_all();
        self.broken.get_or_insert(why);
    }

    fn kill_all(&mut self) {
        for worker in &mut self.workers {
            worker.tasks = None;
            drop(worker.process.take()); // kills and reaps
        }
    }

    /// Closes the task pipes, then waits (within [`LEAVE_WITHIN`]) for the workers to leave.
    fn leave(&mut self) -> Result<(), PoolError> {
        for worker in &mut self.workers {
            worker.tasks = None;
        }
        let deadline = Instant::now() + LEAVE_WITHIN;
        let mut first_error = None;
        for worker in &mut self.workers {
            let Some(mut process) = worker.process.take() else {
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let result = match process.join_timeout(left) {
                Ok(true) => process.join().map_err(PoolError::Worker),
                Ok(false) => Err(PoolError::Timeout {
                    limit: LEAVE_WITHIN,
                }),
                Err(e) => Err(PoolError::Worker(e)),
            };
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Python's `with Pool(..)` block ends: the workers are told to leave, and killed if they
/// have not within a moment.
impl Drop for Pool {
    fn drop(&mut self) {
        let _ = self.leave();
    }
}

/// A worker, in its own process: runs each task that arrives until the task pipe closes.
fn serve(tasks: PrivateFd, results: PrivateFd, areas: (Area, Area)) -> io::Result<()> {
    let mut inbox = Inbox::new();
    let (mut items, mut out, mut head) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let Some(task) = inbox.take_bytes() else {
            if inbox.at_eof() {
                return Ok(()); // the pool closed: leave
            }
            inbox.read_from(&tasks)?;
            continue;
        };
        let ([entry, chunk, count, stamp, in_area], inline) = frame_words(task)?;
        items.clear();
        areas.0.take(stamp, in_area as usize, &mut items)?;
        items.extend_from_slice(inline);
        // SAFETY: the pool's parent sent `entry` as the `offset_of` a `ChunkEntry`, and this
        // worker runs the parent's program (a forked copy, or spawned from the same
        // executable, which the child checked when it started): the same function lies at
        // that address here.
        let entry: ChunkEntry =
            unsafe { std::mem::transmute::<usize, ChunkEntry>(address_at(entry)) };
        out.clear();
        let outcome =
            panic::catch_unwind(AssertUnwindSafe(|| entry(&items, count as usize, &mut out)));
        let failed = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(payload) => Some(
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "Box<dyn Any>".to_string()),
            ),
        };
        if let Some(message) = &failed {
            out.clear();
            out.extend_from_slice(message.as_bytes());
        }
        let in_area = areas.1.put(stamp, &out);
        let words = [chunk, u64::from(failed.is_some()), in_area as u64];
        frame_head(&mut head, words, out.len() - in_area)?;
        write_all_parts(&results, &head, &out[in_area..])?;
    }
}

/// A chunk's items as bytes: plain numbers as they lie ([`wire::plain_bytes`]), anything
/// else encoded into `buf`.
fn item_bytes<'a, T: Serialize + 'static>(
    items: &'a [T],
    buf: &'a mut Vec<u8>,
) -> io::Result<&'a [u8]> {
    if let Some(bytes) = wire::plain_bytes(items) {
        return Ok(bytes);
    }
    buf.clear();
    wire::encode(items, buf)?;
    Ok(buf)
}

/// Writes into `head` a frame's start: the frame's length (a `u32`), then `words`; the
/// frame's last `inline` bytes are to follow it on the pipe.
///
/// A task frame's words: the entry's offset, the chunk, how many items, the stamp, and how
/// many of the items' bytes are in the worker's [`Area`]; the rest are inline. A result
/// frame's: the chunk, 1 if the bytes are a panic message (else results), and how many
/// bytes are in the area.
fn frame_head<const N: usize>(
    head: &mut Vec<u8>,
    words: [u64; N],
    inline: usize,
) -> io::Result<()> {
    let len = u32::try_from(N * 8 + inline).map_err(|_| invalid("a frame over 4 GiB"))?;
    head.clear();
    head.extend_from_slice(&len.to_le_bytes());
    for word in words {
        head.extend_from_slice(&word.to_le_bytes());
    }
    Ok(())
}

/// A frame's `N` words (as [`frame_head`] wrote them), and the inline bytes after them.
fn frame_words<const N: usize>(body: &[u8]) -> io::Result<([u64; N], &[u8])> {
    let (head, inline) = body
        .split_at_checked(N * 8)
        .ok_or_else(|| invalid("a short frame"))?;
    let mut words = [0; N];
    for (word, bytes) in words.iter_mut().zip(head.chunks_exact(8)) {
        *word = u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    }
    Ok((words, inline))
}

/// `map`'s chunk, in the worker: `F` on each item.
fn map_chunk<F, T, R>(items: &[u8], count: usize, out: &mut Vec<u8>) -> io::Result<()>
where
    F: Fn(T) -> R + Copy + 'static,
    T: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    let f = conjure::<F>();
    let results: Vec<R> = decode_items::<T>(items, count)?
        .into_iter()
        .map(f)
        .collect();
    encode_results(&results, out)
}

/// `starmap`'s chunk, in the worker: `F` on each item's fields.
fn star_chunk<F, T>(items: &[u8], count: usize, out: &mut Vec<u8>) -> io::Result<()>
where
    F: Target<T>,
    T: DeserializeOwned + 'static,
    F::Output: Serialize + 'static,
{
    let f = conjure::<F>();
    let results: Vec<F::Output> = decode_items::<T>(items, count)?
        .into_iter()
        .map(|item| f.call(item))
        .collect();
    encode_results(&results, out)
}

/// A worker's chunk of items, or an error saying they could not be decoded.
fn decode_items<T: DeserializeOwned + 'static>(bytes: &[u8], count: usize) -> io::Result<Vec<T>> {
    decode(bytes, count).map_err(|e| invalid(format!("its items could not be decoded: {e}")))
}

/// A worker's results appended to `out`, or an error saying they could not be encoded.
fn encode_results<R: Serialize + 'static>(results: &[R], out: &mut Vec<u8>) -> io::Result<()> {
    wire::encode(results, out)
        .map_err(|e| invalid(format!("its results could not be encoded: {e}")))
}

/// `count` values of type `T` from `bytes`, as [`wire::encode`] wrote them.
fn decode<T: DeserializeOwned + 'static>(bytes: &[u8], count: usize) -> io::Result<Vec<T>> {
    // Never more room than there are bytes: `count` comes from the other end.
    let mut values = Vec::with_capacity(count.min(bytes.len()));
    wire::decode(bytes, count, &mut values)?;
    Ok(values)
}

/// How items and results travel between the pool and its workers.
///
/// Speed: a plain number (an integer or float primitive) travels as its bytes, in this
/// machine's order, a chunk copied in one go, where postcard would encode and decode each
/// value as a varint. Everything else travels as postcard. Both ends know the type, so
/// the bytes carry no tag.
mod wire {
    use std::alloc::{self, Layout};
    use std::any::TypeId;
    use std::io;

    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::{Chunks, Populating, invalid, populate, prefer_huge_pages};

    /// Whether `T` is a primitive integer or float: no padding, no pointers, and every bit
    /// pattern of its size a value.
    fn is_plain<T: 'static>() -> bool {
        let plain = [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<u128>(),
            TypeId::of::<usize>(),
            TypeId::of::<i8>(),
            TypeId::of::<i16>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
            TypeId::of::<i128>(),
            TypeId::of::<isize>(),
            TypeId::of::<f32>(),
            TypeId::of::<f64>(),
        ];
        plain.contains(&TypeId::of::<T>())
    }

    /// The bytes of `values`, if they are plain numbers: what [`encode`] appends for them.
    pub fn plain_bytes<T: 'static>(values: &[T]) -> Option<&[u8]> {
        // SAFETY: `T` is a primitive number (checked first): it has no padding, so all
        // `size_of_val(values)` bytes of the slice are initialized, and they are borrowed
        // no longer than `values`.
        is_plain::<T>().then(|| unsafe {
            std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), size_of_val(values))
        })
    }

    /// Appends `values` to `out`: their bytes if plain, else each one postcard-encoded.
    pub fn encode<T: Serialize + 'static>(values: &[T], out: &mut Vec<u8>) -> io::Result<()> {
        if let Some(bytes) = plain_bytes(values) {
            out.extend_from_slice(bytes);
            return Ok(());
        }
        for value in values {
            postcard::to_io(value, &mut *out).map_err(invalid)?;
        }
        Ok(())
    }

    /// Appends to `out` the `count` values `bytes` holds, as [`encode`] wrote them.
    pub fn decode<T: DeserializeOwned + 'static>(
        bytes: &[u8],
        count: usize,
        out: &mut Vec<T>,
    ) -> io::Result<()> {
        if is_plain::<T>() {
            if Some(bytes.len()) != count.checked_mul(size_of::<T>()) {
                return Err(invalid(format!(
                    "{} bytes are not {count} values of {} bytes",
                    bytes.len(),
                    size_of::<T>()
                )));
            }
            out.reserve(count);
            let len = out.len();
            // SAFETY: room for `count` more values was reserved, and `bytes` is exactly
            // their size (checked above); the copy is bytewise, so `bytes` needs no
            // alignment. `T` is a primitive number (checked above), of which every bit
            // pattern is a value, so the `count` new elements are initialized.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    out.as_mut_ptr().add(len).cast::<u8>(),
                    bytes.len(),
                );
                out.set_len(len + count);
            }
            return Ok(());
        }
        // One deserializer for the whole chunk: per value it is then just the decoding.
        let mut de = postcard::Deserializer::from_bytes(bytes);
        for _ in 0..count {
            out.push(T::deserialize(&mut de).map_err(invalid)?);
        }
        Ok(())
    }

    /// The bytes of `values`, writable, if they are plain numbers.
    fn plain_bytes_mut<T: 'static>(values: &mut [T]) -> Option<&mut [u8]> {
        // SAFETY: `T` is a primitive number (checked first): it has no padding, so all
        // `size_of_val(values)` bytes are initialized, and every bit pattern is a value of it,
        // so whatever is written through the bytes leaves valid values. The bytes borrow
        // `values` exclusively, for no longer than it.
        is_plain::<T>().then(|| unsafe {
            std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<u8>(), size_of_val(values))
        })
    }

    /// `n` zeros of type `T`, if it is a plain number. The memory is allocated zeroed
    /// (`calloc` on Unix), so a large `Vec` is fresh pages the OS hands over zeroed:
    /// nothing is written until the results are.
    fn plain_zeros<T: 'static>(n: usize) -> Option<Vec<T>> {
        if !is_plain::<T>() {
            return None;
        }
        let layout = Layout::array::<T>(n).expect("capacity overflow");
        if layout.size() == 0 {
            return Some(Vec::new());
        }
        // SAFETY: `layout` has a non-zero size (checked above).
        let memory = unsafe { alloc::alloc_zeroed(layout) };
        if memory.is_null() {
            alloc::handle_alloc_error(layout);
        }
        // SAFETY: `memory` was allocated by the global allocator with the layout of `n`
        // values of `T`, so it is aligned for `T` and `n` is its capacity; its bytes are all
        // zero, which for a primitive number `T` (checked first) is the value 0, so all `n`
        // values are initialized.
        Some(unsafe { Vec::from_raw_parts(memory.cast::<T>(), n, n) })
    }

    /// A call's results, put in place as their chunks come back, in any order: plain
    /// values straight into the one `Vec` the call returns, others a chunk at a time.
    pub struct Assembly<T> {
        /// Declared before `plain`, so that it is joined before `plain` is dropped.
        populating: Populating,
        chunks: Chunks,
        /// Plain values, written in place: a zero for every result until its chunk is in.
        plain: Vec<T>,
        /// Each chunk once it is in (empty for plain values, which are in `plain`).
        parts: Vec<Option<Vec<T>>>,
        /// The bytes of a chunk that is not plain, before they are decoded.
        scratch: Vec<u8>,
    }

    impl<T: DeserializeOwned + 'static> Assembly<T> {
        pub fn new(chunks: Chunks) -> Self {
            let mut plain = plain_zeros(chunks.total).unwrap_or_default();
            // Speed: the results fill this `Vec` once, so its pages are all faulted in fresh;
            // in huge pages a million `u64` squares took 11.0 instead of 13.2 ms under fork,
            // 13.1 instead of 16.4 ms under spawn (`perf stat`, 2 cores).
            prefer_huge_pages(&mut plain);
            Assembly {
                populating: populate(&mut plain),
                chunks,
                plain,
                parts: (0..chunks.count).map(|_| None).collect(),
                scratch: Vec::new(),
            }
        }

        /// Chunk `index`'s results, `len` bytes as [`encode`] wrote them, which `fill`
        /// writes into the slice it is given: for plain values that is their place in the
        /// `Vec` the call returns, so they are copied once.
        pub fn put_with(
            &mut self,
            index: usize,
            len: usize,
            fill: impl FnOnce(&mut [u8]),
        ) -> io::Result<()> {
            let Some(slot @ None) = self.parts.get_mut(index) else {
                return Err(invalid(format!(
                    "chunk {index} came back twice, or was not sent"
                )));
            };
            let range = self.chunks.range(index);
            // `plain` is empty unless `T` is plain, and then it has every chunk's place.
            let place = self.plain.get_mut(range.clone());
            let Some(place) = place.and_then(plain_bytes_mut) else {
                self.scratch.clear();
                self.scratch.resize(len, 0);
                fill(&mut self.scratch);
                let mut values = Vec::with_capacity(range.len().min(len));
                decode(&self.scratch, range.len(), &mut values)?;
                *slot = Some(values);
                return Ok(());
            };
            if len != place.len() {
                return Err(invalid(format!(
                    "{len} bytes are not {} values of {} bytes",
                    range.len(),
                    size_of::<T>()
                )));
            }
            fill(place);
            *slot = Some(Vec::new());
            Ok(())
        }

        /// Every result in input order, once every chunk is in; `None` before.
        pub fn finish(self) -> Option<Vec<T>> {
            drop(self.populating);
            if self.parts.iter().any(Option::is_none) {
                return None;
            }
            if is_plain::<T>() {
                return Some(self.plain);
            }
            Some(self.parts.into_iter().flatten().flatten().collect())
        }
    }
}

/// Speed: a chunk's items, and its results, travel through memory the pool shares with
/// the worker (an area each way), so that the pipes carry only the frames' words. Through a
/// pipe each byte is copied into the kernel and out again, into pages allocated for it and
/// freed after; an area's pages are mapped once and reused by every chunk. A million `u64`
/// squares on 4 workers took 14.1 ms through 1 MiB pipes and 11.9 ms this way under fork,
/// 17.2 and 15.8 ms under spawn (`perf stat`, 2 cores).
mod area {
    use std::fmt;
    use std::io;
    use std::sync::atomic::AtomicU64;
    use std::sync::atomic::Ordering::{Acquire, Release};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Array, invalid};

    /// Bytes handed one way between the pool and a worker: word 0 holds the *stamp* of the
    /// frame whose bytes the area holds, the rest hold the bytes, 8 to a word. The writer
    /// puts the bytes, then the stamp, then sends the frame; the reader reads the frame,
    /// then the stamp, then the bytes. The words are atomics (moved in and out by `copy`),
    /// so whatever the other side does a read is never a data race: bytes come out as some
    /// side wrote them, and with their stamp's `Release`/`Acquire` the reader sees every
    /// byte written before it.
    #[derive(Clone)]
    pub struct Area(Array<u64>);

    impl Area {
        /// An area that holds up to `bytes` bytes.
        pub fn new(bytes: usize) -> io::Result<Area> {
            Array::zeroed(1 + bytes.div_ceil(8)).map(Area)
        }

        /// Puts the first of `bytes` that fit, stamped `stamp`; how many it put.
        pub fn put(&self, stamp: u64, bytes: &[u8]) -> usize {
            let (head, words) = self.0.as_atomics().split_first().expect("a stamp word");
            let n = bytes.len().min(words.len() * 8);
            copy::into_words(&bytes[..n], words);
            head.store(stamp, Release);
            n
        }

        /// Appends to `out` the first `len` bytes, if they are stamped `stamp`.
        pub fn take(&self, stamp: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
            let held = self.holding(stamp, len)?;
            let start = out.len();
            out.resize(start + len, 0);
            held.copy_to(&mut out[start..]);
            Ok(())
        }

        /// The first `len` bytes, if they are stamped `stamp`, to be copied out.
        pub fn holding(&self, stamp: u64, len: usize) -> io::Result<Held<'_>> {
            let (head, words) = self.0.as_atomics().split_first().expect("a stamp word");
            if len > 0 && (head.load(Acquire) != stamp || len > words.len() * 8) {
                return Err(invalid(
                    "the shared area does not hold the bytes its frame says it does",
                ));
            }
            Ok(Held { words, len })
        }
    }

    /// Bytes an area holds, their stamp checked: [`Area::holding`].
    pub struct Held<'a> {
        words: &'a [AtomicU64],
        len: usize,
    }

    impl Held<'_> {
        /// How many bytes.
        pub fn len(&self) -> usize {
            self.len
        }

        /// Copies the bytes into `out`, which is exactly as long.
        pub fn copy_to(&self, out: &mut [u8]) {
            assert_eq!(
                out.len(),
                self.len,
                "a copy of an area's bytes the wrong size"
            );
            copy::from_words(self.words, out);
        }
    }

    /// Moving bytes into and out of an area's words.
    ///
    /// Speed: on x86-64 each move is one `rep movsb` instead of a loop of word-sized
    /// relaxed atomics: the bench's pool row (a million `u64` squares) took 0.3 ms less
    /// under spawn and 0.2 ms less under fork (medians of 40 runs each, 2 cores); perf had
    /// put 80% of the loop's samples on its stores. Elsewhere, the loop.
    mod copy {
        use std::sync::atomic::AtomicU64;
        use std::sync::atomic::Ordering::Relaxed;

        /// Writes `bytes` into the first of `words`, 8 to a word.
        pub fn into_words(bytes: &[u8], words: &[AtomicU64]) {
            assert!(
                bytes.len() <= words.len() * 8,
                "more bytes than the area holds"
            );
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `bytes` holds `bytes.len()` bytes and `words` has room for them
            // (asserted); they cannot overlap, as no plain slice reaches an area's memory
            // (`Array` hands out only its atomics). The words are atomics, that is
            // `UnsafeCell`s behind a shared reference, so writing them through a pointer
            // from that reference is allowed. Each byte is moved by one hardware store, so
            // the other process sees what a loop of relaxed byte stores would show it.
            unsafe {
                move_bytes(
                    bytes.as_ptr(),
                    words.as_ptr().cast::<u8>().cast_mut(),
                    bytes.len(),
                );
            }
            #[cfg(not(target_arch = "x86_64"))]
            into_words_by_loop(bytes, words);
        }

        /// Fills `out` from the first of `words`, 8 bytes to a word.
        pub fn from_words(words: &[AtomicU64], out: &mut [u8]) {
            assert!(
                out.len() <= words.len() * 8,
                "more bytes than the area holds"
            );
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `words` holds `out.len()` bytes (asserted), each read by one hardware
            // load, as a relaxed byte load would read it; `out` is borrowed exclusively.
            unsafe {
                move_bytes(words.as_ptr().cast::<u8>(), out.as_mut_ptr(), out.len());
            }
            #[cfg(not(target_arch = "x86_64"))]
            from_words_by_loop(words, out);
        }

        /// Moves `len` bytes from `from` to `to` with one `rep movsb`.
        ///
        /// # Safety
        /// `from` must be readable and `to` writable for `len` bytes, the two apart.
        #[cfg(target_arch = "x86_64")]
        unsafe fn move_bytes(from: *const u8, to: *mut u8, len: usize) {
            // SAFETY: `rep movsb` moves `rcx` bytes from `rsi` to `rdi`, both moving forward
            // (the direction flag is clear on entry, reference `asm.rules.x86-df`), and
            // changes no flags; the caller vouches for the memory, which an `asm!` block
            // may read and write as an FFI function may (`asm.rules.mem-same-as-ffi`).
            unsafe {
                std::arch::asm!(
                    "rep movsb",
                    inout("rcx") len => _,
                    inout("rsi") from => _,
                    inout("rdi") to => _,
                    options(nostack, preserves_flags),
                );
            }
        }

        /// [`into_words`] without `rep movsb`: a relaxed store per word.
        #[cfg_attr(
            all(target_arch = "x86_64", not(test)),
            expect(dead_code, reason = "x86-64 uses rep movsb; the tests compare the two")
        )]
        fn into_words_by_loop(bytes: &[u8], words: &[AtomicU64]) {
            for (word, chunk) in words.iter().zip(bytes.chunks(8)) {
                let mut value = [0; 8];
                value[..chunk.len()].copy_from_slice(chunk);
                word.store(u64::from_ne_bytes(value), Relaxed);
            }
        }

        /// [`from_words`] without `rep movsb`: a relaxed load per word.
        #[cfg_attr(
            all(target_arch = "x86_64", not(test)),
            expect(dead_code, reason = "x86-64 uses rep movsb; the tests compare the two")
        )]
        fn from_words_by_loop(words: &[AtomicU64], out: &mut [u8]) {
            for (chunk, word) in out.chunks_mut(8).zip(words) {
                let value = word.load(Relaxed).to_ne_bytes();
                chunk.copy_from_slice(&value[..chunk.len()]);
            }
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn both_ways_of_moving_give_the_same_bytes() {
                let words = || (0..4).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
                for len in 0..=32 {
                    let bytes: Vec<u8> = (1..=len as u8).collect();
                    let (by_move, by_loop) = (words(), words());
                    into_words(&bytes, &by_move);
                    into_words_by_loop(&bytes, &by_loop);
                    let (mut out, mut out_by_loop) = (vec![0; len], vec![0; len]);
                    from_words(&by_loop, &mut out);
                    from_words_by_loop(&by_move, &mut out_by_loop);
                    assert_eq!((&out, &out_by_loop), (&bytes, &bytes), "{len} bytes");
                }
            }
        }
    }

    impl fmt::Debug for Area {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "Area({} bytes)", (self.0.len() - 1) * 8)
        }
    }

    /// An area travels to a spawned worker as its shared array.
    impl Serialize for Area {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for Area {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Area, D::Error> {
            Array::deserialize(d).map(Area)
        }
    }
}

/// Asks the kernel to back the whole 2 MiB pages inside `memory` with huge pages when they
/// are first touched (`madvise(MADV_HUGEPAGE)`, which Linux honours when
/// `/sys/kernel/mm/transparent_hugepage/enabled` is `always` or `madvise`): filling fresh
/// memory then takes one page fault per 2 MiB instead of one per 4 KiB. Only advice: if the
/// kernel declines, nothing changes.
#[cfg(target_os = "linux")]
fn prefer_huge_pages<T>(memory: &mut [T]) {
    const HUGE: usize = 2 << 20;
    let start = memory.as_mut_ptr() as usize;
    let (first, end) = (
        start.next_multiple_of(HUGE),
        (start + size_of_val(memory)) & !(HUGE - 1),
    );
    let Some(pages) = std::ptr::NonNull::new(first as *mut std::ffi::c_void) else {
        return;
    };
    if end > first {
        // SAFETY: `first..end` lies inside `memory`, which this call borrows exclusively,
        // and is aligned to whole pages as madvise requires. MADV_HUGEPAGE changes only how
        // the kernel backs the range, never what it holds, so the allocation stays as valid
        // as it was; the result is ignored because the advice may be declined.
        let _ = unsafe {
            nix::sys::mman::madvise(
                pages,
                end - first,
                nix::sys::mman::MmapAdvise::MADV_HUGEPAGE,
            )
        };
    }
}

/// Elsewhere: no advice is given (macOS has no transparent huge pages for `malloc`'s memory).
#[cfg(not(target_os = "linux"))]
fn prefer_huge_pages<T>(_memory: &mut [T]) {}

/// A thread faulting in fresh memory while the call goes on; joined when dropped.
///
/// Speed: the first write to a fresh page waits while the kernel clears it, and for a
/// call's results that wait fell in the loop that hands out the chunks. From 4 MiB up, a
/// thread asks the kernel to fault in the whole `Vec` at once
/// (`madvise(MADV_POPULATE_WRITE)`, Linux 5.14) while the chunks go out: the bench's pool
/// row (8 MB of results) took 1.1 ms less under spawn and 0.9 ms less under fork (medians
/// of 40 runs each, 2 cores). CPython's `Pool` runs three threads of its own, too.
#[derive(Default)]
struct Populating(Option<std::thread::JoinHandle<()>>);

impl Drop for Populating {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(target_os = "linux")]
fn populate<T>(memory: &mut [T]) -> Populating {
    /// Below this many bytes, starting a thread costs more than the page faults it moves.
    const POPULATE_FROM: usize = 4 << 20;
    const PAGE: usize = 4096;
    let start = memory.as_mut_ptr() as usize;
    let (first, end) = (
        start.next_multiple_of(PAGE),
        (start + size_of_val(memory)) & !(PAGE - 1),
    );
    if end.saturating_sub(first) < POPULATE_FROM {
        return Populating::default();
    }
    let thread = std::thread::Builder::new().spawn(move || {
        let Some(pages) = std::ptr::NonNull::new(first as *mut std::ffi::c_void) else {
            return;
        };
        // SAFETY: `first..end` lies inside `memory`, which lives until this thread is
        // joined (the `Populating` is dropped before it), and is aligned to whole pages as
        // madvise requires. MADV_POPULATE_WRITE only faults the pages in: it reads and
        // writes none of their bytes, so the caller writing them meanwhile is no data
        // race. The result is ignored: a kernel before 5.14 refuses the advice, and then
        // the pages are faulted in by the writes, as without this thread.
        let _ = unsafe {
            nix::sys::mman::madvise(
                pages,
                end - first,
                nix::sys::mman::MmapAdvise::MADV_POPULATE_WRITE,
            )
        };
    });
    Populating(thread.ok())
}

/// Elsewhere: the writes fault the pages in.
#[cfg(not(target_os = "linux"))]
fn populate<T>(_memory: &mut [T]) -> Populating {
    Populating::default()
}

fn invalid(e: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// How a call cuts `total` items: `count` chunks of `size` items (the last may be shorter).
#[derive(Debug, Clone, Copy)]
struct Chunks {
    total: usize,
    size: usize,
    count: usize,
}

impl Chunks {
    fn new(total: usize, processes: usize) -> Chunks {
        let size = total
            .div_ceil(processes.saturating_mul(CHUNKS_PER_WORKER))
            .clamp(1, MAX_CHUNK);
        let count = total.div_ceil(size);
        Chunks { total, size, count }
    }

    fn range(&self, index: usize) -> std::ops::Range<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    // libtest's threads make a fork refuse, and its main has no `main_guard` for spawn;
    // tests/processes.rs runs pools for real.
    #[cfg(unix)]
    #[test]
    fn a_pool_needs_a_single_threaded_caller_to_fork() {
        std::thread::scope(|s| {
            s.spawn(|| std::thread::sleep(Duration::from_millis(300)));
            let err = Pool::new_by(StartMethod::Fork, 2).unwrap_err();
            assert!(
                matches!(err, PoolError::Start(ProcessError::Threaded { .. })),
                "{err}"
            );
        });
    }

    #[cfg(windows)]
    #[test]
    fn a_pool_cannot_fork_on_windows() {
        let err = Pool::new_by(StartMethod::Fork, 2).unwrap_err();
        assert!(
            matches!(err, PoolError::Start(ProcessError::Method(_))),
            "{err}"
        );
    }

    #[test]
    fn tasks_and_results_round_trip() {
        fn double(n: u32) -> u32 {
            n * 2
        }
        fn entry_of<F: Fn(u32) -> u32 + Copy + 'static>(_: F) -> ChunkEntry {
            map_chunk::<F, u32, u32>
        }
        let entry = entry_of(double);
        let mut out = Vec::new();
        entry(&[1, 0, 0, 0, 2, 0, 0, 0], 2, &mut out).unwrap();
        assert_eq!(
            out,
            [2, 0, 0, 0, 4, 0, 0, 0],
            "plain numbers travel as their bytes"
        );
        assert!(
            entry(&[1, 0, 0], 1, &mut out).is_err(),
            "3 bytes are no u32"
        );
        let mut head = Vec::new();
        frame_head(&mut head, [5, 6, 7], 2).unwrap();
        assert_eq!(u32::from_le_bytes(head[..4].try_into().unwrap()), 26);
        head.extend_from_slice(b"hi");
        assert_eq!(frame_words(&head[4..]).unwrap(), ([5, 6, 7], &b"hi"[..]));
        assert!(frame_words::<3>(&head[4..20]).is_err(), "a short frame");
    }

    #[test]
    fn populating_is_joined_when_dropped() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let populating = Populating(Some(std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            flag.store(true, Ordering::SeqCst);
        })));
        drop(populating);
        assert!(
            done.load(Ordering::SeqCst),
            "dropped before its thread ended"
        );
    }

    #[test]
    fn populating_leaves_what_is_written_meanwhile() {
        let mut memory = vec![0u64; 1 << 20]; // 8 MiB
        let populating = populate(&mut memory);
        #[cfg(target_os = "linux")]
        assert!(populating.0.is_some(), "a thread for 8 MiB");
        for (i, value) in memory.iter_mut().enumerate().step_by(97) {
            *value = i as u64;
        }
        drop(populating);
        let wrong = memory
            .iter()
            .enumerate()
            .find(|&(i, &value)| value != if i % 97 == 0 { i as u64 } else { 0 });
        assert_eq!(wrong, None);
    }

    // Threads stand in for the two processes: the area is the same shared memory.
    #[test]
    fn an_area_hands_over_the_bytes_that_fit_under_their_stamp() {
        let area = Area::new(20).unwrap(); // 3 words: 24 bytes
        let bytes: Vec<u8> = (1..=30).collect();
        let other_side = area.clone();
        let put = std::thread::spawn(move || other_side.put(7, &bytes))
            .join()
            .unwrap();
        assert_eq!(put, 24, "what fits");
        let mut out = vec![0];
        area.take(7, 21, &mut out).unwrap();
        assert_eq!(out, [0].into_iter().chain(1..=21).collect::<Vec<u8>>());
        assert!(area.take(6, 3, &mut out).is_err(), "another frame's stamp");
        assert!(area.take(7, 25, &mut out).is_err(), "more than it holds");
        area.take(99, 0, &mut out).unwrap(); // nothing to take
    }

    /// A pool of one worker played by the test: its task pipe's read end and its result
    /// pipe's write end.
    fn pool_with_a_fake_worker() -> (Pool, PrivateFd, PrivateFd) {
        let (task_read, task_write) = pipe().unwrap();
        let (result_read, result_write) = pipe().unwrap();
        let area = || Area::new(64).unwrap();
        let worker = Worker {
            process: None,
            tasks: Some(task_write),
            results: result_read,
            inbox: Inbox::new(),
            areas: (area(), area()),
            stamp: 0,
            busy: None,
        };
        let pool = Pool {
            workers: vec![worker],
            timeout: Duration::from_secs(5),
            broken: None,
        };
        (pool, task_read, result_write)
    }

    fn square(n: u64) -> u64 {
        n * n
    }

    #[test]
    fn a_garbled_result_breaks_the_pool_at_once() {
        // Too short to be a result frame; then a result for a chunk that was never sent.
        let mut short = Vec::new();
        frame_head(&mut short, [0u64; 1], 0).unwrap();
        let mut unsent = Vec::new();
        frame_head(&mut unsent, [7u64, 0, 0], 0).unwrap();
        for (frame, why) in [
            (short, "a short frame"),
            (unsent, "chunk 7, which was not sent"),
        ] {
            let (mut pool, _tasks, results) = pool_with_a_fake_worker();
            super::super::frames::write_all(&results, &frame).unwrap();
            let err = pool.map(square, &[1u64, 2, 3]).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
            let again = pool.map(square, &[1u64]).unwrap_err();
            assert!(matches!(again, PoolError::Broken(_)), "{again}");
        }
    }

    #[test]
    fn a_worker_says_whether_its_items_or_its_results_failed() {
        struct Refused;
        impl Serialize for Refused {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("refused"))
            }
        }
        let err = encode_results(&[Refused], &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("its results could not be encoded"),
            "{err}"
        );
        let err = decode_items::<u32>(&[1, 2, 3], 1).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("its items could not be decoded"),
            "{err}"
        );
    }

    #[test]
    fn plain_numbers_travel_as_bytes_and_the_rest_as_postcard() {
        let mut bytes = Vec::new();
        wire::encode(&[1u64, 300], &mut bytes).unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(decode::<u64>(&bytes, 2).unwrap(), [1, 300]);
        bytes.clear();
        wire::encode(&[-1.5f32], &mut bytes).unwrap();
        assert_eq!(decode::<f32>(&bytes, 1).unwrap(), [-1.5]);
        // Not plain: a tuple of numbers, a String, `()` (no bytes at all).
        bytes.clear();
        wire::encode(&[(1u64, 300u64)], &mut bytes).unwrap();
        assert_eq!(bytes, [1, 0xac, 0x02], "postcard varints");
        assert_eq!(decode::<(u64, u64)>(&bytes, 1).unwrap(), [(1, 300)]);
        bytes.clear();
        wire::encode(&["ab".to_string()], &mut bytes).unwrap();
        assert_eq!(decode::<String>(&bytes, 1).unwrap(), ["ab"]);
        assert_eq!(decode::<()>(&[], 3).unwrap(), [(), (), ()]);
        // A count the bytes do not hold is an error, not a huge allocation.
        assert!(decode::<u64>(&[0; 8], usize::MAX).is_err());
        assert!(decode::<String>(&[], usize::MAX).is_err());
    }

    #[test]
    fn results_are_put_in_place_in_any_order_once_each() {
        fn bytes<T: Serialize + 'static>(values: &[T]) -> Vec<u8> {
            let mut out = Vec::new();
            wire::encode(values, &mut out).unwrap();
            out
        }
        fn put<T: DeserializeOwned + 'static>(
            results: &mut wire::Assembly<T>,
            index: usize,
            bytes: &[u8],
        ) -> io::Result<()> {
            results.put_with(index, bytes.len(), |out| out.copy_from_slice(bytes))
        }
        let chunks = Chunks::new(10, 1); // 4 chunks: 3, 3, 3, 1
        assert_eq!((chunks.count, chunks.size), (4, 3));
        let mut plain = wire::Assembly::<u64>::new(chunks);
        let mut strings = wire::Assembly::<String>::new(chunks);
        for index in [3, 1, 0] {
            let range: Vec<u64> = chunks.range(index).map(|i| i as u64 * 10).collect();
            put(&mut plain, index, &bytes(&range)).unwrap();
            let words: Vec<String> = range.iter().map(u64::to_string).collect();
            put(&mut strings, index, &bytes(&words)).unwrap();
        }
        assert!(
            put(&mut plain, 1, &bytes(&[30u64, 40, 50])).is_err(),
            "chunk 1 twice"
        );
        assert!(put(&mut plain, 7, &bytes(&[0u64])).is_err(), "no chunk 7");
        assert!(
            put(&mut plain, 2, &bytes(&[60u64, 70])).is_err(),
            "chunk 2 is 3 values"
        );
        put(&mut plain, 2, &bytes(&[60u64, 70, 80])).unwrap();
        let all: Vec<u64> = (0..10).map(|i| i * 10).collect();
        assert_eq!(plain.finish(), Some(all.clone()));
        // One chunk missing: no results.
        assert_eq!(strings.finish(), None);
        let mut strings = wire::Assembly::<String>::new(Chunks::new(2, 1));
        put(&mut strings, 0, &bytes(&["a".to_string()])).unwrap();
        put(&mut strings, 1, &bytes(&["b".to_string()])).unwrap();
        assert_eq!(
            strings.finish(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        // Results large enough for huge pages (8 MiB) arrive in place too.
        let chunks = Chunks::new(1 << 20, 4);
        let mut large = wire::Assembly::<u64>::new(chunks);
        for index in (0..chunks.count).rev() {
            let range: Vec<u64> = chunks.range(index).map(|i| i as u64).collect();
            put(&mut large, index, &bytes(&range)).unwrap();
        }
        let large = large.finish().unwrap();
        assert!(large.iter().enumerate().all(|(i, &v)| v == i as u64));
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
    #[should_panic(expected = "at least 1")]
    fn zero_processes_is_refused() {
        let _ = Pool::new_by(StartMethod::Fork, 0);
    }
}
