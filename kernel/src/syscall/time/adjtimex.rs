//! adjtimex, clock_adjtime

use crate::spinlock::Mutex;
use crate::syscall::ok;
use crate::syscall::time::clock_now;
use crate::syscall::time::CLOCK_REALTIME;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;
use lintel_abi::capability::CAP_SYS_TIME;
use lintel_abi::Errno;

const NOTE: &str = "the discipline's values are kept and reported, the clock is not slewed by them; ADJ_SETOFFSET steps it (CAP_SYS_TIME, else EPERM)";

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial("adjtimex", adjtimex, NOTE),
    Syscall::partial("clock_adjtime", clock_adjtime, NOTE),
];

/// `struct timex` on 64-bit Linux.
const TIMEX_SIZE: usize = 208;
const ADJ_OFFSET: u32 = 0x0001;
const ADJ_FREQUENCY: u32 = 0x0002;
const ADJ_MAXERROR: u32 = 0x0004;
const ADJ_ESTERROR: u32 = 0x0008;
const ADJ_STATUS: u32 = 0x0010;
const ADJ_TIMECONST: u32 = 0x0020;
const ADJ_SETOFFSET: u32 = 0x0100;
const ADJ_NANO: u32 = 0x2000;
const ADJ_TICK: u32 = 0x4000;
/// With ADJ_ADJTIME (adjtime(3)'s modes), bit 0 is ADJ_OFFSET_SINGLESHOT and 0x2000
/// ADJ_OFFSET_READONLY.
const ADJ_OFFSET_SINGLESHOT: u32 = 0x0001;
const ADJ_OFFSET_READONLY: u32 = 0x2000;
const ADJ_ADJTIME: u32 = 0x8000;
const STA_UNSYNC: i32 = 0x0040;
/// The status bits a caller may set (STA_RONLY's bits are the kernel's).
const STA_RONLY: i32 = 0x0100 | 0x0200 | 0x0400 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;
/// The clock states adjtimex returns: synchronized, and unsynchronized.
const TIME_OK: usize = 0;
const TIME_ERROR: usize = 5;
/// Linux's NTP_PHASE_LIMIT, the maximum and estimated error of an unsynchronized clock (µs).
const NTP_PHASE_LIMIT: i64 = 16_000_000;
/// MAXFREQ_SCALED: 500 ppm in the 16.16 format of `freq` and `tolerance`.
const MAXFREQ_SCALED: i64 = 500 << 16;
/// USEC_PER_SEC / USER_HZ.
const TICK_USEC: i64 = 10_000;

/// The clock discipline root set (ntpd, chrony): reported back, not applied, since Lintel
/// does not slew its clock.
struct Discipline {
    offset: i64,
    freq: i64,
    maxerror: i64,
    esterror: i64,
    status: i32,
    constant: i64,
    tick: i64,
    nano: bool,
}

static NTP: Mutex<Discipline> = Mutex::new(Discipline {
    offset: 0,
    freq: 0,
    maxerror: NTP_PHASE_LIMIT,
    esterror: NTP_PHASE_LIMIT,
    status: STA_UNSYNC,
    constant: 2,
    tick: TICK_USEC,
    nano: false,
});

fn get(b: &[u8; TIMEX_SIZE], at: usize) -> i64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(w)
}

