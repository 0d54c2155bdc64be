//! The clock and the timer: the generic timer's virtual counter (CNTVCT_EL0 at CNTFRQ_EL0,
//! 62.5 MHz on QEMU virt) is the monotonic counter; the one-shot timer is the EL1 virtual timer
//! (CNTV_CVAL_EL0 and CNTV_CTL_EL0, its private interrupt through the GIC). The wall clock is
//! the PL031 RTC, when the machine has one.

use crate::arch::armed;
use crate::arch::dtboard::counter;
pub(crate) use crate::arch::dtboard::counter::{counter_at_boot, counter_hz, counter_mult};
use core::sync::atomic::{AtomicUsize, Ordering};

static RTC: AtomicUsize = AtomicUsize::new(0);

pub(super) fn set_rtc(pa: Option<usize>) {
    RTC.store(pa.unwrap_or(0), Ordering::Relaxed);
}

/// The virtual counter (ordered after earlier instructions by the isb).
#[inline]
pub(crate) fn counter() -> u64 {
    let v: u64;
    // SAFETY: reads the virtual count.
    unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
    v
}

#[inline]
pub(crate) fn monotonic_ns() -> u64 {
    counter::ns_at(counter())
}

/// Starts the clock at zero; the timer stays unarmed until the kernel asks.
pub(super) fn init() {
    let hz: u64;
    // SAFETY: reads the counter frequency the firmware (QEMU) set.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) hz, options(nomem, nostack)) };
    counter::set_hz(hz);
    counter::start(counter());
    set_timer(u64::MAX);
}

/// A secondary CPU's timer (its own virtual timer, the same private interrupt), unarmed.
pub(super) fn init_secondary() {
    set_timer(u64::MAX);
}

/// Without a GIC console input raises no interrupt: the timer then never sleeps longer than
/// this, so that the boot CPU's timer work keeps reading the UART.
const CONSOLE_POLL_NS: u64 = 10_000_000;

/// Arms this CPU's one-shot timer for monotonic time `deadline_ns` (u64::MAX: off, so an idle
/// CPU sleeps until a device interrupt; the console's receive interrupt wakes it).
#[inline]
pub(crate) fn set_timer(deadline_ns: u64) {
    let deadline_ns = if super::gic::present() {
        deadline_ns
    } else {
        deadline_ns.min(monotonic_ns().saturating_add(CONSOLE_POLL_NS))
    };
    armed::set(super::smp::cpu_index(), deadline_ns, program);
}

/// Programs this CPU's virtual timer: u64::MAX disables it.
#[inline(never)]
fn program(deadline_ns: u64) {
    if deadline_ns == u64::MAX {
        // SAFETY: disables the virtual timer (its interrupt line drops).
        unsafe { core::arch::asm!("msr cntv_ctl_el0, xzr", "isb", options(nomem, nostack)) };
        return;
    }
    let cval = counter::count_at(deadline_ns);
    // SAFETY: sets the compare value and enables the timer, interrupt unmasked.
    unsafe {
        core::arch::asm!(
            "msr cntv_cval_el0, {}",
            "msr cntv_ctl_el0, {}",
            "isb",
            in(reg) cval,
            in(reg) 1u64,
            options(nomem, nostack)
        )
    };
}

/// The counter's rate is the one CNTFRQ_EL0 gives.
pub(crate) fn counter_rate_source() -> (&'static str, Option<u64>) {
    ("CNTFRQ_EL0", None)
}

pub(crate) fn timer_name() -> &'static str {
    "arm generic timer (virtual, one-shot)"
}

/// A timer interrupt: the deadline is used up (disabling drops the line); the kernel arms the
/// next one on its way out.
pub(super) fn on_interrupt() {
    armed::fired(super::smp::cpu_index(), program);
}

/// Wall-clock seconds since the epoch: the PL031's data register, or 0 without one.
pub(crate) fn rtc_epoch_seconds() -> u64 {
    let pa = RTC.load(Ordering::Relaxed);
    if pa == 0 {
        return 0;
    }
    // SAFETY: the RTC's RTCDR register, device memory in the direct map.
    unsafe { (crate::mm::phys_to_virt(pa) as *const u32).read_volatile() as u64 }
}
