//! Kernel stacks' memory: page frames mapped into a kernel virtual area of their own, each
//! stack in a slot whose lower half stays unmapped. The guard turns a kernel stack overflow
//! into a fault at a known address instead of a silent write into whatever lies below. Frames,
//! not the kernel heap: the heap is a fixed quarter of RAM that ext4's caches and every kernel
//! object share, and the stacks of a program's 800 threads used to fill it (issue 19).
//!
//! A freed slot's pages are unmapped and their frames freed at once; other CPUs may still
//! hold the old translations, so the slot is reused only after every CPU has flushed its TLB
//! (one flush for a batch of freed slots, as Linux's lazy vunmap does). The page tables under
//! the area's root entry stay once made: a few pages for the most stacks ever live at once.

use super::paging::{map_kernel, unmap_kernel};
use super::Frame;
use crate::arch::mmu::{KSTACK_AREA, LEVELS};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};
use spin::Mutex;

/// Size of each kernel stack (16 KiB on Linux; Lintel's deeper call chains get 64 KiB).
pub const STACK_SIZE: usize = 64 * 1024;
const PAGE: usize = 4096;
const STACK_PAGES: usize = STACK_SIZE / PAGE;
/// A slot: the guard, as big as the stack (a big frame that skips pages still lands in it),
/// then the stack.
const SLOT_SIZE: usize = 2 * STACK_SIZE;
/// The area: what one root entry maps (1 GiB on Sv39), at most 8 GiB (65,536 stacks).
const AREA_SIZE: usize = {
    let span = 1usize << (12 + 9 * (LEVELS - 1));
    if span < (8 << 30) {
        span
    } else {
        8 << 30
    }
};
const SLOT_COUNT: usize = AREA_SIZE / SLOT_SIZE;
/// Freed slots wait for a TLB flush in batches of this many before they are reused.
const DIRTY_BATCH: usize = 32;

struct Slots {
    /// Slots below this have been handed out at some time.
    next: usize,
    /// Free slots no CPU holds a translation of.
    clean: Vec<usize>,
    /// Freed slots other CPUs may still hold translations of.
    dirty: Vec<usize>,
}

static SLOTS: Mutex<Slots> = Mutex::new(Slots {
    next: 0,
    clean: Vec::new(),
    dirty: Vec::new(),
});

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

/// A free slot, flushing the freed ones everywhere first when none is clean and a batch is
/// waiting (or the area is used up). The flush runs without the lock: a CPU that frees a
/// stack with interrupts off must not spin on it while this one waits for that CPU.
fn take_slot() -> Option<usize> {
    let dirty = {
        let mut s = SLOTS.lock();
        if let Some(i) = s.clean.pop() {
            return Some(i);
        }
        if s.dirty.len() < DIRTY_BATCH && s.next < SLOT_COUNT {
            s.next += 1;
            return Some(s.next - 1);
        }
        if s.dirty.is_empty() {
            return None;
        }
        core::mem::take(&mut s.dirty)
    };
    crate::arch::smp::flush_kernel_all();
    let mut s = SLOTS.lock();
    s.clean.extend(dirty);
    s.clean.pop()
}

/// Unmaps a slot's stack pages, frees their frames and queues the slot for reuse.
fn release(slot: usize) {
    let base = stack_base(slot);
    for i in 0..STACK_PAGES {
        drop(unmap_kernel(base + i * PAGE));
    }
    SLOTS.lock().dirty.push(slot);
}

/// One kernel stack's pages, mapped in its slot until dropped.
pub(crate) struct StackPages {
    slot: usize,
}

impl StackPages {
    /// A zeroed stack, or None when no frames (or no slot) are left.
    pub(crate) fn alloc() -> Option<StackPages> {
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
