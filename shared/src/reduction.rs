//! How a `Process`'s arguments travel to the child: serde for the values, and a side table
//! for the open descriptors inside them (queue and pipe ends, shared memory), as Python's
//! `multiprocessing.reduction` pickles a connection as a reference to a descriptor it
//! passes beside the pickle.
//!
//! ```
//! use shared::process::pipe;
//! use shared::reduction;
//!
//! let (read, write) = pipe()?;
//! // Encoded: postcard bytes in which each end is an index into the descriptor table.
//! let (bytes, fds) = reduction::encode(&(7u8, read, write))?;
//! assert_eq!(fds.len(), 2);
//! # drop(bytes);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A type that holds a descriptor serializes it with [`serialize_fd`] and gets it back with
//! [`deserialize_fd`]; outside [`encode`] and [`decode`] (say, to JSON) that fails, saying
//! that the value travels only as a process argument.
//!
//! # Copying it
//!
//! Copy `reduction.rs` into your crate, and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//! ```

use std::cell::RefCell;
use std::io;

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    /// While [`encode`] runs: the descriptors met so far, each once.
    static OUTGOING: RefCell<Option<Vec<RawHandle>>> = const { RefCell::new(None) };
    /// While [`decode`] runs: the descriptors that arrived, by index.
    static INCOMING: RefCell<Option<Vec<OwnedHandle>>> = const { RefCell::new(None) };
}

/// `value`'s postcard bytes, and the descriptors inside it, in the order the bytes name
/// them. The descriptors stay `value`'s: the caller hands them over while `value` lives.
pub fn encode<A: Serialize>(value: &A) -> io::Result<(Vec<u8>, Vec<RawHandle>)> {
    let previous = OUTGOING.replace(Some(Vec::new()));
    let bytes = postcard::to_stdvec(value);
    let fds = OUTGOING.replace(previous).unwrap_or_default();
    Ok((bytes.map_err(invalid)?, fds))
}

/// The value [`encode`] made, given the descriptors that arrived with it (owned by this
/// process now). A descriptor named twice is duplicated; any not named is closed.
pub fn decode<A: DeserializeOwned>(bytes: &[u8], fds: Vec<OwnedHandle>) -> io::Result<A> {
    let previous = INCOMING.replace(Some(fds));
    let value = postcard::from_bytes(bytes);
    INCOMING.replace(previous); // closes the originals; the value holds duplicates
    value.map_err(invalid)
}

/// Serializes an open descriptor as its index in [`encode`]'s table.
pub fn serialize_fd<S: Serializer>(fd: BorrowedHandle<'_>, s: S) -> Result<S::Ok, S::Error> {
    let raw = raw(fd);
    let index = OUTGOING.with_borrow_mut(|table| {
        let table = table.as_mut()?;
        Some(match table.iter().position(|&fd| fd == raw) {
            Some(i) => i,
            None => {
                table.push(raw);
                table.len() - 1
            }
        })
    });
    match index {
        Some(index) => (index as u32).serialize(s),
        None => Err(S::Error::custom(OUTSIDE)),
    }
}

/// The descriptor a [`serialize_fd`] index names, from [`decode`]'s table.
pub fn deserialize_fd<'de, D: Deserializer<'de>>(d: D) -> Result<OwnedHandle, D::Error> {
    let index = u32::deserialize(d)? as usize;
    INCOMING.with_borrow(|table| {
        let fd = table
            .as_ref()
            .ok_or_else(|| D::Error::custom(OUTSIDE))?
            .get(index)
            .ok_or_else(|| D::Error::custom("a descriptor index past the table"))?;
        fd.try_clone().map_err(D::Error::custom)
    })
}

const OUTSIDE: &str = "a queue, pipe or shared-memory handle travels only as a Process or \
                       Pool argument (shared::reduction), not through other serializers";

/// Takes ownership of descriptor numbers that this process was handed.
///
/// # Safety
/// Each number must be an open descriptor that nothing else in this process owns.
pub unsafe fn adopt(fds: &[RawHandle]) -> Vec<OwnedHandle> {
    // SAFETY: the caller's promise.
    fds.iter().map(|&fd| unsafe { adopt_one(fd) }).collect()
}

