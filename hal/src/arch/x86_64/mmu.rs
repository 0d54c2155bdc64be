//! x86_64 paging: four levels of 512 entries, the page-table entry format, the root register
//! (CR3), TLB maintenance (INVLPG) and where user space ends. `mm::paging` walks the tables
//! with these and never looks at entry bits itself.

use super::cpu;
use crate::mm::Prot;

/// The fixed depth (four levels) and what follows from it.
pub(crate) use super::super::fixed_levels::{levels, try_widen, KSTACK_SPAN, WIDENS};
/// Entries per table (9 bits of the address per level, 4 KiB pages).
pub(crate) const ENTRIES: usize = 512;
/// Root entries from here on map the kernel half and are shared by every address space.
pub(crate) const KERNEL_ROOT_FIRST: usize = 256;
/// End of the lower canonical half: user mappings lie below.
pub(crate) const USER_TOP: usize = 0x0000_8000_0000_0000;
/// Lowest address above what user copies may touch (the last page below the canonical hole is
/// excluded, as on Linux).
pub const USER_END: usize = 0x0000_7fff_ffff_f000;
/// `USER_END`, as the arch-neutral code asks for it (riscv64 decides at boot).
#[inline(always)]
pub const fn user_end() -> usize {
    USER_END
}
/// `USER_TOP`, as the arch-neutral code asks for it (riscv64 decides at boot).
pub(crate) const fn user_top() -> usize {
    USER_TOP
}

const P: u64 = 1;
const W: u64 = 2;
const U: u64 = 4;
const PS: u64 = 0x80;
/// A PROT_NONE leaf's mark (Linux's _PAGE_PROTNONE, in the global bit's place): the entry is
/// not present, so the CPU looks at none of its other bits.
const PROTNONE: u64 = 0x100;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;
/// Where a user leaf entry keeps what kind of page it maps (`paging::PageKind`): bits 9 and 10 (AVL: ignored by the CPU).
pub(crate) const KIND_SHIFT: u32 = 9;

/// Whether a mapping that may only be executed can be read too: yes, x86_64 page tables have
/// no execute-only pages (present means readable).
pub const EXEC_IMPLIES_READ: bool = true;

/// A leaf entry mapping physical page `pa` with `prot`. PROT_NONE keeps the page (and its
/// contents) in a not-present entry marked [`PROTNONE`], so that every access faults, the
/// kernel's too (Linux's pte of a PROT_NONE page). Its frame number is stored inverted, as
/// Linux's L1TF mitigation stores it (pte_mkinvert): a speculative load through the entry
/// would reach no memory.
pub(crate) fn leaf(pa: u64, prot: Prot) -> u64 {
    if !(prot.read || prot.write || prot.exec) {
        return (!pa & ADDR) | PROTNONE;
    }
    let mut b = P | U;
    if prot.write {
        b |= W;
    }
    if !prot.exec {
        b |= NX;
    }
    pa | b
}

/// A leaf entry for kernel-only data at `pa` (a kernel stack page): writable, never
/// executable, not global, so that the CR3 reload of a TLB shootdown drops it.
pub(crate) fn kernel_leaf(pa: u64) -> u64 {
    pa | P | W | NX
}

/// An entry pointing at the next-level table at `pa` (permissions are decided by the leaf).
pub(crate) fn table(pa: u64) -> u64 {
    pa | P | W | U
}

pub(crate) fn present(e: u64) -> bool {
    e & P != 0
}

/// Whether a leaf entry holds a frame: present, or a PROT_NONE page's entry.
pub(crate) fn held(e: u64) -> bool {
    e & (P | PROTNONE) != 0
}

/// Whether a non-leaf entry maps a large page instead of pointing at a table.
pub(crate) fn huge(e: u64) -> bool {
    e & PS != 0
}

/// The physical address an entry points at (a PROT_NONE leaf's kept inverted).
pub(crate) fn addr(e: u64) -> u64 {
    if e & (P | PROTNONE) == PROTNONE {
        !e & ADDR
    } else {
        e & ADDR
    }
}

/// The user access a leaf entry allows (none for a PROT_NONE one).
pub(crate) fn prot(e: u64) -> Prot {
    let user = e & (P | U) == P | U;
    Prot {
        read: user,
        write: user && e & W != 0,
        exec: user && e & NX == 0,
    }
}

/// The physical address of the active root table.
pub(crate) fn active_root() -> u64 {
    cpu::read_cr3() & ADDR
}

/// Makes `root` the active root table (flushing non-global TLB entries).
///
/// # Safety
/// `root` must be a valid root table whose kernel half maps the kernel as the current one does.
pub(crate) unsafe fn activate_root(root: u64) {
    super::smp::note_active_root(root);
    // SAFETY: delegated to the caller.
    unsafe { cpu::write_cr3(root) }
}

/// Reloads `root` (the active root) to drop this CPU's non-global translations.
///
/// # Safety
/// `root` must be the active root table.
pub(crate) unsafe fn reload_root(root: u64) {
    // SAFETY: delegated to the caller.
    unsafe { cpu::write_cr3(root) }
}

/// Drops the TLB entry of one page of the active address space.
pub(crate) fn flush_page(va: usize) {
    cpu::invlpg(va);
}

/// All physical memory below 4 GiB is mapped here (set up by boot.S).
pub const PHYS_OFFSET: usize = 0xffff_8000_0000_0000;
/// The kernel image's virtual base (physical 0).
pub const KERNEL_OFFSET: usize = 0xffff_ffff_8000_0000;
/// Highest physical address the direct map covers.
pub const DIRECT_MAP_LIMIT: usize = 4 << 30;
/// Kernel stacks are mapped here (root entry 384, unused otherwise), each with an unmapped
/// guard below it (`mm::kstack`).
pub(crate) const KSTACK_AREA: usize = 0xffff_c000_0000_0000;

/// Linux's x86_64 user address-space layout (`arch_pick_mmap_layout`, `randomize_stack_top`,
/// `ELF_ET_DYN_BASE`, `arch_randomize_brk`).
pub mod layout {
    /// `STACK_TOP`, as the arch-neutral code asks for it (riscv64 decides at boot).
    pub const fn stack_top() -> usize {
        STACK_TOP
    }
    /// `PIE_BASE`, as the arch-neutral code asks for it.
    pub const fn pie_base() -> usize {
        PIE_BASE
    }
    /// Top of the initial stack without randomization: just below the last user page.
    pub const STACK_TOP: usize = 0x7fff_ffff_f000;
    /// ELF_ET_DYN_BASE: where a PIE executable goes without randomization.
    pub const PIE_BASE: usize = 0x5555_5555_4000;
    /// Random page-count bits for the stack top.
    pub const STACK_RND_BITS: u32 = 22;
    /// Random page-count bits for the mmap base and the PIE base (mmap_rnd_bits).
    pub const MMAP_RND_BITS: u32 = 28;
    /// Random page-count bits for the brk start (32 MiB).
    pub const BRK_RND_BITS: u32 = 13;
    /// MAP_32BIT (`flags` of mmap): the range [low, high) its mappings go in and how far up
    /// (bytes) a randomized search starts (find_start_end in sys_x86_64.c), or None without
    /// the flag.
    pub const fn map_32bit(flags: usize) -> Option<(usize, usize, usize)> {
        const MAP_32BIT: usize = 0x40;
        if flags & MAP_32BIT != 0 {
            Some((0x4000_0000, 0x8000_0000, 0x0200_0000))
        } else {
            None
        }
    }
}
