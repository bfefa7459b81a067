//! `Queue<T>`: a FIFO between processes over a pipe, like Python's
//! `multiprocessing.Queue`, split into a [`Sender`] (`put`) and a [`Receiver`] (`get`).
//!
//! ```
//! use shared::process::Process;
//! use shared::queue::{Queue, Receiver, Sender};
//!
//! fn producer(mut q: Sender<String>) -> std::io::Result<()> {
//!     for i in 0..3 {
//!         q.put(&format!("item {i}"))?;
//!     }
//!     q.close() // flush; dropping would too, but could not report an error
//! }
//!
//! let (tx, mut rx) = Queue::<String>::new()?.split();
//! let child = Process::start_with(tx, producer)?; // `tx` moves to the child
//! let mut got = Vec::new();
//! while let Some(item) = rx.get()? {              // `None`: every sender is gone
//!     got.push(item);
//! }
//! child.join()?;
//! assert_eq!(got, ["item 0", "item 1", "item 2"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Copying it
//!
//! Copy `queue.rs`, `process.rs` and `shared_memory.rs` into one folder of your crate, as
//! sibling modules (they reach each other through `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//! ```
//!
//! # Frames through a pipe
//!
//! A pipe carries bytes, not items, so each item travels as a *frame*: its length as a
//! `u32` (little-endian), then the item encoded with postcard. The receiver reads whatever
//! bytes have arrived and cuts them into frames, so an item of any size comes out whole,
//! however the kernel split the bytes on the way. Python's queue does the same with a
//! pickle behind a 4-byte length.
//!
//! [`Sender::put`] appends the frame to the sender's buffer, and the buffer is written to
//! the pipe when it passes 64 KiB (one write for many small items: that is where the speed
//! comes from), on [`flush`](Sender::flush), on [`close`](Sender::close), on drop and
//! before the sender is handed to a child. So the receiver sees an item only after one of
//! those: flush when the other side must see it now.
//!
//! # Several producers: the writers' lock
//!
//! Each sender writes its buffer with as many `write(2)` calls as the pipe needs. The
//! kernel keeps a single write whole only up to `PIPE_BUF` (4 KiB on Linux), so two
//! senders writing at once could interleave their bytes and tear each other's frames.
//! They take turns instead: a writers' lock in shared memory holds the pid of the process
//! writing (0 when none is), and a sender takes it (compare-and-swap 0 → its pid) before
//! it writes and gives it back after. Python's queue also holds a lock for each write.
//! Every item put (and flushed) comes out exactly once, whole, each sender's in order.
//!
//! A waiting sender spins briefly, then sleeps up to 1 ms between looks. It waits as long
//! as the holder writes, and a holder waits as long as the receiver takes to make room in
//! the pipe. Python's docs warn that a process killed while using a queue can corrupt it
//! and that a process killed holding a lock can deadlock the others; here a waiter checks
//! whether the holder is still running, and if not, fails with "process N died while
//! writing to this queue" instead of waiting forever.
//!
//! # A producer killed mid-write
//!
//! It dies holding the lock, so no one writes after its half frame. The receiver gets every
//! whole item before it; every other sender's next write fails with the error above; and
//! once every sender is gone (their processes end, or they are dropped), the receiver's
//! `get` fails with `UnexpectedEof` ("ended in the middle of an item") rather than
//! returning a torn item or `None`.
//!
//! # Ends, and the fork trap
//!
//! [`Receiver::get`] returns `None` once every [`Sender`] is gone, which the pipe tells by
//! end-of-file: when every copy of its write end is closed. A forked child inherits every
//! descriptor, so a consumer child holding a copy of a write end it never uses (say, the
//! parent still had the sender when it forked the consumer) would never see that
//! end-of-file, and would hang. Here each end is a [`PrivateFd`]: in every child that
//! [`Process`](super::process::Process) starts, every end is revoked except the ones handed
//! to it through [`Process::start_with`](super::process::Process::start_with), which moves
//! them out of the parent. So each end is open in exactly one process, the one that holds
//! it, and the end-of-file comes when the last sender is dropped or its process ends. An
//! end a child uses without having been handed it fails at once with a clear error rather
//! than sending or receiving anything twice. For several producers, [`Sender::try_clone`]
//! one sender per producer. One process receives: a `Receiver` cannot be cloned.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::signal::kill;
use nix::unistd::Pid;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::process::{Inherit, PrivateFd, current_pid, pipe, poll_timeout};
use super::shared_memory::Value;

