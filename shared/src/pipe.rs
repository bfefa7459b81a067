//! `Pipe<T>`: two connected ends, like Python's `multiprocessing.Pipe()`. Each end is a
//! [`Connection`] that can [`send`](Connection::send) and [`recv`](Connection::recv) any
//! serde type; [`Pipe::one_way`] is Python's `Pipe(duplex=False)`.
//!
//! ```
//! use shared::pipe::{Connection, Pipe};
//! use shared::process::Process;
//!
//! fn doubler(mut conn: Connection<u64>) -> std::io::Result<()> {
//!     while let Some(n) = conn.recv()? { // `None`: the other end is closed
//!         conn.send(&(n * 2))?;
//!     }
//!     Ok(())
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     shared::main_guard();
//!     let (mut here, there) = Pipe::<u64>::new()?.split();
//!     let child = Process::start(doubler, (there,))?; // `there` moves to the child
//!     here.send(&21)?;
//!     assert_eq!(here.recv()?, Some(42));
//!     drop(here); // Python's close(): the child's `recv` returns `None`
//!     child.join()?;
//!     Ok(())
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `pipe.rs`, `frames.rs`, `process.rs`, `start_method.rs`, `reduction.rs`,
//! `private_fd.rs`, `os.rs`, `parent_thread.rs` and `spawn_lock.rs`
//! into one folder of your crate, as sibling modules (they reach each other through
//! `super::`), and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal", "socket", "uio"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//!
//! [target.'cfg(windows)'.dependencies]
//! windows-sys = { version = "0.61", features = ["Win32_Foundation", "Win32_Security", "Win32_System_JobObjects", "Win32_System_Pipes", "Win32_System_Threading"] }
//! ```
//!
//! # Pipe or Queue
//!
//! As Python's docs put it, a pipe is a connection between two processes, and a queue
//! allows several producers (and, in Python, several consumers). Python's docs warn that
//! two processes using the same end of a pipe at once can corrupt its data. Here a `Pipe`
//! has exactly two ends that cannot be cloned, so that cannot happen: it needs no lock, and
//! each `send` is written at once, with no buffer to flush. Pick a pipe to talk back and
//! forth with one other process (requests and replies); pick a [`Queue`] to collect items
//! from many.
//!
//! [`Queue`]: super::queue::Queue
//!
//! # How it works
//!
//! [`Pipe::new`] opens two OS pipes, one for each direction, and each end holds the read
//! end of one and the write end of the other; [`Pipe::one_way`] opens one. Items travel as
//! [`frames`](super::frames): a `u32` length, then the postcard bytes. [`Connection::recv`]
//! returns `None` once the other end is gone (dropped, or its process ended) and every
//! item it sent has been received; `send` to an end that is gone fails with `BrokenPipe`.
//! Ends are handed to a child like queue ends (see the [`queue`](super::queue) docs):
//! each is open only in the process that holds it.
//!
//! # Both ways at once
//!
//! An OS pipe holds 64 KiB. If both ends send a 1 MiB item before either receives, each
//! `write` would wait for the other side to read, and neither would: a deadlock (Python's
//! pipe has it). Here `send` never waits on its pipe alone: while the pipe out is full, it
//! reads whatever arrives on the pipe in and keeps it for `recv`. So two ends that send to
//! each other at once both finish, and memory holds what one side sent ahead.

use std::fmt;
use std::io::{self, ErrorKind};
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::frames::Got;
use super::frames::{Inbox, is_revoked, not_ours, push_frame, reader_gone};
use super::os;
use super::private_fd::{PrivateFd, current_pid, pipe};
use super::reduction::{self, BorrowedHandle};

/// A new pipe; [`split`](Pipe::split) it into its two ends.
pub struct Pipe<T> {
    ends: (Connection<T>, Connection<T>),
}

