//! timerfd: a timer whose expirations are read as a count. Expirations are computed from the
//! clock when the file is read or polled; armed timers are also checked on every timer tick so
//! pollers wake when they expire.

use super::file::{poll_notify, FileOps, OpenFile, POLLIN, POLLRDNORM, POLL_WAIT};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use lintel_abi::stat::{Stat, S_IFREG};
use lintel_abi::{Errno, KResult};
use spin::Mutex;

#[derive(Clone, Copy, Default)]
struct State {
    /// Next expiry on the timer's clock in ns (0 = disarmed), and the reload interval.
    expiry: u64,
    interval: u64,
    /// Expirations not read yet.
    ticks: u64,
}

pub struct TimerFd {
    realtime: bool,
    state: Mutex<State>,
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
        })
    }

    /// Folds elapsed expirations into the tick count.
    fn update(&self, s: &mut State) {
        if s.expiry == 0 {
            return;
        }
        let t = now(self.realtime);
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
            s.expiry.saturating_sub(now(self.realtime)).max(1)
        };
        (rem, s.interval)
    }

    /// Arms (value > 0) or disarms; returns the old (remaining, interval).
    pub fn set(self: &Arc<Self>, value: u64, interval: u64, absolute: bool) -> (u64, u64) {
        let old = self.get();
        let mut s = self.state.lock();
        s.ticks = 0;
        s.interval = interval;
        s.expiry = if value == 0 {
            0
        } else if absolute {
            value.max(1)
        } else {
            now(self.realtime).saturating_add(value)
        };
        if s.expiry != 0 {
            ARMED.lock().push(Arc::downgrade(self));
        }
        old
    }
}

/// Timer-tick work: wakes pollers of timers that expired.
pub fn tick() {
    let mut fired = false;
    let mut list = ARMED.lock();
    list.retain(|w| {
        let Some(t) = w.upgrade() else { return false };
        let mut s = t.state.lock();
        let before = s.ticks;
        t.update(&mut s);
        fired |= s.ticks != before;
        s.expiry != 0
    });
    drop(list);
    if fired {
        poll_notify();
    }
}

impl FileOps for TimerFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("[timerfd]")
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8], _: u64) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let t = crate::proc::current();
        loop {
            let next = {
                let mut s = self.state.lock();
                self.update(&mut s);
                if s.ticks > 0 {
                    buf[..8].copy_from_slice(&s.ticks.to_le_bytes());
                    s.ticks = 0;
                    return Ok(8);
                }
                s.expiry
            };
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            if let Some(e) = crate::proc::interrupted(&t, Errno::ERESTARTSYS) {
                return Err(e);
            }
            let deadline = if next == 0 {
                None
            } else if self.realtime {
                Some(crate::time::uptime_ns() + next.saturating_sub(now(true)))
            } else {
                Some(next)
            };
            POLL_WAIT.wait_once(deadline);
        }
    }

    fn write(&self, _: &OpenFile, _: &[u8], _: u64) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn poll(&self, _: &OpenFile) -> u32 {
        let mut s = self.state.lock();
        self.update(&mut s);
        if s.ticks > 0 {
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
