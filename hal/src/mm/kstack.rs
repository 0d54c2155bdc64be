//! Kernel stacks' memory: page frames mapped into a kernel virtual area of their own, each
//! stack in a slot whose lower half stays unmapped. The guard turns a kernel stack overflow
//! into a fault at a known address instead of a silent write into whatever lies below. Frames,
//! not the kernel heap: the heap is a fixed quarter of RAM that ext4's caches and every kernel
//! object share, and the stacks of a program's 800 threads used to fill it (issue 19).
//!
//! A freed slot's pages are unmapped and their frames freed at once; other CPUs may still
//! hold the old translations, so the slot is reused only after every CPU has flushed its TLB
//! (one flush for a batch of freed slots, as Linux's lazy vunmap does). The leaf table of a
//! group of slots (2 MiB, 16 slots) none of which is handed out is taken out at that flush
//! and freed after it; the group's free slots wait out the flush too, so that no CPU can
//! reach a new stack there through the old table it may still hold cached. The middle tables
//! (one per 1 GiB) stay once made.

use super::paging::{detach_kernel_table, map_kernel, unmap_kernel};
use super::Frame;
use crate::arch::mmu::{KSTACK_AREA, KSTACK_SPAN};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;

/// Size of each kernel stack (16 KiB on Linux; Lintel's deeper call chains get 64 KiB).
pub const STACK_SIZE: usize = 64 * 1024;
const PAGE: usize = 4096;
const STACK_PAGES: usize = STACK_SIZE / PAGE;
/// A slot: the guard, as big as the stack (a big frame that skips pages still lands in it),
/// then the stack.
pub(crate) const SLOT_SIZE: usize = 2 * STACK_SIZE;
/// The area: what one root entry maps (on riscv64 one Sv39 root entry, 1 GiB, also under
/// Sv48), at most 8 GiB (65,536 stacks).
pub(crate) const AREA_SIZE: usize = if KSTACK_SPAN < (8 << 30) {
    KSTACK_SPAN
} else {
    8 << 30
};
const SLOT_COUNT: usize = AREA_SIZE / SLOT_SIZE;
/// Freed slots wait for a TLB flush in batches of this many before they are reused.
const DIRTY_BATCH: usize = 32;
/// Slots under one leaf page table (2 MiB of the area).
const GROUP_SLOTS: usize = (2 << 20) / SLOT_SIZE;
const GROUP_COUNT: usize = SLOT_COUNT / GROUP_SLOTS;

struct Slots {
    /// Slots below this have been handed out at some time.
    next: usize,
    /// Free slots no CPU holds a translation of.
    clean: Vec<usize>,
    /// Freed slots other CPUs may still hold translations of.
    dirty: Vec<usize>,
    /// Slots handed out (mapped, or being mapped or unmapped) in each group: a group's table
    /// may go only at 0.
    used: [u16; GROUP_COUNT],
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    next: 0,
    clean: Vec::new(),
    dirty: Vec::new(),
    used: [0; GROUP_COUNT],
});

const _: () =
    assert!(GROUP_SLOTS * SLOT_SIZE == 2 << 20 && GROUP_COUNT * GROUP_SLOTS == SLOT_COUNT);

// The trap entries of riscv64 and aarch64 find a guard by these facts (entry.S): slots are
// aligned to their size, so bit 16 of an address in the area says stack (1) or guard (0).
const _: () = assert!(STACK_SIZE == 1 << 16 && KSTACK_AREA.is_multiple_of(AREA_SIZE));
const _: () = assert!(AREA_SIZE.is_power_of_two() && AREA_SIZE.is_multiple_of(SLOT_SIZE));

/// Size of each CPU's emergency stack: where a trap that found its kernel stack overflowed
/// runs the panic that reports it (x86_64 has its double-fault stack instead).
const EMERGENCY_SIZE: usize = 16 * 1024;

#[repr(C, align(16))]
struct EmergencyStack(core::cell::UnsafeCell<[u8; EMERGENCY_SIZE]>);

// SAFETY: only the boot CPU's trap entry ever writes it (as its stack), and then only to panic.
unsafe impl Sync for EmergencyStack {}

static BOOT_EMERGENCY: EmergencyStack =
    EmergencyStack(core::cell::UnsafeCell::new([0; EMERGENCY_SIZE]));

/// The top of a new emergency stack for CPU `cpu` (the boot CPU's is static: it is set up
/// before the heap), kept for good.
#[allow(dead_code)] // x86_64 uses its IST stack
pub(crate) fn emergency_stack_top(cpu: usize) -> usize {
    let base = if cpu == 0 {
        BOOT_EMERGENCY.0.get() as usize
    } else {
        alloc::vec![0u8; EMERGENCY_SIZE].leak().as_mut_ptr() as usize
    };
    (base + EMERGENCY_SIZE) & !15
}