impl<T: Serialize + DeserializeOwned> Pipe<T> {
    /// Two ends that each send and receive; Python's `Pipe()`.
    pub fn new() -> io::Result<Self> {
        let (a_in, b_out) = pipe()?;
        let (b_in, a_out) = pipe()?;
        Ok(Pipe {
            ends: (
                Connection::new(Some(a_in), Some(a_out))?,
                Connection::new(Some(b_in), Some(b_out))?,
            ),
        })
    }

    /// `(receiving end, sending end)`; Python's `Pipe(duplex=False)`. The first end's
    /// `send` and the second's `recv` fail with `Unsupported`.
    ///
    /// ```
    /// use shared::pipe::Pipe;
    ///
    /// let (mut rx, mut tx) = Pipe::<String>::one_way()?.split();
    /// tx.send(&"one way".to_string())?;
    /// assert_eq!(rx.recv()?.as_deref(), Some("one way"));
    /// assert!(rx.send(&"back".to_string()).is_err()); // this end only receives
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn one_way() -> io::Result<Self> {
        let (read, write) = pipe()?;
        Ok(Pipe {
            ends: (
                Connection::new(Some(read), None)?,
                Connection::new(None, Some(write))?,
            ),
        })
    }

    /// The two ends.
    pub fn split(self) -> (Connection<T>, Connection<T>) {
        self.ends
    }
}

