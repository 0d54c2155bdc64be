//! timerfd: a timer whose expirations are read as a count. Expirations are computed from the
//! clock when the file is read or polled; a tick hook wakes the pollers when one expires, and
//! asks the scheduler for the earliest expiry (without slack, as Linux's timerfd hrtimer).
//! An absolute wall-clock timer armed with TFD_TIMER_CANCEL_ON_SET notices that the clock was
//! set (the clock's set count moved): it polls readable and its next read fails with
//! ECANCELED, as Linux's timerfd_clock_was_set makes it.

use super::file::{poll_notify, FileOps, OpenFile, POLLIN, POLLRDNORM, POLL_WAIT};
use super::pollhook::PollHooks;
use crate::spinlock::Mutex;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};

#[derive(Clone, Copy, Default)]
struct State {
    /// Next expiry on the timer's clock in ns (0 = disarmed), and the reload interval.
    expiry: u64,
    interval: u64,
    /// Expirations not read yet.
    ticks: u64,
    /// TFD_TIMER_CANCEL_ON_SET with an absolute wall-clock time: the clock's set count when
    /// armed.
    cancel_on_set: Option<u64>,
    /// The clock was set since: the next read fails with ECANCELED.
    cancelled: bool,
    /// `expiry` counts on the wall clock: a CLOCK_REALTIME timer armed with an absolute
    /// time. A relative one counts on the monotonic clock, as Linux's (hrtimer_init turns a
    /// relative CLOCK_REALTIME timer into a CLOCK_MONOTONIC one): setting the clock does not
    /// move it.
    on_wall: bool,
}

pub struct TimerFd {
    realtime: bool,
    state: Mutex<State>,
    /// epoll's wake-up hooks, fired where the timer becomes readable: an expiry seen by the
    /// tick, a wall-clock set that cancels it.
    hooks: PollHooks,
}

static ARMED: Mutex<Vec<Weak<TimerFd>>> = Mutex::new(Vec::new());

fn now(realtime: bool) -> u64 {
    if realtime {
        crate::time::realtime_ns().max(0) as u64
    } else {
        crate::time::uptime_ns()
    }
}

impl TimerFd {
    pub fn new(realtime: bool) -> Arc<TimerFd> {
        Arc::new(TimerFd {
            realtime,
            state: Mutex::new(State::default()),
            hooks: PollHooks::new(),
        })
    }

    /// Folds elapsed expirations into the tick count; fires the hooks when that made the
    /// timer readable (whoever notices first: the tick, a poll, a gettime). Expirations
    /// while it is readable fire nothing, as Linux's timer is re-armed only by the read
    /// (edge-triggered epoll reports an unread periodic timer once).
    fn update(&self, s: &mut State) {
        let was_ready = s.ticks > 0 || s.cancelled;
        self.fold(s);
        if !was_ready && (s.ticks > 0 || s.cancelled) {
            self.hooks.fire(POLLIN | POLLRDNORM);
        }
    }

    fn fold(&self, s: &mut State) {
        if let Some(gen) = s.cancel_on_set {
            let now_gen = crate::time::clock_set_count();
            if now_gen != gen {
                s.cancel_on_set = Some(now_gen);
                s.cancelled = true;
            }
        }
        if s.expiry == 0 {
            return;
        }
        let t = now(s.on_wall);
        if t < s.expiry {
            return;
        }
        if let Some(k) = (t - s.expiry).checked_div(s.interval) {
            let n = k + 1;
            s.ticks = s.ticks.saturating_add(n);
            s.expiry += n * s.interval;
        } else {
            s.ticks = s.ticks.saturating_add(1);
            s.expiry = 0;
        }
    }

    /// (remaining, interval) as timerfd_gettime reports them.
    pub fn get(&self) -> (u64, u64) {
        let mut s = self.state.lock();
        self.update(&mut s);
        let rem = if s.expiry == 0 {
            0
        } else {
            s.expiry.saturating_sub(now(s.on_wall)).max(1)
        };
        (rem, s.interval)
    }

    /// The monotonic time at which the boot CPU must look at a timer whose expiry is
    /// `expiry` (on the wall clock when `on_wall`).
    fn mono_deadline(on_wall: bool, expiry: u64) -> u64 {
        if on_wall {
            let left = expiry.saturating_sub(now(true));
            crate::time::uptime_ns().saturating_add(left)
        } else {
            expiry
        }
    }

