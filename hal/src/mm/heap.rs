//! The kernel heap: talc (binned free lists with boundary tags) over one region of the
//! direct map.
//!
//! The heap has a fixed size (a quarter of RAM, chosen at boot). A failed allocation through
//! the global allocator aborts the kernel, so the kernel checks `heap_available` and uses
//! fallible allocation (`try_reserve`) for everything user space can make it allocate in bulk.
//!
//! It does not grow: the page frames are a separate pool (frame.rs), and what the OOM killer
//! frees goes back to that pool, never to the heap. Growing it from free frames would need
//! physically contiguous runs for any allocation above a page (the direct map is the heap's
//! address space), and the frame pool is a stack of single frames with no contiguous
//! allocation. So a large request fails when the heap is short whatever the frame pool holds;
//! the kernel panic's report (`report`) gives the heap's counters, to tell exhaustion (little
//! available) from fragmentation (much available, in many holes).
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

/// The heap's counters for a kernel panic's report, if the heap's lock is free (the panic may
/// have come from under it): bytes claimed, allocated and available, the live allocations and
/// the holes between them.
pub fn report() -> Option<[usize; 5]> {
    let h = HEAP.try_lock()?;
    let c = h.get_counters();
    Some([
        c.claimed_bytes,
        c.allocated_bytes,
        c.available_bytes,
        c.allocation_count,
        c.fragment_count,
    ])
}
