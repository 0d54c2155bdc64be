//! Sv48 paging when the CPU offers it, Sv39 otherwise (as Linux picks its satp mode): four or
//! three levels of 512 entries, the page-table entry format (PPN at bit 10, V R W X U G A D
//! flags), the root register (satp), TLB maintenance (sfence.vma) and where user space ends.
//! `mm::paging` walks the tables with these and never looks at entry bits.
//!
//! boot.S starts in Sv39, which every rv64 CPU with paging has. `try_widen` then probes Sv48
//! the way Linux's `set_satp_mode` does: satp is WARL, so a write of an unsupported MODE
//! leaves it unchanged, and reading it back says whether the CPU took it. The Sv48 root's last
//! entry points at the Sv39 boot root: every kernel address (direct map, kernel stacks, image)
//! lies in Sv48's top 512 GiB, where an Sv39 root's upper-half indices are the level-2
//! indices, so the kernel's tables stay as boot.S built them. `lintel.sv39` on the command
//! line keeps Sv39 (QEMU 7.2 cannot switch Sv48 off), to test the fallback.

use crate::mm::Prot;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Entries per table.
pub(crate) const ENTRIES: usize = 512;
/// Root entries from here on map the upper half (the kernel's, shared by every address space).
pub(crate) const KERNEL_ROOT_FIRST: usize = 256;
/// What one Sv39 root entry (an Sv48 level-2 entry) maps: the kernel stack area's size.
pub(crate) const KSTACK_SPAN: usize = 1 << 30;

/// Sv48 is on (set once by the boot CPU, before any address space or other CPU exists).
static SV48: AtomicBool = AtomicBool::new(false);
/// TASK_SIZE of the mode in use, kept apart so that a user copy's bounds check is one load
/// and one compare.
static USER_TOP: AtomicUsize = AtomicUsize::new(1 << 38);
/// The command line asked for Sv39 (`lintel.sv39`).
static SV39_ONLY: AtomicBool = AtomicBool::new(false);

fn sv48() -> bool {
    SV48.load(Ordering::Relaxed)
}

/// Levels of tables; the root is level `levels() - 1`, leaves are level 0.
pub(crate) fn levels() -> u32 {
    if sv48() {
        4
    } else {
        3
    }
}

/// End of the lower half of the virtual address space: user mappings lie below (Linux's
/// TASK_SIZE: 1 << 47 on Sv48, 1 << 38 on Sv39).
#[inline(always)]
pub(crate) fn user_top() -> usize {
    USER_TOP.load(Ordering::Relaxed)
}

/// Lowest address above what user copies (and mappings) may touch: TASK_SIZE itself, as on
/// riscv64 Linux, which maps and copies up to its last page (x86_64 keeps that page out).
#[inline(always)]
pub fn user_end() -> usize {
    user_top()
}

/// The paging mode's name as /proc/cpuinfo's `mmu` line gives it.
pub fn mode_name() -> &'static str {
    if sv48() {
        "sv48"
    } else {
        "sv39"
    }
}

/// Takes note of the kernel command line before paging is set up (`lintel.sv39`).
pub(crate) fn note_cmdline(cmdline: &str) {
    if cmdline.split_ascii_whitespace().any(|w| w == "lintel.sv39") {
        SV39_ONLY.store(true, Ordering::Relaxed);
    }
}

/// satp.MODE of the paging mode in use.
fn satp_mode() -> u64 {
    if sv48() {
        SATP_SV48
    } else {
        SATP_SV39
    }
}

/// boot.S's Sv39 root may get an Sv48 root above it (`try_widen`).
pub(crate) const WIDENS: bool = true;

/// Turns on Sv48 with the zeroed table at `new` as its root, over the active Sv39 root `root`
/// (the boot root: its user half is cleared here), if the CPU offers Sv48 and the command line
/// did not ask for Sv39. False when paging stays Sv39 on `root` (then `new` is unused).
pub(crate) fn try_widen(root: u64, new: u64) -> bool {
    if SV39_ONLY.load(Ordering::Relaxed) {
        return false;
    }
    let old = root as usize + crate::mm::PHYS_OFFSET;
    let top = new as usize + crate::mm::PHYS_OFFSET;
    // SAFETY: both are page-table pages inside the direct map: `root` the active root, `new`
    // a zeroed frame the caller owns. The user half of the boot root maps nothing the kernel
    // runs from (boot_main dropped the identity gigapage), and under Sv48 it would alias
    // addresses below the kernel's.
    unsafe {
        for i in 0..KERNEL_ROOT_FIRST {
            (old as *mut u64).add(i).write_volatile(0);
        }
        (top as *mut u64)
            .add(ENTRIES - 1)
            .write_volatile(table(root));
    }
    let want = SATP_SV48 | (new >> 12);
    // SAFETY: the new root maps every kernel address as the active one does (its last entry
    // is the active root's upper half, one level down); should the CPU not take MODE 9, the
    // write has no effect (satp is WARL) and the old root stays.
    unsafe {
        core::arch::asm!("sfence.vma", "csrw satp, {}", "sfence.vma", in(reg) want, options(nostack))
    }
    let took = super::cpu::read_satp() == want;
    if took {
        SV48.store(true, Ordering::Relaxed);
        USER_TOP.store(1 << 47, Ordering::Relaxed);
    }
    took
}