/// A sender writes its buffer out once it holds this much; a receiver reads this much at
/// a time. 64 KiB is Linux's default pipe capacity.
const BUFFER: usize = 64 * 1024;

/// A new queue; [`split`](Queue::split) it into its two ends.
pub struct Queue<T> {
    sender: Sender<T>,
    receiver: Receiver<T>,
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// Opens the pipe under a new queue.
    pub fn new() -> io::Result<Self> {
        let (read, write) = pipe()?;
        let owner = current_pid();
        Ok(Queue {
            sender: Sender {
                fd: write,
                owner,
                buf: Vec::with_capacity(BUFFER),
                writing: Arc::new(Value::new(0)?),
                _items: PhantomData,
            },
            receiver: Receiver {
                fd: read,
                owner,
                inbox: Inbox::new(),
                _items: PhantomData,
            },
        })
    }

    /// The two ends.
    pub fn split(self) -> (Sender<T>, Receiver<T>) {
        (self.sender, self.receiver)
    }
}

/// What [`Receiver::get_timeout`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Got<T> {
    Item(T),
    /// Nothing arrived in time; some sender is still open. Python's `queue.Empty`.
    Empty,
    /// Every sender is gone and every item has been received.
    Closed,
}

/// The putting end; see the [module docs](self).
pub struct Sender<T> {
    fd: PrivateFd,
    /// The process this sender belongs to; 0 in a parent that handed it to a child.
    owner: u32,
    /// Frames not written yet.
    buf: Vec<u8>,
    /// The writers' lock: the pid of the process writing to the pipe, or 0.
    writing: Arc<Value<u32>>,
    _items: PhantomData<fn(T)>,
}

impl<T: Serialize> Sender<T> {
    /// Queues `item`: appends its frame to the buffer, writing the buffer out when full.
    #[inline]
    pub fn put(&mut self, item: &T) -> io::Result<()> {
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        push_frame(&mut self.buf, item)?;
        if self.buf.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }
}

impl<T> Sender<T> {
    /// Writes out the buffered items now, holding the writers' lock. If it fails, those
    /// items are not sent.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        let written = lock(&self.writing).and_then(|_held| write_all(&self.fd, &self.buf));
        self.buf.clear();
        self.buf.shrink_to(BUFFER); // after a big item
        written
    }

    /// Flushes and closes this end; Python's `close()`. When every sender is closed (or
    /// dropped, or its process has ended), the receiver's `get` returns `None`.
    pub fn close(mut self) -> io::Result<()> {
        self.flush()
    }

    /// Another sender for the same queue (a `dup` of its pipe end), e.g. to hand one to
    /// each of several producer processes.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Sender {
            fd: self.fd.try_clone()?,
            owner: current_pid(),
            buf: Vec::with_capacity(BUFFER),
            writing: Arc::clone(&self.writing),
            _items: PhantomData,
        })
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Only the owner's buffer is its own to send. An error cannot be reported here
        // (use `close`).
        if self.owner == current_pid() {
            let _ = self.flush();
        }
    }
}

impl<T> Inherit for Sender<T> {
    fn private_fds(&self, fds: &mut Vec<RawFd>) {
        fds.push(self.fd.as_raw_fd());
    }

    fn before_fork(&mut self) -> io::Result<()> {
        self.flush()
    }

    fn in_child(&mut self) {
        self.owner = current_pid();
    }

    fn in_parent(&mut self) {
        self.owner = 0; // the child's now: dropping this copy sends nothing
    }
}

