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
//! one sender per producer.
//!
//! # Buffering, and what arrives whole
//!
//! [`Sender::put`] encodes the item with postcard into the sender's buffer, in packets of
//! at most `PIPE_BUF` (4 KiB). The buffer is written out when it is full (one packet if the
//! queue has several senders, up to 16 packets while the sender is the only one), on
//! [`flush`](Sender::flush), on [`close`](Sender::close), on drop and before the sender is
//! handed to a child. So the receiver sees an item only after one of those: flush when the
//! other side must see it now. With several senders each packet is its own `write(2)` of
//! at most `PIPE_BUF` bytes, which the kernel never splits or interleaves, and an item
//! bigger than a packet goes as fragments the receiver reassembles per sender. Every item
//! put (and flushed) comes out exactly once, each sender's items in order. One process
//! receives: a `Receiver` cannot be cloned.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::process::{Inherit, PrivateFd, current_pid, pipe, poll_timeout};
use super::shared_memory::Value;

/// The largest write the kernel keeps whole on a pipe.
const PACKET: usize = 4096;
/// A sender's buffer: whole packets, written at once when it is the queue's only sender.
const BATCH: usize = 16 * PACKET;
/// Packet kinds: whole items, or one fragment of a big item.
const ITEMS: u8 = 0;
const FRAGMENT: u8 = 0x80;
const FIRST: u8 = 0x01;
const LAST: u8 = 0x02;
/// Items packet: kind, payload length (u16 LE). Fragment: the same, then the sender id.
const HEADER: usize = 3;
const FRAGMENT_HEADER: usize = HEADER + 8;
/// Twice the default pipe capacity: room for one whole pipe's worth per read.
const READ_BUFFER: usize = 128 * 1024;

