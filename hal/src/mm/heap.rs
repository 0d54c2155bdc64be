//! The kernel heap: talc (binned free lists with boundary tags) over one region of the
//! direct map.
//!
//! The heap has a fixed size (a quarter of RAM, chosen at boot). A failed allocation through
//! the global allocator aborts the kernel, so the kernel checks `heap_available` and uses
//! fallible allocation (`try_reserve`) for everything user space can make it allocate in bulk.
//!
//! Why talc and not a buddy allocator: buddy_system_allocator frees a block by walking the
//! whole free list of its size looking for the buddy, so once the heap is fragmented (tens of
//! thousands of free small blocks after a fuzzer's churn) every free takes milliseconds and a
//! system call that frees many objects kept the CPU for seconds (the watchdog caught 10 s in
//! `Heap::dealloc`). talc allocates and frees in constant time.

use talc::{ErrOnOom, Span, Talc, Talck};

#[global_allocator]
static HEAP: Talck<spin::Mutex<()>, ErrOnOom> = Talc::new(ErrOnOom).lock();

pub(crate) fn init(start_va: usize, size: usize) {
    let span = Span::from_base_size(start_va as *mut u8, size);
    // SAFETY: the region is RAM reserved for the heap by boot code and used for nothing else;
    // it is claimed once, before the first allocation.
    let _ = unsafe { HEAP.lock().claim(span) };
}

/// (bytes managed, bytes allocated) by the kernel heap, for /proc/meminfo and the headroom
/// checks: what talc claimed, and what of it is not free for allocation (metadata included).
pub fn heap_stats() -> (usize, usize) {
    let h = HEAP.lock();
    let c = h.get_counters();
    (
        c.claimed_bytes,
        c.claimed_bytes.saturating_sub(c.available_bytes),
    )
}

/// Bytes of the kernel heap not allocated (not necessarily in one piece).
pub fn heap_available() -> usize {
    let (total, used) = heap_stats();
    total.saturating_sub(used)
}
