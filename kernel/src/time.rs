//! Clocks: monotonic time from the hal clock, wall-clock time from the RTC read at boot.

use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use lintel_abi::stat::Timespec;
use lintel_hal::clock;

/// Wall-clock nanoseconds at boot (monotonic zero). Changed by clock_settime.
static REALTIME_OFFSET_NS: AtomicI64 = AtomicI64::new(0);

pub fn init() {
    let secs = clock::rtc_epoch_seconds() as i64;
    let now = clock::monotonic_ns() as i64;
    REALTIME_OFFSET_NS.store(secs * 1_000_000_000 - now, Ordering::Relaxed);
}

/// Wall-clock nanoseconds at monotonic zero (for the vDSO's data page).
pub fn realtime_offset_ns() -> i64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed)
}

/// How many times the wall clock was set (TFD_TIMER_CANCEL_ON_SET compares it).
static CLOCK_SETS: AtomicU64 = AtomicU64::new(0);

/// Sets the wall clock (settimeofday, clock_settime); the caller republishes it to the vDSO
/// and tells the timers.
pub fn set_realtime_ns(ns: i64) {
    let offset = ns.saturating_sub(uptime_ns() as i64);
    // A set that leaves the offset as it was is no change (Linux's timerfd compares offsets).
    if REALTIME_OFFSET_NS.swap(offset, Ordering::Relaxed) != offset {
        CLOCK_SETS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Steps the wall clock by `delta` ns (adjtimex's ADJ_SETOFFSET); a step by nothing is no
/// change.
pub fn step_realtime_ns(delta: i64) {
    if delta != 0 {
        REALTIME_OFFSET_NS.fetch_add(delta, Ordering::Relaxed);
        CLOCK_SETS.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many times the wall clock was set since boot.
pub fn clock_set_count() -> u64 {
    CLOCK_SETS.load(Ordering::Relaxed)
}

pub fn uptime_ns() -> u64 {
    clock::monotonic_ns()
}

pub fn realtime_ns() -> i64 {
    REALTIME_OFFSET_NS.load(Ordering::Relaxed) + uptime_ns() as i64
}

pub fn ns_to_timespec(ns: i64) -> Timespec {
    Timespec {
        sec: ns.div_euclid(1_000_000_000),
        nsec: ns.rem_euclid(1_000_000_000),
    }
}

pub fn now() -> Timespec {
    ns_to_timespec(realtime_ns())
}
