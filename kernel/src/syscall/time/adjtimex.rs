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
use lintel_ntp::{STA_DEL, STA_INS, TIME_ERROR};

const NOTE: &str = "slews CLOCK_REALTIME and CLOCK_MONOTONIC (never CLOCK_MONOTONIC_RAW) as Linux's NTP code does: tick, frequency, the PLL's phase offset, adjtime's single-shot offset at 500 µs/s; ADJ_SETOFFSET steps it (CAP_SYS_TIME, else EPERM); leap seconds (STA_INS/STA_DEL) as Linux's state machine, inserted or deleted at the UTC midnight, the state returned; ADJ_TAI sets CLOCK_TAI's offset, which leap seconds move; PPS is not acted on (no PPS source)";

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
const ADJ_TAI: u32 = 0x0080;
const ADJ_SETOFFSET: u32 = 0x0100;
const ADJ_NANO: u32 = 0x2000;
const ADJ_TICK: u32 = 0x4000;
/// With ADJ_ADJTIME (adjtime(3)'s modes), bit 0 is ADJ_OFFSET_SINGLESHOT and 0x2000
/// ADJ_OFFSET_READONLY.
const ADJ_OFFSET_SINGLESHOT: u32 = 0x0001;
const ADJ_OFFSET_READONLY: u32 = 0x2000;
const ADJ_ADJTIME: u32 = 0x8000;
const ADJ_MICRO: u32 = 0x1000;
const STA_PLL: i32 = 0x0001;
const STA_PPSFREQ: i32 = 0x0002;
const STA_PPSTIME: i32 = 0x0004;
const STA_FLL: i32 = 0x0008;
const STA_UNSYNC: i32 = 0x0040;
const STA_FREQHOLD: i32 = 0x0080;
const STA_PPSSIGNAL: i32 = 0x0100;
const STA_PPSJITTER: i32 = 0x0200;
const STA_PPSWANDER: i32 = 0x0400;
const STA_PPSERROR: i32 = 0x0800;
const STA_CLOCKERR: i32 = 0x1000;
const STA_NANO: i32 = 0x2000;
const STA_MODE: i32 = 0x4000;
/// The status bits a caller may not set (Linux's STA_RONLY).
const STA_RONLY: i32 = 0x0100 | 0x0200 | 0x0400 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;
/// Linux's MAX_TAI_OFFSET: ADJ_TAI takes 0..=this.
const MAX_TAI_OFFSET: i64 = 100_000;
/// Linux's NTP_PHASE_LIMIT, the maximum and estimated error of an unsynchronized clock (µs).
const NTP_PHASE_LIMIT: i64 = 16_000_000;
/// Linux's MAXPHASE: the largest phase offset the PLL takes (ns).
const MAXPHASE: i64 = 500_000_000;
/// Linux's MAXFREQ_SCALED: 500 ppm as ns per second shifted left by 32.
const MAXFREQ_SCALED: i64 = 500_000 << 32;
/// Linux's PPM_SCALE: `freq` (ppm in 16.16) to ns per second shifted left by 32.
const PPM_SCALE: i64 = 1000 << 16;
/// Linux's PPM_SCALE_INV_SHIFT and PPM_SCALE_INV: the reverse, without a division.
const PPM_SCALE_INV_SHIFT: u32 = 19;
const PPM_SCALE_INV: i64 = (1i64 << (PPM_SCALE_INV_SHIFT + 32)) / PPM_SCALE + 1;
/// Linux's SHIFT_PLL, SHIFT_FLL, MINSEC, MAXSEC and MAXTC.
const SHIFT_PLL: i64 = 2;
const SHIFT_FLL: i64 = 2;
const MINSEC: i64 = 256;
const MAXSEC: i64 = 2048;
const MAXTC: i64 = 10;

/// The rest of the discipline (the part that sets the clock's rate is the clock's own,
/// [`time::Discipline`]).
struct Ntp {
    status: i32,
    maxerror: i64,
    esterror: i64,
    /// Monotonic ns when `maxerror` was last brought up to date (it grows 500 µs a second).
    maxerror_at: u64,
    /// The wall-clock second of the last phase offset (Linux's time_reftime).
    reftime: i64,
}

static NTP: Mutex<Ntp> = Mutex::new(Ntp {
    status: STA_UNSYNC,
    maxerror: NTP_PHASE_LIMIT,
    esterror: NTP_PHASE_LIMIT,
    maxerror_at: 0,
    reftime: 0,
});

/// Linux's ntp_clear, after the wall clock was set or stepped (settimeofday, clock_settime,
/// ADJ_SETOFFSET, even by nothing): the pending offsets are dropped and the clock counts as
/// unsynchronized with the largest errors, until a daemon says otherwise.
fn ntp_clear() {
    let mut ntp = NTP.lock();
    ntp.status |= STA_UNSYNC;
    ntp.maxerror = NTP_PHASE_LIMIT;
    ntp.esterror = NTP_PHASE_LIMIT;
    ntp.maxerror_at = time::uptime_ns();
    time::clear_offsets();
}

