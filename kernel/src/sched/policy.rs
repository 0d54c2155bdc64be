//! A thread's scheduling attributes, as Linux keeps them per task: the policy, the real-time
//! priority, the nice value, SCHED_RESET_ON_FORK and, under SCHED_DEADLINE, the reservation
//! and its constant-bandwidth server's state ([`super::deadline`]). A new thread starts with
//! its creator's ([`SchedAttr::forked`]); exec keeps them.

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU64, Ordering};
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

/// A thread's [`SchedAttr`] behind its lock, with a one-word copy of what ranking it needs
/// ([`Class`]: deadline or not, its own real-time priority, SCHED_RR, its fair weight) that
/// the scheduler reads without the lock. Every switch, wake-up and preemption check asked the
/// attributes several times (rank, weight, the deadline class's budget checks), each under the
/// lock (issue 21). Every writer goes through [`AttrCell::lock`], whose guard stores the word
/// again before it unlocks, so the word cannot fall behind the attributes.
pub struct AttrCell {
    attr: spin::Mutex<SchedAttr>,
    class: AtomicU64,
}

impl AttrCell {
    pub fn new(a: SchedAttr) -> AttrCell {
        AttrCell {
            class: AtomicU64::new(Class::of(&a).0),
            attr: spin::Mutex::new(a),
        }
    }

    pub fn lock(&self) -> AttrGuard<'_> {
        AttrGuard {
            guard: self.attr.lock(),
            class: &self.class,
        }
    }

    /// What ranking needs, as the last holder of the lock left it.
    #[inline]
    pub fn class(&self) -> Class {
        Class(self.class.load(Ordering::Acquire))
    }
}

impl Default for AttrCell {
    fn default() -> AttrCell {
        AttrCell::new(SchedAttr::default())
    }
}

pub struct AttrGuard<'a> {
    guard: spin::MutexGuard<'a, SchedAttr>,
    class: &'a AtomicU64,
}

impl Deref for AttrGuard<'_> {
    type Target = SchedAttr;
    fn deref(&self) -> &SchedAttr {
        &self.guard
    }
}

impl DerefMut for AttrGuard<'_> {
    fn deref_mut(&mut self) -> &mut SchedAttr {
        &mut self.guard
    }
}

impl Drop for AttrGuard<'_> {
    /// Runs before the lock is released (the fields drop after this): the stores of
    /// successive holders are ordered by the lock, so the last one describes the attributes.
    fn drop(&mut self) {
        let c = Class::of(&self.guard).0;
        if self.class.load(Ordering::Relaxed) != c {
            self.class.store(c, Ordering::Release);
        }
    }
}

/// The part of a thread's attributes its rank depends on, in one word: the weight in the low
/// 32 bits, its own real-time priority in the next 8, then SCHED_RR and SCHED_DEADLINE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Class(u64);

const CLASS_RR: u64 = 1 << 40;
const CLASS_DEADLINE: u64 = 1 << 41;

impl Class {
    fn of(a: &SchedAttr) -> Class {
        let weight = if a.idle() {
            super::fair::IDLE_WEIGHT
        } else {
            super::fair::weight(a.nice)
        };
        let rt = if a.is_rt() {
            u64::from(a.rt_priority.min(0xff))
        } else {
            0
        };
        let mut c = weight.min(u64::from(u32::MAX)) | rt << 32;
        if a.policy == SCHED_RR {
            c |= CLASS_RR;
        }
        if a.is_deadline() {
            c |= CLASS_DEADLINE;
        }
        Class(c)
    }

    /// SCHED_DEADLINE (its absolute deadline, which changes with every instance, is read under
    /// the lock).
    pub fn is_deadline(self) -> bool {
        self.0 & CLASS_DEADLINE != 0
    }

    /// Its own real-time priority (1..=99 under SCHED_FIFO and SCHED_RR), 0 for the others.
    pub fn own_rt(self) -> u32 {
        ((self.0 >> 32) & 0xff) as u32
    }

    pub fn round_robin(self) -> bool {
        self.0 & CLASS_RR != 0
    }

    /// The fair class's weight: its nice value's, or SCHED_IDLE's.
    pub fn weight(self) -> u64 {
        self.0 & u64::from(u32::MAX)
    }
}
