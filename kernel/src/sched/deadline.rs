//! SCHED_DEADLINE: the class above the real-time one. Each deadline thread has a reservation
//! (runtime R every period P, due within D of the period's start) served by a
//! constant-bandwidth server, as Linux's `sched/deadline.c`:
//!
//! - Among runnable deadline threads the earliest absolute deadline runs first
//!   ([`super::fair::Rank`]); any of them runs before every real-time and fair thread.
//! - The CPU time a deadline thread uses is taken from its instance's budget ([`consume`]);
//!   its CPU's timer is armed for the moment the budget runs out ([`first_tick`]), and a
//!   thread with no budget left is throttled: it leaves the run queues until its next
//!   period starts ([`hold_back`]), when a tick hook ([`replenish_due`]) gives it a new
//!   budget (runtime += R, deadline += P, until the budget is positive: an overrun is paid
//!   back) and queues it again.
//! - A thread that wakes after its deadline, or with more budget left than its bandwidth
//!   allows before its deadline, starts a new instance (deadline = now + D, full runtime):
//!   Linux's CBS wake-up rule.
//! - sched_yield gives up the rest of the instance ([`yield_current`]).
//!
//! Admission control ([`apply`]): the bandwidths (R/P, in units of 2^-20) of all deadline
//! threads together stay within 95% of every CPU (Linux's default sched_rt_runtime_us /
//! sched_rt_period_us, 950000 / 1000000), else sched_setattr fails with EBUSY.

use super::policy::{Dl, SchedAttr};
use super::{ThreadRef, SCHED, TICK_NS};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::{Errno, KResult};
use spin::Mutex;

/// Bandwidths are fixed-point fractions of one CPU with this many bits (Linux's BW_SHIFT).
const BW_SHIFT: u32 = 20;
/// The smallest runtime (Linux's 1 << DL_SCALE).
pub const MIN_RUNTIME_NS: u64 = 1 << 10;
/// Linux's sched_deadline_period_min_us and _max_us defaults: 100 µs and 2^22 µs.
pub const MIN_PERIOD_NS: u64 = 100_000;
pub const MAX_PERIOD_NS: u64 = (1 << 22) * 1000;
/// sched_rt_runtime_us / sched_rt_period_us: the share of each CPU deadline threads may
/// reserve.
const LIMIT_RUNTIME_US: u64 = 950_000;
const LIMIT_PERIOD_US: u64 = 1_000_000;

/// The least a deadline thread runs once it has the CPU before its budget is checked, even
/// when less budget is left. The stint starts when the CPU switches to the thread, so the
/// switch and the way back to user mode are paid from the budget; a budget smaller than that
/// path (tens of µs under emulation) would let a thread reach user mode only to be stopped
/// at once, every period, and never finish (a thread with 50 µs every 4 ms took up to 44 s
/// to exit). Linux checks the budget at its tick (HRTICK_DL is off by default), so its
/// threads overrun by up to a tick and pay it back from later periods; here the overrun is
/// at most this much, paid back the same way ([`replenish`]).
const MIN_STINT_NS: u64 = 1_000_000;

/// The bandwidth admitted so far, all deadline threads together (under the scheduler's lock).
static TOTAL_BW: Mutex<u64> = Mutex::new(0);
/// Throttled threads and when their next period starts (under the scheduler's lock).
static THROTTLED: Mutex<Vec<(u64, ThreadRef)>> = Mutex::new(Vec::new());
/// The replenishment hook is registered (on the first deadline thread).
static HOOKED: AtomicBool = AtomicBool::new(false);

/// `runtime` every `period` as a fraction of a CPU (Linux's to_ratio).
pub fn to_ratio(period: u64, runtime: u64) -> u64 {
    if period == 0 {
        return 0;
    }
    let r = (u128::from(runtime) << BW_SHIFT) / u128::from(period);
    u64::try_from(r).unwrap_or(u64::MAX)
}

/// Linux's __checkparam_dl: a deadline, a runtime of at least 1024 ns, runtime <= deadline
/// <= period (period 0 meaning the deadline), no top bit set, and the period within the
/// limits.
pub fn valid(runtime: u64, deadline: u64, period: u64) -> bool {
    if deadline == 0 || runtime < MIN_RUNTIME_NS {
        return false;
    }
    if deadline & (1 << 63) != 0 || period & (1 << 63) != 0 {
        return false;
    }
    let period = if period == 0 { deadline } else { period };
    if period < deadline || deadline < runtime {
        return false;
    }
    (MIN_PERIOD_NS..=MAX_PERIOD_NS).contains(&period)
}

