//! Sv39 paging: three levels of 512 entries, the page-table entry format (PPN at bit 10,
//! V R W X U G A D flags), the root register (satp), TLB maintenance (sfence.vma) and where
//! user space ends. `mm::paging` walks the tables with these and never looks at entry bits.

use crate::mm::Prot;

/// Levels of tables; the root is level `LEVELS - 1`, leaves are level 0.
pub(crate) const LEVELS: u32 = 3;
/// Entries per table.
pub(crate) const ENTRIES: usize = 512;
/// Root entries from here on map the upper half (the kernel's, shared by every address space).
pub(crate) const KERNEL_ROOT_FIRST: usize = 256;
/// End of the lower half of Sv39's 39-bit space: user mappings lie below (Linux's TASK_SIZE).
pub(crate) const USER_TOP: usize = 0x40_0000_0000;
/// Lowest address above what user copies may touch.
pub const USER_END: usize = USER_TOP - 0x1000;

const V: u64 = 1;
const R: u64 = 2;
const W: u64 = 4;
const X: u64 = 8;
const U: u64 = 16;
const A: u64 = 64;
const D: u64 = 128;
const PPN_MASK: u64 = (1 << 44) - 1;
/// satp.MODE = Sv39.
const SATP_SV39: u64 = 8 << 60;

/// A leaf entry mapping physical page `pa` with `prot`, accessed and dirty already (the
/// hardware need not update them). PROT_NONE keeps the page (and its contents) but denies user
/// access: valid and readable, without U. Write implies read (W without R is reserved).
pub(crate) fn leaf(pa: u64, prot: Prot) -> u64 {
    let mut b = V | A | D;
    if prot.read || prot.write || prot.exec {
        b |= U;
    }
    if prot.read || prot.write || !prot.exec {
        b |= R;
    }
    if prot.write {
        b |= W;
    }
    if prot.exec {
        b |= X;
    }
    ((pa >> 12) << 10) | b
}

/// A leaf entry for kernel-only data at `pa` (a kernel stack page): readable and writable,
/// not executable, not user-accessible, not global.
pub(crate) fn kernel_leaf(pa: u64) -> u64 {
    ((pa >> 12) << 10) | V | R | W | A | D
}

/// An entry pointing at the next-level table at `pa` (no R/W/X: a pointer, not a leaf).
pub(crate) fn table(pa: u64) -> u64 {
    ((pa >> 12) << 10) | V
}

pub(crate) fn present(e: u64) -> bool {
    e & V != 0
}

/// Whether a non-leaf-level entry maps a large page instead of pointing at a table.
pub(crate) fn huge(e: u64) -> bool {
    e & (R | W | X) != 0
}

/// The physical address an entry points at.
pub(crate) fn addr(e: u64) -> u64 {
    ((e >> 10) & PPN_MASK) << 12
}

/// The user access a leaf entry allows.
pub(crate) fn prot(e: u64) -> Prot {
    let user = e & U != 0;
    Prot {
        read: user && e & R != 0,
        write: user && e & W != 0,
        exec: user && e & X != 0,
    }
}

/// The physical address of the active root table.
pub(crate) fn active_root() -> u64 {
    (super::cpu::read_satp() & PPN_MASK) << 12
}

/// Makes `root` the active root table and drops stale translations.
///
/// # Safety
/// `root` must be a valid root table whose kernel half maps the kernel as the current one does.
pub(crate) unsafe fn activate_root(root: u64) {
    super::smp::note_active_root(root);
    // SAFETY: delegated to the caller.
    unsafe {
        core::arch::asm!(
            "csrw satp, {}",
            "sfence.vma",
            in(reg) SATP_SV39 | (root >> 12),
            options(nostack)
        )
    }
}

/// Drops this CPU's translations of the active root (`root`).
///
/// # Safety
/// `root` must be the active root table.
pub(crate) unsafe fn reload_root(_root: u64) {
    // SAFETY: a TLB flush changes no mapping.
    unsafe { core::arch::asm!("sfence.vma", options(nostack)) }
}

/// Drops the TLB entry of one page of the active address space.
pub(crate) fn flush_page(va: usize) {
    // SAFETY: a TLB flush changes no mapping.
    unsafe { core::arch::asm!("sfence.vma {}, zero", in(reg) va, options(nostack)) }
}

/// Whether the active tables map `va` with a valid leaf (a page fault's "present" bit, which
/// riscv's scause does not give).
pub(crate) fn mapped(va: usize) -> bool {
    let mut t = active_root();
    for level in (0..LEVELS).rev() {
        let i = (va >> (12 + 9 * level)) & (ENTRIES - 1);
        // SAFETY: `t` is a page-table page (the root or one an entry points at), inside the
        // direct map.
        let e = unsafe {
            (crate::mm::phys_to_virt(t as usize) as *const u64)
                .add(i)
                .read_volatile()
        };
        if !present(e) {
            return false;
        }
        if huge(e) || level == 0 {
            return true;
        }
        t = addr(e);
    }
    false
}

/// Physical memory is mapped here from 0 (boot.S: 1 GiB pages, the first 64 GiB).
pub const PHYS_OFFSET: usize = 0xffff_ffc0_0000_0000;
/// The kernel image's virtual base (physical 0): the image at 0x80200000 runs at
/// 0xffffffff80200000.
pub const KERNEL_OFFSET: usize = 0xffff_ffff_0000_0000;
/// Highest physical address the direct map covers.
pub const DIRECT_MAP_LIMIT: usize = 64 << 30;
/// Kernel stacks are mapped here (root entry 384, a 1 GiB slot above the direct map), each
/// with an unmapped guard below it (`mm::kstack`).
pub(crate) const KSTACK_AREA: usize = 0xffff_ffe0_0000_0000;

/// Linux's riscv64 (Sv39) user address-space layout.
pub mod layout {
    /// Top of the initial stack without randomization (TASK_SIZE).
    pub const STACK_TOP: usize = 0x40_0000_0000;
    /// ELF_ET_DYN_BASE: two thirds of TASK_SIZE, page-aligned.
    pub const PIE_BASE: usize = 0x2a_aaaa_a000;
    /// Random page-count bits for the stack top (STACK_RND_MASK 0x3ffff).
    pub const STACK_RND_BITS: u32 = 18;
    /// Random page-count bits for the mmap base (ARCH_MMAP_RND_BITS_MIN for Sv39).
    pub const MMAP_RND_BITS: u32 = 18;
    /// Random page-count bits for the brk start (1 GiB on 64-bit).
    pub const BRK_RND_BITS: u32 = 18;
}
