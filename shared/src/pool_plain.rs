//! [`Pool::map`]'s fast path for numbers; a first read of `pool` can skip it.
//!
//! What it buys: when every result is a number (an integer or float type, `bool`, `char`),
//! the workers write each one straight into a shared mapping at its item's index, the way
//! rayon's threads write in place, and the parent copies the mapping out in one go once
//! they have all ended. Nothing is encoded, sent through a pipe or decoded; the parent's
//! decoding, about 50 instructions an item, was most of `map`'s time. Each chunk's
//! message is then empty: it only says that the chunk is written. Everything else (the
//! chunks, the workers, errors, the timeout) is `pool`'s.
//!
//! # Copying it
//!
//! It travels with `pool.rs`, which calls it: copy `pool.rs`, `pool_plain.rs`,
//! `process.rs` and `shared_memory.rs` as `pool.rs`'s header says, with the same
//! `Cargo.toml` lines:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["fs", "mman", "poll", "process", "signal"] }
//! postcard = { version = "1", default-features = false, features = ["use-std"] }
//! serde = "1"
//! ```
//!
//! # Why it is sound
//!
//! - Only types whose bytes mean the same in every process take this path: no pointers,
//!   no `Drop`, and any value a worker writes is a valid one. Stable Rust cannot choose an
//!   implementation by type (there is no specialization), so [`is_plain`] compares
//!   `TypeId`s, which an optimised build folds to a constant.
//! - The mapping is page-aligned, so every slot is aligned, and no reference to it is ever
//!   made: workers write their slots through a raw pointer, each chunk's slots by the one
//!   worker that claimed it, and the parent reads only after `run` has returned `Ok`, that
//!   is after every chunk was reported written and every worker has ended.

use std::any::TypeId;
use std::io;
use std::num::NonZeroUsize;
use std::ptr::{self, NonNull};

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};

use super::pool::{Pool, PoolError};

/// Whether `R` is one of the number types (with `bool` and `char`) whose results
/// [`map`] writes in place.
pub(super) fn is_plain<R: 'static>() -> bool {
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
        TypeId::of::<bool>(),
        TypeId::of::<char>(),
    ];
    plain.contains(&TypeId::of::<R>())
}

/// `pool.map(f, items)` for a plain `R` (see [`is_plain`]).
pub(super) fn map<T, R, F>(pool: &Pool, f: F, items: &[T]) -> Result<Vec<R>, PoolError>
where
    F: Fn(&T) -> R,
    R: 'static,
{
    assert!(
        is_plain::<R>(),
        "pool_plain::map of a type that is not plain"
    );
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let slots = Slots::<R>::new(items.len()).map_err(|source| PoolError::Io {
        what: "mapping the results",
        source,
    })?;
    pool.run(
        items.len(),
        |range, _| {
            for i in range {
                let result = f(&items[i]);
                // SAFETY: `i < items.len()`, the mapping's length. This worker claimed the
                // chunk holding `i`, so no other process writes the slot, and the parent
                // reads it only after this worker has ended.
                unsafe { slots.ptr.add(i).write(result) };
            }
            Ok(())
        },
        |_, _| Ok(()),
    )?;
    // SAFETY: `run` returned `Ok`: every chunk's slots were written with `R`s before the
    // chunk was reported, and every worker has ended, so nothing writes the mapping now.
    // `R` is plain: its bytes are the whole value, and a copy owns nothing.
    Ok(unsafe { slots.to_vec() })
}

/// `len` slots for `R`s in a fresh anonymous `MAP_SHARED` mapping, which forked workers
/// share. Unmapped on drop (in each process, its own view).
struct Slots<R> {
    ptr: NonNull<R>,
    len: usize,
}

impl<R> Slots<R> {
    fn new(len: usize) -> io::Result<Slots<R>> {
        let bytes = size_of::<R>()
            .checked_mul(len)
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| io::Error::other("no results, or too many"))?;
        // SAFETY: a new anonymous mapping at an address the kernel picks overlaps no
        // existing memory.
        let raw = unsafe {
            mmap_anonymous(
                None,
                bytes,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }?;
        Ok(Slots {
            ptr: raw.cast(),
            len,
        })
    }

    /// The slots, copied out.
    ///
    /// # Safety
    /// Every slot holds an `R` written since the mapping was made, nothing writes the
    /// mapping during the copy, and `R` owns nothing (a copy is a whole value).
    unsafe fn to_vec(&self) -> Vec<R> {
        let mut out = Vec::with_capacity(self.len);
        // SAFETY: the caller's promise; `out` has room for `len` values, and the mapping
        // (page-aligned) and `out` are distinct allocations.
        unsafe {
            ptr::copy_nonoverlapping(self.ptr.as_ptr(), out.as_mut_ptr(), self.len);
            out.set_len(self.len);
        }
        out
    }
}

impl<R> Drop for Slots<R> {
    fn drop(&mut self) {
        let bytes = size_of::<R>() * self.len;
        // SAFETY: exactly the mapping `new` made; no reference into it exists.
        let _ = unsafe { munmap(self.ptr.cast(), bytes) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_and_owners_are_not() {
        assert!(is_plain::<u64>() && is_plain::<i8>() && is_plain::<f64>());
        assert!(is_plain::<bool>() && is_plain::<char>() && is_plain::<usize>());
        assert!(!is_plain::<String>() && !is_plain::<Vec<u8>>() && !is_plain::<()>());
        assert!(!is_plain::<(u32, u32)>() && !is_plain::<Option<u8>>());
    }

    // The forking path is tested in tests/processes.rs; here the mapping alone.
    #[test]
    fn slots_written_in_place_copy_out_in_order() {
        let slots = Slots::<u32>::new(1000).unwrap();
        for i in (0..1000).rev() {
            // SAFETY: `i < 1000`, and only this thread touches the mapping.
            unsafe { slots.ptr.add(i).write(i as u32 * 3) };
        }
        // SAFETY: every slot was written above; u32 is plain.
        let out = unsafe { slots.to_vec() };
        assert_eq!(out, (0..1000).map(|i| i * 3).collect::<Vec<u32>>());
    }

    #[test]
    fn no_slots_or_too_many_is_an_error() {
        assert!(Slots::<u64>::new(0).is_err());
        assert!(Slots::<u64>::new(usize::MAX).is_err());
    }
}
