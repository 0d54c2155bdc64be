//! adjtimex, clock_adjtime

use crate::syscall::ok;
use crate::syscall::time::clock_now;
use crate::syscall::time::CLOCK_REALTIME;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;
use lintel_abi::Errno;

const NOTE: &str = "reads the clock discipline (unsynchronized, nothing pending); changing it is EPERM, as for a caller without CAP_SYS_TIME";

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("adjtimex", adjtimex, NOTE),
    Syscall::partial("clock_adjtime", clock_adjtime, NOTE),
];

/// `struct timex` on 64-bit Linux.
const TIMEX_SIZE: usize = 208;
const ADJ_OFFSET_SINGLESHOT: u32 = 0x0001;
const ADJ_OFFSET_READONLY: u32 = 0x2000;
const ADJ_ADJTIME: u32 = 0x8000;
const STA_UNSYNC: i32 = 0x0040;
/// The clock state adjtimex returns while no NTP daemon has synchronized the clock.
const TIME_ERROR: usize = 5;
/// Linux's NTP_PHASE_LIMIT, the maximum and estimated error of an unsynchronized clock (µs).
const NTP_PHASE_LIMIT: i64 = 16_000_000;
/// MAXFREQ_SCALED >> 16: 500 ppm in the 16.16 format of `tolerance`.
const TOLERANCE: i64 = 500 << 16;
/// USEC_PER_SEC / USER_HZ.
const TICK_USEC: i64 = 10_000;

/// Lintel keeps no clock discipline (there is no settimeofday either), so every read shows
/// a free-running, unsynchronized clock, and requests to change it are refused as Linux's
/// timekeeping_validate_timex refuses them to an unprivileged caller.
fn do_adjtimex(addr: usize) -> SysResult {
    let mut b = [0u8; TIMEX_SIZE];
    uaccess::read_bytes(addr, &mut b)?;
    let modes = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    if modes & ADJ_ADJTIME != 0 {
        if modes & ADJ_OFFSET_SINGLESHOT == 0 {
            return Err(Errno::EINVAL);
        }
        if modes & ADJ_OFFSET_READONLY == 0 {
            return Err(Errno::EPERM);
        }
    } else if modes != 0 {
        return Err(Errno::EPERM);
    }
    let now = time::realtime_ns();
    let put = |b: &mut [u8; TIMEX_SIZE], at: usize, v: i64| {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    };
    let mut out = [0u8; TIMEX_SIZE];
    out[..4].copy_from_slice(&modes.to_le_bytes());
    put(&mut out, 24, NTP_PHASE_LIMIT); // maxerror
    put(&mut out, 32, NTP_PHASE_LIMIT); // esterror
    out[40..44].copy_from_slice(&STA_UNSYNC.to_le_bytes()); // status
    put(&mut out, 48, 2); // constant
    put(&mut out, 56, 1); // precision (µs)
    put(&mut out, 64, TOLERANCE);
    put(&mut out, 72, now.div_euclid(1_000_000_000)); // time.tv_sec
    put(&mut out, 80, now.rem_euclid(1_000_000_000) / 1000); // time.tv_usec
    put(&mut out, 88, TICK_USEC);
    uaccess::write_bytes(addr, &out)?;
    ok(TIME_ERROR)
}

pub fn adjtimex(c: &mut Call) -> SysResult {
    do_adjtimex(c.a[0])
}

/// Only CLOCK_REALTIME has a discipline; other valid clocks cannot be adjusted (Linux's
/// EOPNOTSUPP), unknown ones are EINVAL.
pub fn clock_adjtime(c: &mut Call) -> SysResult {
    let id = c.a[0];
    clock_now(id)?;
    if id != CLOCK_REALTIME {
        return Err(Errno::EOPNOTSUPP);
    }
    do_adjtimex(c.a[1])
}