/// Reports a kernel stack overflow and stops: `what` happened at `addr` with the stack
/// pointer at `sp` and the program counter at `pc`. Names the CPU, the thread the kernel said
/// runs there (`task::set_label`) and the bounds of the stack that overflowed; `detail`
/// follows (the registers, where the port has them at hand).
pub(crate) fn overflow_panic(
    what: core::fmt::Arguments,
    addr: usize,
    pc: usize,
    sp: usize,
    detail: core::fmt::Arguments,
) -> ! {
    // The stack is the one above the guard the address (or sp) lies in.
    let stack = slot_of(addr)
        .or_else(|| slot_of(sp))
        .map(|s| (stack_base(s), stack_base(s) + STACK_SIZE))
        .unwrap_or((0, 0));
    panic!(
        "kernel stack overflow: {} at {:#x} (pc {:#x} sp {:#x}) on cpu {}, thread {}, stack {:#x}..{:#x}{}",
        what,
        addr,
        pc,
        sp,
        crate::smp::cpu_index(),
        crate::task::running_label(),
        stack.0,
        stack.1,
        detail
    )
}

/// Prints the frame chain of a kernel stack that overflowed, from the stack and frame
/// pointers of the overflow, before the report's panic: that panic runs on another stack (the
/// emergency stack, or x86_64's double-fault stack), whose backtrace stops where it leaves it.
/// Only the mapped part of the overflowed stack is read (a record in the guard would fault
/// again).
pub(crate) fn print_overflowed_frames(sp: usize, fp: usize) {
    let lo = match slot_of(sp) {
        Some(s) => sp.max(stack_base(s)),
        None => sp,
    };
    crate::console::emergency_fmt(format_args!(
        "\nframes of the overflowed kernel stack (sp {:#x} fp {:#x}):\n",
        sp, fp
    ));
    crate::watchdog::print_frames(lo as u64, fp as u64);
}

/// The report of a trap that found its kernel stack overflowed: riscv64's and aarch64's
/// trap entries (entry.S) moved to this CPU's emergency stack first and give the trap's two
/// registers that say why and where (`cause`, `addr`: name and value), and the program
/// counter, stack pointer and frame pointer of the overflow.
#[allow(dead_code)] // x86_64 overflows into its double-fault handler instead
pub(crate) fn overflow_trap(
    cause: (&str, u64),
    addr: (&str, u64),
    pc: usize,
    sp: usize,
    fp: usize,
) -> ! {
    print_overflowed_frames(sp, fp);
    overflow_panic(
        format_args!(
            "trap ({} {:#x} {} {:#x}) on the overflowed stack",
            cause.0, cause.1, addr.0, addr.1
        ),
        sp,
        pc,
        sp,
        format_args!(""),
    )
}

/// The slot whose guard or stack holds `a`, if it lies in the area.
fn slot_of(a: usize) -> Option<usize> {
    (KSTACK_AREA..KSTACK_AREA + AREA_SIZE)
        .contains(&a)
        .then(|| (a - KSTACK_AREA) / SLOT_SIZE)
}

/// The highest address a frame-pointer walk from `sp` may read below: the top of the kernel
/// stack `sp` lies in (or of the stack above the guard it overflowed into), else one stack
/// size above `sp` (the boot and emergency stacks, in always-mapped memory). A walk bounded
/// by `sp` + a stack size alone could cross from a slot's stack into the next slot's guard.
pub(crate) fn walk_top(sp: usize) -> usize {
    match slot_of(sp) {
        Some(s) => stack_base(s) + STACK_SIZE,
        None => sp.saturating_add(STACK_SIZE),
    }
}

/// Stacks mapped now.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Kernel stacks allocated and not yet freed (each `STACK_SIZE` bytes of page frames).
pub fn live_stacks() -> usize {
    LIVE.load(Ordering::Relaxed)
}

fn stack_base(slot: usize) -> usize {
    KSTACK_AREA + slot * SLOT_SIZE + STACK_SIZE
}

/// Whether `addr` lies in a stack slot's guard: a kernel stack overflowed into it.
pub(crate) fn is_guard(addr: usize) -> bool {
    (KSTACK_AREA..KSTACK_AREA + AREA_SIZE).contains(&addr)
        && (addr - KSTACK_AREA) % SLOT_SIZE < STACK_SIZE
}

