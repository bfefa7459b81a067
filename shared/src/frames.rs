//! Frames: items of any serde type through a pipe, each arriving whole. What [`queue`]
//! and [`pipe`] send.
//!
//! A pipe carries bytes, not items, and a read returns however many bytes have arrived.
//! So each item travels as a *frame*: its length as a `u32` (little-endian), then the item
//! encoded with postcard. The reader collects bytes in an [`Inbox`] and cuts them into
//! frames, so an item of any size comes out whole, however the kernel split it on the way.
//! Python's `Connection.send` does the same with a pickle behind a 4-byte length.
//!
//! ```
//! use shared::frames::{Got, Inbox, push_frame};
//! use shared::process::pipe;
//!
//! let (read, write) = pipe()?;
//! let mut frames = Vec::new();
//! push_frame(&mut frames, &300u16)?; // length 2, then postcard's varint 0xAC 0x02
//! push_frame(&mut frames, &"hi")?;
//! assert_eq!(frames, [2, 0, 0, 0, 0xAC, 0x02, 3, 0, 0, 0, 2, b'h', b'i']);
//! std::io::Write::write_all(&mut &write, &frames)?;
//! drop(write); // the reader sees end-of-file after the last frame
//!
//! let mut inbox = Inbox::new();
//! assert_eq!(inbox.next::<u16>(&read, None)?, Got::Item(300));
//! assert_eq!(inbox.next::<String>(&read, None)?, Got::Item("hi".to_string()));
//! assert_eq!(inbox.next::<String>(&read, None)?, Got::Closed);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Copying it
//!
//! Copy `frames.rs`, `process.rs`, `start_method.rs`, `reduction.rs`, `private_fd.rs`,
//! `os.rs`, `parent_thread.rs` and `spawn_lock.rs` into one folder of
//! your crate, as sibling modules (they reach each other through `super::`), and add to
//! `Cargo.toml`:
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

use std::io::{self, ErrorKind, IoSlice};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::os;
use super::process::PrivateFd;
use super::reduction::BorrowedHandle;

/// What a read does at a time: 64 KiB, Linux's default pipe capacity.
pub const BUFFER: usize = 64 * 1024;

