//! What a thread's claim on a CPU is worth: real-time threads (SCHED_FIFO, SCHED_RR) before
//! every other, by priority; the rest share a CPU in proportion to their nice weights, by
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

/// The virtual time `ns` of CPU time is worth at `weight`.
pub fn virtual_ns(ns: u64, weight: u64) -> u64 {
    let v = u128::from(ns) * u128::from(NICE_0_WEIGHT) / u128::from(weight.max(1));
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// A thread's rank for the CPU: a larger `rt` (real-time priority, 0 for the fair class) goes
/// first; among fair threads, the smaller virtual runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rank {
    pub rt: u32,
    pub vruntime: u64,
}

impl Rank {
    /// Whether `self` should run before `other`.
    pub fn before(&self, other: &Rank) -> bool {
        if self.rt != other.rt {
            return self.rt > other.rt;
        }
        self.rt == 0 && self.vruntime < other.vruntime
    }
}

/// The rank of a thread that is not running (its virtual runtime as last charged).
pub fn rank(t: &ThreadRef) -> Rank {
    Rank {
        rt: t.rt_priority(),
        vruntime: t.cpu_time().lock().vruntime,
    }
}

/// The rank of the running thread `t`, counting its current stint up to `now`.
pub fn running_rank(t: &ThreadRef, now: u64) -> Rank {
    let w = weight(t.nice());
    let ct = *t.cpu_time().lock();
    let stint = if ct.running {
        now.saturating_sub(ct.since)
    } else {
        0
    };
    Rank {
        rt: t.rt_priority(),
        vruntime: ct.vruntime.saturating_add(virtual_ns(stint, w)),
    }
}