/// A new queue; [`split`](Queue::split) it into its two ends.
pub struct Queue<T> {
    sender: Sender<T>,
    receiver: Receiver<T>,
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("sender", &self.sender)
            .field("receiver", &self.receiver)
            .finish()
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// Opens the pipe (close-on-exec) under a new queue.
    pub fn new() -> io::Result<Self> {
        let (read, write) = pipe()?;
        let owner = current_pid();
        Ok(Queue {
            sender: Sender::new(write, owner, Arc::new(Value::new(1usize)?)),
            receiver: Receiver {
                fd: read,
                owner,
                buf: vec![0; READ_BUFFER].into_boxed_slice(),
                pos: 0,
                end: 0,
                items_end: 0,
                fragments: HashMap::new(),
                eof: false,
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
    /// Tells this sender's fragments apart from other senders'.
    id: u64,
    /// How many senders the queue has, in every process together: shared memory, so that
    /// a sender knows when it is the only one and may write more than `PIPE_BUF` at once.
    senders: Arc<Value<usize>>,
    /// `buf[..open]` holds whole packets; the open packet's header is at `open` and its
    /// items are `buf[open + HEADER..len]`. Always `open + PACKET <= BATCH`.
    buf: Box<[u8]>,
    open: usize,
    len: usize,
    _items: PhantomData<fn(T)>,
}

fn not_ours() -> io::Error {
    io::Error::other(
        "this queue end belongs to another process: a child gets a queue end only if it \
         is handed over with Process::start_with",
    )
}

fn write_error(e: Errno) -> io::Error {
    match e {
        Errno::EBADF => not_ours(),
        Errno::EPIPE => io::Error::new(io::ErrorKind::BrokenPipe, "the queue's receiver is gone"),
        e => e.into(),
    }
}

fn invalid(e: postcard::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<T: Serialize> Sender<T> {
    /// Queues `item`: encodes it into the buffer, writing the buffer out when full.
    #[inline]
    pub fn put(&mut self, item: &T) -> io::Result<()> {
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        loop {
            let mut serializer = postcard::Serializer {
                output: Fill {
                    buf: &mut self.buf[..self.open + PACKET],
                    len: self.len,
                },
            };
            match item.serialize(&mut serializer) {
                Ok(()) => {
                    self.len = serializer.output.len;
                    return Ok(());
                }
                Err(postcard::Error::SerializeBufferFull) if self.len > self.open + HEADER => {
                    self.close_packet();
                    if self.open + PACKET > BATCH || !is_one(&self.senders) {
                        self.write_out()?;
                    }
                }
                Err(postcard::Error::SerializeBufferFull) => {
                    let bytes = postcard::to_stdvec(item).map_err(invalid)?;
                    self.write_buffered()?;
                    return self.send_fragments(&bytes);
                }
                Err(e) => return Err(invalid(e)),
            }
        }
    }

    /// Writes out the buffered items now.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.len > HEADER && self.owner != current_pid() {
            return Err(not_ours());
        }
        self.write_buffered()
    }

    /// Flushes and closes this end; Python's `close()`. When every sender is closed (or
    /// dropped, or its process has ended), the receiver's `get` returns `None`.
    pub fn close(mut self) -> io::Result<()> {
        self.flush()
    }

    /// Another sender for the same queue (a `dup` of its pipe end), e.g. to hand one to
    /// each of several producer processes.
    pub fn try_clone(&self) -> io::Result<Self> {
        let fd = self.fd.try_clone()?;
        self.senders.fetch_add(1);
        Ok(Sender::new(fd, current_pid(), Arc::clone(&self.senders)))
    }

    fn send_fragments(&mut self, bytes: &[u8]) -> io::Result<()> {
        let pieces = bytes.chunks(PACKET - FRAGMENT_HEADER);
        let count = pieces.len();
        let mut packet = [0u8; PACKET];
        for (i, piece) in pieces.enumerate() {
            let first = if i == 0 { FIRST } else { 0 };
            let last = if i + 1 == count { LAST } else { 0 };
            packet[0] = FRAGMENT | first | last;
            packet[1..HEADER].copy_from_slice(&(piece.len() as u16).to_le_bytes());
            packet[HEADER..FRAGMENT_HEADER].copy_from_slice(&self.id.to_le_bytes());
            packet[FRAGMENT_HEADER..FRAGMENT_HEADER + piece.len()].copy_from_slice(piece);
            write_packet(&self.fd, &packet[..FRAGMENT_HEADER + piece.len()])?;
        }
        Ok(())
    }
}

impl<T> Sender<T> {
    fn new(fd: PrivateFd, owner: u32, senders: Arc<Value<usize>>) -> Self {
        static SENDERS: AtomicU32 = AtomicU32::new(0);
        let id = u64::from(owner) << 32 | u64::from(SENDERS.fetch_add(1, Ordering::Relaxed));
        Sender {
            fd,
            owner,
            id,
            senders,
            buf: vec![0; BATCH].into_boxed_slice(),
            open: 0,
            len: HEADER,
            _items: PhantomData,
        }
    }

    /// Ends the open packet, if it has items: writes its header, opens the next.
    fn close_packet(&mut self) {
        let payload = self.len - self.open - HEADER;
        if payload > 0 {
            self.buf[self.open] = ITEMS;
            let length = (payload as u16).to_le_bytes(); // at most PACKET
            self.buf[self.open + 1..self.open + HEADER].copy_from_slice(&length);
            self.open = self.len;
            self.len = self.open + HEADER;
        }
    }

    /// Writes the whole packets out. As the only sender, in one `write_all`; otherwise
    /// each packet in its own `write(2)`, which the kernel keeps whole.
    fn write_out(&mut self) -> io::Result<()> {
        let packets = &self.buf[..self.open];
        let written = if is_one(&self.senders) {
            write_all(&self.fd, packets)
        } else {
            let mut rest = packets;
            loop {
                if rest.is_empty() {
                    break Ok(());
                }
                let payload = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
                let (packet, after) = rest.split_at(HEADER + payload);
                if let Err(e) = write_packet(&self.fd, packet) {
                    break Err(e);
                }
                rest = after;
            }
        };
        // The open packet is empty here: start over at the front.
        (self.open, self.len) = (0, HEADER);
        written
    }

    fn write_buffered(&mut self) -> io::Result<()> {
        self.close_packet();
        if self.open == 0 {
            return Ok(());
        }
        self.write_out()
    }
}

/// postcard's output into the packet buffer. Unlike postcard's `Slice` flavor, it copies
/// short pieces (an integer's varint) byte by byte instead of calling `memcpy`, which was
/// a third of the cost of a small `put`.
struct Fill<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl postcard::ser_flavors::Flavor for Fill<'_> {
    type Output = usize;

    #[inline(always)]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        let slot = self.buf.get_mut(self.len);
        *slot.ok_or(postcard::Error::SerializeBufferFull)? = byte;
        self.len += 1;
        Ok(())
    }

    #[inline(always)]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if data.len() <= 16 {
            return data.iter().try_for_each(|&byte| self.try_push(byte));
        }
        let end = self.len + data.len();
        let dest = self.buf.get_mut(self.len..end);
        dest.ok_or(postcard::Error::SerializeBufferFull)?
            .copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.len)
    }
}

