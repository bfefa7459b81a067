//! `Queue<T>`: a FIFO between processes over a pipe, like Python's
//! `multiprocessing.Queue`, split into a [`Sender`] (`put`) and a [`Receiver`] (`get`).
//!
//! ```
//! use shared::process::Process;
//! use shared::queue::{Queue, Sender};
//!
//! fn producer(mut q: Sender<String>) -> std::io::Result<()> {
//!     for i in 0..3 {
//!         q.put(&format!("item {i}"))?;
//!     }
//!     q.close() // flush; dropping would too, but could not report an error
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     shared::main_guard();
//!     let (tx, mut rx) = Queue::<String>::new()?.split();
//!     let child = Process::start(producer, (tx,))?; // `tx` moves to the child
//!     let mut got = Vec::new();
//!     while let Some(item) = rx.get()? {             // `None`: every sender is gone
//!         got.push(item);
//!     }
//!     child.join()?;
//!     assert_eq!(got, ["item 0", "item 1", "item 2"]);
//!     Ok(())
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `queue.rs`, `frames.rs`, `shared_memory.rs`, `process.rs`, `start_method.rs`,
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
//! # Frames through a pipe
//!
//! Each item travels as a frame, its length as a `u32` and then its postcard bytes (see
//! [`frames`](super::frames)), so items of any size come out whole. [`Sender::put`]
//! appends the frame to the sender's buffer, which is written to the pipe when it passes
//! 64 KiB (one write for many small items: that is where the speed comes from), on
//! [`flush`](Sender::flush), [`close`](Sender::close) and drop, and before the sender is
//! handed to a child. Flush when the other side must see an item now.
//!
//! # Several producers: the writers' lock
//!
//! The kernel keeps a pipe write whole only up to `PIPE_BUF` (4 KiB on Linux), and a
//! buffer may take several writes: two senders writing at once could tear each other's
//! frames. So they take turns, as Python's queue does with a lock around each write: a
//! lock in shared memory holds the pid of the process writing (0 when none is), taken by
//! compare-and-swap before the buffer is written and given back after.
//! Every item put (and flushed) comes out exactly once, whole, each sender's in order.
//!
//! A waiting sender spins briefly, then sleeps up to 1 ms between looks, for as long as
//! the holder writes; a holder waits as long as the receiver takes to make room. Python's
//! docs warn that a process killed while using a queue can corrupt it, and one killed
//! holding a lock can deadlock the others. Here a waiter whose holder has died fails with
//! "process N died while writing to this queue" instead of waiting forever. The receiver
//! gets every whole item before the dead writer's half frame, and once every other sender
//! is gone, an `UnexpectedEof` error rather than a torn item or `None`.
//!
//! # Ends, and the fork trap
//!
//! [`Receiver::get`] returns `None` once every [`Sender`] is gone: when every copy of the
//! pipe's write end is closed. A forked child inherits every descriptor, so a consumer
//! holding a copy of a write end it never uses would wait for that end-of-file forever.
//! Here each end is a [`PrivateFd`]: in every child that
//! [`Process`](super::process::Process) forks, every end is revoked except those in its
//! arguments, which move out of the parent (a spawned child is sent only those). So each
//! end is open only in the process that holds it, and an end used elsewhere fails at once
//! with a clear error. Give each producer its own [`Sender::try_clone`]; one process
//! receives (a `Receiver` cannot be cloned). An end handed over takes along what it holds:
//! a sender's buffer is sent first, a receiver's unread bytes go with it.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::thread;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::frames::Got;
use super::frames::{BUFFER, Inbox, not_ours, push_frame, write_all};
use super::private_fd::{PrivateFd, current_pid, pipe};
use super::reduction;
use super::shared_memory::Value;

/// A new queue; [`split`](Queue::split) it into its two ends.
#[derive(Debug)]
pub struct Queue<T> {
    sender: Sender<T>,
    receiver: Receiver<T>,
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// Opens the pipe under a new queue.
    pub fn new() -> io::Result<Self> {
        let (read, write) = pipe()?;
        let sender = Sender::new(write, Value::new(0)?);
        let receiver = Receiver::new(read, Inbox::new());
        Ok(Queue { sender, receiver })
    }

    /// The two ends.
    pub fn split(self) -> (Sender<T>, Receiver<T>) {
        (self.sender, self.receiver)
    }
}

/// The putting end; see the [module docs](self).
pub struct Sender<T> {
    fd: PrivateFd,
    /// The process this sender belongs to: the one that made it, or that received it as a
    /// process argument. A copy a forked child holds without having been handed it still
    /// names the parent, so the child cannot use it.
    owner: u32,
    /// Frames not written yet (in a cell, so that handing the sender over can flush it).
    buf: RefCell<Vec<u8>>,
    /// The writers' lock, in shared memory: the pid of the process writing, or 0.
    writing: Value<u32>,
    _items: PhantomData<fn(T)>,
}

impl<T: Serialize> Sender<T> {
    /// Queues `item`: appends its frame to the buffer, writing the buffer out when full.
    #[inline]
    pub fn put(&mut self, item: &T) -> io::Result<()> {
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        let buf = self.buf.get_mut();
        push_frame(buf, item)?;
        if buf.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }
}

impl<T> Sender<T> {
    fn new(fd: PrivateFd, writing: Value<u32>) -> Self {
        Sender {
            fd,
            owner: current_pid(),
            buf: RefCell::new(Vec::with_capacity(BUFFER)),
            writing,
            _items: PhantomData,
        }
    }