/// After the wall clock was set or stepped (here, by settimeofday or clock_settime): the NTP
/// state is cleared, the vDSO gets the new offset, and timers and sleeps on the wall clock
/// look at it again.
pub(super) fn wall_clock_set() {
    ntp_clear();
    crate::vdso::update();
    crate::fs::timerfd::clock_was_set();
    crate::sched::clock_was_set();
    crate::fs::file::poll_notify();
}

/// Boot-CPU tick work (Linux's clock_was_set_delayed after a leap second): a leap second
/// steps the wall clock inside whichever clock read passed its boundary, often under a lock,
/// so the timers are told here, as [`wall_clock_set`] tells them (the NTP state stays: the
/// leap is the discipline's own doing). Returns when a leap second armed is next due.
pub fn leap_tick() -> Option<u64> {
    static SEEN: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
    let leaps = time::leap_count();
    if SEEN.swap(leaps, core::sync::atomic::Ordering::Relaxed) != leaps {
        crate::fs::timerfd::clock_was_set();
        crate::sched::clock_was_set();
        crate::fs::file::poll_notify();
    }
    time::leap_due()
}

/// Linux's is_error_status: the clock is unsynchronized, or a PPS discipline lacks its signal.
fn error_status(st: i32) -> bool {
    st & (STA_UNSYNC | STA_CLOCKERR) != 0
        || (st & (STA_PPSFREQ | STA_PPSTIME) != 0 && st & STA_PPSSIGNAL == 0)
        || st & (STA_PPSTIME | STA_PPSJITTER) == STA_PPSTIME | STA_PPSJITTER
        || (st & STA_PPSFREQ != 0 && st & (STA_PPSWANDER | STA_PPSERROR) != 0)
}

/// Linux's ntp_update_offset: a phase offset for the PLL (or FLL), which also corrects the
/// frequency; nothing unless STA_PLL.
fn update_offset(ntp: &mut Ntp, d: &mut time::Discipline, offset: i64, now_sec: i64) {
    if ntp.status & STA_PLL == 0 {
        return;
    }
    let mut offset = offset;
    if ntp.status & STA_NANO == 0 {
        offset = offset.clamp(-1_000_000, 1_000_000) * 1000;
    }
    let offset = offset.clamp(-MAXPHASE, MAXPHASE);
    let mut secs = now_sec.saturating_sub(ntp.reftime);
    if ntp.status & STA_FREQHOLD != 0 {
        secs = 0;
    }
    ntp.reftime = now_sec;
    ntp.status &= !STA_MODE;
    let mut freq_adj: i64 = 0;
    if secs >= MINSEC && (ntp.status & STA_FLL != 0 || secs > MAXSEC) {
        ntp.status |= STA_MODE;
        freq_adj = (offset << (32 - SHIFT_FLL)) / secs;
    }
    let tc = d.time_constant;
    secs = secs.min(1 << (SHIFT_PLL + 1 + tc));
    let pll = ((offset as i128 * secs as i128) << (32 - 2 * (SHIFT_PLL + 2 + tc))) as i64;
    freq_adj = freq_adj.saturating_add(pll);
    d.time_freq = freq_adj
        .saturating_add(d.time_freq)
        .clamp(-MAXFREQ_SCALED, MAXFREQ_SCALED);
    d.time_offset = offset << 32;
}

fn get(b: &[u8; TIMEX_SIZE], at: usize) -> i64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(w)
}

