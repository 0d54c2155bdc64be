//! Time, sleeping, system information, randomness and resource limits.

use super::{ok, Call, SysResult};
use crate::proc::{Rlimit, RLIMIT_NOFILE, RLIM_NLIMITS};
use crate::{sched, time, uaccess};
use lintel_abi::Errno;

pub fn put_timespec(addr: usize, ns: i64) -> Result<(), Errno> {
    let t = time::ns_to_timespec(ns);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&t.sec.to_le_bytes());
    b[8..].copy_from_slice(&t.nsec.to_le_bytes());
    uaccess::write_bytes(addr, &b)
}

/// Reads a `struct timespec`, EINVAL unless 0 <= nsec < 1e9 and sec >= 0.
pub fn get_timespec(addr: usize) -> Result<i64, Errno> {
    let mut b = [0u8; 16];
    uaccess::read_bytes(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
    if !(0..1_000_000_000).contains(&nsec) || sec < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(sec.saturating_mul(1_000_000_000).saturating_add(nsec))
}

const CLOCK_REALTIME: usize = 0;
const CLOCK_MONOTONIC: usize = 1;
const CLOCK_PROCESS_CPUTIME_ID: usize = 2;
const CLOCK_THREAD_CPUTIME_ID: usize = 3;
const CLOCK_MONOTONIC_RAW: usize = 4;
const CLOCK_REALTIME_COARSE: usize = 5;
const CLOCK_MONOTONIC_COARSE: usize = 6;
const CLOCK_BOOTTIME: usize = 7;
const CLOCK_REALTIME_ALARM: usize = 8;
const CLOCK_BOOTTIME_ALARM: usize = 9;
const CLOCK_TAI: usize = 11;

/// A CPU-time clock id as glibc encodes it (clock_getcpuclockid, pthread_getcpuclockid, and
/// CLOCK_*_CPUTIME_ID): `(~pid << 3) | (thread ? 4 : 0) | type`, pid 0 meaning the caller.
/// Returns (process, thread) to measure; only the SCHED type (2) and PROF (0) are valid.
fn decode_cpu_clock(
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
    let me = sched::current();
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
        Some(t) => t.cpu.lock().user_sys(time::uptime_ns()),
        None => p.cpu_times(),
    };
    // CPUCLOCK_VIRT (1) counts user time only.
    Ok(if id as i32 & 3 == 1 { u } else { u + s } as i64)
}

fn clock_now(id: usize) -> Result<i64, Errno> {
    if (id as i32) < 0 {
        return cpu_clock_now(id);
    }
    Ok(match id {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_REALTIME_ALARM => time::realtime_ns(),
        CLOCK_TAI => time::realtime_ns() + 37_000_000_000,
        CLOCK_MONOTONIC
        | CLOCK_MONOTONIC_RAW
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_BOOTTIME
        | CLOCK_BOOTTIME_ALARM => time::uptime_ns() as i64,
        CLOCK_PROCESS_CPUTIME_ID => {
            let (u, s) = sched::current().proc_ref().cpu_times();
            (u + s) as i64
        }
        CLOCK_THREAD_CPUTIME_ID => {
            let (u, s) = sched::current().cpu.lock().user_sys(time::uptime_ns());
            (u + s) as i64
        }
        _ => return Err(Errno::EINVAL),
    })
}

pub fn clock_gettime(c: &mut Call) -> SysResult {
    let ns = clock_now(c.a[0])?;
    put_timespec(c.a[1], ns)?;
    ok(0)
}