fn put(b: &mut [u8; TIMEX_SIZE], at: usize, v: i64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Linux's timekeeping_validate_timex, then do_adjtimex: EINVAL for bad values first where
/// Linux checks them first, EPERM for changes without CAP_SYS_TIME.
fn do_adjtimex(c: &Call, addr: usize) -> SysResult {
    let mut b = [0u8; TIMEX_SIZE];
    uaccess::read_bytes(addr, &mut b)?;
    let modes = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let privileged = || c.thread.proc_ref().capable(CAP_SYS_TIME);
    if modes & ADJ_ADJTIME != 0 {
        if modes & ADJ_OFFSET_SINGLESHOT == 0 {
            return Err(Errno::EINVAL);
        }
        if modes & ADJ_OFFSET_READONLY == 0 && !privileged() {
            return Err(Errno::EPERM);
        }
    } else {
        if modes != 0 && !privileged() {
            return Err(Errno::EPERM);
        }
        if modes & ADJ_TICK != 0 && !(9_000..=11_000).contains(&get(&b, 88)) {
            return Err(Errno::EINVAL);
        }
    }
    let setoffset = modes & ADJ_ADJTIME == 0 && modes & ADJ_SETOFFSET != 0;
    let step = if setoffset {
        let (sec, frac) = (get(&b, 72), get(&b, 80));
        let nano = modes & ADJ_NANO != 0;
        let limit = if nano { 1_000_000_000 } else { 1_000_000 };
        if !(0..limit).contains(&frac) {
            return Err(Errno::EINVAL);
        }
        let frac_ns = if nano { frac } else { frac * 1000 };
        Some(sec.saturating_mul(1_000_000_000).saturating_add(frac_ns))
    } else {
        None
    };
    if let Some(d) = step {
        time::step_realtime_ns(d);
        super::settime::clock_changed();
    }
    let mut ntp = NTP.lock();
    if modes & ADJ_ADJTIME == 0 {
        if modes & ADJ_NANO != 0 {
            ntp.nano = true;
        } else if modes & 0x1000 != 0 {
            ntp.nano = false;
        }
        if modes & ADJ_STATUS != 0 {
            let st = get(&b, 40) as i32;
            ntp.status = (ntp.status & STA_RONLY) | (st & !STA_RONLY);
        }
        if modes & ADJ_OFFSET != 0 {
            ntp.offset = get(&b, 8);
        }
        if modes & ADJ_FREQUENCY != 0 {
            ntp.freq = get(&b, 16).clamp(-MAXFREQ_SCALED, MAXFREQ_SCALED);
        }
        if modes & ADJ_MAXERROR != 0 {
            ntp.maxerror = get(&b, 24).clamp(0, NTP_PHASE_LIMIT);
        }
        if modes & ADJ_ESTERROR != 0 {
            ntp.esterror = get(&b, 32).clamp(0, NTP_PHASE_LIMIT);
        }
        if modes & ADJ_TIMECONST != 0 {
            ntp.constant = get(&b, 48).clamp(0, 10);
        }
        if modes & ADJ_TICK != 0 {
            ntp.tick = get(&b, 88);
        }
    }
    let now = time::realtime_ns();
    let mut out = [0u8; TIMEX_SIZE];
    out[..4].copy_from_slice(&modes.to_le_bytes());
    put(&mut out, 8, ntp.offset);
    put(&mut out, 16, ntp.freq);
    put(&mut out, 24, ntp.maxerror);
    put(&mut out, 32, ntp.esterror);
    out[40..44].copy_from_slice(&ntp.status.to_le_bytes());
    put(&mut out, 48, ntp.constant);
    put(&mut out, 56, 1); // precision (µs)
    put(&mut out, 64, MAXFREQ_SCALED); // tolerance
    let frac = now.rem_euclid(1_000_000_000);
    put(&mut out, 72, now.div_euclid(1_000_000_000)); // time.tv_sec
    put(&mut out, 80, if ntp.nano { frac } else { frac / 1000 }); // time.tv_usec
    put(&mut out, 88, ntp.tick);
    let state = if ntp.status & STA_UNSYNC != 0 {
        TIME_ERROR
    } else {
        TIME_OK
    };
    drop(ntp);
    uaccess::write_bytes(addr, &out)?;
    ok(state)
}

pub fn adjtimex(c: &mut Call) -> SysResult {
    do_adjtimex(c, c.a[0])
}

/// Only CLOCK_REALTIME has a discipline; other valid clocks cannot be adjusted (Linux's
/// EOPNOTSUPP), unknown ones are EINVAL.
pub fn clock_adjtime(c: &mut Call) -> SysResult {
    let id = c.a[0];
    clock_now(id)?;
    if id != CLOCK_REALTIME {
        return Err(Errno::EOPNOTSUPP);
    }
    do_adjtimex(c, c.a[1])
}