/// The getting end; see the [module docs](self).
pub struct Receiver<T> {
    fd: PrivateFd,
    owner: u32,
    inbox: Inbox,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Receiver<T> {
    /// The next item, waiting as long as it takes; `None` once every sender is gone and
    /// every item has been received. Python's `get()`, with the end made visible.
    #[inline]
    pub fn get(&mut self) -> io::Result<Option<T>> {
        // Speed: the common case, an item already at hand, small enough to inline.
        if self.owner == current_pid()
            && let Some(item) = self.inbox.take()?
        {
            return Ok(Some(item));
        }
        match self.get_until(None)? {
            Got::Item(item) => Ok(Some(item)),
            Got::Closed => Ok(None),
            Got::Empty => unreachable!("no deadline, so never empty"),
        }
    }

    /// The next item if one arrives within `timeout`; Python's `get(timeout=..)`, with
    /// [`Got::Empty`] ("nothing yet") told apart from [`Got::Closed`] ("nothing ever").
    /// A timeout too long to count from now, such as `Duration::MAX`, waits without limit.
    pub fn get_timeout(&mut self, timeout: Duration) -> io::Result<Got<T>> {
        self.get_until(Instant::now().checked_add(timeout))
    }

    /// The next item if one is already there; Python's `get_nowait()`.
    pub fn try_get(&mut self) -> io::Result<Got<T>> {
        self.get_timeout(Duration::ZERO)
    }

    fn get_until(&mut self, deadline: Option<Instant>) -> io::Result<Got<T>> {
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        self.inbox.next(&self.fd, deadline)
    }
}

impl<T> Inherit for Receiver<T> {
    fn private_fds(&self, fds: &mut Vec<RawFd>) {
        fds.push(self.fd.as_raw_fd());
    }

    fn in_child(&mut self) {
        self.owner = current_pid();
    }
}

/// Appends `item`'s frame to `buf`: a `u32` length, then the postcard bytes.
#[inline]
pub(super) fn push_frame<T: Serialize>(buf: &mut Vec<u8>, item: &T) -> io::Result<()> {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    let encoded = postcard::serialize_with_flavor(item, Append(buf)).map_err(invalid);
    let len = buf.len() - start - 4;
    let len = encoded.and_then(|()| {
        u32::try_from(len).map_err(|_| invalid(format!("an item of {len} bytes is over 4 GiB")))
    });
    match len {
        Ok(len) => buf[start..start + 4].copy_from_slice(&len.to_le_bytes()),
        Err(e) => {
            buf.truncate(start);
            return Err(e);
        }
    }
    Ok(())
}

/// postcard's output: appended to a `Vec` that stays ours if encoding fails.
struct Append<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Append<'_> {
    type Output = ();

    #[inline(always)]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    #[inline(always)]
    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        // Speed: a varint's few bytes one by one rather than through a `memcpy` call,
        // which was a third of the cost of putting a small integer.
        if bytes.len() <= 16 {
            bytes.iter().for_each(|&byte| self.0.push(byte));
        } else {
            self.0.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// Bytes read from a pipe, cut into frames: `buf[start..end]` has arrived and is not
/// taken yet.
pub(super) struct Inbox {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Every write end is closed: no more bytes will come.
    eof: bool,
}

impl Inbox {
    pub(super) fn new() -> Inbox {
        Inbox {
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The next item from `fd`: one already here, else read until one is whole, until
    /// end-of-file ([`Got::Closed`]) or until `deadline` ([`Got::Empty`]; `None` waits
    /// without limit).
    pub(super) fn next<T: DeserializeOwned>(
        &mut self,
        fd: &PrivateFd,
        deadline: Option<Instant>,
    ) -> io::Result<Got<T>> {
        loop {
            if let Some(item) = self.take()? {
                return Ok(Got::Item(item));
            }
            if self.eof {
                if self.start < self.end {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the pipe ended in the middle of an item: the process writing it ended",
                    ));
                }
                return Ok(Got::Closed);
            }
            if !readable(fd, deadline)? {
                return Ok(Got::Empty);
            }
            self.read_from(fd)?;
        }
    }

    /// The next item, if its whole frame has arrived.
    #[inline]
    fn take<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
        let Some(len) = self.frame_len() else {
            return Ok(None);
        };
        let Some(body) = self.buf[self.start + 4..self.end].get(..len) else {
            return Ok(None);
        };
        let item = postcard::from_bytes(body).map_err(invalid)?;
        self.start += 4 + len;
        Ok(Some(item))
    }

    /// The length of the frame at `start`, once its 4 length bytes have arrived.
    #[inline]
    fn frame_len(&self) -> Option<usize> {
        let header = self.buf.get(self.start..self.start + 4)?;
        (self.start + 4 <= self.end)
            .then(|| u32::from_le_bytes(header.try_into().expect("4 bytes")) as usize)
    }

    /// One `read(2)` from `fd` into the room after what has arrived.
    pub(super) fn read_from(&mut self, fd: &PrivateFd) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        self.buf.resize(self.end + BUFFER, 0); // a pipe gives at most 64 KiB a read
        loop {
            match nix::unistd::read(fd, &mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EBADF) => return Err(not_ours()),
                Err(e) => return Err(e.into()),
            }
            return Ok(());
        }
    }

    /// Whether no more bytes will come.
    pub(super) fn at_eof(&self) -> bool {
        self.eof
    }
}

