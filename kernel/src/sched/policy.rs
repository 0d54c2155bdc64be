//! A thread's scheduling attributes, as Linux keeps them per task: the policy, the real-time
//! priority, the nice value, SCHED_RESET_ON_FORK and, under SCHED_DEADLINE, the reservation
//! and its constant-bandwidth server's state ([`super::deadline`]). A new thread starts with
//! its creator's ([`SchedAttr::forked`]); exec keeps them.

use lintel_abi::sched::{SCHED_DEADLINE, SCHED_FIFO, SCHED_IDLE, SCHED_RR};

/// A SCHED_DEADLINE reservation (sched_setattr's runtime, deadline and period, in ns; the
/// period is never 0 here: 0 from the caller means the deadline) and where its current
/// instance stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dl {
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
    /// The reservation's SCHED_FLAG_* bits (DL_OVERRUN, RECLAIM) as given, for getattr.
    pub flags: u64,
    /// The bandwidth admission control counted for the thread (runtime << 20 / period).
    pub bw: u64,
    /// Runtime left in the current instance (negative after an overrun).
    pub left: i64,
    /// The current instance's absolute deadline (monotonic ns).
    pub abs: u64,
    /// CPU time before this (the stint when the thread became SCHED_DEADLINE) is not charged
    /// to the budget.
    pub from: u64,
    /// sched_yield gave up the rest of the instance.
    pub yielded: bool,
    /// Waiting for its next period (out of every run queue).
    pub throttled: bool,
}

/// Everything the sched_* calls, setpriority and /proc show of a thread's scheduling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedAttr {
    /// SCHED_OTHER, FIFO, RR, BATCH, IDLE or DEADLINE.
    pub policy: usize,
    /// 1..=99 under SCHED_FIFO and SCHED_RR, else 0.
    pub rt_priority: u32,
    /// -20..=19; kept (and shown) under every policy, weighting only the fair ones.
    pub nice: i32,
    pub reset_on_fork: bool,
    pub dl: Dl,
}

impl SchedAttr {
    pub fn is_deadline(&self) -> bool {
        self.policy == SCHED_DEADLINE
    }

    pub fn is_rt(&self) -> bool {
        matches!(self.policy, SCHED_FIFO | SCHED_RR)
    }

    /// Linux's priority as /proc/PID/stat shows it (task_prio, of the effective priority):
    /// -1 - priority for real-time threads and for threads a PI futex's waiter lends a
    /// real-time priority `boost` above their own, -101 under SCHED_DEADLINE, 20 + nice for
    /// the others.
    pub fn shown_priority(&self, boost: u32) -> i32 {
        let own = if self.is_rt() { self.rt_priority } else { 0 };
        if self.is_deadline() {
            -101
        } else if self.is_rt() || boost > own {
            -1 - own.max(boost) as i32
        } else {
            20 + self.nice
        }
    }

    /// What a new thread or process starts with (Linux's sched_fork): the creator's, unless
    /// SCHED_RESET_ON_FORK is set, which sends a real-time or deadline thread back to
    /// SCHED_OTHER at nice 0, raises a negative nice to 0, and clears itself. None when the
    /// child would be a deadline thread: fork then fails with EAGAIN, as on Linux.
    pub fn forked(&self) -> Option<SchedAttr> {
        let mut a = *self;
        if a.reset_on_fork {
            if a.is_rt() || a.is_deadline() {
                a.policy = lintel_abi::sched::SCHED_OTHER;
                a.nice = 0;
                a.rt_priority = 0;
            } else if a.nice < 0 {
                a.nice = 0;
            }
            a.reset_on_fork = false;
        }
        if a.is_deadline() {
            return None;
        }
        a.dl = Dl::default();
        Some(a)
    }

    /// Whether the fair class weights the thread as SCHED_IDLE (Linux's WEIGHT_IDLEPRIO).
    pub fn idle(&self) -> bool {
        self.policy == SCHED_IDLE
    }
}