/// One end of a [`Pipe`]; Python's `multiprocessing.connection.Connection`. Dropping it
/// is Python's `close()`.
pub struct Connection<T> {
    incoming: Option<PrivateFd>,
    /// Non-blocking, so that `send` can read while the pipe out is full.
    outgoing: Option<PrivateFd>,
    inbox: Inbox,
    /// The frame being sent; kept to reuse its memory.
    frame: Vec<u8>,
    /// The process this end belongs to.
    owner: u32,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> Connection<T> {
    fn new(incoming: Option<PrivateFd>, outgoing: Option<PrivateFd>) -> io::Result<Self> {
        if let Some(fd) = &outgoing {
            os::set_nonblocking(fd.as_handle())?;
        }
        Ok(Connection {
            incoming,
            outgoing,
            inbox: Inbox::new(),
            frame: Vec::new(),
            owner: current_pid(),
            _items: PhantomData,
        })
    }
}

impl<T: Serialize + DeserializeOwned> Connection<T> {
    /// Sends `item` to the other end, all of it before returning; Python's `send(obj)`.
    /// While the pipe is full it reads what the other end sends meanwhile (see "Both ways
    /// at once"), and waits as long as the other end takes to make room.
    pub fn send(&mut self, item: &T) -> io::Result<()> {
        self.check_owner()?;
        let out = self.outgoing.as_ref().ok_or_else(|| one_way("receives"))?;
        self.frame.clear();
        push_frame(&mut self.frame, item)?;
        let mut sent = 0;
        while sent < self.frame.len() {
            match os::write(out.as_handle(), piece(&self.frame[sent..])) {
                // No room: Windows writes nothing, Unix says it would block.
                Ok(0) => wait_to_write(out, self.incoming.as_ref(), &mut self.inbox)?,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    wait_to_write(out, self.incoming.as_ref(), &mut self.inbox)?
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::BrokenPipe => return Err(reader_gone()),
                Err(e) if is_revoked(&e) => return Err(not_ours()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next item, waiting as long as it takes; `None` once the other end is gone and
    /// everything it sent has been received (where Python's `recv()` raises `EOFError`).
    pub fn recv(&mut self) -> io::Result<Option<T>> {
        match self.recv_until(None)? {
            Got::Item(item) => Ok(Some(item)),
            Got::Closed => Ok(None),
            Got::Empty => unreachable!("no deadline, so never empty"),
        }
    }

    /// The next item if one arrives within `timeout`: [`Got::Empty`] if none did,
    /// [`Got::Closed`] if none ever will. Python's `poll(timeout)` then `recv()`. A timeout
    /// too long to count from now, such as `Duration::MAX`, waits without limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// use shared::pipe::{Got, Pipe};
    ///
    /// let (mut a, b) = Pipe::<u8>::new()?.split();
    /// assert_eq!(a.recv_timeout(Duration::from_millis(10))?, Got::Empty); // `b` is silent
    /// drop(b);
    /// assert_eq!(a.recv_timeout(Duration::MAX)?, Got::Closed);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_timeout(&mut self, timeout: Duration) -> io::Result<Got<T>> {
        self.recv_until(Instant::now().checked_add(timeout))
    }

    fn recv_until(&mut self, deadline: Option<Instant>) -> io::Result<Got<T>> {
        self.check_owner()?;
        let incoming = self.incoming.as_ref().ok_or_else(|| one_way("sends"))?;
        self.inbox.next(incoming, deadline)
    }

    fn check_owner(&self) -> io::Result<()> {
        if self.owner == current_pid() {
            Ok(())
        } else {
            Err(not_ours())
        }
    }
}

/// Waits until `out` has room, reading what arrives on `incoming` meanwhile into `inbox`.
fn wait_to_write(
    out: &PrivateFd,
    incoming: Option<&PrivateFd>,
    inbox: &mut Inbox,
) -> io::Result<()> {
    let incoming = incoming.filter(|_| !inbox.at_eof());
    let arrived = wait_writable(out.as_handle(), incoming.map(PrivateFd::as_handle))?;
    if let (Some(fd), true) = (incoming, arrived) {
        inbox.read_from(fd)?;
    }
    Ok(())
}

/// What one write to the nonblocking pipe out is given: all that is left on Unix, which
/// writes what fits.
#[cfg(unix)]
fn piece(rest: &[u8]) -> &[u8] {
    rest
}

/// What one write to the nonblocking pipe out is given: at most 4 KiB on Windows, where a
/// write that does not fit whole may write nothing (wine's does).
#[cfg(windows)]
fn piece(rest: &[u8]) -> &[u8] {
    &rest[..rest.len().min(4096)]
}

/// Waits until `out` has room, or `incoming` (if any) holds bytes or has no writer left;
/// whether `incoming` is ready (`poll` on both).
#[cfg(unix)]
fn wait_writable(
    out: BorrowedHandle<'_>,
    incoming: Option<BorrowedHandle<'_>>,
) -> io::Result<bool> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = vec![PollFd::new(out, PollFlags::POLLOUT)];
    if let Some(fd) = incoming {
        fds.push(PollFd::new(fd, PollFlags::POLLIN));
    }
    match poll(&mut fds, PollTimeout::NONE) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(fds
        .get(1)
        .and_then(PollFd::revents)
        .is_some_and(|r| !r.is_empty()))
}

/// Waits until `out` may have room, or `incoming` (if any) holds bytes or has no writer
/// left; whether `incoming` is ready. Windows cannot wait for room in a pipe: this waits
/// up to a millisecond for `incoming`, and the caller tries its write again.
#[cfg(windows)]
fn wait_writable(
    _out: BorrowedHandle<'_>,
    incoming: Option<BorrowedHandle<'_>>,
) -> io::Result<bool> {
    let pause = std::time::Duration::from_millis(1);
    match incoming {
        Some(end) => Ok(os::wait_readable(&[end], Some(pause))?[0]),
        None => {
            std::thread::sleep(pause);
            Ok(false)
        }
    }
}

fn one_way(only: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("this end of a one-way pipe only {only}"),
    )
}

/// Handed to a child: both descriptors, and the bytes that arrived but were not taken yet.
impl<T> Serialize for Connection<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.incoming, &self.outgoing, self.inbox.unread_bytes()).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Connection<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (incoming, outgoing, unread): (_, _, Vec<u8>) = Deserialize::deserialize(d)?;
        let mut end = Connection::new(incoming, outgoing).map_err(serde::de::Error::custom)?;
        end.inbox = Inbox::holding(&unread);
        Ok(end)
    }
}

