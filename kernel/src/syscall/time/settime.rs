//! settimeofday, clock_settime

use crate::syscall::ok;
use crate::syscall::time::get_timespec;
use crate::syscall::time::CLOCK_REALTIME;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::capability::CAP_SYS_TIME;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "settimeofday",
        settimeofday,
        "the timezone is kept for gettimeofday (Linux's sys_tz)",
    ),
    Syscall::implemented("clock_settime", clock_settime, ""),
];

/// Linux's sys_tz: the timezone settimeofday set, as gettimeofday's second argument returns it
/// (tz_minuteswest in the low 32 bits, tz_dsttime in the high); 0/0 at boot. The vDSOs'
/// gettimeofday enter the kernel when asked for it.
static TIMEZONE: AtomicU64 = AtomicU64::new(0);

/// The kept timezone as gettimeofday writes it: struct timezone's two ints.
pub(super) fn timezone() -> [u8; 8] {
    TIMEZONE.load(Ordering::Relaxed).to_le_bytes()
}

/// do_sys_settimeofday64: the values are checked first (EINVAL), then CAP_SYS_TIME (EPERM),
/// even when neither is given.
fn set_wall_clock(c: &Call, ns: Option<i64>, tz: Option<u64>) -> SysResult {
    if !c.thread.proc_ref().capable(CAP_SYS_TIME) {
        return Err(Errno::EPERM);
    }
    if let Some(tz) = tz {
        TIMEZONE.store(tz, Ordering::Relaxed);
    }
    if let Some(ns) = ns {
        crate::time::set_realtime_ns(ns);
        super::adjtimex::ntp_clear();
        super::clock_changed();
    }
    ok(0)
}

pub fn settimeofday(c: &mut Call) -> SysResult {
    let [tv, tz, ..] = c.a;
    let ns = if tv != 0 {
        let b = uaccess::read_vec(tv, 16)?;
        let w = |i: usize| {
            i64::from_le_bytes(
                b.get(i * 8..i * 8 + 8)
                    .and_then(|s| s.try_into().ok())
                    .unwrap_or([0; 8]),
            )
        };
        let (sec, usec) = (w(0), w(1));
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Some(
            sec.saturating_mul(1_000_000_000)
                .saturating_add(usec * 1000),
        )
    } else {
        None
    };
    let tz = if tz != 0 {
        let b = uaccess::read_vec(tz, 8)?;
        let zone = u64::from_le_bytes(b.as_slice().try_into().unwrap_or([0; 8]));
        let minuteswest = zone as u32 as i32;
        if !(-15 * 60..=15 * 60).contains(&minuteswest) {
            return Err(Errno::EINVAL);
        }
        Some(zone)
    } else {
        None
    };
    set_wall_clock(c, ns, tz)
}

/// Only CLOCK_REALTIME can be set; other valid clocks give EINVAL.
pub fn clock_settime(c: &mut Call) -> SysResult {
    if c.a[0] != CLOCK_REALTIME {
        return Err(Errno::EINVAL);
    }
    let ns = get_timespec(c.a[1])?;
    set_wall_clock(c, Some(ns), None)
}