/// What every CPU together may reserve.
fn capacity() -> u64 {
    let cpus = u64::from(lintel_hal::smp::cpu_mask().count_ones().max(1));
    to_ratio(LIMIT_PERIOD_US, LIMIT_RUNTIME_US).saturating_mul(cpus)
}

/// Gives thread `t` the attributes `new` (validated and permitted by the caller). Entering
/// SCHED_DEADLINE or changing its parameters passes admission control first (EBUSY when the
/// bandwidth is not there); the new reservation starts an instance now. Leaving it frees the
/// bandwidth and a throttled thread is queued again.
pub fn apply(t: &ThreadRef, new: SchedAttr) -> KResult<()> {
    let now = crate::time::uptime_ns();
    let mut s = SCHED.lock();
    let old = *t.sched_attr().lock();
    let mut new = new;
    if new.is_deadline() {
        let new_bw = to_ratio(new.dl.period, new.dl.runtime);
        let same = old.is_deadline()
            && (old.dl.runtime, old.dl.deadline, old.dl.period, old.dl.flags)
                == (new.dl.runtime, new.dl.deadline, new.dl.period, new.dl.flags);
        if same {
            new.dl = old.dl;
        } else {
            let mut total = TOTAL_BW.lock();
            let after = total.saturating_sub(old.dl.bw).saturating_add(new_bw);
            if after > capacity() {
                return Err(Errno::EBUSY);
            }
            *total = after;
            new.dl = Dl {
                bw: new_bw,
                left: i64::try_from(new.dl.runtime).unwrap_or(i64::MAX),
                abs: now.saturating_add(new.dl.deadline),
                from: now,
                ..new.dl
            };
        }
    } else {
        let mut total = TOTAL_BW.lock();
        *total = total.saturating_sub(old.dl.bw);
        new.dl = Dl::default();
    }
    *t.sched_attr().lock() = new;
    if old.dl.throttled && !new.dl.throttled {
        let mut l = THROTTLED.lock();
        let had = l.len();
        l.retain(|(_, w)| !alloc::sync::Arc::ptr_eq(w, t));
        let was_there = l.len() != had;
        drop(l);
        if was_there {
            s.requeue_woken(t.clone(), now);
        }
    }
    // A queued thread that now ranks first, or a running one that now ranks lower, is seen
    // by its CPU at once.
    let cpu = t.cpu_time().lock().cpu;
    s.notify(cpu, now);
    drop(s);
    if new.is_deadline() && !HOOKED.swap(true, Ordering::Relaxed) {
        super::on_tick(replenish_due);
    }
    Ok(())
}

/// The thread is gone: its bandwidth is free again.
pub fn exited(t: &ThreadRef) {
    let _s = SCHED.lock();
    let mut a = t.sched_attr().lock();
    let mut total = TOTAL_BW.lock();
    *total = total.saturating_sub(a.dl.bw);
    a.dl.bw = 0;
}

/// The running thread `t` ran from `since` to `now`: a deadline thread's budget pays for it.
pub fn consume(t: &ThreadRef, since: u64, now: u64) {
    if !t.sched_attr().class().is_deadline() {
        return;
    }
    let mut a = t.sched_attr().lock();
    if !a.is_deadline() {
        return;
    }
    let used = now.saturating_sub(since.max(a.dl.from));
    a.dl.left =
        a.dl.left
            .saturating_sub(i64::try_from(used).unwrap_or(i64::MAX));
    if a.dl.yielded && a.dl.left > 0 {
        a.dl.left = 0;
    }
}

/// Whether the running deadline thread `t` has used its instance's budget by `now` (and
/// had its least stint, [`MIN_STINT_NS`]: an interrupt for something else does not stop it
/// sooner than its budget's timer would).
pub fn exhausted(t: &ThreadRef, now: u64) -> bool {
    if !t.sched_attr().class().is_deadline() {
        return false;
    }
    let a = t.sched_attr().lock();
    if !a.is_deadline() {
        return false;
    }
    let ct = *t.cpu_time().lock();
    if !ct.running {
        return a.dl.left <= 0;
    }
    let stint = now.saturating_sub(ct.since);
    let used = now.saturating_sub(ct.since.max(a.dl.from));
    i128::from(a.dl.left) <= i128::from(used) && stint >= MIN_STINT_NS
}