impl<T> fmt::Debug for Pipe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pipe")
            .field(&self.ends.0)
            .field(&self.ends.1)
            .finish()
    }
}

impl<T> fmt::Debug for Connection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = |end: &Option<PrivateFd>| end.as_ref().map(|end| reduction::raw(end.as_handle()));
        f.debug_struct("Connection")
            .field("incoming", &fd(&self.incoming))
            .field("outgoing", &fd(&self.outgoing))
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use super::*;

    // Threads stand in for processes here (libtest forbids forking); the cross-process
    // tests are in tests/processes.rs.
    #[test]
    fn items_go_both_ways_in_order() {
        let (mut a, mut b) = Pipe::<String>::new().unwrap().split();
        for i in 0..100 {
            a.send(&format!("a{i}")).unwrap();
            b.send(&format!("b{i}")).unwrap();
        }
        for i in 0..100 {
            assert_eq!(b.recv().unwrap(), Some(format!("a{i}")));
            assert_eq!(a.recv().unwrap(), Some(format!("b{i}")));
        }
        assert_eq!(a.recv_timeout(Duration::ZERO).unwrap(), Got::Empty);
    }

    #[test]
    fn a_one_way_pipe_refuses_the_other_way() {
        let (mut rx, mut tx) = Pipe::<u8>::one_way().unwrap().split();
        tx.send(&1).unwrap();
        assert_eq!(rx.recv().unwrap(), Some(1));
        let send = rx.send(&2).unwrap_err();
        assert_eq!(send.kind(), io::ErrorKind::Unsupported);
        assert!(send.to_string().contains("only receives"), "{send}");
        let recv = tx.recv().unwrap_err();
        assert!(recv.to_string().contains("only sends"), "{recv}");
    }

    #[test]
    fn an_end_whose_peer_is_gone_reads_closed_and_cannot_send() {
        let (mut a, mut b) = Pipe::<u8>::new().unwrap().split();
        b.send(&7).unwrap();
        drop(b);
        assert_eq!(a.recv().unwrap(), Some(7));
        assert_eq!(a.recv().unwrap(), None);
        assert_eq!(a.recv_timeout(Duration::MAX).unwrap(), Got::Closed);
        assert_eq!(a.send(&1).unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn recv_timeout_of_duration_max_waits_without_limit() {
        let (mut a, mut b) = Pipe::<u8>::new().unwrap().split();
        let late = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            b.send(&9).unwrap();
        });
        assert_eq!(a.recv_timeout(Duration::MAX).unwrap(), Got::Item(9));
        late.join().unwrap();
    }

    #[test]
    fn a_torn_item_is_an_error_not_a_hang() {
        let (mut a, b) = Pipe::<Vec<u8>>::new().unwrap().split();
        let out = b.outgoing.as_ref().unwrap();
        os::write(out.as_handle(), &[200, 0, 0, 0, 1, 2]).unwrap(); // 200 bytes promised
        drop(b);
        assert_eq!(a.recv().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn megabyte_items_cross_both_ways_at_once() {
        let item = |letter: u8| String::from_utf8(vec![letter; 1 << 20]).unwrap();
        let (a, b) = Pipe::<String>::new().unwrap().split();
        let (done, finished) = mpsc::channel();
        for (mut end, mine, theirs) in [(a, b'a', b'A'), (b, b'A', b'a')] {
            let done = done.clone();
            thread::spawn(move || {
                // Both send all of theirs before either receives: 4 MiB each way.
                for i in 0..4 {
                    end.send(&item(mine + i)).unwrap();
                }
                for i in 0..4 {
                    assert_eq!(end.recv().unwrap(), Some(item(theirs + i)));
                }
                done.send(()).unwrap();
            });
        }
        for _ in 0..2 {
            finished
                .recv_timeout(Duration::from_secs(30))
                .expect("both ends finish: no deadlock, no panic");
        }
    }
}