/// Waits until `fd` can be read without blocking (or has hung up); `false` if `deadline`
/// passed first. No deadline: `true` at once, and the read that follows waits.
pub(super) fn readable(fd: &PrivateFd, deadline: Option<Instant>) -> io::Result<bool> {
    let Some(deadline) = deadline else {
        return Ok(true);
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, poll_timeout(left)) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(Errno::EBADF) => return Err(not_ours()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The writers' lock, held: gives the lock back when dropped.
struct Held<'a>(&'a Value<u32>);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.set(0);
    }
}

/// Takes the writers' lock (see the module docs), failing if its holder has died.
fn lock(writing: &Value<u32>) -> io::Result<Held<'_>> {
    let me = current_pid();
    let mut pause = Duration::from_micros(10);
    for round in 0u32.. {
        let holder = match writing.compare_exchange(0, me) {
            Ok(_) => return Ok(Held(writing)),
            Err(holder) => holder,
        };
        // Most holds last one write of 64 KiB: a few microseconds.
        if round < 100 {
            std::hint::spin_loop();
            continue;
        }
        if has_ended(holder) {
            return Err(io::Error::other(format!(
                "process {holder} died while writing to this queue: the queue is broken, \
                 its last item may be torn (Python's docs warn of the same for a process \
                 killed while using a queue)"
            )));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
    unreachable!("the loop returns")
}

/// Whether process `pid` has ended: gone, or (on Linux) a zombie its parent has not
/// reaped yet, as a killed producer is until its parent joins it. (Elsewhere a zombie
/// counts as ended once it is reaped.)
fn has_ended(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return true;
    };
    if kill(Pid::from_raw(raw), None) == Err(Errno::ESRCH) {
        return true;
    }
    #[cfg(target_os = "linux")]
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (name) state ...": the name may hold anything, so look after the last ')'.
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        return state.is_some_and(|s| s.starts_with(['Z', 'X']));
    }
    false
}

/// All of `bytes`, in as many writes as it takes.
fn write_all(fd: &PrivateFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EBADF) => return Err(not_ours()),
            Err(Errno::EPIPE) => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the queue's receiver is gone",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(super) fn not_ours() -> io::Error {
    io::Error::other(
        "this end belongs to another process: a child gets an end only if it is handed \
         over with Process::start_with",
    )
}