/// An open descriptor (Unix) or handle (Windows), owned or borrowed: what a pipe end is.
#[cfg(unix)]
pub use std::os::fd::{BorrowedFd as BorrowedHandle, OwnedFd as OwnedHandle};
/// An open descriptor (Unix) or handle (Windows), owned or borrowed: what a pipe end is.
#[cfg(windows)]
pub use std::os::windows::io::{BorrowedHandle, OwnedHandle};

/// A descriptor's or handle's number, as it travels to a spawned child in its start
/// message: an `int` on Unix, a `HANDLE` (a pointer-sized value) on Windows.
pub type RawHandle = u64;

/// `handle`, borrowed.
#[cfg(unix)]
pub fn borrow(handle: &OwnedHandle) -> BorrowedHandle<'_> {
    use std::os::fd::AsFd;
    handle.as_fd()
}

/// `handle`'s number.
#[cfg(unix)]
pub fn raw(handle: BorrowedHandle<'_>) -> RawHandle {
    use std::os::fd::AsRawFd;
    handle.as_raw_fd() as u32 as RawHandle
}

/// Takes ownership of a number this process was handed.
///
/// # Safety
/// `raw` must be an open descriptor that nothing else in this process owns.
#[cfg(unix)]
unsafe fn adopt_one(raw: RawHandle) -> OwnedHandle {
    use std::os::fd::FromRawFd;
    // SAFETY: the caller's promise.
    unsafe { OwnedHandle::from_raw_fd(raw as std::os::fd::RawFd) }
}

/// `handle`, borrowed.
#[cfg(windows)]
pub fn borrow(handle: &OwnedHandle) -> BorrowedHandle<'_> {
    use std::os::windows::io::AsHandle;
    handle.as_handle()
}

/// `handle`'s number.
#[cfg(windows)]
pub fn raw(handle: BorrowedHandle<'_>) -> RawHandle {
    use std::os::windows::io::AsRawHandle;
    handle.as_raw_handle() as usize as RawHandle
}

/// Takes ownership of a number this process was handed.
///
/// # Safety
/// `raw` must be an open handle that nothing else in this process owns.
#[cfg(windows)]
unsafe fn adopt_one(raw: RawHandle) -> OwnedHandle {
    use std::os::windows::io::FromRawHandle;
    // SAFETY: the caller's promise.
    unsafe { OwnedHandle::from_raw_handle(raw as usize as *mut std::ffi::c_void) }
}

fn invalid(e: postcard::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;
    use crate::private_fd::{PrivateFd, pipe};

    #[test]
    fn descriptors_travel_beside_the_bytes_once_each() {
        let (read, write) = pipe().unwrap();
        let (bytes, fds) = encode(&(&read, 5u8, &write, &read)).unwrap();
        assert_eq!(fds, [raw(read.as_handle()), raw(write.as_handle())]);
        let dups = [&read, &write]
            .map(|end| end.as_handle().try_clone_to_owned().unwrap())
            .into();
        let (r1, n, w, r2): (PrivateFd, u8, PrivateFd, PrivateFd) = decode(&bytes, dups).unwrap();
        assert_eq!(n, 5);
        assert_ne!(
            raw(r1.as_handle()),
            raw(r2.as_handle()),
            "named twice: duplicated"
        );
        (&w).write_all(b"x").unwrap();
        let mut got = [0];
        (&r2).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"x");
    }

    #[test]
    fn a_handle_outside_a_process_argument_is_refused() {
        let (read, _write) = pipe().unwrap();
        let err = postcard::to_stdvec(&read).unwrap_err();
        assert!(matches!(err, postcard::Error::SerdeSerCustom), "{err:?}");
        let (bytes, _) = encode(&read).unwrap();
        assert!(postcard::from_bytes::<PrivateFd>(&bytes).is_err());
        assert!(
            decode::<PrivateFd>(&bytes, Vec::new()).is_err(),
            "index past the table"
        );
    }
}
