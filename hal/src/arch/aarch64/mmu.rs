//! VMSAv8-64 paging with the 4 KiB granule and 48-bit addresses: four levels of 512 entries,
//! the stage-1 descriptor format (output address in bits 47:12, AP, AF, SH, AttrIndx, PXN and
//! UXN), TTBR0 for the active root (TTBR1 keeps the kernel's: a user root holds only user
//! entries, all 512 of them, as arm64 Linux's 48-bit user space does), TLB maintenance and where
//! user space ends. `mm::paging` walks the tables with these and never looks at entry bits.

use crate::mm::Prot;

/// The fixed depth (four levels) and what follows from it.
pub(crate) use super::super::fixed_levels::{levels, try_widen, KSTACK_SPAN, WIDENS};
/// Entries per table.
pub(crate) const ENTRIES: usize = 512;
/// Root entries from here on would be the kernel half's copies: none, since TTBR1 translates
/// the kernel (T1SZ 16) and TTBR0 (T0SZ 16) gives user space all 512 root entries.
pub(crate) const KERNEL_ROOT_FIRST: usize = ENTRIES;
/// User mappings lie below 2^48, arm64 Linux's TASK_SIZE_64 with 48-bit VAs (measured on
/// Debian's 6.1: MAP_FIXED on the last page below 2^48 succeeds, at 2^48 it is ENOMEM).
pub(crate) const USER_TOP: usize = 0x1_0000_0000_0000;
/// Lowest address above what user copies may touch: `USER_TOP` itself (arm64 Linux keeps no
/// guard page below it, unlike x86_64).
pub const USER_END: usize = USER_TOP;
/// `USER_END`, as the arch-neutral code asks for it (riscv64 decides at boot).
#[inline(always)]
pub const fn user_end() -> usize {
    USER_END
}
/// `USER_TOP`, as the arch-neutral code asks for it (riscv64 decides at boot).
pub(crate) const fn user_top() -> usize {
    USER_TOP
}

const VALID: u64 = 1;
/// Table descriptor above level 0; page descriptor at level 0.
const TABLE_OR_PAGE: u64 = 2;
/// AP[1]: EL0 may access.
const AP_EL0: u64 = 1 << 6;
/// AP[2]: read-only.
const AP_RO: u64 = 1 << 7;
const SH_INNER: u64 = 3 << 8;
const AF: u64 = 1 << 10;
const NG: u64 = 1 << 11;
const PXN: u64 = 1 << 53;
const UXN: u64 = 1 << 54;
/// A PROT_NONE leaf's mark (Linux's PTE_PROT_NONE, a bit left to software): the entry is
/// invalid, so the MMU looks at none of its other bits.
const PROT_NONE: u64 = 1 << 58;
const ADDR_MASK: u64 = 0x0000_ffff_ffff_f000;
/// Where a user leaf entry keeps what kind of page it maps (`paging::PageKind`): bits 55 and 56 (reserved for software use).
pub(crate) const KIND_SHIFT: u32 = 55;

/// Whether a mapping that may only be executed can be read too: yes, `leaf` makes an
/// execute-only page readable (see there).
pub const EXEC_IMPLIES_READ: bool = true;

/// A leaf (page) entry mapping physical page `pa` with `prot`: normal memory, accessed already
/// (no access-flag faults), never executable by the kernel. PROT_NONE keeps the page (and its
/// contents) in an invalid entry marked [`PROT_NONE`], so that every access faults, the
/// kernel's too (Linux's pte of a PROT_NONE page).
/// Execute-only is readable (Linux's arm64 made PROT_EXEC imply PROT_READ until 6.2).
pub(crate) fn leaf(pa: u64, prot: Prot) -> u64 {
    if !(prot.read || prot.write || prot.exec) {
        return (pa & ADDR_MASK) | PROT_NONE;
    }
    let mut b = VALID | TABLE_OR_PAGE | AF | SH_INNER | NG | PXN | AP_EL0;
    if !prot.write {
        b |= AP_RO;
    }
    if !prot.exec {
        b |= UXN;
    }
    (pa & ADDR_MASK) | b
}

