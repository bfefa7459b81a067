//! `Value<T>` and `Array<T>`: integers in memory shared between processes, like Python's
//! `multiprocessing.Value('i', 0)` and `Array('i', [..])`.
//!
//! ```
//! use shared::process::Process;
//! use shared::shared_memory::{Array, Value};
//!
//! fn count(i: usize, total: Value<u64>, slots: Array<u64>) {
//!     for _ in 0..1000 {
//!         total.fetch_add(1);
//!     }
//!     slots.set(i, i as u64 * 10);
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     shared::main_guard();
//!     let total = Value::new(0u64)?;
//!     let slots = Array::new([0u64; 4])?;
//!     let mut workers = Vec::new();
//!     for i in 0..4 {
//!         // A clone is another handle to the same memory, as Python passes one object.
//!         workers.push(Process::start(count, (i, total.clone(), slots.clone()))?);
//!     }
//!     for worker in workers {
//!         worker.join()?;
//!     }
//!     assert_eq!(total.get(), 4000);
//!     assert_eq!(slots.to_vec(), [0, 10, 20, 30]);
//!     Ok(())
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `shared_memory.rs`, `reduction.rs` and `spawn_lock.rs` into one folder of your
//! crate, as sibling modules (they reach each other through `super::`), and add to
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//!
//! [target.'cfg(windows)'.dependencies]
//! windows-sys = { version = "0.61", features = ["Win32_Foundation", "Win32_Security", "Win32_System_Memory"] }
//! ```
//!
//! # How it works
//!
//! The memory is a shared-memory object (`memfd_create` on Linux, an unlinked `shm_open`
//! object on macOS, a section of the paging file on Windows) mapped shared. A value handed
//! to a child as a process argument travels as that object's descriptor (see
//! `reduction`), and the child maps it again, at an address of its own: so it works under
//! spawn, where the child is a new program, as under fork. Each handle unmaps its view
//! when its last clone is dropped.
//!
//! The elements are atomics (`AtomicI32` for `i32`, ...), so the types are restricted to
//! the integers [`SharedInt`] lists, and every method is one atomic instruction, or a
//! compare-and-swap loop for [`Value::update`]: no update from any process is lost.
//! Python's `v.value += n` is a read and then a write, so two processes can both read 5
//! and both write 6 (CPython bpo-16998); [`Value::fetch_add`] cannot. No lock is needed,
//! and none could be a `std::sync::Mutex`: its futex is process-private.
//! Lock-free atomics work across processes the same as across threads: the hardware
//! sees one memory location either way.

use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{
    AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize, AtomicU8, AtomicU16, AtomicU32,
    AtomicU64, AtomicUsize,
};

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::reduction::{self, OwnedHandle};

mod sealed {
    pub trait Sealed {}
}

/// An integer type that can live in shared memory: one with a lock-free atomic twin.
/// Sealed: `i8`..`i64`, `isize`, `u8`..`u64`, `usize`.
pub trait SharedInt: Copy + PartialEq + fmt::Debug + sealed::Sealed + 'static {
    /// The atomic that stores it, e.g. `AtomicI32` for `i32`.
    type Atomic: Send + Sync;
    #[doc(hidden)]
    fn load(a: &Self::Atomic) -> Self;
    #[doc(hidden)]
    fn store(a: &Self::Atomic, v: Self);
    #[doc(hidden)]
    fn fetch_add(a: &Self::Atomic, v: Self) -> Self;
    #[doc(hidden)]
    fn fetch_sub(a: &Self::Atomic, v: Self) -> Self;
    #[doc(hidden)]
    fn swap(a: &Self::Atomic, v: Self) -> Self;
    #[doc(hidden)]
    fn compare_exchange(a: &Self::Atomic, current: Self, new: Self) -> Result<Self, Self>;
}

