//! The kernel heap: a buddy allocator over one region of the direct map.
//!
//! The heap has a fixed size (a quarter of RAM, chosen at boot). A failed allocation through
//! the global allocator aborts the kernel, so the kernel checks `heap_available` and uses
//! fallible allocation (`try_reserve`) for everything user space can make it allocate in bulk.

use buddy_system_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap<32> = LockedHeap::empty();

pub(crate) fn init(start_va: usize, size: usize) {
    // SAFETY: the region is RAM reserved for the heap by boot code and used for nothing else.
    unsafe { HEAP.lock().init(start_va, size) }
}

/// (bytes managed, bytes allocated) by the kernel heap, for /proc/meminfo.
pub fn heap_stats() -> (usize, usize) {
    let h = HEAP.lock();
    (h.stats_total_bytes(), h.stats_alloc_actual())
}

/// Bytes of the kernel heap not allocated (not necessarily in one piece).
pub fn heap_available() -> usize {
    let (total, used) = heap_stats();
    total.saturating_sub(used)
}
