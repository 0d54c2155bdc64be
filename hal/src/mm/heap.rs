//! The kernel heap: a buddy allocator over one region of the direct map.

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
