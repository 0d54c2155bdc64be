//! The counter arithmetic both device-tree ports share: the frequency of the architecture's
//! free-running counter (riscv64's `time` CSR, aarch64's virtual count), its value at boot, and
//! the conversions between counts and monotonic nanoseconds (32.32 fixed point, the same
//! formula as the vDSO's).

use core::sync::atomic::{AtomicU64, Ordering};

static HZ: AtomicU64 = AtomicU64::new(10_000_000);
static BOOT: AtomicU64 = AtomicU64::new(0);
/// `mult(HZ)`, computed when the frequency is set: every clock read (two per system call, for
/// the user/system time split) multiplies by it instead of dividing a 128-bit number, which
/// neither port does in hardware (`__udivti3`), as x86_64's TSC multiplier.
static MULT: AtomicU64 = AtomicU64::new(mult(10_000_000));

/// Nanoseconds per increment at `hz` in 32.32 fixed point.
const fn mult(hz: u64) -> u64 {
    ((1_000_000_000u128 << 32) / hz as u128) as u64
}

/// The counter's frequency (0 is ignored).
pub(crate) fn set_hz(hz: u64) {
    if hz != 0 {
        HZ.store(hz, Ordering::Relaxed);
        MULT.store(mult(hz), Ordering::Relaxed);
    }
}

/// Makes `now` monotonic time zero.
pub(crate) fn start(now: u64) {
    BOOT.store(now, Ordering::Relaxed);
}

pub(crate) fn counter_hz() -> u64 {
    HZ.load(Ordering::Relaxed)
}

#[inline]
pub(crate) fn counter_at_boot() -> u64 {
    BOOT.load(Ordering::Relaxed)
}

/// Nanoseconds per counter increment in 32.32 fixed point.
#[inline]
pub(crate) fn counter_mult() -> u64 {
    MULT.load(Ordering::Relaxed)
}

/// Monotonic nanoseconds at counter value `count`.
#[inline]
pub(crate) fn ns_at(count: u64) -> u64 {
    let d = count.wrapping_sub(counter_at_boot());
    ((d as u128 * counter_mult() as u128) >> 32) as u64
}

/// The counter value at monotonic time `ns`.
pub(crate) fn count_at(ns: u64) -> u64 {
    let ticks = (ns as u128 * counter_hz() as u128 / 1_000_000_000) as u64;
    counter_at_boot().wrapping_add(ticks)
}
