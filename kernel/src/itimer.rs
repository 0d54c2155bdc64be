//! Timers that send signals: the interval timers of setitimer/alarm (ITIMER_REAL on the
//! monotonic clock, ITIMER_VIRTUAL on user CPU time, ITIMER_PROF on user+system CPU time) and
//! POSIX timers (timer_create). Checked by a tick hook, which asks the scheduler for the
//! earliest expiry on the monotonic or wall clock (the timer is armed for it, without
//! slack, as Linux's hrtimers for these are); timers on CPU time are checked every tick
//! while one is armed.

use crate::proc::{self, Process};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::signal::{SIGALRM, SIGPROF, SIGVTALRM};

pub use lintel_abi::time::{ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL};

/// Processes with at least one armed timer.
static ARMED: Mutex<BTreeMap<i32, Weak<Process>>> = Mutex::new(BTreeMap::new());

/// The clock a timer counts on, now.
fn clock(p: &Process, which: usize) -> u64 {
    match which {
        ITIMER_REAL => crate::time::uptime_ns(),
        ITIMER_VIRTUAL => p.cpu_times().0,
        _ => {
            let (u, s) = p.cpu_times();
            u + s
        }
    }
}

/// When the boot CPU must look at a timer expiring at `expiry` on clock `which` (monotonic
/// ns): its expiry on the monotonic clock, the next tick for CPU time.
fn mono_deadline(which: usize, expiry: u64) -> u64 {
    match which {
        ITIMER_REAL => expiry,
        _ => crate::time::uptime_ns().saturating_add(crate::sched::TICK_NS),
    }
}

/// The same for a POSIX timer.
fn posix_mono_deadline(c: TimerClock, expiry: u64) -> u64 {
    match c {
        TimerClock::Monotonic => expiry,
        TimerClock::Realtime => {
            let now = crate::time::realtime_ns().max(0) as u64;
            crate::time::uptime_ns().saturating_add(expiry.saturating_sub(now))
        }
        TimerClock::ProcessCpu | TimerClock::ThreadCpu(_) => {
            crate::time::uptime_ns().saturating_add(crate::sched::TICK_NS)
        }
    }
}

/// Current (remaining, interval) of a timer in ns.
pub fn get(p: &Process, which: usize) -> (u64, u64) {
    let (expiry, interval) = p.itimers.lock()[which];
    if expiry == 0 {
        return (0, interval);
    }
    // An armed timer never reports zero remaining time.
    (expiry.saturating_sub(clock(p, which)).max(1), interval)
}

/// Arms (value > 0) or disarms a timer; returns the previous (remaining, interval), read in
/// the same step (two setitimer calls at once each see the other's setting or the one
/// before both).
pub fn set(p: &Arc<Process>, which: usize, value: u64, interval: u64) -> (u64, u64) {
    let (old, expiry) = {
        let mut timers = p.itimers.lock();
        let (expiry, old_interval) = timers[which];
        let now = clock(p, which);
        let old = if expiry == 0 {
            (0, old_interval)
        } else {
            (expiry.saturating_sub(now).max(1), old_interval)
        };
        let expiry = if value == 0 {
            0
        } else {
            now.saturating_add(value)
        };
        timers[which] = (expiry, interval);
        (old, expiry)
    };
    if expiry != 0 {
        watch(p, mono_deadline(which, expiry));
    }
    old
}

/// `p` has a timer armed that the tick must look at by `at` (monotonic ns). Called after the
/// timer is stored: a tick that finds `p` on `ARMED` then also finds the timer armed, and
/// one that looked at `p` before the store and found nothing armed checks again before it
/// takes `p` off (`forget_if_unarmed`).
fn watch(p: &Arc<Process>, at: u64) {
    ARMED.lock().insert(p.pid, Arc::downgrade(p));
    crate::sched::note_deadline(at);
}

/// Takes `p` off `ARMED` unless one of its timers is armed, both under `ARMED`'s lock: the
/// tick saw none armed, but another CPU may have armed one since, and its `watch` either
/// came before this (the timer shows here) or comes after (it puts `p` back). Without the
/// check, a timer armed while the tick looked at `p` was never looked at again (a timer set
/// in the past that never expired, seen without the big kernel lock).
fn forget_if_unarmed(pid: i32, p: &Process) {
    let mut armed = ARMED.lock();
    let itimer_armed = p.itimers.lock().iter().any(|&(expiry, _)| expiry != 0);
    if !itimer_armed && !p.timers.lock().values().any(|t| t.expiry != 0) {
        armed.remove(&pid);
    }
}

pub use crate::proc::timer::{PosixTimer, TimerClock};

fn timer_clock_now(p: &Process, c: TimerClock) -> u64 {
    proc::timer::clock_now(p, c)
}

/// Remaining time and interval of a POSIX timer.
pub fn timer_get(p: &Process, t: &PosixTimer) -> (u64, u64) {
    if t.expiry == 0 {
        return (0, t.interval);
    }
    (
        t.expiry
            .saturating_sub(timer_clock_now(p, t.expiry_clock()))
            .max(1),
        t.interval,
    )
}