macro_rules! shared_int {
    ($($int:ty => $atomic:ty),+ $(,)?) => {$(
        impl sealed::Sealed for $int {}
        impl SharedInt for $int {
            type Atomic = $atomic;
            fn load(a: &$atomic) -> $int { a.load(SeqCst) }
            fn store(a: &$atomic, v: $int) { a.store(v, SeqCst) }
            fn fetch_add(a: &$atomic, v: $int) -> $int { a.fetch_add(v, SeqCst) }
            fn fetch_sub(a: &$atomic, v: $int) -> $int { a.fetch_sub(v, SeqCst) }
            fn swap(a: &$atomic, v: $int) -> $int { a.swap(v, SeqCst) }
            fn compare_exchange(a: &$atomic, current: $int, new: $int) -> Result<$int, $int> {
                a.compare_exchange(current, new, SeqCst, SeqCst)
            }
        }
    )+};
}

shared_int! {
    i8 => AtomicI8, i16 => AtomicI16, i32 => AtomicI32, i64 => AtomicI64, isize => AtomicIsize,
    u8 => AtomicU8, u16 => AtomicU16, u32 => AtomicU32, u64 => AtomicU64, usize => AtomicUsize,
}

/// A new shared-memory object of `len` bytes, zero-filled, close-on-exec: a process that
/// holds the descriptor can map it. Linux: `memfd_create`.
#[cfg(target_os = "linux")]
fn new_object(len: usize) -> io::Result<OwnedHandle> {
    use nix::sys::memfd::{MFdFlags, memfd_create};
    let fd = memfd_create(c"shared-memory", MFdFlags::MFD_CLOEXEC)?;
    nix::unistd::ftruncate(&fd, len as nix::libc::off_t)?;
    Ok(fd)
}

/// A new shared-memory object of `len` bytes, zero-filled, close-on-exec. Not Linux (no
/// `memfd_create`): `shm_open` of a new name, unlinked at once, so only descriptors reach it.
#[cfg(all(unix, not(target_os = "linux")))]
fn new_object(len: usize) -> io::Result<OwnedHandle> {
    use nix::sys::mman::{shm_open, shm_unlink};
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNT: AtomicU32 = AtomicU32::new(0);
    // Inheritable until marked close-on-exec below: no child may start meanwhile.
    let _no_spawn = super::spawn_lock::making_descriptors();
    let name = format!(
        "/shared-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let fd = shm_open(
        name.as_str(),
        nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_EXCL | nix::fcntl::OFlag::O_RDWR,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )?;
    shm_unlink(name.as_str())?;
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    nix::unistd::ftruncate(&fd, len as nix::libc::off_t)?;
    Ok(fd)
}

/// Maps all `bytes` of the object `fd` (`MAP_SHARED`), refusing an object that is not
/// exactly that size: the slice over the mapping would reach past a smaller one.
#[cfg(unix)]
fn map_object(fd: &OwnedHandle, bytes: NonZeroUsize) -> io::Result<NonNull<std::ffi::c_void>> {
    use nix::sys::mman::{MapFlags, ProtFlags, mmap};
    let size = nix::sys::stat::fstat(fd)?.st_size;
    if u64::try_from(size).ok() != Some(bytes.get() as u64) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a shared-memory handle whose object is not its size",
        ));
    }
    // SAFETY: a new mapping at an address the kernel picks overlaps no existing memory;
    // the object is as long as the mapping (checked above), so every page is backed.
    let raw = unsafe {
        mmap(
            None,
            bytes,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            fd,
            0,
        )
    }?;
    Ok(raw)
}

/// Unmaps what [`map_object`] mapped.
///
/// # Safety
/// `ptr` and `bytes` are a mapping `map_object` made, and nothing refers into it any more.
#[cfg(unix)]
unsafe fn unmap(ptr: NonNull<std::ffi::c_void>, bytes: NonZeroUsize) {
    // SAFETY: the caller's promise.
    let _ = unsafe { nix::sys::mman::munmap(ptr, bytes.get()) };
}

