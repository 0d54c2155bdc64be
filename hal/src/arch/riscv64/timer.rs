//! The clock and the timer: the `time` CSR (the timebase the device tree names, 10 MHz on QEMU
//! virt) is the monotonic counter; the one-shot timer is each hart's `stimecmp` (Sstc) or the
//! firmware's (SBI `set_timer`). The
//! wall clock is the goldfish RTC, when the machine has one.

use super::cpu;
use crate::arch::armed;
use crate::arch::dtboard::counter;
pub(crate) use crate::arch::dtboard::counter::{counter_at_boot, counter_hz, counter_mult};
use core::sync::atomic::{AtomicUsize, Ordering};

static RTC: AtomicUsize = AtomicUsize::new(0);

pub(super) fn set_rtc(pa: Option<usize>) {
    RTC.store(pa.unwrap_or(0), Ordering::Relaxed);
}

/// The `time` CSR.
#[inline]
pub(crate) fn counter() -> u64 {
    cpu::rdtime()
}

#[inline]
pub(crate) fn monotonic_ns() -> u64 {
    counter::ns_at(counter())
}

/// Starts the clock at zero; the timer stays unarmed until the kernel asks.
pub(super) fn init() {
    counter::start(counter());
    cpu::enable_timer_interrupt();
    set_timer(u64::MAX);
}

/// A secondary hart's timer: its own (`stimecmp` and SBI `set_timer` arm the calling hart's),
/// unarmed, its interrupt enabled.
pub(super) fn init_secondary() {
    cpu::enable_timer_interrupt();
    set_timer(u64::MAX);
}

/// Without a PLIC console input raises no interrupt: the timer then never sleeps longer than
/// this, so that the boot CPU's timer work keeps reading the UART.
const CONSOLE_POLL_NS: u64 = 10_000_000;

/// Arms this hart's one-shot timer for monotonic time `deadline_ns` (u64::MAX: none, so an
/// idle hart sleeps until a device interrupt; the console's receive interrupt wakes it).
#[inline]
pub(crate) fn set_timer(deadline_ns: u64) {
    let deadline_ns = if super::plic::present() {
        deadline_ns
    } else {
        deadline_ns.min(monotonic_ns().saturating_add(CONSOLE_POLL_NS))
    };
    armed::set(super::smp::cpu_index(), deadline_ns, program);
}

/// Programs this hart's timer (SBI or `stimecmp`): u64::MAX never fires.
#[inline(never)]
fn program(deadline_ns: u64) {
    if deadline_ns == u64::MAX {
        super::sbi::set_timer(u64::MAX);
        return;
    }
    super::sbi::set_timer(counter::count_at(deadline_ns));
}

/// The counter's rate is the device tree's timebase-frequency.
pub(crate) fn counter_rate_source() -> (&'static str, Option<u64>) {
    ("the device tree's timebase-frequency", None)
}

pub(crate) fn timer_name() -> &'static str {
    if cpu::has_sstc() {
        "Sstc stimecmp (one-shot)"
    } else {
        "SBI set_timer (one-shot)"
    }
}

/// A timer interrupt: the deadline is used up (disarming also clears the pending bit); the
/// kernel arms the next one on its way out.
pub(super) fn on_interrupt() {
    armed::fired(super::smp::cpu_index(), program);
}

/// Wall-clock seconds since the epoch: the goldfish RTC's nanoseconds (low word first: the
/// read latches the high word), or 0 without one.
pub(crate) fn rtc_epoch_seconds() -> u64 {
    let pa = RTC.load(Ordering::Relaxed);
    if pa == 0 {
        return 0;
    }
    let va = crate::mm::phys_to_virt(pa);
    // SAFETY: the RTC's TIME_LOW and TIME_HIGH registers, device memory in the direct map.
    let (lo, hi) = unsafe {
        let lo = ((va) as *const u32).read_volatile();
        let hi = ((va + 4) as *const u32).read_volatile();
        (lo, hi)
    };
    (((hi as u64) << 32) | lo as u64) / 1_000_000_000
}