/// Arms (value > 0) or disarms POSIX timer `id` of `p`, `value` relative unless `absolute`;
/// returns its previous (remaining, interval), or None when `p` has no timer `id`. The timer
/// is read and changed in place under `p.timers` (the tick fires timers under the same
/// lock), and only then watched: the tick never sees `p` on `ARMED` with the timer not yet
/// stored.
pub fn timer_set(
    p: &Arc<Process>,
    id: i32,
    value: u64,
    interval: u64,
    absolute: bool,
) -> Option<(u64, u64)> {
    let (old, deadline) = {
        let mut timers = p.timers.lock();
        let t = timers.get_mut(&id)?;
        let old = timer_get(p, t);
        t.interval = interval;
        t.overrun = 0;
        t.relative_realtime = !absolute && matches!(t.clock, TimerClock::Realtime);
        t.expiry = if value == 0 {
            0
        } else if absolute {
            value.max(1)
        } else {
            timer_clock_now(p, t.expiry_clock()).saturating_add(value)
        };
        let deadline = (t.expiry != 0).then(|| posix_mono_deadline(t.expiry_clock(), t.expiry));
        (old, deadline)
    };
    if let Some(at) = deadline {
        watch(p, at);
    }
    Some(old)
}

/// Fires the expired POSIX timers of `p`; returns when the earliest one still armed must be
/// looked at (monotonic ns), if any is.
fn posix_tick(p: &Arc<Process>) -> Option<u64> {
    let mut fire = Vec::new();
    let mut next: Option<u64> = None;
    let mut note = |c: TimerClock, expiry: u64| {
        let at = posix_mono_deadline(c, expiry);
        next = Some(next.map_or(at, |n: u64| n.min(at)));
    };
    {
        let mut timers = p.timers.lock();
        for (id, t) in timers.iter_mut() {
            if t.expiry == 0 {
                continue;
            }
            let now = timer_clock_now(p, t.expiry_clock());
            if now < t.expiry {
                note(t.expiry_clock(), t.expiry);
                continue;
            }
            if let Some(missed) = (now - t.expiry).checked_div(t.interval) {
                // Expiries missed since the last one count as overruns.
                t.overrun = t.overrun.saturating_add(missed.min(i32::MAX as u64) as i32);
                t.expiry += (missed + 1) * t.interval;
                note(t.expiry_clock(), t.expiry);
            } else {
                t.expiry = 0;
            }
            if t.notify {
                fire.push((*id, *t));
            }
        }
    }
    for (id, t) in fire {
        let target = t.thread.and_then(proc::find_thread);
        // While the previous expiry's signal is still queued, later expiries only count as
        // overruns of it (Linux queues one signal per timer).
        let queued = match &target {
            Some(th) => th.pending.lock().bump_timer(t.signo, id, t.overrun + 1),
            None => p
                .shared_pending
                .lock()
                .bump_timer(t.signo, id, t.overrun + 1),
        };
        let reported = match queued {
            Some(total) => total,
            None => {
                let info = proc::signal::SigInfo::timer(t.signo, id, t.overrun, t.value);
                proc::send_signal(p, target.as_ref(), info);
                t.overrun
            }
        };
        if let Some(x) = p.timers.lock().get_mut(&id) {
            x.overrun = 0;
            x.last_overrun = reported;
        }
    }
    next
}

/// Timer-tick work: fires expired timers; returns when the earliest armed one must be looked
/// at.
pub fn tick() -> Option<u64> {
    let armed: Vec<(i32, Weak<Process>)> =
        ARMED.lock().iter().map(|(k, v)| (*k, v.clone())).collect();
    let mut earliest: Option<u64> = None;
    for (pid, w) in armed {
        let Some(p) = w.upgrade().filter(|p| p.exit_status.lock().is_none()) else {
            ARMED.lock().remove(&pid);
            continue;
        };
        let mut next: Option<u64> = None;
        let mut note = |at: u64| next = Some(next.map_or(at, |n: u64| n.min(at)));
        for (which, sig) in [
            (ITIMER_REAL, SIGALRM),
            (ITIMER_VIRTUAL, SIGVTALRM),
            (ITIMER_PROF, SIGPROF),
        ] {
            let (expiry, interval) = p.itimers.lock()[which];
            if expiry == 0 {
                continue;
            }
            let now = clock(&p, which);
            if now < expiry {
                note(mono_deadline(which, expiry));
                continue;
            }
            // Linux re-arms a periodic timer when its signal is dequeued; a signal that is
            // ignored (and not blocked) is discarded at once, so the timer stops.
            let ignored = {
                let act = p.sigactions.get().lock()[sig as usize - 1];
                proc::signal::is_ignored(&act, sig)
                    && p.live_threads().iter().all(|t| !t.sigmask.lock().has(sig))
            };
            // A periodic timer keeps its phase (Linux's hrtimer_forward_now): the next
            // expiry is the first multiple of the interval after now.
            let next = if interval > 0 && !ignored {
                expiry.saturating_add(((now - expiry) / interval + 1).saturating_mul(interval))
            } else {
                0
            };
            // Only the expiry read above moves on: a setitimer on another CPU since then
            // keeps its own setting (it watched it itself) and this expiry is dropped.
            {
                let mut timers = p.itimers.lock();
                if timers[which] != (expiry, interval) {
                    continue;
                }
                timers[which].0 = next;
            }
            proc::send_simple(&p, None, sig, proc::signal::SI_KERNEL, None);
            if next != 0 {
                note(mono_deadline(which, next));
            }
        }
        if let Some(at) = posix_tick(&p) {
            note(at);
        }
        match next {
            Some(at) => earliest = Some(earliest.map_or(at, |e| e.min(at))),
            None => forget_if_unarmed(pid, &p),
        }
    }
    earliest
}