/// A new shared-memory object of `len` bytes, zero-filled, not inherited by children.
/// Windows: a section of the paging file (`CreateFileMappingW` of no file), as CPython's
/// `multiprocessing.heap` makes on Windows.
#[cfg(windows)]
fn new_object(len: usize) -> io::Result<OwnedHandle> {
    use std::os::windows::io::FromRawHandle;
    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::System::Memory::{CreateFileMappingW, PAGE_READWRITE};
    let size = len as u64;
    // SAFETY: no file (the paging file backs it), no attributes (not inheritable), no name.
    let section = unsafe {
        CreateFileMappingW(
            INVALID_HANDLE_VALUE,
            std::ptr::null(),
            PAGE_READWRITE,
            (size >> 32) as u32,
            size as u32,
            std::ptr::null(),
        )
    };
    if section.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new open handle that nothing else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(section) })
}

/// Maps the first `bytes` of the section `handle` (`MapViewOfFile`). Windows cannot ask a
/// section its size, but the call fails for a view past the section's pages (its size
/// rounded up to whole pages, all backed): the slice over the view never reaches past
/// mapped memory.
#[cfg(windows)]
fn map_object(handle: &OwnedHandle, bytes: NonZeroUsize) -> io::Result<NonNull<std::ffi::c_void>> {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::System::Memory::{FILE_MAP_ALL_ACCESS, MapViewOfFile};
    // SAFETY: an open section handle; the system picks the view's address.
    let view = unsafe {
        MapViewOfFile(
            handle.as_raw_handle(),
            FILE_MAP_ALL_ACCESS,
            0,
            0,
            bytes.get(),
        )
    };
    NonNull::new(view.Value).ok_or_else(io::Error::last_os_error)
}

/// Unmaps what [`map_object`] mapped.
///
/// # Safety
/// `ptr` is a view `map_object` made, and nothing refers into it any more.
#[cfg(windows)]
unsafe fn unmap(ptr: NonNull<std::ffi::c_void>, _bytes: NonZeroUsize) {
    use windows_sys::Win32::System::Memory::{MEMORY_MAPPED_VIEW_ADDRESS, UnmapViewOfFile};
    // SAFETY: the caller's promise.
    let _ = unsafe {
        UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS {
            Value: ptr.as_ptr(),
        })
    };
}

/// `len` atomics of type `A` in a shared-memory object, mapped, with its descriptor.
struct Mapping<A> {
    ptr: NonNull<A>,
    len: usize,
    /// The mapping's length in bytes: `len` atomics (at least one), as [`Mapping::bytes`]
    /// computed it when mapping.
    bytes: NonZeroUsize,
    fd: OwnedHandle,
}

impl<A> Mapping<A> {
    /// A new object, all zero.
    fn zeroed(len: usize) -> io::Result<Self> {
        let fd = new_object(Self::bytes(len)?.get())?;
        Mapping::map(fd, len)
    }

    /// The bytes `len` atomics take (one at least: a mapping is never empty), refused
    /// when that is more than `isize::MAX`, which no slice may span: a length that
    /// overflowed would map fewer bytes than the slice then reaches.
    fn bytes(len: usize) -> io::Result<NonZeroUsize> {
        std::mem::size_of::<A>()
            .checked_mul(len.max(1))
            .filter(|&bytes| bytes <= isize::MAX as usize)
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{len} shared atomics would take more bytes than a slice may span"),
                )
            })
    }

    /// Maps the object `fd`, which holds `len` atomics of type `A`: it must be exactly the
    /// size computed here, or the slice would reach past the mapping.
    fn map(fd: OwnedHandle, len: usize) -> io::Result<Self> {
        let bytes = Self::bytes(len)?;
        let raw = map_object(&fd, bytes)?;
        Ok(Mapping {
            ptr: raw.cast::<A>(),
            len,
            bytes,
            fd,
        })
    }

    fn as_slice(&self) -> &[A] {
        // SAFETY: `ptr` points at `len` atomics (`bytes`, no more than `isize::MAX`, all of
        // them mapped: `map_object`) that stay mapped until drop, page-aligned
        // (more than any atomic needs). The object starts as zero bytes (a new one is
        // zero-filled), a valid value of every integer atomic, and only atomics of this type
        // are ever stored there. Atomics may be shared (`&A`) however many processes write
        // them.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<A> Drop for Mapping<A> {
    fn drop(&mut self) {
        // SAFETY: exactly the mapping `map` made; no reference into it outlives `self`.
        // Atomics need no drop. Other processes' views are theirs to unmap.
        unsafe { unmap(self.ptr.cast(), self.bytes) };
    }
}

