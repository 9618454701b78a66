//! mimalloc, with a count of the bytes allocated while a measurement is
//! on: the heap a piece of work holds at its peak, free of what the
//! process held before it. The resident set (`VmHWM`) cannot say that in
//! a process that has already generated and projected the data set: the
//! allocator hands back pages it kept from earlier phases, so "peak less
//! resident before" moved between 19 and 88 MiB for the same 1M-event
//! replay. Counting is off (one relaxed load per allocation) except
//! between [`Measurement::start`] and [`Measurement::finish`].

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

pub struct CountingMiMalloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes allocated less bytes freed since counting began (frees of
/// earlier allocations make it go down).
static NET: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn bytes(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

fn grew(by: i64) {
    if COUNTING.load(Ordering::Relaxed) {
        let now = NET.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn shrank(by: i64) {
    if COUNTING.load(Ordering::Relaxed) {
        NET.fetch_sub(by, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on to mimalloc unchanged; the counting
// only reads the layouts.
unsafe impl GlobalAlloc for CountingMiMalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(bytes(layout));
        // SAFETY: the caller's contract is passed on.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(bytes(layout));
        // SAFETY: the caller's contract is passed on.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrank(bytes(layout));
        // SAFETY: the caller's contract is passed on.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = i64::try_from(new_size).unwrap_or(i64::MAX);
        let old = bytes(layout);
        if new >= old {
            grew(new - old);
        } else {
            shrank(old - new);
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

/// One measurement of the heap held at its peak (one at a time).
pub struct Measurement;

impl Measurement {
    pub fn start() -> Self {
        NET.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        Measurement
    }

    /// The most bytes held at once, net of frees, since the start.
    pub fn finish(self) -> u64 {
        COUNTING.store(false, Ordering::Relaxed);
        u64::try_from(PEAK.load(Ordering::Relaxed)).unwrap_or(0)
    }
}