fn put(b: &mut [u8; TIMEX_SIZE], at: usize, v: i64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Linux's timekeeping_validate_timex, then do_adjtimex: EINVAL for bad values first where
/// Linux checks them first, EPERM for changes without CAP_SYS_TIME. The offsets and rates
/// set go to the clock ([`time::discipline`]), which slews by them as Linux's does.
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
    if modes & ADJ_FREQUENCY != 0 && modes & ADJ_ADJTIME == 0 {
        let f = get(&b, 16);
        if !(i64::MIN / PPM_SCALE..=i64::MAX / PPM_SCALE).contains(&f) {
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
        wall_clock_set();
    }
    let now = time::realtime_ns();
    let mut ntp = NTP.lock();
    // The maximum error grows by the worst frequency error, 500 µs a second, up to the
    // limit where the clock counts as unsynchronized (Linux's second_overflow).
    let up = time::uptime_ns();
    let secs = up.saturating_sub(ntp.maxerror_at) / 1_000_000_000;
    ntp.maxerror_at += secs * 1_000_000_000;
    ntp.maxerror = ntp
        .maxerror
        .saturating_add((secs as i64).saturating_mul(time::MAX_TICKADJ_US));
    if ntp.maxerror > NTP_PHASE_LIMIT {
        ntp.maxerror = NTP_PHASE_LIMIT;
        ntp.status |= STA_UNSYNC;
    }
    let (d, offset, tai) = time::discipline(|d| {
        if modes & ADJ_ADJTIME != 0 {
            // adjtime(3): a single-shot offset in µs, independent of the PLL; the offset left
            // of the previous one is reported.
            let left = d.time_adjust;
            if modes & ADJ_OFFSET_READONLY == 0 {
                d.time_adjust = get(&b, 8);
            }
            return (*d, left, time::tai_offset());
        }
        if modes & ADJ_STATUS != 0 {
            let st = get(&b, 40) as i32;
            if ntp.status & STA_PLL != 0 && st & STA_PLL == 0 {
                // Leaving PLL mode resets the state (Linux's process_adj_status).
                ntp.status = STA_UNSYNC;
                d.leap.reset();
            }
            if ntp.status & STA_PLL == 0 && st & STA_PLL != 0 {
                ntp.reftime = now.div_euclid(1_000_000_000);
            }
            ntp.status = (ntp.status & STA_RONLY) | (st & !STA_RONLY);
            // The clock acts on a leap second asked for at its next second boundary.
            d.leap_status = ntp.status & (STA_INS | STA_DEL);
        }
        if modes & ADJ_NANO != 0 {
            ntp.status |= STA_NANO;
        }
        if modes & ADJ_MICRO != 0 {
            ntp.status &= !STA_NANO;
        }
        if modes & ADJ_FREQUENCY != 0 {
            d.time_freq = get(&b, 16)
                .saturating_mul(PPM_SCALE)
                .clamp(-MAXFREQ_SCALED, MAXFREQ_SCALED);
        }
        if modes & ADJ_MAXERROR != 0 {
            ntp.maxerror = get(&b, 24);
        }
        if modes & ADJ_ESTERROR != 0 {
            ntp.esterror = get(&b, 32);
        }
        if modes & ADJ_TIMECONST != 0 {
            let mut tc = get(&b, 48);
            if ntp.status & STA_NANO == 0 {
                tc = tc.saturating_add(4);
            }
            d.time_constant = tc.clamp(0, MAXTC);
        }
        if modes & ADJ_TAI != 0 {
            let tai = get(&b, 48);
            if (0..=MAX_TAI_OFFSET).contains(&tai) {
                time::set_tai_offset(tai);
            }
        }
        if modes & ADJ_OFFSET != 0 {
            update_offset(&mut ntp, d, get(&b, 8), now.div_euclid(1_000_000_000));
        }
        if modes & ADJ_TICK != 0 {
            d.tick_usec = get(&b, 88);
        }
        // The phase offset left to apply (Linux reports it through a u32 in µs mode).
        let left = time::shift_right(d.time_offset, 32);
        let left = if ntp.status & STA_NANO != 0 {
            left
        } else {
            (left as u32 / 1000) as i64
        };
        (*d, left, time::tai_offset())
    });
    let mut out = [0u8; TIMEX_SIZE];
    out[..4].copy_from_slice(&modes.to_le_bytes());
    put(&mut out, 8, offset);
    let freq = time::shift_right((d.time_freq >> PPM_SCALE_INV_SHIFT) * PPM_SCALE_INV, 32);
    put(&mut out, 16, freq);
    put(&mut out, 24, ntp.maxerror);
    put(&mut out, 32, ntp.esterror);
    out[40..44].copy_from_slice(&ntp.status.to_le_bytes());
    put(&mut out, 48, d.time_constant);
    put(&mut out, 56, 1); // precision (µs)
    put(&mut out, 64, MAXFREQ_SCALED / PPM_SCALE); // tolerance
    let frac = now.rem_euclid(1_000_000_000);
    let nano = ntp.status & STA_NANO != 0;
    put(&mut out, 72, now.div_euclid(1_000_000_000)); // time.tv_sec
    put(&mut out, 80, if nano { frac } else { frac / 1000 }); // time.tv_usec
    put(&mut out, 88, d.tick_usec);
    out[160..164].copy_from_slice(&(tai as i32).to_le_bytes());
    let state = if error_status(ntp.status) {
        TIME_ERROR
    } else {
        d.leap.state
    };
    drop(ntp);
    // A leap second armed: the boot CPU's tick looks at the clock at its second boundaries
    // (`leap_tick`), from the next one on.
    if let Some(at) = time::leap_due() {
        crate::sched::note_deadline(at);
    }
    uaccess::write_bytes(addr, &out)?;
    ok(state as usize)
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