/// When the CPU that starts running `t` at `now` must look at it again: a tick from now, or
/// sooner when a deadline thread's budget runs out first — but not sooner than
/// [`MIN_STINT_NS`].
pub fn first_tick(t: &ThreadRef, now: u64) -> u64 {
    let mut d = TICK_NS;
    if t.sched_attr().class().is_deadline() {
        let a = t.sched_attr().lock();
        if a.is_deadline() {
            d = d.min(u64::try_from(a.dl.left).unwrap_or(0).max(MIN_STINT_NS));
        }
    }
    now.saturating_add(d)
}

/// sched_yield: a deadline thread gives up what is left of its instance and waits for its
/// next period; every thread lets the others of its CPU run first.
/// A fair or real-time thread with nothing else to run on its CPU returns at once, without the
/// scheduler's lock ([`super::yield_alone`]).
pub fn yield_current() {
    if let Some(t) = super::try_current() {
        if t.sched_attr().class().is_deadline() {
            let mut a = t.sched_attr().lock();
            a.dl.yielded = a.is_deadline();
        } else if super::yield_alone(&t) {
            return;
        }
    }
    super::yield_now();
}

/// Gives a new instance once the budget is used: runtime += R and deadline += P until the
/// budget is positive (an overrun is paid back); an instance whose deadline has passed anyway
/// starts afresh at `now`.
fn replenish(dl: &mut Dl, now: u64) {
    let r = i64::try_from(dl.runtime).unwrap_or(i64::MAX).max(1);
    while dl.left <= 0 {
        dl.left = dl.left.saturating_add(r);
        dl.abs = dl.abs.saturating_add(dl.period);
    }
    if dl.abs < now {
        dl.abs = now.saturating_add(dl.deadline);
        dl.left = r;
    }
    dl.yielded = false;
    dl.throttled = false;
}

/// Called as `t` is about to be queued at `now` (`moved`: a queued or preempted thread put
/// back, not a woken or new one): true when it is a
/// deadline thread whose budget is used and whose next period has not started; it is then
/// throttled (kept off the run queues until [`replenish_due`]). Otherwise a used budget is
/// replenished, and a woken thread gets a new instance when its old one cannot serve it
/// (its deadline passed, or its budget left exceeds its bandwidth until the deadline).
pub(super) fn hold_back(t: &ThreadRef, moved: bool, now: u64) -> bool {
    if !t.sched_attr().class().is_deadline() {
        return false;
    }
    let mut a = t.sched_attr().lock();
    if !a.is_deadline() {
        return false;
    }
    let dl = &mut a.dl;
    if dl.left <= 0 {
        let next = dl.abs.saturating_sub(dl.deadline).saturating_add(dl.period);
        if now < next {
            dl.throttled = true;
            drop(a);
            THROTTLED.lock().push((next, t.clone()));
            super::note_deadline(next);
            return true;
        }
        replenish(dl, now);
    } else if !moved {
        let until = u128::from(dl.abs.saturating_sub(now));
        let left = u128::try_from(dl.left).unwrap_or(0);
        if dl.abs <= now || left * u128::from(dl.period) > u128::from(dl.runtime) * until {
            dl.abs = now.saturating_add(dl.deadline);
            dl.left = i64::try_from(dl.runtime).unwrap_or(i64::MAX);
        }
    }
    false
}

/// The tick hook: throttled threads whose next period has started get their new budget and
/// are queued. Returns when the next one is due.
fn replenish_due() -> Option<u64> {
    let now = crate::time::uptime_ns();
    let mut s = SCHED.lock();
    let due: Vec<ThreadRef> = {
        let mut l = THROTTLED.lock();
        let mut due = Vec::new();
        l.retain(|(at, t)| {
            if *at <= now {
                due.push(t.clone());
                false
            } else {
                true
            }
        });
        due
    };
    for t in due {
        {
            let mut a = t.sched_attr().lock();
            a.dl.throttled = false;
            if a.is_deadline() {
                replenish(&mut a.dl, now);
            }
        }
        s.requeue_woken(t, now);
    }
    let next = THROTTLED.lock().iter().map(|(at, _)| *at).min();
    next
}

/// sched_setaffinity on a deadline thread: its mask must cover every CPU (admission control
/// counts the bandwidth of all of them), else EBUSY, as Linux's dl_task_check_affinity.
pub fn check_affinity(t: &ThreadRef, mask: u64) -> KResult<()> {
    let all = lintel_hal::smp::cpu_mask();
    if t.sched_attr().class().is_deadline() && mask & all != all {
        return Err(Errno::EBUSY);
    }
    Ok(())
}