/// One `write(2)` of at most `PIPE_BUF` bytes to a blocking pipe: all of it or nothing.
fn write_packet(fd: &PrivateFd, packet: &[u8]) -> io::Result<()> {
    loop {
        match nix::unistd::write(fd, packet) {
            Ok(n) if n == packet.len() => return Ok(()),
            Ok(n) => {
                return Err(io::Error::other(format!(
                    "short write of {n} of {} bytes to a queue pipe",
                    packet.len()
                )));
            }
            Err(Errno::EINTR) => continue, // nothing was written
            Err(e) => return Err(write_error(e)),
        }
    }
}

/// All of `bytes`, in as many writes as it takes: only for the queue's only sender.
fn write_all(fd: &PrivateFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(write_error(e)),
        }
    }
    Ok(())
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Only the owner's buffer is its own to send, and only the owner counts as a
        // sender. An error cannot be reported here (use `close`).
        if self.owner == current_pid() {
            let _ = self.write_buffered();
            self.senders.fetch_sub(1);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("fd", &self.fd.as_raw_fd())
            .field("owner", &self.owner)
            .field("buffered_bytes", &(self.len - HEADER))
            .finish_non_exhaustive()
    }
}

impl<T> Inherit for Sender<T> {
    fn private_fds(&self, fds: &mut Vec<RawFd>) {
        fds.push(self.fd.as_raw_fd());
    }

    fn before_fork(&mut self) -> io::Result<()> {
        self.write_buffered()
    }

    fn in_child(&mut self) {
        self.owner = current_pid();
    }

    fn in_parent(&mut self) {
        self.owner = 0; // the child's now: dropping this copy neither sends nor counts
    }
}

/// Whether the queue has one sender: then it is the caller, and no other can appear while
/// it writes (only the caller could clone itself).
fn is_one(senders: &Value<usize>) -> bool {
    senders.get() == 1
}