// SAFETY: the mapping holds only atomics (`Send + Sync`), owned by this value.
unsafe impl<A: Send + Sync> Send for Mapping<A> {}
// SAFETY: as above; `&Mapping` gives out only `&A`.
unsafe impl<A: Send + Sync> Sync for Mapping<A> {}

/// The handles' wire form: the object's descriptor and how many elements it holds.
fn serialize_mapping<A, S: Serializer>(map: &Mapping<A>, s: S) -> Result<S::Ok, S::Error> {
    struct Fd<'a>(&'a OwnedHandle);
    impl Serialize for Fd<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            reduction::serialize_fd(reduction::borrow(self.0), s)
        }
    }
    (Fd(&map.fd), map.len as u64).serialize(s)
}

fn deserialize_mapping<'de, A, D: Deserializer<'de>>(d: D) -> Result<Mapping<A>, D::Error> {
    struct Fd(OwnedHandle);
    impl<'de> Deserialize<'de> for Fd {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fd, D::Error> {
            reduction::deserialize_fd(d).map(Fd)
        }
    }
    let (Fd(fd), len) = <(Fd, u64)>::deserialize(d)?;
    let len = usize::try_from(len).map_err(serde::de::Error::custom)?;
    Mapping::map(fd, len).map_err(serde::de::Error::custom)
}

/// One integer in shared memory; Python's `multiprocessing.Value`. A clone is another
/// handle to the same integer; a process argument travels as one (see the module docs).
pub struct Value<T: SharedInt> {
    map: Arc<Mapping<T::Atomic>>,
}

impl<T: SharedInt> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            map: Arc::clone(&self.map),
        }
    }
}

impl<T: SharedInt> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_mapping(&self.map, s)
    }
}

impl<'de, T: SharedInt> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: Mapping<T::Atomic> = deserialize_mapping(d)?;
        if map.len != 1 {
            return Err(serde::de::Error::custom(
                "a Value's memory holds one element",
            ));
        }
        Ok(Value { map: Arc::new(map) })
    }
}

impl<T: SharedInt> Value<T> {
    /// Maps a new shared value holding `v`.
    pub fn new(v: T) -> io::Result<Self> {
        let value = Value {
            map: Arc::new(Mapping::zeroed(1)?),
        };
        value.set(v);
        Ok(value)
    }

    /// The atomic itself, for the full `std::sync::atomic` API with explicit orderings.
    pub fn as_atomic(&self) -> &T::Atomic {
        &self.map.as_slice()[0]
    }

    /// Python's `v.value`.
    pub fn get(&self) -> T {
        T::load(self.as_atomic())
    }

    /// Python's `v.value = x`.
    pub fn set(&self, v: T) {
        T::store(self.as_atomic(), v)
    }

    /// Adds `v` (wrapping on overflow) in one atomic step; returns the previous value.
    /// What Python's `v.value += x` means, without its lost updates.
    pub fn fetch_add(&self, v: T) -> T {
        T::fetch_add(self.as_atomic(), v)
    }

    /// Subtracts `v` (wrapping) in one atomic step; returns the previous value.
    pub fn fetch_sub(&self, v: T) -> T {
        T::fetch_sub(self.as_atomic(), v)
    }

    /// Stores `v`; returns the previous value.
    pub fn swap(&self, v: T) -> T {
        T::swap(self.as_atomic(), v)
    }

    /// Stores `new` if the value is `current`; `Ok(current)` if it did, else
    /// `Err(actual value)`.
    pub fn compare_exchange(&self, current: T, new: T) -> Result<T, T> {
        T::compare_exchange(self.as_atomic(), current, new)
    }

    /// Replaces the value by `f(value)` atomically (a compare-and-swap loop, so `f` may
    /// run more than once); returns the previous value. Any read-modify-write, e.g.
    /// `v.update(|x| x.max(7))`, without a lock.
    pub fn update(&self, mut f: impl FnMut(T) -> T) -> T {
        let mut current = self.get();
        loop {
            match self.compare_exchange(current, f(current)) {
                Ok(previous) => return previous,
                Err(actual) => current = actual,
            }
        }
    }
}

