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
}
