//! times, getrusage

use crate::proc::Process;
use crate::sched::Events;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("times", times, ""),
    Syscall::partial(
        "getrusage",
        getrusage,
        "user and system times, ru_maxrss (peak resident set) and context switches and page faults (every fault counted as minor)",
    ),
];

/// `struct rusage` (144 bytes) with the user and system times filled in.
fn rusage_bytes(user_ns: u64, sys_ns: u64) -> [u8; 144] {
    let mut b = [0u8; 144];
    let tv = |ns: u64| {
        (
            (ns / 1_000_000_000) as i64,
            ((ns % 1_000_000_000) / 1000) as i64,
        )
    };
    let (us, uu) = tv(user_ns);
    let (ss, su) = tv(sys_ns);
    b[0..8].copy_from_slice(&us.to_le_bytes());
    b[8..16].copy_from_slice(&uu.to_le_bytes());
    b[16..24].copy_from_slice(&ss.to_le_bytes());
    b[24..32].copy_from_slice(&su.to_le_bytes());
    b
}

/// A reaped child's resource usage: its own and that of the children it reaped.
pub(in crate::syscall) fn child_rusage(child: &Process) -> [u8; 144] {
    let (u, s) = child.cpu_times();
    let (cu, cs) = *child.children_time.lock();
    let mut b = rusage_bytes(u + cu, s + cs);
    let mut events = child.events();
    events += *child.children_events.lock();
    set_events(&mut b, &events);
    // RUSAGE_BOTH's maxrss: the child's own peak or its children's, whichever is larger.
    let peak = child
        .maxrss
        .load(Ordering::Relaxed)
        .max(child.cmaxrss.load(Ordering::Relaxed));
    set_maxrss(&mut b, peak);
    b
}

/// ru_minflt, ru_majflt, ru_nvcsw and ru_nivcsw.
fn set_events(b: &mut [u8; 144], e: &Events) {
    b[64..72].copy_from_slice(&e.min_flt.to_le_bytes());
    b[72..80].copy_from_slice(&e.maj_flt.to_le_bytes());
    b[128..136].copy_from_slice(&e.nvcsw.to_le_bytes());
    b[136..144].copy_from_slice(&e.nivcsw.to_le_bytes());
}

/// ru_maxrss, in KiB, from a count of pages.
fn set_maxrss(b: &mut [u8; 144], pages: usize) {
    b[32..40].copy_from_slice(&(pages as u64 * 4).to_le_bytes());
}

pub fn getrusage(c: &mut Call) -> SysResult {
    use lintel_abi::resource::{RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
    let p = c.thread.proc_ref();
    let (u, s) = match c.a[0] as i32 {
        RUSAGE_SELF => p.cpu_times(),
        RUSAGE_CHILDREN => *p.children_time.lock(),
        RUSAGE_THREAD => c.thread.cpu.lock().user_sys(crate::time::uptime_ns()),
        _ => return Err(Errno::EINVAL),
    };
    let mut b = rusage_bytes(u, s);
    let peak = match c.a[0] as i32 {
        RUSAGE_SELF => p.peak_resident_pages(),
        RUSAGE_CHILDREN => p.cmaxrss.load(Ordering::Relaxed),
        _ => p.mm().inner.lock().peak_resident_pages(),
    };
    set_maxrss(&mut b, peak);
    let events = match c.a[0] as i32 {
        RUSAGE_SELF => p.events(),
        RUSAGE_CHILDREN => *p.children_events.lock(),
        _ => c.thread.cpu.lock().events,
    };
    set_events(&mut b, &events);
    uaccess::write_bytes(c.a[1], &b)?;
    ok(0)
}

pub fn times(c: &mut Call) -> SysResult {
    let p = c.thread.proc_ref();
    if c.a[0] != 0 {
        let (u, s) = p.cpu_times();
        let (cu, cs) = *p.children_time.lock();
        let mut b = [0u8; 32];
        for (i, ns) in [u, s, cu, cs].iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&(ns / 10_000_000).to_le_bytes());
        }
        uaccess::write_bytes(c.a[0], &b)?;
    }
    // Clock ticks since an arbitrary point (Linux starts near -300 s worth of jiffies).
    ok((crate::time::uptime_ns() / 10_000_000) as usize)
}
