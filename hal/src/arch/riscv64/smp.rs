//! CPUs on riscv64: the boot hart only for now (secondary harts stay stopped in OpenSBI; the
//! SBI HSM `hart_start` and IPIs are the next step). The CPU index lives in the per-CPU block
//! tp points at.

use crate::smp::{Census, MAX_CPUS};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static BOOT_HART: AtomicUsize = AtomicUsize::new(0);
/// Each CPU's active root table (physical address).
static ACTIVE_ROOT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

pub(super) fn set_boot_hart(h: usize) {
    BOOT_HART.store(h, Ordering::Relaxed);
}

/// The hart id of CPU `cpu`.
pub(crate) fn hart_of(_cpu: usize) -> usize {
    BOOT_HART.load(Ordering::Relaxed)
}

/// One CPU running: the boot hart; the harts the device tree lists are present.
pub(crate) fn start_secondaries() -> Census {
    Census::new(
        crate::arch::dtboard::devicetree::cpus()
            .len()
            .clamp(1, MAX_CPUS),
    )
}

/// The index of this CPU: the `cpu_id` of the per-CPU block at tp (offset 24, see entry.S).
pub(crate) fn cpu_index() -> usize {
    let v: u64;
    // SAFETY: tp points at this CPU's per-CPU block from boot.S on; reading a field of it has no
    // side effect.
    unsafe { core::arch::asm!("ld {}, 24(tp)", out(reg) v, options(nostack, readonly)) };
    v as usize
}

/// No other CPU to wake yet.
pub(crate) fn send_wakeup(_cpu: usize) {}

pub(crate) fn note_active_root(root: u64) {
    if let Some(slot) = ACTIVE_ROOT.get(cpu_index()) {
        slot.store(root, Ordering::Release);
    }
}

pub(crate) fn serve_requests() {}

/// No other CPU holds translations yet.
pub(crate) fn shootdown(_root: Option<u64>) {}
