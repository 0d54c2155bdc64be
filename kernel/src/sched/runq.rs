//! Per-CPU run queues: which CPU a thread that becomes runnable waits for, which queued
//! thread a CPU runs next, when the running one must give way, and how idle or lightly loaded
//! CPUs take work from busy ones. Everything here runs under the scheduler's lock.

use super::fair::{self, Rank};
use super::{this_cpu, Sched, ThreadRef, QUEUE_GEN, QUEUE_LEN, RESCHED, SLICE_NS};
use core::sync::atomic::Ordering;
use lintel_hal::smp::{self, MAX_CPUS};

/// How far behind its CPU's least virtual runtime a woken thread may start (Linux's half
/// latency for sleepers): a thread that slept runs soon, but cannot bank its sleep.
const SLEEPER_CREDIT_NS: u64 = 10_000_000;
/// How far the running thread must be ahead of a queued one in virtual time before it gives
/// way before its slice is over (a woken interactive thread preempts a CPU hog).
const WAKEUP_GRAN_NS: u64 = 4_000_000;
/// A SCHED_RR thread's slice among threads of its priority (Linux's RR_TIMESLICE).
const RR_SLICE_NS: u64 = 100_000_000;
/// A real-time thread that has held its CPU this long lets waiting fair threads run (Linux
/// throttles real-time threads to 950 ms a second).
const RT_LIMIT_NS: u64 = 950_000_000;

/// The first end of a slice after `now` of the thread that got its CPU at `start`: its fair
/// slice, a SCHED_RR slice, the real-time limit (each is a time [`Sched::preempt_due`] may
/// answer differently after), or u64::MAX once all have passed. The tick is brought forward to
/// it (`slice_over`), as the ticks used to start with every switch and met these ends.
pub(super) fn next_slice_end(start: u64, now: u64) -> u64 {
    [SLICE_NS, RR_SLICE_NS, RT_LIMIT_NS]
        .into_iter()
        .map(|d| start.saturating_add(d))
        .find(|&end| end > now)
        .unwrap_or(u64::MAX)
}

/// How a thread arrives on a queue, which decides its virtual runtime there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    /// A new thread: it starts level with the CPU's least virtual runtime.
    Fresh,
    /// A woken thread: it keeps its place relative to its last CPU, at most a sleeper's
    /// credit behind this one's.
    Woken,
    /// A queued or preempted thread moved or put back: it keeps its place.
    Moved,
}

fn bits(mask: u64) -> impl Iterator<Item = usize> {
    (0..MAX_CPUS).filter(move |c| mask & (1u64 << c) != 0)
}

impl Sched {
    /// Publishes `cpu`'s queue length for [`super::yield_alone`], which reads it without the
    /// scheduler's lock: called after every change of a queue.
    fn note_len(&self, cpu: usize) {
        if let (Some(c), Some(n)) = (self.cpus.get(cpu), QUEUE_LEN.get(cpu)) {
            n.store(c.queue.len(), Ordering::Release);
        }
    }

    /// Threads on `cpu`: queued plus running.
    fn load(&self, cpu: usize) -> usize {
        self.cpus.get(cpu).map_or(usize::MAX, |c| {
            c.queue.len() + usize::from(c.current.is_some())
        })
    }

    /// The CPU a thread that becomes runnable waits for: `prev` (where it last ran, warm
    /// caches) when that is idle, else an idle CPU, else the least loaded one, among those
    /// its affinity allows.
    pub(super) fn choose_cpu(&self, t: &ThreadRef, prev: usize) -> usize {
        let here = this_cpu();
        if !smp::shared() {
            return here;
        }
        let aff = t.affinity();
        let mut allowed = aff & smp::online_mask();
        if allowed == 0 {
            allowed = aff & smp::cpu_mask();
        }
        if allowed == 0 {
            return here;
        }
        if allowed & (1u64 << (prev % MAX_CPUS)) != 0 && self.load(prev) == 0 {
            return prev;
        }
        bits(allowed)
            .min_by_key(|&c| (self.load(c), c != prev, c != here))
            .unwrap_or(here)
    }