    /// Arms (value > 0) or disarms; returns the old (remaining, interval). `cancel_on_set`:
    /// TFD_TIMER_CANCEL_ON_SET, which counts only for an absolute wall-clock timer.
    pub fn set(
        self: &Arc<Self>,
        value: u64,
        interval: u64,
        absolute: bool,
        cancel_on_set: bool,
    ) -> (u64, u64) {
        let old = self.get();
        let mut s = self.state.lock();
        s.ticks = 0;
        s.interval = interval;
        s.cancelled = false;
        s.cancel_on_set =
            (cancel_on_set && absolute && self.realtime).then(crate::time::clock_set_count);
        let cancel_on_set = s.cancel_on_set.is_some();
        s.on_wall = self.realtime && absolute;
        s.expiry = if value == 0 {
            0
        } else if absolute {
            value.max(1)
        } else {
            now(false).saturating_add(value)
        };
        let (expiry, on_wall) = (s.expiry, s.on_wall);
        // The lists are taken after the timer's state is let go: `tick` and `clock_was_set`
        // hold a list while they take each timer's state (the lock order is list, then state).
        drop(s);
        if cancel_on_set {
            CANCEL_ON_SET.lock().push(Arc::downgrade(self));
        }
        if expiry != 0 {
            ARMED.lock().push(Arc::downgrade(self));
            crate::sched::note_deadline(Self::mono_deadline(on_wall, expiry));
        }
        old
    }
}

/// Timers armed with TFD_TIMER_CANCEL_ON_SET: the settime calls look at them.
static CANCEL_ON_SET: Mutex<Vec<Weak<TimerFd>>> = Mutex::new(Vec::new());

/// The wall clock was set: timers that cancel on it become readable (the caller wakes the
/// pollers).
pub fn clock_was_set() {
    CANCEL_ON_SET.lock().retain(|w| {
        let Some(t) = w.upgrade() else { return false };
        let mut s = t.state.lock();
        t.update(&mut s);
        s.cancel_on_set.is_some()
    });
}

/// Timer-tick work: wakes pollers of timers that expired; returns the earliest expiry still
/// armed.
pub fn tick() -> Option<u64> {
    let mut fired = false;
    let mut next: Option<u64> = None;
    let mut list = ARMED.lock();
    list.retain(|w| {
        let Some(t) = w.upgrade() else { return false };
        let mut s = t.state.lock();
        let before = s.ticks;
        t.update(&mut s);
        fired |= s.ticks != before;
        if s.expiry != 0 {
            let at = TimerFd::mono_deadline(s.on_wall, s.expiry);
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        s.expiry != 0
    });
    drop(list);
    if fired {
        poll_notify();
    }
    next
}

impl FileOps for TimerFd {
    fn poll_hooks(&self) -> Option<&PollHooks> {
        Some(&self.hooks)
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("[timerfd]")
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let t = crate::proc::current();
        loop {
            let tk = POLL_WAIT.ticket();
            let next = {
                let mut s = self.state.lock();
                self.update(&mut s);
                if s.cancelled {
                    s.cancelled = false;
                    s.ticks = 0;
                    return Err(Errno::ECANCELED);
                }
                if s.ticks > 0 {
                    buf[..8].copy_from_slice(&s.ticks.to_le_bytes());
                    s.ticks = 0;
                    return Ok(8);
                }
                (s.on_wall, s.expiry)
            };
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            if let Some(e) = crate::proc::interrupted(&t, Errno::ERESTARTSYS) {
                return Err(e);
            }
            let (on_wall, next) = next;
            let deadline = (next != 0).then(|| Self::mono_deadline(on_wall, next));
            POLL_WAIT.wait_once(tk, deadline);
        }
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let mut s = self.state.lock();
        self.update(&mut s);
        if s.ticks > 0 || s.cancelled {
            POLLIN | POLLRDNORM
        } else {
            0
        }
    }

    fn stat(&self) -> Stat {
        Stat {
            mode: S_IFREG | 0o600,
            ..Stat::default()
        }
    }
}
