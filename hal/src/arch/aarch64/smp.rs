//! CPUs on aarch64: the boot CPU only for now (secondary CPUs stay off in QEMU's PSCI: PSCI
//! CPU_ON, per-CPU redistributors and SGIs are the next step). The CPU index lives in the
//! per-CPU block TPIDR_EL1 points at.

use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicU64, Ordering};

/// Each CPU's active root table (physical address).
static ACTIVE_ROOT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// What bring-up found: CPUs present and running.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Census {
    pub present: usize,
    pub started: usize,
    pub mask: u64,
}

/// One CPU: the boot CPU.
pub(crate) fn start_secondaries() -> Census {
    Census {
        present: 1,
        started: 1,
        mask: 1,
    }
}

pub(crate) fn release_parked() {}

/// The index of this CPU: the `cpu_id` of the per-CPU block at TPIDR_EL1 (offset 24, see
/// entry.S).
pub(crate) fn cpu_index() -> usize {
    let v: u64;
    // SAFETY: TPIDR_EL1 points at this CPU's per-CPU block from boot.S on; reading a field of
    // it has no side effect.
    unsafe {
        core::arch::asm!("mrs {0}, tpidr_el1", "ldr {0}, [{0}, #24]", out(reg) v,
            options(nostack, readonly))
    };
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
