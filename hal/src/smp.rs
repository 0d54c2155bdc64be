//! The machine's CPUs. Bring-up starts every CPU the firmware lists; until the scheduler
//! runs on several CPUs the secondary ones park (halted, interrupts off) right after their
//! per-CPU setup, and every thread runs on the boot CPU.

use crate::arch;

static CENSUS: spin::Once<arch::smp::Census> = spin::Once::new();

/// Starts the secondary CPUs (boot, once: the heap, paging and the clock are up).
pub(crate) fn start() {
    CENSUS.call_once(arch::smp::start_secondaries);
}

/// CPUs the firmware lists (up to the 64 Lintel brings up).
pub fn cpus_present() -> usize {
    CENSUS.get().map_or(1, |c| c.present)
}

/// CPUs that came up and finished their per-CPU setup, the boot CPU included.
pub fn cpus_started() -> usize {
    CENSUS.get().map_or(1, |c| c.started)
}