impl<T: SharedInt> fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Value").field(&self.get()).finish()
    }
}

/// A fixed-length array of integers in shared memory; Python's `multiprocessing.Array`.
/// Each element is updated atomically on its own (there is no lock over the whole array).
/// Indexing past the end panics, as with slices. A clone is another handle to the same
/// memory.
pub struct Array<T: SharedInt> {
    map: Arc<Mapping<T::Atomic>>,
}

impl<T: SharedInt> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            map: Arc::clone(&self.map),
        }
    }
}

impl<T: SharedInt> Serialize for Array<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_mapping(&self.map, s)
    }
}

impl<'de, T: SharedInt> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Array {
            map: Arc::new(deserialize_mapping(d)?),
        })
    }
}

impl<T: SharedInt> Array<T> {
    /// Maps a new shared array holding `values`.
    ///
    /// The values go straight into the mapping when the iterator tells its exact length
    /// (arrays, `Vec`s, ranges, and `map`s of them do): no copy of the data is made on the
    /// heap first, so the peak memory is the array's size, not twice that.
    pub fn new(values: impl IntoIterator<Item = T>) -> io::Result<Self> {
        let mut values = values.into_iter();
        let len = match values.size_hint() {
            (low, Some(high)) if low == high => low,
            _ => return Array::new(values.collect::<Vec<T>>()),
        };
        let array = Array::zeroed(len)?;
        let mut stored = 0;
        for (slot, v) in array.as_atomics().iter().zip(&mut values) {
            T::store(slot, v);
            stored += 1;
        }
        match values.next() {
            None if stored == len => Ok(array),
            // The iterator's length was wrong (a bug in it): start again from a `Vec`.
            extra => {
                let mut all = array.to_vec();
                all.truncate(stored);
                all.extend(extra.into_iter().chain(values));
                Array::new(all)
            }
        }
    }

    /// Maps a new shared array of `len` zeros; Python's `Array('q', len)`. No value is
    /// stored: the new object's bytes are zero already, and its pages are allocated when
    /// first touched.
    pub fn zeroed(len: usize) -> io::Result<Self> {
        Ok(Array {
            map: Arc::new(Mapping::zeroed(len)?),
        })
    }

    /// The atomics themselves, for the full `std::sync::atomic` API.
    pub fn as_atomics(&self) -> &[T::Atomic] {
        self.map.as_slice()
    }

    /// Python's `len(arr)`.
    pub fn len(&self) -> usize {
        self.map.len
    }

    pub fn is_empty(&self) -> bool {
        self.map.len == 0
    }

    /// Python's `arr[i]`.
    pub fn get(&self, i: usize) -> T {
        T::load(&self.as_atomics()[i])
    }

    /// Python's `arr[i] = v`.
    pub fn set(&self, i: usize, v: T) {
        T::store(&self.as_atomics()[i], v)
    }

    /// Adds `v` to element `i` (wrapping) in one atomic step; returns the previous value.
    /// Python's `arr[i] += v`, without its lost updates.
    pub fn fetch_add(&self, i: usize, v: T) -> T {
        T::fetch_add(&self.as_atomics()[i], v)
    }

    /// Subtracts `v` from element `i` (wrapping) atomically; returns the previous value.
    pub fn fetch_sub(&self, i: usize, v: T) -> T {
        T::fetch_sub(&self.as_atomics()[i], v)
    }

    /// The elements now, one atomic load each; Python's `list(arr)`.
    pub fn to_vec(&self) -> Vec<T> {
        self.as_atomics().iter().map(T::load).collect()
    }
}

