//! The lockup watchdog. The kernel runs with interrupts off and is not preemptible, so a
//! loop that never ends inside it freezes the machine silently. Every entry to user mode,
//! task switch and idle wait counts as progress; a periodic non-maskable interrupt (on
//! x86_64 the PIT through the IOAPIC, `arch/x86_64/nmi.rs`) checks that some progress
//! happened within the timeout and otherwise prints, once per stall, where the CPU is: the
//! interrupted instruction and the return addresses of its frame-pointer chain
//! (`addr2line -e KERNEL ADDR` names them). It only reports; the machine goes on.

use crate::arch;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bumped at every point that shows the CPU is not stuck in the kernel.
static PROGRESS: AtomicU64 = AtomicU64::new(0);
/// What the last check saw, and since when (monotonic ns) it has not changed.
static SEEN: AtomicU64 = AtomicU64::new(0);
static SINCE_NS: AtomicU64 = AtomicU64::new(0);
static REPORTED: AtomicBool = AtomicBool::new(false);
/// The stall that is reported; 0 until `start`.
static TIMEOUT_NS: AtomicU64 = AtomicU64::new(0);

/// The CPU is about to leave the kernel (user mode, idle) or switch tasks.
#[inline]
pub(crate) fn progress() {
    PROGRESS.fetch_add(1, Ordering::Relaxed);
}

/// Starts watching: a CPU that stays in the kernel `seconds` without progress is reported.
/// 0 leaves the watchdog off.
pub fn start(seconds: u64) {
    if seconds == 0 {
        return;
    }
    SINCE_NS.store(crate::clock::monotonic_ns(), Ordering::Relaxed);
    TIMEOUT_NS.store(seconds.saturating_mul(1_000_000_000), Ordering::Relaxed);
    arch::nmi::start();
}

/// The periodic check, in NMI context: touches only atomics and the serial port.
/// `outside` is true when the NMI interrupted user mode or a wait with interrupts on.
pub(crate) fn on_nmi(outside: bool, ip: u64, sp: u64, fp: u64) {
    let timeout = TIMEOUT_NS.load(Ordering::Relaxed);
    if timeout == 0 {
        return;
    }
    let now = crate::clock::monotonic_ns();
    let p = PROGRESS.load(Ordering::Relaxed);
    if outside || p != SEEN.load(Ordering::Relaxed) {
        SEEN.store(p, Ordering::Relaxed);
        SINCE_NS.store(now, Ordering::Relaxed);
        REPORTED.store(false, Ordering::Relaxed);
        return;
    }
    let stuck = now.saturating_sub(SINCE_NS.load(Ordering::Relaxed));
    if stuck < timeout || REPORTED.swap(true, Ordering::Relaxed) {
        return;
    }
    crate::console::emergency_fmt(format_args!(
        "\nlintel: watchdog: CPU 0 stuck in the kernel for {} s (no return to user mode, no \
         task switch, no idle)\n  at {:#x}\n",
        stuck / 1_000_000_000,
        ip
    ));
    print_frames(sp, fp);
}

/// The return addresses of the frame chain at (`sp`, `fp`), one per line.
pub(crate) fn print_frames(sp: u64, fp: u64) {
    crate::console::emergency_fmt(format_args!("  backtrace:"));
    arch::nmi::walk(sp, fp, |ret| {
        crate::console::emergency_fmt(format_args!(" {:#x}", ret))
    });
    crate::console::emergency_fmt(format_args!("\n"));
}

/// A backtrace of the caller (the panic handler's).
#[inline(always)]
pub(crate) fn print_backtrace_here() {
    let (sp, fp) = arch::nmi::here();
    print_frames(sp, fp);
}
