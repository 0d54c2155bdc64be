//! gettimeofday, time, clock_gettime, clock_getres

use crate::syscall::ok;
use crate::syscall::time::clock_now;
use crate::syscall::time::put_timespec;
use crate::syscall::time::CLOCK_MONOTONIC_COARSE;
use crate::syscall::time::CLOCK_REALTIME_COARSE;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("gettimeofday", gettimeofday, ""),
    Syscall::implemented("time", time, ""),
    Syscall::implemented(
        "clock_gettime",
        clock_gettime,
        "CPU-time clocks read the per-thread and per-process CPU-time accounting",
    ),
    Syscall::implemented("clock_getres", clock_getres, ""),
];

pub fn clock_gettime(c: &mut Call) -> SysResult {
    let ns = clock_now(c.a[0])?;
    put_timespec(c.a[1], ns)?;
    ok(0)
}

/// Linux's answers: 1 ns for every clock its hrtimers serve (timers and sleeps on them
/// are armed on the one-shot timer to the nanosecond, and the clock counts finer than that),
/// the tick for the COARSE clocks, whose readers accept a tick's error.
pub fn clock_getres(c: &mut Call) -> SysResult {
    clock_now(c.a[0])?;
    if c.a[1] != 0 {
        let res = if matches!(c.a[0], CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE) {
            crate::sched::TICK_NS as i64
        } else {
            1
        };
        put_timespec(c.a[1], res)?;
    }
    ok(0)
}

pub fn gettimeofday(c: &mut Call) -> SysResult {
    if c.a[0] != 0 {
        let t = time::ns_to_timespec(time::realtime_ns());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&t.sec.to_le_bytes());
        b[8..].copy_from_slice(&(t.nsec / 1000).to_le_bytes());
        uaccess::write_bytes(c.a[0], &b)?;
    }
    if c.a[1] != 0 {
        uaccess::write_bytes(c.a[1], &super::settime::timezone())?;
    }
    ok(0)
}

pub fn time(c: &mut Call) -> SysResult {
    let s = time::realtime_ns().div_euclid(1_000_000_000);
    if c.a[0] != 0 {
        uaccess::write_u64(c.a[0], s as u64)?;
    }
    ok(s as usize)
}
