//! x86_64 four-level page tables for user address spaces. The kernel half (PML4 entries
//! 256..512) is shared by every address space; the user half is owned by one `AddressSpace`,
//! whose leaf entries each own one `Frame` reference.

use super::{phys_to_virt, Frame};
use crate::arch::cpu;

const P: u64 = 1;
const W: u64 = 2;
const U: u64 = 4;
const PS: u64 = 0x80;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;
const USER_TOP: usize = 0x0000_8000_0000_0000;

/// Access a user mapping allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    fn pte_bits(self) -> u64 {
        // PROT_NONE keeps the page (and its contents) but denies user access: present, not U.
        let mut b = if self.read || self.write || self.exec {
            P | U
        } else {
            P
        };
        if self.write {
            b |= W;
        }
        if !self.exec {
            b |= NX;
        }
        b
    }

    fn from_pte(e: u64) -> Prot {
        let user = e & U != 0;
        Prot {
            read: user,
            write: user && e & W != 0,
            exec: user && e & NX == 0,
        }
    }
}

fn table(pa: u64) -> *mut u64 {
    phys_to_virt((pa & ADDR) as usize) as *mut u64
}

fn entry(table_pa: u64, idx: usize) -> u64 {
    // SAFETY: table_pa is a page-table frame owned by this address space (or the kernel's) and
    // idx < 512.
    unsafe { table(table_pa).add(idx).read_volatile() }
}

fn set_entry(table_pa: u64, idx: usize, v: u64) {
    // SAFETY: as for `entry`; page tables are only changed under the owner's lock.
    unsafe { table(table_pa).add(idx).write_volatile(v) }
}

fn index(va: usize, level: u32) -> usize {
    (va >> (12 + 9 * level)) & 511
}

/// A user address space: a PML4 whose upper half is the kernel's.
/// No frame was left for a page table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

pub struct AddressSpace {
    root: u64,
}

static KERNEL_PML4: spin::Once<u64> = spin::Once::new();

pub(crate) fn init_kernel_root() {
    let root = cpu::read_cr3() & ADDR;
    KERNEL_PML4.call_once(|| root);
    // Drop the boot identity map of the low 4 GiB: user space lives there.
    set_entry(root, 0, 0);
    // SAFETY: reloading CR3 with the same root flushes the dropped identity entries.
    unsafe { cpu::write_cr3(root) };
}

/// Switches to the kernel's own page tables (used when no user address space is current).
pub fn activate_kernel() {
    let root = *KERNEL_PML4.get().expect("paging not initialized");
    if cpu::read_cr3() & ADDR != root {
        // SAFETY: the kernel PML4 maps the kernel half.
        unsafe { cpu::write_cr3(root) };
    }
}

impl AddressSpace {
    /// An empty user half; None when out of memory.
    pub fn new() -> Option<AddressSpace> {
        let f = Frame::alloc()?;
        let root = f.into_phys() as u64;
        let kernel = *KERNEL_PML4.get().expect("paging not initialized");
        for i in 256..512 {
            set_entry(root, i, entry(kernel, i));
        }
        Some(AddressSpace { root })
    }

    pub fn is_active(&self) -> bool {
        cpu::read_cr3() & ADDR == self.root
    }

    pub fn activate(&self) {
        if !self.is_active() {
            // SAFETY: root is a valid PML4 whose kernel half is the kernel's.
            unsafe { cpu::write_cr3(self.root) };
        }
    }

    /// Walks to the leaf entry's table for `va`, creating tables when `create`.
    fn leaf_table(&self, va: usize, create: bool) -> Option<u64> {
        let mut t = self.root;
        for level in (1..4).rev() {
            let i = index(va, level);
            let e = entry(t, i);
            if e & P == 0 {
                if !create {
                    return None;
                }
                let f = Frame::alloc()?;
                let pa = f.into_phys() as u64;
                set_entry(t, i, pa | P | W | U);
                t = pa;
            } else {
                t = e & ADDR;
            }
        }
        Some(t)
    }

