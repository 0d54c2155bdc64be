//! Per-CPU state read without a lock: the kernel's current thread (issue 14's SMP work), and
//! per-CPU nesting counts.
//!
//! A [`CpuSlot`] holds one `Option<Arc<T>>` per CPU. Only the CPU a slot belongs to reads or
//! writes it, so a read is a plain load and a reference-count increment: no lock, nothing
//! shared with the other CPUs (the scheduler's current thread used to be read under the
//! scheduler's one lock, which every CPU takes to block, wake and switch).
//!
//! Why that is sound: kernel code runs with interrupts off everywhere except inside
//! `cpu::idle_wait`, and is never preempted, so between reading the CPU index and finishing
//! an access the code stays on that CPU and nothing else runs there; interrupt handlers that
//! run inside the idle wait touch only atomics (see `smp`), and the NMI handler (the
//! watchdog) never touches a slot. An access runs no code of the caller's while it holds the
//! slot (a clone of an `Arc` is an atomic increment; a replaced value is handed back, not
//! dropped inside), so no access can nest in another.
//!
//! Other CPUs may ask which CPU's slot holds a given value ([`CpuSlot::holder`]): each slot
//! also publishes its value's address in an atomic, for that question only.
//!
//! A [`CpuCount`] is one count per CPU of how deep that CPU is in something that nests (spin
//! locks held, user copies that must not fault pages in), changed only by its own CPU, on
//! the same grounds.

use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::smp::MAX_CPUS;

/// One `Option<Arc<T>>` per CPU, touched only by its own CPU (see the module comment).
pub struct CpuSlot<T: ?Sized> {
    values: [UnsafeCell<Option<Arc<T>>>; MAX_CPUS],
    /// Each slot's value's address (0 for None), for other CPUs' [`CpuSlot::holder`].
    addrs: [AtomicUsize; MAX_CPUS],
}

// SAFETY: each `values[i]` is only accessed by CPU i, with interrupts off and no nesting (the
// module comment), so no two accesses to one cell overlap; the values are `Send + Sync`, so
// sharing their `Arc`s between CPUs (a value set on one CPU is dropped on another) is sound.
unsafe impl<T: ?Sized + Send + Sync> Sync for CpuSlot<T> {}

impl<T: ?Sized> CpuSlot<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        CpuSlot {
            values: [const { UnsafeCell::new(None) }; MAX_CPUS],
            addrs: [const { AtomicUsize::new(0) }; MAX_CPUS],
        }
    }

    /// This CPU's value.
    #[inline]
    pub fn get(&self) -> Option<Arc<T>> {
        let cell = &self.values[crate::smp::cpu_index() % MAX_CPUS];
        // SAFETY: the cell is this CPU's, and nothing else runs on this CPU until the clone
        // (an atomic increment) has returned (module comment): no write overlaps the read.
        unsafe { (*cell.get()).clone() }
    }

    /// Sets this CPU's value, returning the one it replaces (dropped by the caller, outside
    /// the access). The address other CPUs read is published with SeqCst, so a CPU that
    /// stores something the new value's thread will look at, then asks [`CpuSlot::holder`]
    /// (SeqCst too), either finds it here or the thread's later look sees the store.
    pub fn replace(&self, value: Option<Arc<T>>) -> Option<Arc<T>> {
        let cpu = crate::smp::cpu_index() % MAX_CPUS;
        self.addrs[cpu].store(addr_of(value.as_ref()), Ordering::SeqCst);
        // SAFETY: the cell is this CPU's and no other access runs on this CPU meanwhile
        // (module comment); the swap runs no drop code (the old value is returned).
        unsafe { core::mem::replace(&mut *self.values[cpu].get(), value) }
    }

    /// The CPU whose slot holds `value` now, if any. Other CPUs change their slots at any
    /// time: the answer may be stale by the time it is used (a caller interrupting that CPU
    /// interrupts one the value just left, which is harmless).
    pub fn holder(&self, value: &Arc<T>) -> Option<usize> {
        let a = addr_of(Some(value));
        core::sync::atomic::fence(Ordering::SeqCst);
        self.addrs
            .iter()
            .position(|s| s.load(Ordering::Relaxed) == a)
    }
}

/// The address of the value an `Arc` points to (its data, without a trait object's vtable),
/// or 0.
fn addr_of<T: ?Sized>(v: Option<&Arc<T>>) -> usize {
    v.map_or(0, |v| Arc::as_ptr(v) as *const () as usize)
}

/// One nesting count per CPU, changed only by its own CPU (see the module comment): raised
/// on the way into a section, lowered on the way out. A load and a store, not a locked
/// read-modify-write: nothing else writes the count, and with interrupts off (as all kernel
/// code runs) nothing on this CPU comes in between; an interrupt handler that did would leave
/// the count as it found it.
pub struct CpuCount {
    counts: [AtomicU32; MAX_CPUS],
}

impl CpuCount {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        CpuCount {
            counts: [const { AtomicU32::new(0) }; MAX_CPUS],
        }
    }

    #[inline]
    fn here(&self) -> &AtomicU32 {
        &self.counts[crate::smp::cpu_index() % MAX_CPUS]
    }

    /// This CPU's count now.
    #[inline]
    pub fn get(&self) -> u32 {
        self.here().load(Ordering::Relaxed)
    }

    /// Raises this CPU's count by one; returns the count before.
    #[inline]
    pub fn raise(&self) -> u32 {
        let c = self.here();
        let old = c.load(Ordering::Relaxed);
        c.store(old.wrapping_add(1), Ordering::Relaxed);
        old
    }

    /// Lowers this CPU's count by one, not below 0 (a section left on another CPU than it
    /// was entered on is a bug its user reports, and must not wrap the count; branch-free).
    #[inline]
    pub fn lower(&self) {
        let c = self.here();
        c.store(
            c.load(Ordering::Relaxed).saturating_sub(1),
            Ordering::Relaxed,
        );
    }
}
