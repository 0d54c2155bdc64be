//! times, getrusage

use crate::proc::{Process, Usage};
use crate::sched::Events;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("times", times, ""),
    Syscall::partial(
        "getrusage",
        getrusage,
        "user and system times, ru_maxrss (peak resident set), context switches and page faults (major: a page-cache miss read from the file)",
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
    usage_bytes(&child.usage_with_reaped())
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

/// The whole rusage structure of one record.
fn usage_bytes(u: &Usage) -> [u8; 144] {
    let mut b = rusage_bytes(u.user_ns, u.sys_ns);
    set_events(&mut b, &u.events);
    set_maxrss(&mut b, u.maxrss);
    b
}

pub fn getrusage(c: &mut Call) -> SysResult {
    use lintel_abi::resource::{RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_THREAD};
    let p = c.thread.proc_ref();
    let u = match c.a[0] as i32 {
        RUSAGE_SELF => Usage {
            maxrss: p.peak_resident_pages(),
            ..p.usage()
        },
        RUSAGE_CHILDREN => *p.reaped.lock(),
        RUSAGE_THREAD => {
            let ct = *c.thread.cpu.lock();
            let (user_ns, sys_ns) = ct.user_sys(c.thread.user_ns(), crate::time::uptime_ns());
            Usage {
                user_ns,
                sys_ns,
                events: ct.events,
                maxrss: p.mm().peak_resident_pages(),
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    uaccess::write_bytes(c.a[1], &usage_bytes(&u))?;
    ok(0)
}

pub fn times(c: &mut Call) -> SysResult {
    let p = c.thread.proc_ref();
    if c.a[0] != 0 {
        let (u, s) = p.cpu_times();
        let r = *p.reaped.lock();
        let (cu, cs) = (r.user_ns, r.sys_ns);
        let mut b = [0u8; 32];
        for (i, ns) in [u, s, cu, cs].iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&(ns / 10_000_000).to_le_bytes());
        }
        uaccess::write_bytes(c.a[0], &b)?;
    }
    // Clock ticks since an arbitrary point (Linux starts near -300 s worth of jiffies).
    ok((crate::time::uptime_ns() / 10_000_000) as usize)
}