fn invalid(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("sender", &self.sender)
            .field("receiver", &self.receiver)
            .finish()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("fd", &self.fd.as_raw_fd())
            .field("owner", &self.owner)
            .field("buffered_bytes", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("fd", &self.fd.as_raw_fd())
            .field("unread_bytes", &(self.inbox.end - self.inbox.start))
            .field("closed", &self.inbox.eof)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One process, both ends (and threads): the framing and the lock. Across processes:
    // tests/processes.rs.
    #[test]
    fn a_frame_is_a_u32_length_then_postcard() {
        let mut buf = Vec::new();
        push_frame(&mut buf, &300u16).unwrap(); // postcard: varint 0xAC 0x02
        push_frame(&mut buf, &"hi").unwrap();
        assert_eq!(buf, [2, 0, 0, 0, 0xAC, 0x02, 3, 0, 0, 0, 2, b'h', b'i']);
    }

    #[test]
    fn items_come_out_in_order_then_closed() {
        let (mut tx, mut rx) = Queue::<u64>::new().unwrap().split();
        for i in 0..10_000 {
            tx.put(&i).unwrap();
            if i % 1000 == 999 {
                tx.flush().unwrap(); // the pipe holds 64 KiB; do not fill it with no reader
                for j in i - 999..=i {
                    assert_eq!(rx.get().unwrap(), Some(j));
                }
            }
        }
        assert_eq!(rx.try_get().unwrap(), Got::Empty);
        tx.close().unwrap();
        assert_eq!(rx.get().unwrap(), None);
        assert_eq!(rx.get_timeout(Duration::from_secs(1)).unwrap(), Got::Closed);
    }

    #[test]
    fn big_items_from_two_senders_come_out_whole() {
        let (mut tx, mut rx) = Queue::<Vec<u8>>::new().unwrap().split();
        let mut tx2 = tx.try_clone().unwrap();
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(item) = rx.get().unwrap() {
                got.push(item);
            }
            got
        });
        let writer = thread::spawn(move || {
            for i in 0..20u8 {
                tx2.put(&vec![i; 300_000]).unwrap();
            }
        });
        for i in 100..120u8 {
            tx.put(&vec![i; 100_000 + usize::from(i)]).unwrap();
            tx.put(&vec![i]).unwrap();
        }
        drop(tx);
        writer.join().unwrap();
        let got = reader.join().unwrap();
        assert_eq!(got.len(), 60);
        let (ours, theirs): (Vec<_>, Vec<_>) = got.into_iter().partition(|v| v[0] >= 100);
        for (n, item) in theirs.iter().enumerate() {
            assert_eq!(item, &vec![n as u8; 300_000]);
        }
        for (n, pair) in ours.chunks(2).enumerate() {
            let i = 100 + n as u8;
            assert_eq!(pair, [vec![i; 100_000 + usize::from(i)], vec![i]]);
        }
    }

    #[test]
    fn a_wait_for_nothing_times_out_as_empty() {
        let (_tx, mut rx) = Queue::<String>::new().unwrap().split();
        let start = Instant::now();
        assert_eq!(
            rx.get_timeout(Duration::from_millis(50)).unwrap(),
            Got::Empty
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn get_timeout_of_duration_max_waits_without_limit() {
        let (mut tx, mut rx) = Queue::<u8>::new().unwrap().split();
        let late = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            tx.put(&7).unwrap();
            tx.close().unwrap();
        });
        assert_eq!(rx.get_timeout(Duration::MAX).unwrap(), Got::Item(7));
        assert_eq!(rx.get_timeout(Duration::MAX).unwrap(), Got::Closed);
        late.join().unwrap();
    }

    #[test]
    fn a_torn_item_is_an_error_not_a_hang() {
        let (tx, mut rx) = Queue::<String>::new().unwrap().split();
        write_all(&tx.fd, &[9, 0, 0, 0, 1, b'a']).unwrap(); // a 9-byte frame, cut short
        drop(tx);
        let err = rx.get().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_sender_waits_for_a_live_holder() {
        let (mut tx, mut rx) = Queue::<u8>::new().unwrap().split();
        let writing = Arc::clone(&tx.writing);
        let held = lock(&writing).unwrap();
        let start = Instant::now();
        let other = thread::spawn(move || {
            tx.put(&1).unwrap();
            tx.flush().unwrap(); // waits for the lock
            start.elapsed()
        });
        thread::sleep(Duration::from_millis(100));
        drop(held);
        assert!(other.join().unwrap() >= Duration::from_millis(100));
        assert_eq!(rx.get().unwrap(), Some(1));
    }

    #[test]
    fn a_holder_that_died_is_an_error_not_a_hang() {
        let (mut tx, _rx) = Queue::<u8>::new().unwrap().split();
        // A process that has ended but is not reaped yet (a zombie), then one reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        while !has_ended(pid) {
            thread::sleep(Duration::from_millis(1));
        }
        for _reaped in [false, true] {
            tx.writing.set(pid);
            tx.put(&1).unwrap();
            let err = tx.flush().unwrap_err();
            assert!(
                err.to_string().contains(&format!("process {pid} died")),
                "{err}"
            );
            child.wait().unwrap();
        }
    }
}