/// A leaf entry for kernel-only data at `pa` (a kernel stack page): normal memory, writable
/// by EL1 only, never executable.
pub(crate) fn kernel_leaf(pa: u64) -> u64 {
    (pa & ADDR_MASK) | VALID | TABLE_OR_PAGE | AF | SH_INNER | PXN | UXN
}

/// An entry pointing at the next-level table at `pa`.
pub(crate) fn table(pa: u64) -> u64 {
    (pa & ADDR_MASK) | VALID | TABLE_OR_PAGE
}

pub(crate) fn present(e: u64) -> bool {
    e & VALID != 0
}

/// Whether a leaf entry holds a frame: valid, or a PROT_NONE page's entry.
pub(crate) fn held(e: u64) -> bool {
    e & (VALID | PROT_NONE) != 0
}

/// Whether a non-leaf-level entry maps a block instead of pointing at a table.
pub(crate) fn huge(e: u64) -> bool {
    e & TABLE_OR_PAGE == 0
}

/// The physical address an entry points at.
pub(crate) fn addr(e: u64) -> u64 {
    e & ADDR_MASK
}

/// The user access a leaf entry allows (none for a PROT_NONE one).
pub(crate) fn prot(e: u64) -> Prot {
    let user = e & (VALID | AP_EL0) == VALID | AP_EL0;
    Prot {
        read: user,
        write: user && e & AP_RO == 0,
        exec: user && e & UXN == 0,
    }
}

/// The physical address of the active root table (TTBR0, without the ASID).
pub(crate) fn active_root() -> u64 {
    let v: u64;
    // SAFETY: reads a system register.
    unsafe { core::arch::asm!("mrs {}, ttbr0_el1", out(reg) v, options(nomem, nostack)) };
    v & ADDR_MASK
}

/// TCR_EL1.EPD0: no table walks through TTBR0 (a TLB miss there is a translation fault).
const TCR_EPD0: u64 = 1 << 7;

/// The kernel's root table (TTBR1, without the ASID): `mm::paging`'s kernel root.
fn kernel_root() -> u64 {
    let v: u64;
    // SAFETY: reads a system register.
    unsafe { core::arch::asm!("mrs {}, ttbr1_el1", out(reg) v, options(nomem, nostack)) };
    v & ADDR_MASK
}

/// Sets or clears TCR_EL1.EPD0 (when it is not so already), synchronized.
fn set_ttbr0_walks_off(off: bool) {
    let tcr: u64;
    // SAFETY: reads a system register.
    unsafe { core::arch::asm!("mrs {}, tcr_el1", out(reg) tcr, options(nomem, nostack)) };
    let new = if off { tcr | TCR_EPD0 } else { tcr & !TCR_EPD0 };
    if new != tcr {
        // SAFETY: only EPD0 changes; TTBR1's walks (the kernel's) are untouched, and the
        // caller flushes the TLB afterwards.
        unsafe { core::arch::asm!("msr tcr_el1, {}", "isb", in(reg) new, options(nostack)) };
    }
}

