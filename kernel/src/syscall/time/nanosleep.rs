//! nanosleep, clock_nanosleep, restart_syscall

use crate::sched;
use crate::syscall::ok;
use crate::syscall::time::clock_now;
use crate::syscall::time::get_timespec;
use crate::syscall::time::put_timespec;
use crate::syscall::time::CLOCK_REALTIME;
use crate::syscall::time::CLOCK_REALTIME_ALARM;
use crate::syscall::time::CLOCK_THREAD_CPUTIME_ID;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use lintel_abi::time::CLOCK_TAI;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("nanosleep", nanosleep, ""),
    Syscall::implemented("clock_nanosleep", clock_nanosleep, ""),
    Syscall::implemented(
        "restart_syscall",
        restart_syscall,
        "nanosleep and clock_nanosleep",
    ),
];

/// Sleeps until the monotonic `deadline`. Interrupted by a signal, it writes the time left to
/// `rem` (if given) and asks for a restart block, so a signal without a handler (a stop and
/// continue) resumes the sleep through restart_syscall.
fn sleep_until_deadline(deadline: u64, rem: usize) -> SysResult {
    let t = crate::proc::current();
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
        sched::sleep_until(deadline, false);
    }
}

/// Sleeps until the wall clock reaches `target` (clock_nanosleep on CLOCK_REALTIME with
/// TIMER_ABSTIME): setting the clock ends the wait early, and the deadline is computed again
/// from the new time, as Linux's hrtimers on the realtime base are moved by clock_settime.
fn sleep_until_wall_clock(target: i64) -> SysResult {
    let t = crate::proc::current();
    loop {
        let now = time::realtime_ns();
        if now >= target {
            return ok(0);
        }
        if let Some(e) = crate::proc::interrupted(&t, Errno::ERESTARTNOHAND) {
            return Err(e);
        }
        let left = target.saturating_sub(now) as u64;
        sched::sleep_until(time::uptime_ns().saturating_add(left), true);
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
    if absolute && matches!(id, CLOCK_REALTIME | CLOCK_REALTIME_ALARM | CLOCK_TAI) {
        // The target on the wall clock (TAI is the wall clock plus a fixed offset).
        return sleep_until_wall_clock(t - (now - time::realtime_ns()));
    }
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