impl<T: SharedInt> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Array").field(&self.to_vec()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Threads stand in for processes here (libtest forbids forking); the cross-process
    // tests are in tests/processes.rs.
    #[test]
    fn value_updates_from_threads_are_not_lost() {
        let v = Value::new(0i64).unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        v.fetch_add(1);
                    }
                });
            }
        });
        assert_eq!(v.get(), 40_000);
    }

    #[test]
    fn value_operations() {
        let v = Value::new(5u8).unwrap();
        assert_eq!(v.fetch_add(255), 5);
        assert_eq!(v.get(), 4, "wraps");
        assert_eq!(v.swap(9), 4);
        assert_eq!(v.compare_exchange(1, 2), Err(9));
        assert_eq!(v.compare_exchange(9, 2), Ok(9));
        assert_eq!(v.update(|x| x * 10), 2);
        assert_eq!(v.fetch_sub(1), 20);
        v.set(3);
        assert_eq!(format!("{v:?}"), "Value(3)");
    }

    #[test]
    fn array_operations() {
        let a = Array::new([1i32, 2, 3]).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a.fetch_add(1, 10), 2);
        a.set(0, -1);
        assert_eq!(a.fetch_sub(2, 1), 3);
        assert_eq!(a.to_vec(), [-1, 12, 2]);
        assert_eq!(format!("{a:?}"), "Array([-1, 12, 2])");
        let empty = Array::<u32>::new([]).unwrap();
        assert!(empty.is_empty());
        assert!(empty.to_vec().is_empty());
    }

    /// Yields `items` but claims a length of `claimed`, as a buggy iterator may.
    struct Lying {
        items: std::vec::IntoIter<u8>,
        claimed: usize,
    }

    impl Iterator for Lying {
        type Item = u8;
        fn next(&mut self) -> Option<u8> {
            self.items.next()
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (self.claimed, Some(self.claimed))
        }
    }

    #[test]
    fn array_takes_every_value_whatever_the_iterator_claims() {
        for (items, claimed) in [(vec![1, 2, 3, 4, 5], 3), (vec![1], 3), (vec![], 2)] {
            let lying = Lying {
                items: items.clone().into_iter(),
                claimed,
            };
            assert_eq!(Array::new(lying).unwrap().to_vec(), items);
        }
        let odd = Array::new((0..10u16).filter(|n| n % 2 == 1)).unwrap();
        assert_eq!(odd.to_vec(), [1, 3, 5, 7, 9]);
    }

    /// A length hint whose byte size wraps around (in a release build, where `*` does not
    /// panic, 8 × (2^61 + 1) wraps to 8): refused, never a one-page mapping under a slice
    /// of 2^61 atomics.
    #[test]
    fn sizes_past_isize_max_are_refused_not_wrapped() {
        let huge = (1usize << 61) + 1;
        let lying = Lying {
            items: vec![1, 2].into_iter(),
            claimed: huge,
        };
        let err = Array::new(lying.map(u64::from)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        type Mapped = Mapping<AtomicU64>;
        assert_eq!(Mapped::bytes(0).unwrap().get(), 8);
        assert_eq!(Mapped::bytes(3).unwrap().get(), 24);
        assert_eq!(
            Mapped::bytes(isize::MAX as usize / 8).unwrap().get(),
            isize::MAX as usize / 8 * 8
        );
        for len in [isize::MAX as usize / 8 + 1, huge, usize::MAX] {
            assert!(Mapped::bytes(len).is_err(), "{len}");
        }
        // A handle that arrives saying it holds `huge` atomics, over a one-atomic object:
        // the size `map` computes itself is refused before the object is even looked at.
        let fd = new_object(8).unwrap();
        let err = Mapped::map(fd, huge)
            .err()
            .expect("a wrapped size was mapped");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // And one whose object is smaller than its length says.
        let fd = new_object(8).unwrap();
        #[cfg(unix)]
        {
            let err = Mapped::map(fd, 2).err().expect("a short object was mapped");
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        }
        // Windows cannot ask a section its size, and maps a view only as far as the
        // section's pages reach: past them (here 32 KiB over one page), it refuses.
        #[cfg(windows)]
        assert!(Mapped::map(fd, 4096).is_err(), "a short section was mapped");
    }

    #[test]
    #[should_panic(expected = "index out of bounds")]
    fn array_index_past_the_end_panics() {
        Array::new([1u16]).unwrap().get(1);
    }
}