    /// Queues `t` on `cpu` at `now` with the virtual runtime its arrival gives it.
    /// A deadline thread whose budget is used waits for its next period instead
    /// ([`super::deadline::hold_back`]).
    pub(super) fn push_on(&mut self, t: ThreadRef, cpu: usize, how: Arrival, now: u64) {
        if super::deadline::hold_back(&t, how == Arrival::Moved, now) {
            return;
        }
        let cpu = cpu % MAX_CPUS;
        let dst_min = self.cpus[cpu].min_vruntime;
        {
            let mut ct = t.cpu_time().lock();
            let src_min = self.cpus[ct.cpu % MAX_CPUS].min_vruntime;
            ct.vruntime = match how {
                Arrival::Fresh => dst_min,
                Arrival::Moved | Arrival::Woken => {
                    let lag = i128::from(ct.vruntime) - i128::from(src_min);
                    let v = (i128::from(dst_min) + lag).max(0);
                    let v = u64::try_from(v).unwrap_or(u64::MAX);
                    if how == Arrival::Woken {
                        v.max(dst_min.saturating_sub(SLEEPER_CREDIT_NS))
                    } else {
                        v
                    }
                }
            };
            ct.cpu = cpu;
        }
        self.cpus[cpu].queue.push_back(t);
        self.note_len(cpu);
        QUEUE_GEN.fetch_add(1, Ordering::Release);
    }

    /// Queues `t` as a woken thread where it fits best, and tells that CPU (a deadline
    /// thread back from throttling).
    pub(super) fn requeue_woken(&mut self, t: ThreadRef, now: u64) {
        let prev = t.cpu_time().lock().cpu;
        let cpu = self.choose_cpu(&t, prev);
        self.push_on(t, cpu, Arrival::Woken, now);
        self.notify(cpu, now);
    }

    /// Tells `cpu` that a thread was queued on it: a halted CPU is woken, a busy one is
    /// interrupted (a reschedule IPI) when the newcomer should run before its thread; on this
    /// CPU, the running thread gives way at its way back to user mode ([`super::preempt_point`]).
    pub(super) fn notify(&self, cpu: usize, now: u64) {
        if cpu == this_cpu() {
            if self.preempt_due(cpu, now) {
                RESCHED[cpu % MAX_CPUS].store(true, Ordering::Relaxed);
            }
            return;
        }
        if !smp::shared() {
            return;
        }
        match self.cpus.get(cpu) {
            Some(c) if c.current.is_none() => smp::wake_idle_cpu(1u64 << cpu),
            Some(_) if self.preempt_due(cpu, now) => smp::kick(cpu),
            _ => {}
        }
    }

    /// Takes the thread that runs next on `cpu` off its queue: real-time threads by priority
    /// (first come first among equals), then the least virtual runtime. `skip` (a thread that
    /// yielded) is taken only when nothing else is queued. Also returns the least virtual
    /// runtime of the threads left queued, for [`Sched::raise_min`] (the same pass: the
    /// switch used to rank the queue once more for it).
    pub(super) fn pick(
        &mut self,
        cpu: usize,
        skip: Option<&ThreadRef>,
    ) -> (Option<ThreadRef>, Option<u64>) {
        self.evict_misplaced(cpu);
        let q = &self.cpus[cpu].queue;
        let skipped = |t: &ThreadRef| skip.is_some_and(|s| alloc::sync::Arc::ptr_eq(s, t));
        let mut best: Option<(usize, Rank)> = None;
        let mut rest: Option<u64> = None;
        let mut keep = |v: u64| rest = Some(rest.map_or(v, |r: u64| r.min(v)));
        for (i, t) in q.iter().enumerate() {
            let r = fair::rank(t);
            if skipped(t) && q.len() > 1 {
                keep(r.vruntime);
                continue;
            }
            match &best {
                Some((_, b)) if !r.before(b) => keep(r.vruntime),
                _ => {
                    if let Some((_, b)) = &best {
                        keep(b.vruntime);
                    }
                    best = Some((i, r));
                }
            }
        }
        let Some((i, _)) = best else {
            return (None, rest);
        };
        let t = self.cpus[cpu].queue.remove(i);
        self.note_len(cpu);
        (t, rest)
    }

    /// Queued threads whose affinity no longer allows `cpu` go where they may run.
    pub(super) fn evict_misplaced(&mut self, cpu: usize) {
        let bit = 1u64 << cpu;
        if !smp::shared() || self.cpus[cpu].queue.iter().all(|t| t.affinity() & bit != 0) {
            return;
        }
        let queue = core::mem::take(&mut self.cpus[cpu].queue);
        let now = crate::time::uptime_ns();
        for t in queue {
            if t.affinity() & bit != 0 {
                self.cpus[cpu].queue.push_back(t);
            } else {
                let to = self.choose_cpu(&t, cpu);
                self.push_on(t, to, Arrival::Moved, now);
                self.notify(to, now);
            }
        }
        self.note_len(cpu);
    }

