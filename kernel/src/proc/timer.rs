//! The POSIX timers a process holds (timer_create). Only their state lives here, with the
//! process; arming, expiry and the signals they send are `itimer`'s, which runs from the tick.

/// The clock a POSIX timer counts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerClock {
    Realtime,
    Monotonic,
    ProcessCpu,
    ThreadCpu(i32),
}

/// How a POSIX timer notifies: a signal to the process or to one thread, or nothing.
#[derive(Clone, Copy, Debug)]
pub struct PosixTimer {
    pub clock: TimerClock,
    pub signo: u32,
    pub value: u64,
    /// Some(tid) for SIGEV_THREAD_ID; None with signo 0 for SIGEV_NONE.
    pub thread: Option<i32>,
    pub notify: bool,
    /// Next expiry on the timer's clock in ns (0 = disarmed) and the reload interval.
    pub expiry: u64,
    pub interval: u64,
    pub overrun: i32,
    /// The overrun count of the last expiry signalled (timer_getoverrun).
    pub last_overrun: i32,
    /// Armed relative on CLOCK_REALTIME: the expiry counts on the monotonic clock instead,
    /// as Linux's (a relative timer is not moved by setting the clock; only absolute ones
    /// are), until the next timer_settime.
    pub relative_realtime: bool,
}

impl PosixTimer {
    /// The clock `expiry` and `interval` count on.
    pub fn expiry_clock(&self) -> TimerClock {
        match self.clock {
            TimerClock::Realtime if self.relative_realtime => TimerClock::Monotonic,
            c => c,
        }
    }
}

/// Now on clock `c` of process `p`, in ns.
pub fn clock_now(p: &super::Process, c: TimerClock) -> u64 {
    match c {
        TimerClock::Monotonic => crate::time::uptime_ns(),
        TimerClock::Realtime => crate::time::realtime_ns().max(0) as u64,
        TimerClock::ProcessCpu => {
            let (u, s) = p.cpu_times();
            u + s
        }
        TimerClock::ThreadCpu(tid) => super::find_thread(tid)
            .map(|t| {
                let (u, s) = t.user_sys(crate::time::uptime_ns());
                u + s
            })
            .unwrap_or(0),
    }
}

/// A periodic timer's signal is being dequeued: every expiry due by now that the tick has
/// not looked at yet is one more overrun of it, and the timer moves past them (Linux's
/// posixtimer_rearm forwards the timer to now when the signal is delivered). Without this a
/// delivery that comes before the tick work caught up (another CPU, a slow host) would report
/// too few overruns.
pub fn forward_on_dequeue(p: &super::Process, info: &mut super::signal::SigInfo) {
    let Some(id) = info.take_kernel_timer() else {
        return;
    };
    let mut timers = p.timers.lock();
    let Some(t) = timers.get_mut(&id) else {
        return;
    };
    if t.expiry == 0 || t.interval == 0 || t.signo != info.signo() {
        return;
    }
    let now = clock_now(p, t.expiry_clock());
    if now < t.expiry {
        return;
    }
    let missed = (now - t.expiry) / t.interval + 1;
    t.expiry = t.expiry.saturating_add(missed.saturating_mul(t.interval));
    let total = info
        .timer_overrun()
        .saturating_add(missed.min(i32::MAX as u64) as i32);
    info.set_timer_overrun(total);
    t.overrun = 0;
    t.last_overrun = total;
}
