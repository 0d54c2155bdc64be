//! Physical memory: the direct map, page frames with reference counts, the kernel heap, and
//! x86_64 page tables.

mod frame;
mod heap;
mod paging;

pub(crate) use frame::init as init_frames;
pub use frame::{free_frames, set_reclaim_hook, total_frames, Frame};
pub(crate) use heap::init as init_heap;
pub use heap::{heap_available, heap_stats};
pub use paging::{AddressSpace, Prot};

/// All physical memory below 4 GiB is mapped here (set up by boot.S).
pub const PHYS_OFFSET: usize = 0xffff_8000_0000_0000;
/// The kernel image's virtual base (physical 0).
pub const KERNEL_OFFSET: usize = 0xffff_ffff_8000_0000;
/// Highest physical address the direct map covers.
pub const DIRECT_MAP_LIMIT: usize = 4 << 30;

pub fn phys_to_virt(pa: usize) -> usize {
    pa + PHYS_OFFSET
}

pub fn kernel_virt_to_phys(va: usize) -> usize {
    if va >= KERNEL_OFFSET {
        va - KERNEL_OFFSET
    } else {
        va - PHYS_OFFSET
    }
}

pub(crate) fn paging_init() {
    paging::init_kernel_root();
}
pub use paging::activate_kernel;
