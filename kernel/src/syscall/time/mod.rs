//! Time calls: clocks, the clock discipline (adjtimex), sleeping, interval timers (setitimer, alarm) and POSIX timers.

mod adjtimex;
pub use adjtimex::leap_tick;
mod clock;
mod itimer;
mod nanosleep;
mod settime;
mod timer;

use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;
use lintel_abi::Errno;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    adjtimex::SYSCALLS,
    clock::SYSCALLS,
    itimer::SYSCALLS,
    nanosleep::SYSCALLS,
    settime::SYSCALLS,
    timer::SYSCALLS,
];

pub(in crate::syscall) fn put_timespec(addr: usize, ns: i64) -> Result<(), Errno> {
    let t = time::ns_to_timespec(ns);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&t.sec.to_le_bytes());
    b[8..].copy_from_slice(&t.nsec.to_le_bytes());
    uaccess::write_bytes(addr, &b)
}

/// Reads a `struct timespec`, EINVAL unless 0 <= nsec < 1e9 and sec >= 0.
pub(in crate::syscall) fn get_timespec(addr: usize) -> Result<i64, Errno> {
    let mut b = [0u8; 16];
    uaccess::read_bytes(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
    if !(0..1_000_000_000).contains(&nsec) || sec < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(sec.saturating_mul(1_000_000_000).saturating_add(nsec))
}

pub(in crate::syscall) use lintel_abi::time::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE,
    CLOCK_THREAD_CPUTIME_ID,
};
use lintel_abi::time::{CLOCK_MONOTONIC_RAW, CLOCK_TAI};

/// A CPU-time clock id as glibc encodes it (clock_getcpuclockid, pthread_getcpuclockid, and
/// CLOCK_*_CPUTIME_ID): `(~pid << 3) | (thread ? 4 : 0) | type`, pid 0 meaning the caller.
/// Returns (process, thread) to measure; only the SCHED type (2) and PROF (0) are valid.
pub(in crate::syscall) fn decode_cpu_clock(
    id: usize,
) -> Result<
    (
        alloc::sync::Arc<crate::proc::Process>,
        Option<alloc::sync::Arc<crate::proc::Thread>>,
    ),
    Errno,
> {
    let id = id as i32;
    if id & 3 == 3 {
        return Err(Errno::EINVAL);
    }
    let pid = !(id >> 3);
    let me = crate::proc::current();
    if id & 4 != 0 {
        let t = if pid == 0 {
            me
        } else {
            crate::proc::find_thread(pid).ok_or(Errno::EINVAL)?
        };
        Ok((t.process(), Some(t)))
    } else {
        let p = if pid == 0 {
            me.process()
        } else {
            crate::proc::find_process(pid).ok_or(Errno::EINVAL)?
        };
        Ok((p, None))
    }
}

fn cpu_clock_now(id: usize) -> Result<i64, Errno> {
    let (p, t) = decode_cpu_clock(id)?;
    let (u, s) = match t {
        Some(t) => t.user_sys(time::uptime_ns()),
        None => p.cpu_times(),
    };
    // CPUCLOCK_VIRT (1) counts user time only.
    Ok(if id as i32 & 3 == 1 { u } else { u + s } as i64)
}

pub(in crate::syscall) fn clock_now(id: usize) -> Result<i64, Errno> {
    if (id as i32) < 0 {
        return cpu_clock_now(id);
    }
    Ok(match id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM => time::realtime_ns(),
        CLOCK_TAI => time::tai_ns(),
        CLOCK_MONOTONIC_RAW => time::raw_ns() as i64,
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => {
            time::uptime_ns() as i64
        }
        CLOCK_PROCESS_CPUTIME_ID => {
            let (u, s) = crate::proc::current().proc_ref().cpu_times();
            (u + s) as i64
        }
        CLOCK_THREAD_CPUTIME_ID => {
            let (u, s) = crate::proc::current().user_sys(time::uptime_ns());
            (u + s) as i64
        }
        _ => return Err(Errno::EINVAL),
    })
}