    /// `cpu` takes a queued thread it may run from the busiest CPU whose load is at least
    /// `gap` above its own (1 for an idle CPU: any waiting thread; 2 for the tick's
    /// balancing, so that threads do not move back and forth). Returns whether it took one.
    pub(super) fn pull(&mut self, cpu: usize, gap: usize) -> bool {
        if !smp::shared() {
            return false;
        }
        let bit = 1u64 << cpu;
        let mine = self.load(cpu);
        let from = bits(smp::online_mask() & !bit)
            .filter(|&c| self.load(c) >= mine + gap)
            .filter(|&c| self.cpus[c].queue.iter().any(|t| t.affinity() & bit != 0))
            .max_by_key(|&c| self.load(c));
        let Some(from) = from else {
            return false;
        };
        // The most recently queued thread: the least likely to have its cache there.
        let Some(i) = self.cpus[from]
            .queue
            .iter()
            .rposition(|t| t.affinity() & bit != 0)
        else {
            return false;
        };
        let Some(t) = self.cpus[from].queue.remove(i) else {
            return false;
        };
        self.note_len(from);
        self.push_on(t, cpu, Arrival::Moved, crate::time::uptime_ns());
        true
    }

    /// Moves `cpu`'s least virtual runtime up to that of its running and queued threads (it
    /// never goes back, so that newcomers start where the CPU's threads are now).
    pub(super) fn update_min(&mut self, cpu: usize, now: u64) {
        let c = &self.cpus[cpu];
        let running = c
            .current
            .as_ref()
            .map(|t| fair::running_rank(t, now).vruntime);
        let queued = c.queue.iter().map(|t| fair::rank(t).vruntime).min();
        self.raise_min(cpu, running, queued);
    }

    /// Moves `cpu`'s least virtual runtime up to the least of `running` (its running thread's,
    /// if any) and `queued` (its queued threads' least, if any).
    pub(super) fn raise_min(&mut self, cpu: usize, running: Option<u64>, queued: Option<u64>) {
        let least = match (running, queued) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(v) => v,
                None => return,
            },
        };
        let m = &mut self.cpus[cpu].min_vruntime;
        *m = (*m).max(least);
    }

    /// Whether `cpu`'s running thread must give way to its best queued thread now: a
    /// real-time thread of higher priority, a SCHED_RR peer after the RR slice, or for a fair
    /// thread one it is ahead of in virtual time (by the wake-up granularity, or at all once
    /// it has run its slice). A real-time thread lets fair threads in after RT_LIMIT_NS.
    pub(super) fn preempt_due(&self, cpu: usize, now: u64) -> bool {
        let Some(c) = self.cpus.get(cpu) else {
            return false;
        };
        let Some(cur) = &c.current else {
            return false;
        };
        // A deadline thread that used its budget is throttled, even with nothing queued.
        if super::deadline::exhausted(cur, now) {
            return true;
        }
        let Some(best) = c
            .queue
            .iter()
            .map(fair::rank)
            .reduce(|a, b| if b.before(&a) { b } else { a })
        else {
            return false;
        };
        let mine = fair::running_rank(cur, now);
        let ran = now.saturating_sub(c.slice_start);
        if mine.dl.is_some() || best.dl.is_some() {
            return best.before(&mine);
        }
        if mine.rt > 0 {
            return best.rt > mine.rt
                || (best.rt == mine.rt && cur.round_robin() && ran >= RR_SLICE_NS)
                || ran >= RT_LIMIT_NS;
        }
        best.rt > 0
            || mine.vruntime > best.vruntime.saturating_add(WAKEUP_GRAN_NS)
            || (ran >= SLICE_NS && mine.vruntime > best.vruntime)
    }

    /// The tick's balancing on `cpu`: it takes a thread from a CPU with two or more threads
    /// more than it, and wakes an idle CPU for the threads still waiting here.
    pub(super) fn balance(&mut self, cpu: usize) {
        if !smp::shared() {
            return;
        }
        self.pull(cpu, 2);
        let waiting = self.cpus[cpu]
            .queue
            .iter()
            .fold(0u64, |m, t| m | t.affinity());
        if waiting != 0 {
            smp::wake_idle_cpu(waiting);
        }
    }
}
