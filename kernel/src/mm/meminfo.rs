//! How much memory there is and what holds it, in one place, so that sysinfo(2) and
//! /proc/meminfo tell programs the same story (busybox `free` takes the total from one and
//! the available figure from the other).

use super::pagecache;

/// Memory figures in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemStats {
    /// Page frames plus the kernel heap: both are RAM the kernel manages.
    pub total: u64,
    pub free: u64,
    /// Free memory plus cached file pages that could be dropped; never above `total`.
    pub available: u64,
    /// Page-cache pages (file data held for mappings and disk reads) and tmpfs pages, as
    /// Linux counts shmem in Cached.
    pub cached: u64,
    /// tmpfs and memfd pages (never dropped: there is no swap).
    pub shmem: u64,
    pub dirty: u64,
    /// Kernel heap in use (Linux's slab, all unreclaimable).
    pub slab: u64,
    /// Frames holding kernel stacks (Linux's KernelStack).
    pub kernel_stack: u64,
    /// Page-table frames of user address spaces (Linux's PageTables, which leaves kernel
    /// page tables out; `lintel_hal::mm::page_table_frames`).
    pub page_tables: u64,
    /// Frames in use by none of the above, nor by the kernel stack area's page tables
    /// (`lintel_hal::mm::kernel_table_frames`, in no line as in Linux): process memory.
    pub anon: u64,
}

pub fn stats() -> MemStats {
    let (heap_total, heap_used) = lintel_hal::mm::heap_stats();
    let frames_total = lintel_hal::mm::total_frames() as u64 * 4;
    let frames_free = (lintel_hal::mm::free_frames() as u64 * 4).min(frames_total);
    let heap_total = heap_total as u64 / 1024;
    let heap_used = (heap_used as u64 / 1024).min(heap_total);
    let (cached, clean, dirty) = pagecache::page_counts();
    let total = frames_total + heap_total;
    let free = frames_free + (heap_total - heap_used);
    let used = frames_total - frames_free;
    let shmem = (super::shmem::pages() * 4).min(used);
    let cached = (cached as u64 * 4 + shmem).min(used);
    let kernel_stack = ((lintel_hal::task::kernel_stacks() * lintel_hal::task::STACK_SIZE / 1024)
        as u64)
        .min(used - cached);
    let page_tables =
        (lintel_hal::mm::page_table_frames() as u64 * 4).min(used - cached - kernel_stack);
    let kernel_tables = (lintel_hal::mm::kernel_table_frames() as u64 * 4)
        .min(used - cached - kernel_stack - page_tables);
    MemStats {
        total,
        free,
        available: (free + clean as u64 * 4).min(total),
        cached,
        shmem,
        dirty: (dirty as u64 * 4).min(cached),
        slab: heap_used,
        kernel_stack,
        page_tables,
        anon: used - cached - kernel_stack - page_tables - kernel_tables,
    }
}
