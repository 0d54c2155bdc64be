//! Physical memory: the direct map, page frames with reference counts, the kernel heap, user
//! page tables, kernel stacks' guarded area, and the architecture's user address-space layout.

mod frame;
mod heap;
pub(crate) mod kstack;
mod paging;

pub(crate) use frame::init as init_frames;
pub use frame::{
    free_frames, reserve_frames, set_reclaim_hook, set_reserve_kib, total_frames, Frame,
};
pub(crate) use heap::init as init_heap;
pub use heap::{heap_available, heap_stats, report as heap_report};
pub use paging::{
    kernel_table_frames, page_table_frames, Activator, AddressSpace, PageKind, Prot, RssCounter,
};

pub use crate::arch::mmu::{DIRECT_MAP_LIMIT, EXEC_IMPLIES_READ, KERNEL_OFFSET, PHYS_OFFSET};

/// Where a new program's regions go without randomization, and how many random bits of pages
/// each may move by (Linux's values for this architecture).
pub mod layout {
    pub use crate::arch::mmu::layout::{
        map_32bit, pie_base, stack_top, BRK_RND_BITS, MMAP_RND_BITS, STACK_RND_BITS,
    };
}

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
pub(crate) use paging::identity_root;
#[allow(unused_imports)] // x86_64 only (its shootdown answer)
pub(crate) use paging::kernel_root;
