//! What a thread's claim on a CPU is worth: deadline threads (SCHED_DEADLINE, [`super::deadline`])
//! first, by absolute deadline; then real-time threads (SCHED_FIFO, SCHED_RR), by priority; the rest share a CPU in proportion to their nice weights, by
//! virtual runtime (CPU time divided by weight, as Linux's CFS), the least served first.

use super::ThreadRef;

/// Linux's `sched_prio_to_weight`: nice -20..=19; each step is about 10% of CPU time against
/// a thread one step away (nice 0 is 1024).
const PRIO_TO_WEIGHT: [u64; 40] = [
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904,
    3906, 3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87,
    70, 56, 45, 36, 29, 23, 18, 15,
];

/// The weight of nice 0: virtual time runs at real time for it.
const NICE_0_WEIGHT: u64 = 1024;

/// The weight of a nice value.
pub fn weight(nice: i32) -> u64 {
    let i = (nice.clamp(-20, 19) + 20) as usize;
    PRIO_TO_WEIGHT.get(i).copied().unwrap_or(NICE_0_WEIGHT)
}

/// Linux's weight of a SCHED_IDLE thread (WEIGHT_IDLEPRIO), below even nice 19's.
pub(super) const IDLE_WEIGHT: u64 = 3;

/// The weight of thread `t`: its nice value's, or SCHED_IDLE's.
pub fn weight_of(t: &ThreadRef) -> u64 {
    t.sched_attr().class().weight()
}

/// The virtual time `ns` of CPU time is worth at `weight`.
pub fn virtual_ns(ns: u64, weight: u64) -> u64 {
    // Nice 0 (most threads): no 128-bit division (`__udivti3`) at every switch.
    if weight == NICE_0_WEIGHT {
        return ns;
    }
    let v = u128::from(ns) * u128::from(NICE_0_WEIGHT) / u128::from(weight.max(1));
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A thread's rank for the CPU: a deadline thread (`dl`: its absolute deadline) before every
/// other, the earliest deadline first; then a larger `rt` (real-time priority, 0 for the fair
/// class); among fair threads, the smaller virtual runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rank {
    pub dl: Option<u64>,
    pub rt: u32,
    pub vruntime: u64,
}

impl Rank {
    /// Whether `self` should run before `other`.
    pub fn before(&self, other: &Rank) -> bool {
        match (self.dl, other.dl) {
            (Some(a), Some(b)) => return a < b,
            (Some(_), None) => return true,
            (None, Some(_)) => return false,
            (None, None) => {}
        }
        if self.rt != other.rt {
            return self.rt > other.rt;
        }
        self.rt == 0 && self.vruntime < other.vruntime
    }
}

/// What a rank needs of `t`'s attributes: a deadline thread's absolute deadline (None for the
/// other classes), the real-time priority it runs at (`Schedulable::rt_priority`: its own or
/// its PI boost) and its weight (`weight_of`). From the attributes' one-word class, without
/// their lock (issue 21: three lock round trips per rank, then one); only a deadline thread's
/// deadline is read under it.
fn attrs(t: &ThreadRef) -> (Option<u64>, u32, u64) {
    let c = t.sched_attr().class();
    let dl = if c.is_deadline() {
        let a = t.sched_attr().lock();
        a.is_deadline().then_some(a.dl.abs)
    } else {
        None
    };
    let rt = c
        .own_rt()
        .max(t.pi_boost().load(core::sync::atomic::Ordering::Relaxed));
    (dl, rt, c.weight())
}

/// The rank of a thread that is not running (its virtual runtime as last charged).
pub fn rank(t: &ThreadRef) -> Rank {
    let (dl, rt, _) = attrs(t);
    Rank {
        dl,
        rt,
        vruntime: t.cpu_time().lock().vruntime,
    }
}

/// The rank of the running thread `t`, counting its current stint up to `now`.
pub fn running_rank(t: &ThreadRef, now: u64) -> Rank {
    let (dl, rt, w) = attrs(t);
    let ct = *t.cpu_time().lock();
    let stint = if ct.running {
        now.saturating_sub(ct.since)
    } else {
        0
    };
    Rank {
        dl,
        rt,
        vruntime: ct.vruntime.saturating_add(virtual_ns(stint, w)),
    }
}
