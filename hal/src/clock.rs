//! The clock and the per-CPU timer, without naming the hardware behind them.
//!
//! The monotonic clock is a free-running counter (on x86_64 the TSC) converted to nanoseconds
//! with a 32.32 fixed-point multiplier: `ns = ((counter() - counter_at_boot()) * mult) >> 32`.
//! The vDSO computes the same in user space (see [`crate::vdso`]), so both agree to the
//! nanosecond. Each CPU has one one-shot timer (on x86_64 the LAPIC timer, in TSC-deadline
//! mode when the CPU has it): the kernel arms it for the next thing it must do at a given
//! time (a deadline, the end of a time slice) with [`set_timer`]; there is no periodic tick
//! of its own. Its interrupt returns from `UserContext::run` as `ReturnReason::Interrupt`, or
//! ends an idle wait.

use crate::arch;

/// Arms this CPU's timer to interrupt once when the monotonic clock reaches `deadline_ns`
/// (at once if that has passed); `u64::MAX` disarms it. It replaces the deadline armed
/// before; asking again for the armed deadline costs nothing. The interrupt may come a little
/// early (the timer and the clock are different counters on some machines), so the caller
/// checks the clock and arms again.
#[inline]
pub fn set_timer(deadline_ns: u64) {
    arch::clock::set_timer(deadline_ns)
}

/// The kind of timer behind [`set_timer`], for the boot log.
pub fn timer_name() -> &'static str {
    arch::clock::timer_name()
}

/// How the counter's rate was found, for the boot log: a description and, when it was
/// measured against another clock, the measurement's error bound in parts per million.
pub fn counter_rate_source() -> (&'static str, Option<u64>) {
    arch::clock::counter_rate_source()
}

/// Nanoseconds since boot (monotonic zero).
#[inline]
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