const V: u64 = 1;
const R: u64 = 2;
const W: u64 = 4;
const X: u64 = 8;
const U: u64 = 16;
/// A PROT_NONE leaf's mark (Linux's _PAGE_PROT_NONE, in the G bit's place): V is clear, so the
/// hardware looks at none of the entry's other bits.
const PROT_NONE: u64 = 32;
const A: u64 = 64;
const D: u64 = 128;
const PPN_MASK: u64 = (1 << 44) - 1;
/// Where a user leaf entry keeps what kind of page it maps (`paging::PageKind`): bits 8 and 9 (RSW: reserved for supervisor software).
pub(crate) const KIND_SHIFT: u32 = 8;
/// satp.MODE = Sv39.
const SATP_SV39: u64 = 8 << 60;
/// satp.MODE = Sv48.
const SATP_SV48: u64 = 9 << 60;

/// Whether a mapping that may only be executed can be read too: not here, an execute-only
/// page is X without R and neither user loads nor the kernel's copies (no MXR) may read it,
/// so a read fault in such a mapping is refused as Linux's riscv access_error does.
pub const EXEC_IMPLIES_READ: bool = false;

/// A leaf entry mapping physical page `pa` with `prot`, accessed and dirty already (the
/// hardware need not update them). PROT_NONE keeps the page (and its contents) in an invalid
/// entry marked [`PROT_NONE`], so that every access faults, the kernel's too (Linux's pte of a
/// PROT_NONE page). Write implies read (W without R is reserved).
pub(crate) fn leaf(pa: u64, prot: Prot) -> u64 {
    if !(prot.read || prot.write || prot.exec) {
        return ((pa >> 12) << 10) | PROT_NONE;
    }
    let mut b = V | A | D | U;
    if prot.read || prot.write {
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

/// Whether a leaf entry holds a frame: valid, or a PROT_NONE page's entry.
pub(crate) fn held(e: u64) -> bool {
    e & (V | PROT_NONE) != 0
}

/// Whether a non-leaf-level entry maps a large page instead of pointing at a table.
pub(crate) fn huge(e: u64) -> bool {
    e & (R | W | X) != 0
}

/// The physical address an entry points at.
pub(crate) fn addr(e: u64) -> u64 {
    ((e >> 10) & PPN_MASK) << 12
}

/// The user access a leaf entry allows (none for a PROT_NONE one).
pub(crate) fn prot(e: u64) -> Prot {
    let user = e & (V | U) == V | U;
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
            in(reg) satp_mode() | (root >> 12),
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
    for level in (0..levels()).rev() {
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
/// Kernel stacks are mapped here (Sv39 root entry 384, a 1 GiB slot above the direct map), each
/// with an unmapped guard below it (`mm::kstack`).
pub(crate) const KSTACK_AREA: usize = 0xffff_ffe0_0000_0000;

/// Linux's riscv64 user address-space layout (Sv48's, or Sv39's when paging is Sv39).
pub mod layout {
    /// Top of the initial stack without randomization (TASK_SIZE).
    pub fn stack_top() -> usize {
        super::user_top()
    }
    /// ELF_ET_DYN_BASE: two thirds of TASK_SIZE, page-aligned (0x5555_5555_5000 on Sv48,
    /// 0x2a_aaaa_a000 on Sv39).
    pub fn pie_base() -> usize {
        (super::user_top() / 3 * 2) & !0xfff
    }
    /// Random page-count bits for the stack top (STACK_RND_MASK 0x3ffff).
    pub const STACK_RND_BITS: u32 = 18;
    /// Random page-count bits for the mmap base (ARCH_MMAP_RND_BITS: riscv's
    /// ARCH_MMAP_RND_BITS_MIN, the default, whatever the paging mode).
    pub const MMAP_RND_BITS: u32 = 18;
    /// Random page-count bits for the brk start (1 GiB on 64-bit).
    pub const BRK_RND_BITS: u32 = 18;
    /// MAP_32BIT: Linux has no such flag here (mmap ignores the bit).
    pub const fn map_32bit(_flags: usize) -> Option<(usize, usize, usize)> {
        None
    }
}
