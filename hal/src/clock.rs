//! The clock and the periodic tick, without naming the hardware behind them.
//!
//! The monotonic clock is a free-running counter (on x86_64 the TSC) converted to nanoseconds
//! with a 32.32 fixed-point multiplier: `ns = ((counter() - counter_at_boot()) * mult) >> 32`.
//! The vDSO computes the same in user space (see [`crate::vdso`]), so both agree to the
//! nanosecond. The tick (on x86_64 the LAPIC timer) interrupts user code `TICK_HZ` times a
//! second; it returns from `UserContext::run` as `ReturnReason::Interrupt`.

use crate::arch;

/// Scheduler ticks per second.
pub const TICK_HZ: u64 = arch::clock::TICK_HZ;

/// Timer ticks since boot.
pub fn ticks() -> u64 {
    arch::clock::ticks()
}

/// Nanoseconds since boot (monotonic zero).
pub fn monotonic_ns() -> u64 {
    arch::clock::monotonic_ns()
}

/// The raw monotonic counter (not converted; a source of jitter for seeding too).
pub fn counter() -> u64 {
    arch::clock::counter()
}

/// Counter increments per second.
pub fn counter_hz() -> u64 {
    arch::clock::counter_hz()
}

/// The counter's value at monotonic zero.
pub fn counter_at_boot() -> u64 {
    arch::clock::counter_at_boot()
}

/// Nanoseconds per counter increment in 32.32 fixed point.
pub fn counter_mult() -> u64 {
    arch::clock::counter_mult()
}

/// Wall-clock seconds since the epoch from the machine's real-time clock.
pub fn rtc_epoch_seconds() -> u64 {
    arch::clock::rtc_epoch_seconds()
}
