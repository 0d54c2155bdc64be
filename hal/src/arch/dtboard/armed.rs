//! What each CPU's one-shot timer is armed for, so that arming it again for the same deadline
//! costs nothing. The kernel re-arms on every way back to user mode, mostly for the deadline
//! already set; on these ports arming is an SBI call into the firmware (riscv64 without
//! Sstc) or system-register writes and an `isb` (aarch64), and under QEMU each reprograms a
//! host timer: a getppid cost 4.5 µs on riscv64 and 9.4 µs on aarch64, against 0.56 µs on
//! x86_64, which already skipped unchanged deadlines. Every disarm goes through [`set`] too,
//! so the record never says armed while the hardware is off.

use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicU64, Ordering};

/// Nothing recorded yet: the first [`set`] programs the hardware whatever it asks.
const UNKNOWN: u64 = u64::MAX - 1;

static ARMED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(UNKNOWN) }; MAX_CPUS];

/// Arms (or with u64::MAX disarms) this CPU's timer for `deadline` through `program`, unless
/// it is already armed for exactly that. `cpu` is the calling CPU's index.
#[inline]
pub(crate) fn set(cpu: usize, deadline: u64, program: impl FnOnce(u64)) {
    let slot = &ARMED[cpu % MAX_CPUS];
    if deadline != UNKNOWN && slot.load(Ordering::Relaxed) == deadline {
        return;
    }
    // Recorded first: a timer interrupt between the two (a deadline already past) then leaves
    // the record at "off" with the hardware armed — at worst one spurious interrupt later —
    // never the record at "armed" with the hardware off, which would lose the next arming.
    slot.store(deadline, Ordering::Relaxed);
    program(deadline);
}

/// The timer fired: its deadline is used up and the hardware is disarmed through `program`
/// (whatever the record says).
pub(crate) fn fired(cpu: usize, program: impl FnOnce(u64)) {
    program(u64::MAX);
    ARMED[cpu % MAX_CPUS].store(u64::MAX, Ordering::Relaxed);
}