impl Slots {
    /// Hands out `slot`.
    fn hand_out(&mut self, slot: usize) -> usize {
        self.used[slot / GROUP_SLOTS] += 1;
        slot
    }

    /// Takes the leaf tables of the groups wholly below `next` with no slot handed out, and
    /// moves their free slots from `clean` and `dirty` into `parked`, where they wait for the
    /// flush that makes the old tables unreachable. Returns the tables' frames.
    fn detach_idle(&mut self, parked: &mut Vec<usize>) -> Vec<Frame> {
        let mut idle = [0u64; GROUP_COUNT.div_ceil(64)];
        let mut tables = Vec::new();
        // Room first (the heap may be short): every clean slot may move to `parked`.
        if parked.try_reserve(self.clean.len()).is_err() {
            return tables;
        }
        for g in 0..self.next / GROUP_SLOTS {
            if self.used[g] != 0 {
                continue;
            }
            // No slot of the group is handed out, so no CPU maps or unmaps there now, and
            // none will until its slots leave `parked`.
            if tables.len() == tables.capacity() && tables.try_reserve(1).is_err() {
                break;
            }
            let base = KSTACK_AREA + g * GROUP_SLOTS * SLOT_SIZE;
            if let Some(f) = detach_kernel_table(base) {
                tables.push(f);
                idle[g / 64] |= 1 << (g % 64);
            }
        }
        if tables.is_empty() {
            return tables;
        }
        let is_idle = |slot: &usize| {
            let g = slot / GROUP_SLOTS;
            idle[g / 64] & (1 << (g % 64)) != 0
        };
        self.clean.retain(|s| {
            if is_idle(s) {
                parked.push(*s);
                false
            } else {
                true
            }
        });
        tables
    }
}

/// A free slot, flushing the freed ones everywhere first when none is clean and a batch is
/// waiting (or the area is used up). The flush runs without the lock: a CPU that frees a
/// stack with interrupts off must not spin on it while this one waits for that CPU.
fn take_slot() -> Option<usize> {
    let (dirty, tables) = {
        let mut s = SLOTS.lock();
        if let Some(i) = s.clean.pop() {
            return Some(s.hand_out(i));
        }
        if s.dirty.len() < DIRTY_BATCH && s.next < SLOT_COUNT {
            s.next += 1;
            let i = s.next - 1;
            return Some(s.hand_out(i));
        }
        if s.dirty.is_empty() {
            return None;
        }
        let mut dirty = core::mem::take(&mut s.dirty);
        let tables = s.detach_idle(&mut dirty);
        (dirty, tables)
    };
    crate::arch::smp::flush_kernel_all();
    drop(tables);
    let mut s = SLOTS.lock();
    s.clean.extend(dirty);
    let i = s.clean.pop()?;
    Some(s.hand_out(i))
}

/// Unmaps a slot's stack pages, frees their frames and queues the slot for reuse.
fn release(slot: usize) {
    let base = stack_base(slot);
    for i in 0..STACK_PAGES {
        drop(unmap_kernel(base + i * PAGE));
    }
    let mut s = SLOTS.lock();
    s.dirty.push(slot);
    s.used[slot / GROUP_SLOTS] -= 1;
}

/// One kernel stack's pages, mapped in its slot until dropped.
pub(crate) struct StackPages {
    slot: usize,
}

impl StackPages {
    /// A zeroed stack, or None when no slot is left or its frames would eat into the frame
    /// reserve (`frame::reserve_frames`): fork then fails with ENOMEM while the frames the
    /// running programs and the kernel's own paths need are still there.
    pub(crate) fn alloc() -> Option<StackPages> {
        if !super::frame::above_reserve(STACK_PAGES) {
            return None;
        }
        // Frames first, with no lock held: the allocator may run the page cache's shrinker.
        let mut frames: [Option<Frame>; STACK_PAGES] = core::array::from_fn(|_| None);
        for f in frames.iter_mut() {
            *f = Some(Frame::alloc()?);
        }
        let slot = take_slot()?;
        let base = stack_base(slot);
        for (i, f) in frames.into_iter().flatten().enumerate() {
            if map_kernel(base + i * PAGE, f).is_err() {
                release(slot);
                return None;
            }
        }
        LIVE.fetch_add(1, Ordering::Relaxed);
        Some(StackPages { slot })
    }

    /// The address just above the stack (where a push starts).
    pub(crate) fn top(&self) -> usize {
        stack_base(self.slot) + STACK_SIZE
    }
}

impl Drop for StackPages {
    fn drop(&mut self) {
        release(self.slot);
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}
