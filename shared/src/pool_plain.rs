//! [`Pool::map`]'s fast path for numbers; a first read of `pool` can skip it.
//!
//! What it buys: when the results are integers or floats, a worker sends each chunk's
//! results as their raw bytes, and the parent copies each message straight into its
//! place in the result vector. Nothing is encoded or decoded: the parent's decoding,
//! about 50 instructions an item, was most of `map`'s time, and is now one `memcpy` per
//! chunk. Everything else (the chunks, the workers, errors, the timeout) is `pool`'s.
//!
//! (A shared mapping that the workers write in place, as rayon's threads do, was measured
//! too, and was slower: its pages cost more to fault in, zero and free than the same bytes
//! cost to copy through the pipes.)
//!
//! # Copying it
//!
//! It travels with `pool.rs`, which calls it: copy `pool.rs`, `pool_plain.rs`,
//! `process.rs`, `private_fd.rs`, `os.rs` and `shared_memory.rs` as `pool.rs`'s header says,
//! with the same `Cargo.toml` lines:
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
//! Only the integer and float types take this path: each is its bytes and nothing more
//! (no padding, no pointers, no `Drop`), and every bit pattern is one of its values, so
//! copying bytes out of one and into another makes a valid value whatever the bytes.
//! Stable Rust cannot choose an implementation by type (there is no specialization), so
//! [`is_plain`] compares `TypeId`s, which an optimised build folds to a constant. The
//! result vector's slots are filled through its spare capacity, and its length is set only
//! once `run` has taken every chunk exactly once, each message checked to be exactly its
//! chunk's size: every slot is then written.

use std::any::TypeId;
use std::io;
use std::mem::MaybeUninit;
use std::ptr;
use std::slice;

use super::pool::{Pool, PoolError};

/// Whether `R` is one of the integer or float types whose results [`map`] sends as bytes.
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
    let mut results = Vec::<R>::with_capacity(items.len());
    let slots = results.spare_capacity_mut();
    #[cfg(target_os = "linux")]
    ask_for_huge_pages(slots);
    pool.run(
        items.len(),
        |range, message| {
            message.reserve(range.len() * size_of::<R>());
            for item in &items[range] {
                let result = f(item);
                // SAFETY: a plain `R` is `size_of::<R>()` initialised bytes.
                let bytes = unsafe {
                    slice::from_raw_parts((&raw const result).cast::<u8>(), size_of::<R>())
                };
                message.extend_from_slice(bytes);
            }
            Ok(())
        },
        |range, payload| copy_chunk(&mut slots[range], payload),
    )?;
    // SAFETY: `run` returned `Ok`, so it took every chunk, and the chunks' ranges cover
    // `0..items.len()`: every slot was written above, and any bytes are a plain `R`.
    unsafe { results.set_len(items.len()) };
    Ok(results)
}

/// Asks Linux to back the results with 2 MiB pages: filling one then takes one page fault
/// instead of 512, and those faults were the parent's largest cost. Only a hint: where
/// transparent huge pages are off, nothing changes.
#[cfg(target_os = "linux")]
fn ask_for_huge_pages<R>(slots: &mut [MaybeUninit<R>]) {
    use nix::sys::mman::{MmapAdvise, madvise};
    use std::ptr::NonNull;
    const HUGE: usize = 2 << 20;
    let base = slots.as_mut_ptr().cast::<u8>();
    let skip = (HUGE - base as usize % HUGE) % HUGE;
    let len = size_of_val(slots).saturating_sub(skip) / HUGE * HUGE;
    if len > 0 {
        let start = NonNull::new(base.wrapping_add(skip).cast()).expect("inside the slots");
        // SAFETY: the range is inside `slots` (whole huge pages, so whole pages too), and
        // MADV_HUGEPAGE changes only how the kernel backs memory, never what it holds.
        let _ = unsafe { madvise(start, len, MmapAdvise::MADV_HUGEPAGE) };
    }
}

/// Copies a chunk's message into its slots, if it is exactly their size.
fn copy_chunk<R>(slots: &mut [MaybeUninit<R>], payload: &[u8]) -> io::Result<()> {
    if payload.len() != size_of_val(slots) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a chunk of results of the wrong size",
        ));
    }
    // SAFETY: the same number of bytes, in different allocations; any bytes may be
    // written to a `MaybeUninit`.
    unsafe {
        ptr::copy_nonoverlapping(
            payload.as_ptr(),
            slots.as_mut_ptr().cast::<u8>(),
            payload.len(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_are_plain_and_nothing_else() {
        assert!(is_plain::<u64>() && is_plain::<i8>() && is_plain::<f64>());
        assert!(is_plain::<usize>() && is_plain::<i128>() && is_plain::<f32>());
        assert!(!is_plain::<bool>() && !is_plain::<char>() && !is_plain::<()>());
        assert!(!is_plain::<String>() && !is_plain::<Vec<u8>>() && !is_plain::<&str>());
        assert!(!is_plain::<(u32, u32)>() && !is_plain::<Option<u8>>());
    }

    #[test]
    fn a_chunk_is_copied_only_if_it_fits_exactly() {
        let mut slots = [MaybeUninit::<u16>::uninit(); 3];
        let bytes: Vec<u8> = [7u16, 8, 9].iter().flat_map(|n| n.to_ne_bytes()).collect();
        assert!(copy_chunk(&mut slots, &bytes[..4]).is_err());
        assert!(copy_chunk(&mut slots, &[bytes.clone(), vec![0]].concat()).is_err());
        copy_chunk(&mut slots, &bytes).unwrap();
        // SAFETY: all three slots were just written.
        assert_eq!(slots.map(|slot| unsafe { slot.assume_init() }), [7, 8, 9]);
    }
}
