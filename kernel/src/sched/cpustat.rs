//! Time per CPU, for /proc/stat (top, vmstat, mpstat read it): how long threads ran on each
//! CPU, the part of it in user mode, and the context switches; and the forks since boot.
//!
//! The scheduler adds a thread's stint to its CPU when the stint ends (`charge`), with the
//! user time the thread gained meanwhile (its own counter, read at both ends of the stint:
//! nothing is added on the system call path). Each CPU writes only its own slots, with
//! interrupts off, so a load and a store do; a reader on another CPU sees figures at most
//! one stint old.

use core::sync::atomic::{AtomicU64, Ordering};
use lintel_hal::smp::MAX_CPUS;

static BUSY_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static USER_NS: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static SWITCHES: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static FORKS: AtomicU64 = AtomicU64::new(0);

fn bump(slot: &AtomicU64, by: u64) {
    slot.store(slot.load(Ordering::Relaxed) + by, Ordering::Relaxed);
}

/// A stint of `ns` on `cpu` (the calling CPU) ended, `user_ns` of it in user mode.
pub(super) fn ran(cpu: usize, ns: u64, user_ns: u64) {
    let cpu = cpu % MAX_CPUS;
    bump(&BUSY_NS[cpu], ns);
    bump(&USER_NS[cpu], user_ns.min(ns));
}

/// `cpu` (the calling CPU) switched from one thread (or its idle loop) to another.
pub(super) fn switched(cpu: usize) {
    bump(&SWITCHES[cpu % MAX_CPUS], 1);
}

/// A process or thread was created (/proc/stat's `processes`, Linux's total_forks).
pub fn forked() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// (user, system) nanoseconds threads have run on `cpu`.
pub fn cpu_times(cpu: usize) -> (u64, u64) {
    let cpu = cpu % MAX_CPUS;
    let busy = BUSY_NS[cpu].load(Ordering::Relaxed);
    let user = USER_NS[cpu].load(Ordering::Relaxed).min(busy);
    (user, busy - user)
}

/// Context switches on every CPU since boot.
pub fn switches() -> u64 {
    SWITCHES.iter().map(|s| s.load(Ordering::Relaxed)).sum()
}

/// Processes and threads created since boot.
pub fn forks() -> u64 {
    FORKS.load(Ordering::Relaxed)
}