/// Makes `root` the active root table and drops stale translations (no ASIDs are used).
///
/// The kernel's own root (`activate_kernel`: idle CPUs, kernel threads, a process's exit) is
/// loaded with TTBR0 walks turned off (TCR_EL1.EPD0): its entries 256..511 are the kernel
/// half, global, at [2^47, 2^48) through TTBR0, which is user space now; a walk there (a user
/// copy from a kernel thread, a speculative one) would reach kernel memory or leave a global
/// TLB entry that outlives the switch to a user root and shadows its mappings. Walks go off
/// before that root is loaded and come back on only after a user root is.
///
/// # Safety
/// `root` must be the kernel's root or a valid user root table (the kernel runs on TTBR1).
pub(crate) unsafe fn activate_root(root: u64) {
    super::smp::note_active_root(root);
    let kernel = root == kernel_root();
    if kernel {
        set_ttbr0_walks_off(true);
    }
    // SAFETY: delegated to the caller; TTBR1 keeps translating the kernel.
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "msr ttbr0_el1, {}",
            "isb",
            in(reg) root,
            options(nostack)
        )
    }
    if !kernel {
        set_ttbr0_walks_off(false);
    }
    // SAFETY: a TLB flush changes no mapping.
    unsafe { core::arch::asm!("tlbi vmalle1", "dsb nsh", "isb", options(nostack)) }
}

/// Drops this CPU's translations of the active root (`root`).
///
/// # Safety
/// `root` must be the active root table.
pub(crate) unsafe fn reload_root(_root: u64) {
    // SAFETY: a TLB flush changes no mapping.
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            options(nostack)
        )
    }
}

/// Drops the TLB entry of one page of the active address space.
pub(crate) fn flush_page(va: usize) {
    // SAFETY: a TLB flush changes no mapping.
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "tlbi vaae1, {}",
            "dsb nsh",
            "isb",
            in(reg) (va >> 12) as u64 & ((1 << 44) - 1),
            options(nostack)
        )
    }
}

/// Physical memory is mapped here from 0 (boot.S: 1 GiB blocks, the first 512 GiB).
pub const PHYS_OFFSET: usize = 0xffff_8000_0000_0000;
/// The kernel image's virtual base (physical 0): the image at 0x40080000 runs at
/// 0xffffff8040080000.
pub const KERNEL_OFFSET: usize = 0xffff_ff80_0000_0000;
/// Kernel stacks are mapped here (root entry 384, unused otherwise), each with an unmapped
/// guard below it (`mm::kstack`).
pub(crate) const KSTACK_AREA: usize = 0xffff_c000_0000_0000;
/// Highest physical address the direct map covers (boot.S: 512 GiB; the PCIe ECAM of QEMU's
/// virt board sits at 256 GiB).
pub const DIRECT_MAP_LIMIT: usize = 512 << 30;
/// Highest physical address mapped as normal memory (boot.S): RAM above it is not used.
pub(crate) const RAM_LIMIT: usize = 256 << 30;

/// Lintel's aarch64 user address-space layout: Linux's for a 48-bit user space (VA_BITS 48).
pub mod layout {
    /// `STACK_TOP`, as the arch-neutral code asks for it (riscv64 decides at boot).
    pub const fn stack_top() -> usize {
        STACK_TOP
    }
    /// `PIE_BASE`, as the arch-neutral code asks for it.
    pub const fn pie_base() -> usize {
        PIE_BASE
    }
    /// Top of the initial stack without randomization: arm64 Linux's STACK_TOP, TASK_SIZE_64
    /// itself (no guard page).
    pub const STACK_TOP: usize = super::USER_TOP;
    /// ELF_ET_DYN_BASE: two thirds of the user space (2 * DEFAULT_MAP_WINDOW_64 / 3),
    /// page-aligned.
    pub const PIE_BASE: usize = 0xaaaa_aaaa_a000;
    /// Random page-count bits for the stack top (STACK_RND_MASK 0x3ffff).
    pub const STACK_RND_BITS: u32 = 18;
    /// Random page-count bits for the mmap base (arm64's ARCH_MMAP_RND_BITS default).
    pub const MMAP_RND_BITS: u32 = 18;
    /// Random page-count bits for the brk start (1 GiB on 64-bit).
    pub const BRK_RND_BITS: u32 = 18;
    /// MAP_32BIT: Linux has no such flag here (mmap ignores the bit).
    pub const fn map_32bit(_flags: usize) -> Option<(usize, usize, usize)> {
        None
    }
}