    /// Writes out the buffered items now, holding the writers' lock. If it fails, those
    /// items are not sent.
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer()
    }

    fn flush_buffer(&self) -> io::Result<()> {
        let mut buf = self.buf.borrow_mut();
        if buf.is_empty() {
            return Ok(());
        }
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        let written = lock(&self.writing).and_then(|_held| write_all(&self.fd, &buf));
        buf.clear();
        buf.shrink_to(BUFFER); // after a big item
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
        Ok(Sender::new(self.fd.try_clone()?, self.writing.clone()))
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

/// Handed to a child: what is buffered is sent first, then the descriptor and the lock go.
impl<T> Serialize for Sender<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.flush_buffer().map_err(serde::ser::Error::custom)?;
        (&self.fd, &self.writing).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Sender<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (fd, writing) = Deserialize::deserialize(d)?;
        Ok(Sender::new(fd, writing))
    }
}

/// The getting end; see the [module docs](self).
pub struct Receiver<T> {
    fd: PrivateFd,
    owner: u32,
    inbox: Inbox,
    _items: PhantomData<fn() -> T>,
}

impl<T> Receiver<T> {
    fn new(fd: PrivateFd, inbox: Inbox) -> Self {
        Receiver {
            fd,
            owner: current_pid(),
            inbox,
            _items: PhantomData,
        }
    }
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

/// Handed to a child: the descriptor, and the bytes that arrived but were not taken yet.
impl<T> Serialize for Receiver<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.fd, self.inbox.unread_bytes()).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for Receiver<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (fd, unread): (PrivateFd, Vec<u8>) = Deserialize::deserialize(d)?;
        Ok(Receiver::new(fd, Inbox::holding(&unread)))
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
    let (mut spins, mut pause) = (0, Duration::from_micros(10));
    loop {
        let holder = match writing.compare_exchange(0, me) {
            Ok(_) => return Ok(Held(writing)),
            Err(holder) => holder,
        };
        if spins < 100 {
            spins += 1;
            std::hint::spin_loop(); // most holds last one write of 64 KiB: microseconds
        } else if has_ended(holder) && writing.get() == holder {
            // Ended while still holding the lock. (A holder that let go and then exited,
            // between our look at the lock and at the holder, has not: look again.)
            return Err(io::Error::other(format!(
                "process {holder} died while writing to this queue: the queue is broken, \
                 its last item may be torn"
            )));
        } else {
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }
}

/// Whether process `pid` has ended: gone, or (on Linux) a zombie its parent has not
/// reaped yet, as a killed producer is until it is joined. Elsewhere a zombie counts once
/// it is reaped. (A new process given the dead holder's pid would be taken for it and
/// waited for; Linux reuses a pid only after its pid counter wraps.)
#[cfg(unix)]
fn has_ended(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return true;
    };
    use nix::errno::Errno;
    use nix::unistd::Pid;
    if nix::sys::signal::kill(Pid::from_raw(raw), None) == Err(Errno::ESRCH) {
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

/// Whether process `pid` has ended: no process has that id, or its process has exited
/// (`OpenProcess`, then a zero wait on it).
#[cfg(windows)]
fn has_ended(pid: u32) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, WaitForSingleObject,
    };
    // SAFETY: only asks for a handle; null when no process has that id (or it is not ours).
    let process = unsafe {
        OpenProcess(
            PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SYNCHRONIZE,
            0,
            pid,
        )
    };
    if process.is_null() {
        return true;
    }
    // SAFETY: `process` is the open handle just made, closed once, right after the wait.
    unsafe {
        let ended = WaitForSingleObject(process, 0) == WAIT_OBJECT_0;
        CloseHandle(process);
        ended
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("fd", &reduction::raw(self.fd.as_handle()))
            .field("owner", &self.owner)
            .field("buffered_bytes", &self.buf.borrow().len())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("fd", &reduction::raw(self.fd.as_handle()))
            .field("owner", &self.owner)
            .field("unread_bytes", &self.inbox.unread())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One process, both ends (and threads): buffering and the lock. Across processes:
    // tests/processes.rs.
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
        let item = |letter: u8, len: usize| String::from_utf8(vec![letter; len]).unwrap();
        let (mut tx, mut rx) = Queue::<String>::new().unwrap().split();
        let mut tx2 = tx.try_clone().unwrap();
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(item) = rx.get().unwrap() {
                got.push(item);
            }
            got
        });
        let writer = thread::spawn(move || {
            for i in 0..20 {
                tx2.put(&item(b'a' + i, 300_000)).unwrap();
            }
        });
        for i in 0..20 {
            tx.put(&item(b'A' + i, 100_000 + usize::from(i))).unwrap();
            tx.put(&item(b'A' + i, 1)).unwrap();
        }
        drop(tx);
        writer.join().unwrap();
        let got = reader.join().unwrap();
        let (ours, theirs): (Vec<_>, Vec<_>) = got.into_iter().partition(|s| s < &"a".into());
        assert_eq!(theirs.len(), 20);
        for (i, s) in (0..).zip(&theirs) {
            assert_eq!(s, &item(b'a' + i, 300_000));
        }
        assert_eq!(ours.len(), 40);
        for (i, pair) in (0..).zip(ours.chunks(2)) {
            assert_eq!(
                pair,
                [item(b'A' + i, 100_000 + usize::from(i)), item(b'A' + i, 1)]
            );
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
        let writing = tx.writing.clone();
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
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--list") // this test program, which lists its tests and exits
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
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
