//! `Array::new` writes the values straight into the shared mapping: counted by a global
//! allocator, building an 8 MiB array takes no 8 MiB heap copy of the data first.
//!
//! A plain `main` (`harness = false`): libtest's threads would allocate meanwhile and blur
//! the count. The mapping itself is mapped memory (`mmap`, `MapViewOfFile`), so the heap
//! count sees only copies.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = IN_USE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is passed on to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: the caller's guarantees for `layout` are `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `System` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size);
        IN_USE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: as for `dealloc`, and `new_size` is the caller's valid size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// How far the heap rose above where it was while `f` ran.
fn heap_rise_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = IN_USE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let result = f();
    (result, PEAK.load(Relaxed) - before)
}

fn main() -> ExitCode {
    use shared::shared_memory::Array;

    const N: u64 = 1 << 20; // 8 MiB of u64
    const SLACK: usize = 64 * 1024;
    let (mut passed, mut failed) = (0, 0);
    let mut check = |name: String, ok: bool| {
        println!("{} {name}", if ok { "ok  " } else { "FAIL" });
        (passed, failed) = if ok {
            (passed + 1, failed)
        } else {
            (passed, failed + 1)
        };
    };

    let (array, rise) = heap_rise_during(|| Array::new(0..N).expect("mapping"));
    check(
        format!("Array::new(0..N), 8 MiB: heap rose {rise} bytes"),
        rise < SLACK,
    );
    let holds = array.len() == N as usize && array.get(12_345) == 12_345;
    check("  ... and it holds 0..N".into(), holds);

    let (array, rise) = heap_rise_during(|| Array::new((0..N as i32).map(|i| -i)).expect("map"));
    check(
        format!("Array::new(range.map(..)), 4 MiB: heap rose {rise} bytes"),
        rise < SLACK,
    );
    check(
        "  ... and it holds the mapped values".into(),
        array.get(7) == -7,
    );

    let values: Vec<u64> = (0..N).collect();
    let (array, rise) = heap_rise_during(|| Array::new(values).expect("mapping"));
    check(
        format!("Array::new(vec), 8 MiB: heap rose {rise} bytes"),
        rise < SLACK,
    );
    check(
        "  ... and it holds the vec's values".into(),
        array.get(N as usize - 1) == N - 1,
    );

    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