/// Appends `item`'s frame to `buf`: a `u32` length, then the postcard bytes.
#[inline]
pub fn push_frame<T: Serialize>(buf: &mut Vec<u8>, item: &T) -> io::Result<()> {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    let mut encoder = postcard::Serializer {
        output: Append(buf),
    };
    let encoded = item.serialize(&mut encoder).map_err(invalid);
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

/// What waiting for the next item found.
#[derive(Debug, PartialEq, Eq)]
pub enum Got<T> {
    Item(T),
    /// Nothing arrived in time, and more may come. Python's `queue.Empty`.
    Empty,
    /// Nothing more will come: every write end is closed, and every item has been taken.
    Closed,
}

/// Bytes read from a pipe, cut into frames: `buf[start..end]` has arrived and is not
/// taken yet.
#[derive(Debug)]
pub struct Inbox {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Every write end is closed: no more bytes will come.
    eof: bool,
}

impl Inbox {
    pub fn new() -> Inbox {
        Inbox {
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// An inbox that has already received `bytes` (an end handed over with unread bytes).
    pub fn holding(bytes: &[u8]) -> Inbox {
        let mut inbox = Inbox::new();
        inbox.buf.resize(bytes.len().max(BUFFER), 0);
        inbox.buf[..bytes.len()].copy_from_slice(bytes);
        inbox.end = bytes.len();
        inbox
    }

    /// The bytes that have arrived and are not taken yet.
    pub fn unread_bytes(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// The next item from `fd`: one already here, else read until one is whole, until
    /// end-of-file ([`Got::Closed`]) or until `deadline` ([`Got::Empty`]; `None` waits
    /// without limit). End-of-file in the middle of a frame is an `UnexpectedEof` error.
    pub fn next<T: DeserializeOwned>(
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
    pub fn take<T: DeserializeOwned>(&mut self) -> io::Result<Option<T>> {
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

    /// The next frame's bytes as they are (not decoded), if the whole frame has arrived.
    pub fn take_bytes(&mut self) -> Option<&[u8]> {
        let len = self.frame_len()?;
        let body = self.start + 4..self.start + 4 + len;
        if body.end > self.end {
            return None;
        }
        self.start = body.end;
        Some(&self.buf[body])
    }

    /// The length of the frame at `start`, once its 4 length bytes have arrived.
    #[inline]
    fn frame_len(&self) -> Option<usize> {
        let header = self.buf.get(self.start..self.start + 4)?;
        (self.start + 4 <= self.end)
            .then(|| u32::from_le_bytes(header.try_into().expect("4 bytes")) as usize)
    }

    /// One `read(2)` from `fd` into the room after what has arrived (it waits if nothing
    /// has). Marks end-of-file when the read returns nothing.
    pub fn read_from(&mut self, fd: &PrivateFd) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        // Room for a full (default-sized) pipe; grown, never shrunk, so that the zeroes a
        // resize writes are written once.
        if self.buf.len() < self.end + BUFFER {
            self.buf.resize(self.end + BUFFER, 0);
        }
        loop {
            match os::read(fd.as_handle(), &mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(classify(e)),
            }
            return Ok(());
        }
    }

    /// Whether end-of-file has been read: no more bytes will come.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// How many bytes have arrived and are not taken yet.
    pub fn unread(&self) -> usize {
        self.end - self.start
    }
}

impl Default for Inbox {
    fn default() -> Inbox {
        Inbox::new()
    }
}

/// Waits until `fd` can be read without blocking (or has hung up); `false` if `deadline`
/// passed first. No deadline: `true` at once, and the read that follows waits.
pub fn readable(fd: &PrivateFd, deadline: Option<Instant>) -> io::Result<bool> {
    let Some(deadline) = deadline else {
        return Ok(true);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let ready = os::wait_readable(&[fd.as_handle()], Some(left)).map_err(classify)?;
    Ok(ready[0])
}

/// Writes all of `bytes` to `fd`, in as many writes as it takes.
pub fn write_all(fd: &PrivateFd, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match os::write(fd.as_handle(), bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(classify(e)),
        }
    }
    Ok(())
}

/// Writes `head` and then `tail` to `fd` whole, in as few `writev`s as the pipe takes (on
/// Windows, which has no `writev` for pipes, one write per part at least): a
/// frame whose body lies elsewhere goes out without being copied next to its header.
pub fn write_all_parts(fd: &PrivateFd, head: &[u8], tail: &[u8]) -> io::Result<()> {
    let mut parts = [IoSlice::new(head), IoSlice::new(tail)];
    let mut parts = &mut parts[..];
    IoSlice::advance_slices(&mut parts, 0); // drop leading empty parts
    while !parts.is_empty() {
        match write_vectored(fd.as_handle(), parts) {
            Ok(n) => IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(classify(e)),
        }
    }
    Ok(())
}

/// A read's or write's error, said plainly where it means the end was revoked here or the
/// reader is gone.
fn classify(e: io::Error) -> io::Error {
    if is_revoked(&e) {
        not_ours()
    } else if e.kind() == ErrorKind::BrokenPipe {
        reader_gone()
    } else {
        e
    }
}

/// Writes `parts` one after another in one `writev`; how many bytes were written.
#[cfg(unix)]
fn write_vectored(handle: BorrowedHandle<'_>, parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: `IoSlice` is ABI-compatible with `iovec` on Unix (std's documented
    // guarantee), and `parts` holds `parts.len()` of them, each borrowing live bytes.
    let written = unsafe {
        nix::libc::writev(
            std::os::fd::AsRawFd::as_raw_fd(&handle),
            parts.as_ptr().cast::<nix::libc::iovec>(),
            parts.len() as nix::libc::c_int,
        )
    };
    Ok(nix::errno::Errno::result(written)? as usize)
}

/// Whether a read or write failed because the descriptor was revoked here (`EBADF`: see
/// `os::revoke`).
#[cfg(unix)]
pub fn is_revoked(e: &io::Error) -> bool {
    e.raw_os_error() == Some(nix::libc::EBADF)
}

/// Writes the first of `parts` that is not empty (Windows has no `writev` for pipes); how
/// many bytes were written.
#[cfg(windows)]
fn write_vectored(handle: BorrowedHandle<'_>, parts: &[io::IoSlice<'_>]) -> io::Result<usize> {
    match parts.iter().find(|part| !part.is_empty()) {
        Some(part) => os::write(handle, part),
        None => Ok(0),
    }
}

/// On Unix, whether a descriptor was revoked; Windows has no fork, so none ever is.
#[cfg(windows)]
pub fn is_revoked(_e: &io::Error) -> bool {
    false
}

/// The error for a write to a pipe whose read end is closed in every process.
pub fn reader_gone() -> io::Error {
    let gone = "the other end is gone: the pipe's read end is closed in every process";
    io::Error::new(io::ErrorKind::BrokenPipe, gone)
}

/// The error for an end used in a process it was not handed to (its descriptor revoked).
pub fn not_ours() -> io::Error {
    io::Error::other(
        "this end belongs to another process: a child gets an end only as an argument of \
         its Process",
    )
}

fn invalid(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::process::pipe;

    #[test]
    fn a_torn_frame_is_an_error_not_a_hang() {
        let (read, write) = pipe().unwrap();
        (&write).write_all(&[9, 0, 0, 0, 1, b'a']).unwrap(); // 9 bytes promised, 2 sent
        drop(write);
        let err = Inbox::new().next::<String>(&read, None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_frame_bigger_than_a_read_comes_out_whole() {
        let (read, write) = pipe().unwrap();
        let big: Vec<u32> = (0..100_000).collect(); // ~290 KiB encoded: several reads
        let writer = std::thread::spawn(move || {
            let mut frames = Vec::new();
            push_frame(&mut frames, &big).unwrap();
            push_frame(&mut frames, &7u32).unwrap();
            (&write).write_all(&frames).unwrap();
        });
        let mut inbox = Inbox::new();
        let got: Got<Vec<u32>> = inbox.next(&read, None).unwrap();
        assert_eq!(got, Got::Item((0..100_000).collect()));
        assert_eq!(inbox.next::<u32>(&read, None).unwrap(), Got::Item(7));
        writer.join().unwrap();
        assert_eq!(inbox.next::<u32>(&read, None).unwrap(), Got::Closed);
    }

    #[test]
    fn an_item_that_cannot_be_encoded_leaves_the_buffer_as_it_was() {
        struct Refuses;
        impl Serialize for Refuses {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut buf = Vec::new();
        push_frame(&mut buf, &1u8).unwrap();
        let err = push_frame(&mut buf, &Refuses).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(buf, [1, 0, 0, 0, 1]);
    }
}