pub fn clock_getres(c: &mut Call) -> SysResult {
    clock_now(c.a[0])?;
    if c.a[1] != 0 {
        let res = if matches!(c.a[0], CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE) {
            4_000_000
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
        uaccess::write_bytes(c.a[1], &[0u8; 8])?;
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

/// Sleeps until the monotonic `deadline`. Interrupted by a signal, it writes the time left to
/// `rem` (if given) and asks for a restart block, so a signal without a handler (a stop and
/// continue) resumes the sleep through restart_syscall.
fn sleep_until_deadline(deadline: u64, rem: usize) -> SysResult {
    let t = sched::current();
    loop {
        let now = time::uptime_ns();
        if now >= deadline {
            *t.restart_sleep.lock() = None;
            return ok(0);
        }
        if let Some(e) = crate::proc::interrupted(&t, Errno::ERESTART_RESTARTBLOCK) {
            if rem != 0 {
                put_timespec(rem, (deadline - now) as i64)?;
            }
            *t.restart_sleep.lock() = Some((deadline, rem));
            return Err(e);
        }
        sched::sleep_until(deadline);
    }
}

pub fn nanosleep(c: &mut Call) -> SysResult {
    let ns = get_timespec(c.a[0])?;
    sleep_until_deadline(time::uptime_ns().saturating_add(ns as u64), c.a[1])
}

pub fn clock_nanosleep(c: &mut Call) -> SysResult {
    let [id, flags, req, rem, _, _] = c.a;
    // There is no sleeping on a thread's CPU clock (libc turns this into EINVAL).
    if id == CLOCK_THREAD_CPUTIME_ID || (id as i32) < 0 && id as i32 & 4 != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if flags & !1 != 0 {
        return Err(Errno::EINVAL);
    }
    let now = clock_now(id)?;
    let t = get_timespec(req)?;
    let absolute = flags & 1 != 0;
    let ns = if absolute { t - now } else { t };
    // An absolute sleep is simply restarted; only relative ones report the time left.
    let r = sleep_until_deadline(
        time::uptime_ns().saturating_add(ns.max(0) as u64),
        if absolute { 0 } else { rem },
    );
    match r {
        // An absolute sleep restarts with its original arguments.
        Err(Errno::ERESTART_RESTARTBLOCK) if absolute => Err(Errno::ERESTARTNOHAND),
        other => other,
    }
}

/// restart_syscall: continues an interrupted nanosleep after a signal that ran no handler.
pub fn restart_syscall(c: &mut Call) -> SysResult {
    let saved = c.thread.restart_sleep.lock().take();
    match saved {
        Some((deadline, rem)) => sleep_until_deadline(deadline, rem),
        None => Err(Errno::EINTR),
    }
}

pub fn uname(c: &mut Call) -> SysResult {
    let mut b = [0u8; 65 * 6];
    let fields: [&[u8]; 6] = [
        b"Linux",
        b"lintel",
        b"6.1.0-lintel",
        b"#1 SMP Lintel",
        b"x86_64",
        b"(none)",
    ];
    for (i, f) in fields.iter().enumerate() {
        b[i * 65..i * 65 + f.len()].copy_from_slice(f);
    }
    uaccess::write_bytes(c.a[0], &b)?;
    ok(0)
}

pub fn getrandom(c: &mut Call) -> SysResult {
    let [buf, len, flags, ..] = c.a;
    if flags & !0x7 != 0 || flags & 0x5 == 0x5 {
        return Err(Errno::EINVAL);
    }
    let len = len.min(32 << 20);
    let mut tmp = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(tmp.len());
        crate::random::fill(&mut tmp[..n]);
        if let Err(e) = uaccess::write_bytes(buf + done, &tmp[..n]) {
            if done == 0 {
                return Err(e);
            }
            break;
        }
        done += n;
    }
    ok(done)
}

fn rlimit_bytes(r: Rlimit) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&r.cur.to_le_bytes());
    b[8..].copy_from_slice(&r.max.to_le_bytes());
    b
}

fn do_prlimit(c: &mut Call, pid: i32, res: usize, new: usize, old: usize) -> SysResult {
    if res >= RLIM_NLIMITS {
        return Err(Errno::EINVAL);
    }
    let p = if pid == 0 {
        c.thread.process()
    } else {
        crate::proc::find_process(pid).ok_or(Errno::ESRCH)?
    };
    let newv = if new != 0 {
        let mut b = [0u8; 16];
        uaccess::read_bytes(new, &mut b)?;
        let r = Rlimit {
            cur: u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])),
            max: u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8])),
        };
        if r.cur > r.max {
            return Err(Errno::EINVAL);
        }
        let cur = p.rlimit(res);
        if r.max > cur.max && p.cred.lock().euid != 0 {
            return Err(Errno::EPERM);
        }
        if res == RLIMIT_NOFILE && r.max > 1024 * 1024 {
            return Err(Errno::EPERM);
        }
        Some(r)
    } else {
        None
    };
    if old != 0 {
        uaccess::write_bytes(old, &rlimit_bytes(p.rlimit(res)))?;
    }
    if let Some(r) = newv {
        p.rlimits.lock()[res] = r;
    }
    ok(0)
}

pub fn prlimit64(c: &mut Call) -> SysResult {
    let [pid, res, new, old, ..] = c.a;
    do_prlimit(c, pid as i32, res, new, old)
}