/// The getting end; see the [module docs](self).
pub struct Receiver<T> {
    fd: PrivateFd,
    owner: u32,
    /// Bytes read from the pipe: `buf[pos..end]` is not parsed yet; while `pos <
    /// items_end`, `pos` is inside an items packet.
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    items_end: usize,
    /// Big items being reassembled, by sender id.
    fragments: HashMap<u64, Vec<u8>>,
    eof: bool,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Receiver<T> {
    /// The next item, waiting as long as it takes; `None` once every sender is gone and
    /// every item has been received. Python's `get()`, with the end made visible.
    #[inline]
    pub fn get(&mut self) -> io::Result<Option<T>> {
        // The common case, kept small enough to inline: the next item is at hand.
        if self.pos < self.items_end && self.owner == current_pid() {
            let (item, rest) =
                postcard::take_from_bytes(&self.buf[self.pos..self.items_end]).map_err(invalid)?;
            self.pos = self.items_end - rest.len();
            return Ok(Some(item));
        }
        match self.next(None)? {
            Got::Item(item) => Ok(Some(item)),
            Got::Closed => Ok(None),
            Got::Empty => unreachable!("no deadline, so never empty"),
        }
    }

    /// The next item if one arrives within `timeout`; Python's `get(timeout=..)`, with
    /// [`Got::Empty`] ("nothing yet") told apart from [`Got::Closed`] ("nothing ever").
    pub fn get_timeout(&mut self, timeout: Duration) -> io::Result<Got<T>> {
        self.next(Some(Instant::now() + timeout))
    }

    /// The next item if one is already there; Python's `get_nowait()`.
    pub fn try_get(&mut self) -> io::Result<Got<T>> {
        self.get_timeout(Duration::ZERO)
    }

    fn next(&mut self, deadline: Option<Instant>) -> io::Result<Got<T>> {
        if self.owner != current_pid() {
            return Err(not_ours());
        }
        loop {
            if self.pos < self.items_end {
                let (item, rest) = postcard::take_from_bytes(&self.buf[self.pos..self.items_end])
                    .map_err(invalid)?;
                self.pos = self.items_end - rest.len();
                return Ok(Got::Item(item));
            }
            match self.next_packet()? {
                Packet::Item(item) => return Ok(Got::Item(item)),
                Packet::Parsed => continue,
                Packet::Incomplete => {}
            }
            if self.eof {
                if self.pos < self.end || !self.fragments.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "a queue sender's process ended in the middle of writing an item",
                    ));
                }
                return Ok(Got::Closed);
            }
            if !self.fill(deadline)? {
                return Ok(Got::Empty);
            }
        }
    }

    /// Parses the packet at `pos` if it is all there: enters an items packet, or takes a
    /// fragment in, returning the item it completes.
    fn next_packet(&mut self) -> io::Result<Packet<T>> {
        let available = &self.buf[self.pos..self.end];
        if available.len() < HEADER {
            return Ok(Packet::Incomplete);
        }
        let kind = available[0];
        let payload = usize::from(u16::from_le_bytes([available[1], available[2]]));
        if kind == ITEMS {
            if available.len() < HEADER + payload {
                return Ok(Packet::Incomplete);
            }
            self.pos += HEADER;
            self.items_end = self.pos + payload;
            return Ok(Packet::Parsed);
        }
        if kind & FRAGMENT == 0 || kind & !(FRAGMENT | FIRST | LAST) != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not a queue packet (kind {kind:#x})"),
            ));
        }
        if available.len() < FRAGMENT_HEADER + payload {
            return Ok(Packet::Incomplete);
        }
        let id = u64::from_le_bytes(available[HEADER..FRAGMENT_HEADER].try_into().unwrap());
        let piece = &available[FRAGMENT_HEADER..FRAGMENT_HEADER + payload];
        let bytes = self.fragments.entry(id).or_default();
        if kind & FIRST != 0 {
            bytes.clear(); // a stale start from a sender that died mid-item
        }
        bytes.extend_from_slice(piece);
        self.pos += FRAGMENT_HEADER + payload;
        if kind & LAST == 0 {
            return Ok(Packet::Parsed);
        }
        let bytes = self.fragments.remove(&id).unwrap_or_default();
        postcard::from_bytes(&bytes)
            .map(Packet::Item)
            .map_err(invalid)
    }

    /// Reads more bytes; `false` if the deadline passed first.
    fn fill(&mut self, deadline: Option<Instant>) -> io::Result<bool> {
        if self.pos == self.end {
            (self.pos, self.end, self.items_end) = (0, 0, 0);
        } else if self.buf.len() - self.end < PACKET {
            self.buf.copy_within(self.pos..self.end, 0);
            (self.end, self.pos, self.items_end) = (self.end - self.pos, 0, 0);
        }
        if let Some(deadline) = deadline {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, poll_timeout(left)) {
                    Ok(0) => return Ok(false),
                    Ok(_) => break,
                    Err(Errno::EINTR) => continue,
                    Err(Errno::EBADF) => return Err(not_ours()),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        loop {
            match nix::unistd::read(&self.fd, &mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EBADF) => return Err(not_ours()),
                Err(e) => return Err(e.into()),
            }
            return Ok(true);
        }
    }
}

/// What [`Receiver::next_packet`] made of the bytes at hand.
enum Packet<T> {
    /// A fragment completed this item.
    Item(T),
    /// A packet was taken in: an items packet entered, or a fragment stored.
    Parsed,
    /// The next packet is not all there yet.
    Incomplete,
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("fd", &self.fd.as_raw_fd())
            .field("unread_bytes", &(self.end - self.pos))
            .field("closed", &self.eof)
            .finish_non_exhaustive()
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

#[cfg(test)]
mod tests {
    use super::*;

    // One process, both ends: the framing. Across processes: tests/processes.rs.
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
    fn big_items_are_sent_in_fragments_and_reassembled() {
        let (mut tx, mut rx) = Queue::<Vec<u32>>::new().unwrap().split();
        let mut tx2 = tx.try_clone().unwrap();
        let big: Vec<u32> = (0..3000).collect(); // ~6 KiB encoded: two fragments
        tx.put(&vec![1]).unwrap();
        tx.put(&big).unwrap(); // flushes [1] first, then the fragments
        tx2.put(&vec![2]).unwrap();
        tx2.close().unwrap();
        drop(tx);
        assert_eq!(rx.get().unwrap(), Some(vec![1]));
        assert_eq!(rx.get().unwrap(), Some(big));
        assert_eq!(rx.get().unwrap(), Some(vec![2]));
        assert_eq!(rx.get().unwrap(), None);
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
    fn a_truncated_item_is_an_error_not_a_hang() {
        let (tx, mut rx) = Queue::<String>::new().unwrap().split();
        write_packet(&tx.fd, &[FRAGMENT | FIRST, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]).unwrap();
        drop(tx);
        let err = rx.get().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