    fn flush(&self, va: usize) {
        if self.is_active() {
            cpu::invlpg(va);
        }
    }

    /// Maps the page at `va` to `frame`, returning the frame it replaces. Err when a page table
    /// cannot be allocated (the frame is dropped).
    pub fn map(
        &mut self,
        va: usize,
        frame: Frame,
        prot: Prot,
    ) -> Result<Option<Frame>, OutOfMemory> {
        assert!(va < USER_TOP && va.is_multiple_of(4096));
        let t = self.leaf_table(va, true).ok_or(OutOfMemory)?;
        let i = index(va, 0);
        let old = entry(t, i);
        set_entry(t, i, frame.into_phys() as u64 | prot.pte_bits());
        if old & P != 0 {
            self.flush(va);
            return Ok(Some(Frame::from_phys((old & ADDR) as usize)));
        }
        Ok(None)
    }

    pub fn unmap(&mut self, va: usize) -> Option<Frame> {
        let t = self.leaf_table(va, false)?;
        let i = index(va, 0);
        let old = entry(t, i);
        if old & P == 0 {
            return None;
        }
        set_entry(t, i, 0);
        self.flush(va);
        Some(Frame::from_phys((old & ADDR) as usize))
    }

    /// The frame and protection at `va`, if mapped.
    pub fn lookup(&self, va: usize) -> Option<(Frame, Prot)> {
        let t = self.leaf_table(va, false)?;
        let e = entry(t, index(va, 0));
        if e & P == 0 {
            return None;
        }
        let f = Frame::from_phys((e & ADDR) as usize);
        let copy = f.clone();
        core::mem::forget(f);
        Some((copy, Prot::from_pte(e)))
    }

    pub fn protect(&mut self, va: usize, prot: Prot) -> bool {
        let Some(t) = self.leaf_table(va, false) else {
            return false;
        };
        let i = index(va, 0);
        let e = entry(t, i);
        if e & P == 0 {
            return false;
        }
        set_entry(t, i, (e & ADDR) | prot.pte_bits());
        self.flush(va);
        true
    }

    /// Calls `f` for every mapped page in [start, end), skipping empty tables quickly.
    pub fn for_each_mapped(&self, start: usize, end: usize, mut f: impl FnMut(usize, Prot)) {
        self.walk(self.root, 3, 0, start, end.min(USER_TOP), &mut |va, e| {
            f(va, Prot::from_pte(e))
        });
    }

    fn walk(
        &self,
        t: u64,
        level: u32,
        base: usize,
        start: usize,
        end: usize,
        f: &mut dyn FnMut(usize, u64),
    ) {
        let span = 1usize << (12 + 9 * level);
        for i in 0..512 {
            let va = base + i * span;
            if va >= end {
                break;
            }
            if va + span <= start {
                continue;
            }
            let e = entry(t, i);
            if e & P == 0 {
                continue;
            }
            if level == 0 {
                f(va, e);
            } else {
                self.walk(e & ADDR, level - 1, va, start, end, f);
            }
        }
    }

    /// Removes every mapping in [start, end) and frees the page tables this empties.
    pub fn unmap_range(&mut self, start: usize, end: usize) {
        let mut pages = alloc::vec::Vec::new();
        self.for_each_mapped(start, end, |va, _| pages.push(va));
        for va in pages {
            drop(self.unmap(va));
        }
    }

    fn free_tables(t: u64, level: u32) {
        for i in 0..512 {
            let e = entry(t, i);
            if e & P == 0 {
                continue;
            }
            if level == 0 {
                drop(Frame::from_phys((e & ADDR) as usize));
            } else if e & PS == 0 {
                Self::free_tables(e & ADDR, level - 1);
            }
        }
        drop(Frame::from_phys(t as usize));
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        if self.is_active() {
            activate_kernel();
        }
        for i in 0..256 {
            let e = entry(self.root, i);
            if e & P != 0 {
                Self::free_tables(e & ADDR, 2);
            }
        }
        drop(Frame::from_phys(self.root as usize));
    }
}