pub fn getrlimit(c: &mut Call) -> SysResult {
    let [res, old, ..] = c.a;
    do_prlimit(c, 0, res, 0, old)
}

pub fn setrlimit(c: &mut Call) -> SysResult {
    let [res, new, ..] = c.a;
    do_prlimit(c, 0, res, new, 0)
}

pub fn sysinfo(c: &mut Call) -> SysResult {
    let mut b = [0u8; 112];
    // Whole seconds, rounded up as Linux does (never 0).
    let up = time::uptime_ns().div_ceil(1_000_000_000);
    b[0..8].copy_from_slice(&up.to_le_bytes());
    let total = lintel_hal::mm::total_frames() as u64 * 4096;
    let free = lintel_hal::mm::free_frames() as u64 * 4096;
    b[32..40].copy_from_slice(&total.to_le_bytes());
    b[40..48].copy_from_slice(&free.to_le_bytes());
    b[80..82].copy_from_slice(&(crate::proc::all_pids().len() as u16).to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
    uaccess::write_bytes(c.a[0], &b)?;
    ok(0)
}

/// Reads a `struct itimerval` (interval, then value; timevals) as ns.
fn get_itimerval(addr: usize) -> Result<(u64, u64), Errno> {
    let b = uaccess::read_vec(addr, 32)?;
    let w = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let tv = |s: i64, us: i64| -> Result<u64, Errno> {
        if s < 0 || !(0..1_000_000).contains(&us) {
            return Err(Errno::EINVAL);
        }
        Ok((s as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(us as u64 * 1000))
    };
    Ok((tv(w(0), w(1))?, tv(w(2), w(3))?))
}

fn put_itimerval(addr: usize, remaining: u64, interval: u64) -> Result<(), Errno> {
    let mut b = [0u8; 32];
    // Round up to whole microseconds so an armed timer never reads as zero.
    let tv = |ns: u64| {
        (
            (ns / 1_000_000_000) as i64,
            (ns % 1_000_000_000).div_ceil(1000) as i64,
        )
    };
    let (is, iu) = tv(interval);
    let (vs, vu) = tv(remaining);
    for (i, v) in [is, iu, vs, vu].iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    uaccess::write_bytes(addr, &b)
}

pub fn getitimer(c: &mut Call) -> SysResult {
    let which = c.a[0];
    if which > crate::itimer::ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let (rem, int) = crate::itimer::get(c.thread.proc_ref(), which);
    put_itimerval(c.a[1], rem, int)?;
    ok(0)
}

pub fn setitimer(c: &mut Call) -> SysResult {
    let [which, new, old, ..] = c.a;
    if which > crate::itimer::ITIMER_PROF {
        return Err(Errno::EINVAL);
    }
    let (interval, value) = if new != 0 {
        get_itimerval(new)?
    } else {
        (0, 0)
    };
    let p = c.thread.process();
    let (rem, int) = crate::itimer::set(&p, which, value, interval);
    if old != 0 {
        put_itimerval(old, rem, int)?;
    }
    ok(0)
}

/// alarm(2): arms ITIMER_REAL for `secs` seconds; returns the seconds left on the previous
/// alarm, rounded to nearest, and at least 1 if one was pending.
pub fn alarm(c: &mut Call) -> SysResult {
    let secs = c.a[0] as u32 as u64;
    let p = c.thread.process();
    let (rem, _) = crate::itimer::set(&p, crate::itimer::ITIMER_REAL, secs * 1_000_000_000, 0);
    if rem == 0 {
        return ok(0);
    }
    ok(((rem + 500_000_000) / 1_000_000_000).max(1) as usize)
}

fn timer_clock(c: &Call, clockid: usize) -> Result<crate::itimer::TimerClock, Errno> {
    use crate::itimer::TimerClock;
    if (clockid as i32) < 0 {
        let (_, t) = decode_cpu_clock(clockid)?;
        return Ok(match t {
            Some(t) => TimerClock::ThreadCpu(t.tid()),
            None => TimerClock::ProcessCpu,
        });
    }
    Ok(match clockid {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM => TimerClock::Realtime,
        CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => TimerClock::Monotonic,
        CLOCK_PROCESS_CPUTIME_ID => TimerClock::ProcessCpu,
        CLOCK_THREAD_CPUTIME_ID => TimerClock::ThreadCpu(c.thread.tid()),
        _ => return Err(Errno::EINVAL),
    })
}

pub fn timer_create(c: &mut Call) -> SysResult {
    const SIGEV_SIGNAL: i32 = 0;
    const SIGEV_NONE: i32 = 1;
    const SIGEV_THREAD_ID: i32 = 4;
    let [clockid, sevp, idp, ..] = c.a;
    let clock = timer_clock(c, clockid)?;
    let p = c.thread.process();
    let id = {
        let t = p.timers.lock();
        (0..).find(|i| !t.contains_key(i)).unwrap_or(0)
    };
    let (value, signo, notify, tid) = if sevp != 0 {
        let b = uaccess::read_vec(sevp, 20)?;
        let value = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let signo = i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let notify = i32::from_le_bytes(b[12..16].try_into().unwrap_or([0; 4]));
        let tid = i32::from_le_bytes(b[16..20].try_into().unwrap_or([0; 4]));
        (value, signo, notify, tid)
    } else {
        (id as u64, 14, SIGEV_SIGNAL, 0)
    };
    let (notify_on, thread) = match notify {
        SIGEV_NONE => (false, None),
        SIGEV_SIGNAL => (true, None),
        SIGEV_THREAD_ID => {
            let t = crate::proc::find_thread(tid).ok_or(Errno::EINVAL)?;
            if t.proc_ref().pid != p.pid {
                return Err(Errno::EINVAL);
            }
            (true, Some(tid))
        }
        _ => return Err(Errno::EINVAL),
    };
    if notify_on && !(1..=64).contains(&signo) {
        return Err(Errno::EINVAL);
    }
    uaccess::write_i32(idp, id)?;
    p.timers.lock().insert(
        id,
        crate::itimer::PosixTimer {
            clock,
            signo: signo as u32,
            value,
            thread,
            notify: notify_on,
            expiry: 0,
            interval: 0,
            overrun: 0,
            last_overrun: 0,
        },
    );
    ok(0)
}

fn put_itimerspec(addr: usize, remaining: u64, interval: u64) -> Result<(), Errno> {
    put_timespec(addr, interval as i64)?;
    put_timespec(addr + 16, remaining as i64)
}

pub fn timer_settime(c: &mut Call) -> SysResult {
    let [id, flags, new, old, ..] = c.a;
    let id = id as i32;
    let interval = get_timespec(new)? as u64;
    let value = get_timespec(new + 16)? as u64;
    let p = c.thread.process();
    let mut t = *p.timers.lock().get(&id).ok_or(Errno::EINVAL)?;
    if old != 0 {
        let (rem, int) = crate::itimer::timer_get(&p, &t);
        put_itimerspec(old, rem, int)?;
    }
    crate::itimer::timer_arm(&p, &mut t, value, interval, flags & 1 != 0);
    if let Some(x) = p.timers.lock().get_mut(&id) {
        *x = t;
    }
    ok(0)
}

pub fn timer_gettime(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let t = *p.timers.lock().get(&(c.a[0] as i32)).ok_or(Errno::EINVAL)?;
    let (rem, int) = crate::itimer::timer_get(&p, &t);
    put_itimerspec(c.a[1], rem, int)?;
    ok(0)
}

pub fn timer_getoverrun(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let t = *p.timers.lock().get(&(c.a[0] as i32)).ok_or(Errno::EINVAL)?;
    ok(t.last_overrun.max(0) as usize)
}

pub fn timer_delete(c: &mut Call) -> SysResult {
    let p = c.thread.process();
    let id = c.a[0] as i32;
    p.timers.lock().remove(&id).ok_or(Errno::EINVAL)?;
    // Expiries not yet delivered go with the timer.
    p.shared_pending.lock().remove_timer(id);
    for t in p.live_threads() {
        t.pending.lock().remove_timer(id);
    }
    ok(0)
}

/// personality(2): 0xffffffff queries; any other value is stored and the old one returned.
/// Only PER_LINUX (0) and its flag bits are accepted as the domain, like a kernel without
/// other execution domains; ADDR_NO_RANDOMIZE turns ASLR off for the next execve.
pub fn personality(c: &mut Call) -> SysResult {
    let p = c.thread.proc_ref();
    let old = p.personality.load(core::sync::atomic::Ordering::Relaxed);
    let want = c.a[0] as u32;
    if want != 0xffff_ffff {
        p.personality
            .store(want, core::sync::atomic::Ordering::Relaxed);
    }
    ok(old as usize)
}
