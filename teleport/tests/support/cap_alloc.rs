//! A global allocator that refuses any single allocation above [`CAP`] (64 MiB).
//!
//! Refusing means returning null, which makes the standard library abort the process: an
//! "allocate before checking" bug on input from the wire then crashes the test (or the fuzz
//! target) on stable Rust, instead of passing quietly on a machine with enough memory.
//!
//! Each thread also counts its allocations and remembers its largest one, so a test can
//! assert that a code path allocated nothing, or nothing big.
//!
//! Shared by `tests/alloc_cap.rs` and the fuzz crate's library, which sets it for every fuzz
//! target (through `#[path]`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;

/// The largest single allocation allowed.
pub(crate) const CAP: usize = 64 << 20;

/// [`System`], refusing allocations above [`CAP`].
pub(crate) struct CapAlloc;

thread_local! {
    // Const-initialised and without destructors: using them never allocates.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn record(size: usize) {
    let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

/// How many allocations (and reallocations) this thread made so far.
#[allow(dead_code)]
pub(crate) fn count() -> u64 {
    COUNT.with(Cell::get)
}

/// The largest allocation this thread made since the last call, which resets it.
#[allow(dead_code)]
pub(crate) fn take_largest() -> usize {
    LARGEST.with(|l| l.replace(0))
}

// SAFETY: every call is forwarded unchanged to `System`, except that requests above `CAP`
// get null, which `GlobalAlloc` allows as "allocation failed".
unsafe impl GlobalAlloc for CapAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            return ptr::null_mut();
        }
        record(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            return ptr::null_mut();
        }
        record(layout.size());
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP {
            return ptr::null_mut();
        }
        record(new_size);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}
