//! The scheduler: a run queue per CPU ([`runq`]: placement, balancing, preemption), timed
//! sleeps, and wait queues. Threads share a CPU by nice weight ([`fair`], Linux's CFS virtual
//! runtime), real-time threads before them, deadline threads ([`deadline`]: earliest deadline
//! first, within their reservations) before all. The kernel is not preemptible: a thread leaves its CPU
//! only when it blocks, yields, exits, or at the safe point where the timer or another CPU's
//! reschedule IPI interrupts it in user mode and a queued thread should run before it. Kernel
//! code runs on one CPU at a time (hal's kernel lock), but blocking, waking and switching do
//! not rely on it (a stage of issue 14's SMP work: docs/architecture.md says what still does):
//!
//! **Block and wake without lost wake-ups.** A thread's state (under its `sched_state` lock)
//! is one of [`ThreadState`]: Runnable (running or queued), Woken (the same, with a wake-up
//! token), Blocked (going to sleep, still on its CPU), Asleep (off every CPU and queue), Dead.
//! A waiter registers where its waker finds it, then [`block_until`]; a wake that comes in
//! between (another CPU) finds it Runnable and leaves the token, which `block_until` takes
//! instead of sleeping (Linux reaches the same with `set_current_state` before the condition
//! check, and `try_to_wake_up`). A wake that finds it Blocked, still on its CPU, only makes it
//! Runnable again: the switch away sees that and keeps it runnable, so it is never queued twice.
//! Only an Asleep thread is queued by its waker. A token left over from an earlier wake-up
//! makes one later wait end at once: every caller waits in a loop on its condition, so that is
//! only a spurious wake-up; [`prepare_wait`] drops such a token where a caller registers before
//! it checks.
//!
//! **Switching.** A thread queued by one CPU may be picked by another while the CPU it left is
//! still on its stack; hal's task switch waits for that CPU to have saved it (`on_cpu`).
//!
//! **Time.** There is no periodic tick of the hardware's own: each CPU's one-shot timer is
//! armed on every way out of the kernel (to user mode or to the idle halt) by [`arm_timer`],
//! for the earliest of what this CPU must do at a given time. A CPU running a thread ticks
//! every `TICK_NS` (time slices, CPU-time timers); an idle CPU does not tick
//! at all. Each CPU keeps the timed waits ([`timers`]) its threads began: its timer also
//! covers the earliest of them, and its timer work ([`tick`], and its idle loop's look after
//! each wake-up) ends those that are due, running the first itself when it is idle. The boot
//! CPU alone runs the tick hooks (devices, interval timers): its timer also covers the
//! earliest time a hook asked for. A hook deadline set on another CPU that comes before what
//! the boot CPU is armed for interrupts the boot CPU, which arms again.

pub mod cpustat;
pub mod deadline;
mod fair;
pub mod kthread;
pub mod policy;
mod runq;
mod timers;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::percpu::CpuSlot;
use lintel_hal::smp::MAX_CPUS;
use lintel_hal::task::Task;
use spin::Mutex;
use timers::Deadlines;
pub use timers::SleepKey;

/// A thread's scheduling state (see the module comment for the transitions).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ThreadState {
    /// Running, or queued to run.
    Runnable,
    /// Runnable, and woken since it last waited: its next [`block_until`] returns at once.
    Woken,
    /// Going to sleep: marked by the thread itself, which is still on its CPU until its
    /// switch away makes it Asleep (a thread made but not yet enqueued is Blocked too). A wake
    /// now only makes it Runnable again.
    Blocked,
    /// Off every CPU and run queue: its waker puts it on a queue.
    Asleep,
    Dead,
}

impl ThreadState {
    /// Running or waiting for a CPU (procfs's R).
    pub fn is_runnable(self) -> bool {
        matches!(self, ThreadState::Runnable | ThreadState::Woken)
    }
}

/// CPU time a thread has used. `total_ns` counts time on the CPU (kernel and user); the part
/// spent in user mode is kept by the thread itself, outside this lock (`proc::Thread::user_ns`:
/// the return to user mode adds to it without a lock); `since` is when the thread last got
/// the CPU. `vruntime` is
/// the CPU time it was charged divided by its nice weight (the fair share's measure, relative
/// to the queue of `cpu`, the CPU it last ran or waited on: /proc's processor field).
#[derive(Clone, Copy, Default, Debug)]
pub struct CpuTime {
    pub total_ns: u64,
    pub since: u64,
    pub running: bool,
    pub vruntime: u64,
    pub cpu: usize,
    /// The thread's user time when the current stint began (for the CPU's share of it).
    pub user_at_since: u64,
    /// What getrusage counts besides time, kept beside it because the same lock guards both.
    pub events: Events,
}

/// Events getrusage counts for a thread (and, summed, for a process and its reaped children).
#[derive(Clone, Copy, Default, Debug)]
pub struct Events {
    /// Context switches away from the thread: it blocked (voluntary) or was still runnable
    /// (involuntary: preempted or yielding), as Linux's nvcsw and nivcsw count them.
    pub nvcsw: u64,
    pub nivcsw: u64,
    /// Page faults resolved without I/O (minor) and with (major), counted where a fault of
    /// user mode or of a user copy is handled.
    pub min_flt: u64,
    pub maj_flt: u64,
}

impl core::ops::AddAssign for Events {
    fn add_assign(&mut self, o: Events) {
        self.nvcsw += o.nvcsw;
        self.nivcsw += o.nivcsw;
        self.min_flt += o.min_flt;
        self.maj_flt += o.maj_flt;
    }
}

impl CpuTime {
    /// (user, system) nanoseconds, counting the current stint if the thread is running;
    /// `user_ns` is the thread's user time.
    pub fn user_sys(&self, user_ns: u64, now: u64) -> (u64, u64) {
        let total = self.total_ns
            + if self.running {
                now.saturating_sub(self.since)
            } else {
                0
            };
        let user = user_ns.min(total);
        (user, total - user)
    }
}

/// What the scheduler needs of a thread. The process layer's `Thread` implements it; the
/// queues hold `Arc<dyn Schedulable>`, so the scheduler, and everything below the process
/// layer that blocks (wait queues, futexes), names no process type.
pub trait Schedulable: Any + Send + Sync {
    fn sched_state(&self) -> &Mutex<ThreadState>;
    fn cpu_time(&self) -> &Mutex<CpuTime>;
    /// Its time in user mode so far (kept by the thread itself).
    fn user_time_ns(&self) -> u64 {
        0
    }
    /// The kernel task (stack and saved registers) the thread runs on.
    fn kernel_task(&self) -> Arc<Task>;
    /// Called on the thread's own stack when it has the CPU again: makes its address space
    /// current.
    fn resumed(&self);
    /// The error a blocking wait of this thread ends with because a signal is pending or the
    /// thread must exit (`restart` when the signal's handler asks for a restart), or None.
    fn interrupted(&self, restart: Errno) -> Option<Errno>;
    /// The CPUs the thread may run on (bit n: CPU n; sched_setaffinity).
    fn affinity(&self) -> u64 {
        u64::MAX
    }
    /// How much later than asked its timed waits may end (PR_SET_TIMERSLACK), in ns.
    fn timer_slack_ns(&self) -> u64 {
        DEFAULT_SLACK_NS
    }
    /// Its scheduling attributes (policy, priority, nice, deadline reservation), per thread,
    /// with the one word of them that ranking reads without their lock.
    fn sched_attr(&self) -> &policy::AttrCell;
    /// The real-time priority a PI futex's waiters lend it while it owns the futex (0: none;
    /// `futex::pi` keeps it, Linux's rt_mutex boost). Not part of its own attributes: the
    /// sched_* calls still show those.
    fn pi_boost(&self) -> &AtomicU32;
    /// Its own real-time priority (1..=99 under SCHED_FIFO or SCHED_RR), 0 for the other
    /// classes: Linux's normal_prio, without a boost.
    fn own_rt_priority(&self) -> u32 {
        self.sched_attr().class().own_rt()
    }
    /// The real-time priority it runs at: its own, or the boost lent to it when higher
    /// (Linux's effective prio: a boosted thread of a fair class runs as a real-time one).
    fn rt_priority(&self) -> u32 {
        self.own_rt_priority()
            .max(self.pi_boost().load(Ordering::Relaxed))
    }
    /// Whether a real-time thread is SCHED_RR (time-sliced among its priority).
    fn round_robin(&self) -> bool {
        self.sched_attr().class().round_robin()
    }
}

/// Linux's default timer slack: a timed wait may end up to 50 µs late, so that waits close
/// to each other share one timer interrupt.
pub const DEFAULT_SLACK_NS: u64 = 50_000;

/// A thread as the scheduler holds it.
pub type ThreadRef = Arc<dyn Schedulable>;

/// What one CPU is doing.
struct Cpu {
    current: Option<ThreadRef>,
    idle: Option<Arc<Task>>,
    /// When the current thread got the CPU (monotonic ns).
    slice_start: u64,
    /// Runnable threads waiting for this CPU.
    queue: VecDeque<ThreadRef>,
    /// The least virtual runtime of this CPU's threads, never going back: where newcomers
    /// start.
    min_vruntime: u64,
}

struct Sched {
    /// Per CPU: the timed waits its threads began there (a waiting thread is on no CPU; the
    /// one it blocked on ends the wait).
    sleepers: [Deadlines; MAX_CPUS],
    cpus: [Cpu; MAX_CPUS],
}

/// Each CPU's running thread as [`current`] reads it: `Cpu::current` (which the scheduler
/// reads under `SCHED` with the queues), mirrored in a slot only its CPU touches, set by the
/// switch to the thread before the switch itself (hal's `percpu`).
static CURRENT: CpuSlot<dyn Schedulable> = CpuSlot::new();

static SCHED: Mutex<Sched> = Mutex::new(Sched {
    sleepers: [const { Deadlines::new() }; MAX_CPUS],
    cpus: [const {
        Cpu {
            current: None,
            idle: None,
            slice_start: 0,
            queue: VecDeque::new(),
            min_vruntime: 0,
        }
    }; MAX_CPUS],
});

/// Bumped at every push onto a run queue: an idle CPU that found no work for itself sleeps
/// on without taking the kernel lock until this moves.
static QUEUE_GEN: AtomicU64 = AtomicU64::new(0);

/// Per CPU: how many threads wait on its queue, written under `SCHED` at every change of the
/// queue (`Sched::note_len`), read without it by [`yield_alone`].
static QUEUE_LEN: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

/// Per CPU: a thread this CPU's own thread made runnable here should run before it; the
/// running thread gives the CPU up at its next [`preempt_point`].
static RESCHED: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// The safe point on the way back to user mode: the thread gives the CPU up if something it
/// woke here should run first (the kernel is not preempted anywhere else).
pub fn preempt_point() {
    let cpu = this_cpu();
    // A plain load first: the read-modify-write only when a reschedule was asked for (this
    // runs on every return to user mode).
    if RESCHED[cpu].load(Ordering::Relaxed) && RESCHED[cpu].swap(false, Ordering::Relaxed) {
        // One clock read for the check and the switch it leads to.
        let now = crate::time::uptime_ns();
        if SCHED.lock().preempt_due(cpu, now) {
            switch_away(true, Some(now));
        }
    }
}

/// The index of the CPU running this code.
fn this_cpu() -> usize {
    lintel_hal::smp::cpu_index() % MAX_CPUS
}

impl Sched {
    fn cpu(&mut self) -> &mut Cpu {
        &mut self.cpus[this_cpu()]
    }
}

/// The tick of a CPU running a thread: 100 Hz, the rate of the former periodic tick.
pub const TICK_NS: u64 = 10_000_000;
/// How long a thread may run before the timer preempts it when others wait.
const SLICE_NS: u64 = 2 * TICK_NS;

/// Per CPU: the earliest hard deadline of its timed waits (u64::MAX for none), kept with its
/// set under the scheduler's lock so that arming the timer needs no lock. Only its own CPU
/// makes it earlier (a thread adds its wait on the CPU it blocks on); any CPU may make it
/// later (a wait removed or ended), which at worst costs its CPU an early interrupt.
static SLEEP_FIRST: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(u64::MAX) }; MAX_CPUS];
/// The earliest time a tick hook asked to run again, or that a layer noted
/// with [`note_deadline`] (u64::MAX for none).
static NEXT_WORK: AtomicU64 = AtomicU64::new(u64::MAX);
/// Each CPU's next tick while it runs a thread (u64::MAX while idle).
static TICK_AT: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(u64::MAX) }; MAX_CPUS];
/// What each CPU's timer was last armed for.
static ARMED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(u64::MAX) }; MAX_CPUS];
/// A hook that asks to run again at once is run again no sooner than this (so that a hook
/// answering "now" cannot keep the boot CPU in a loop of interrupts).
const MIN_REPOLL_NS: u64 = 1_000_000;

/// Arms this CPU's timer for the earliest thing it must do at a given time: its next tick if
/// it runs a thread, the earliest of its timed waits, and on the boot CPU the earliest hook
/// deadline. Called on every way out of the kernel (back to user mode, into the idle halt).
///
/// Only this CPU makes its own waits' deadline earlier (the thread that waits adds it here,
/// then leaves the CPU, which passes here before it can take an interrupt): no race. Hook
/// deadlines are noted on any CPU: the boot CPU publishes what it armed for, then reads them
/// once more (a fence between): another CPU noting one writes it, then reads `ARMED[0]`
/// (`boot_cpu_must_see`), so either this second read sees the new deadline or that CPU sees
/// the new `ARMED[0]` and kicks us when its deadline is earlier. With plain loads both could
/// read the old values, and an idle boot CPU slept past the deadline until some other
/// interrupt (possible only without the big kernel lock).
pub fn arm_timer() {
    let cpu = this_cpu();
    let own = TICK_AT[cpu]
        .load(Ordering::Relaxed)
        .min(SLEEP_FIRST[cpu].load(Ordering::Relaxed));
    if cpu != 0 {
        ARMED[cpu].store(own, Ordering::Relaxed);
        lintel_hal::clock::set_timer(crate::time::raw_deadline(own));
        return;
    }
    let mut at = own.min(NEXT_WORK.load(Ordering::Relaxed));
    loop {
        ARMED[0].store(at, Ordering::Relaxed);
        core::sync::atomic::fence(Ordering::SeqCst);
        let again = NEXT_WORK.load(Ordering::Relaxed);
        if again >= at {
            break;
        }
        at = again;
    }
    lintel_hal::clock::set_timer(crate::time::raw_deadline(at));
}

/// A new deadline `at` exists (already stored where `arm_timer` reads it): if it comes before
/// what the boot CPU's timer is armed for and this is another CPU, the boot CPU is
/// interrupted so that it arms again (on the boot CPU itself the way out of the kernel does).
/// The fence pairs with `arm_timer`'s.
fn boot_cpu_must_see(at: u64) {
    if this_cpu() == 0 {
        return;
    }
    core::sync::atomic::fence(Ordering::SeqCst);
    if at < ARMED[0].load(Ordering::Relaxed) {
        lintel_hal::smp::kick(0);
    }
}

/// Asks for the tick hooks to run at `at` (monotonic ns): a layer armed something the hooks
/// look after (an interval timer, a timerfd, an io_uring timeout, a network poll).
pub fn note_deadline(at: u64) {
    NEXT_WORK.fetch_min(at, Ordering::Relaxed);
    boot_cpu_must_see(at);
}

/// The wall clock was set: waits for a wall-clock time end so that their callers compute
/// their deadlines again, and the hooks run at once (timers on the wall clock).
pub fn clock_was_set() {
    let woken = {
        let mut s = SCHED.lock();
        let mut w = Vec::new();
        for (set, first) in s.sleepers.iter_mut().zip(&SLEEP_FIRST) {
            w.extend(set.take_realtime());
            first.store(set.first(), Ordering::Relaxed);
        }
        w
    };
    for t in woken {
        wake(&t);
    }
    note_deadline(0);
}

/// Halts this CPU until an interrupt, or for at most a tick: for kernel code that waits for a
/// device with the kernel lock held (a lost interrupt must not hang it).
pub fn halt_briefly() {
    lintel_hal::clock::set_timer(crate::time::raw_ns().saturating_add(TICK_NS));
    lintel_hal::idle_wait();
}

/// A timed wait: the CPU whose set holds it, and its key there.
type Wait = (usize, SleepKey);

/// Adds a timed wait of the current thread `t` for `deadline_ns` with its timer slack, to
/// this CPU's set: this CPU arms its timer for it on its way out of the kernel (`arm_timer`),
/// and ends it (`expire_due`).
fn add_sleeper(t: &ThreadRef, deadline_ns: u64, realtime: bool) -> Wait {
    let slack = t.timer_slack_ns();
    let cpu = this_cpu();
    let mut s = SCHED.lock();
    let set = &mut s.sleepers[cpu];
    let key = set.insert(deadline_ns, slack, t.clone(), realtime);
    SLEEP_FIRST[cpu].store(set.first(), Ordering::Relaxed);
    (cpu, key)
}

/// Removes a timed wait (it ended for another reason, or has already been taken out).
fn remove_sleeper((cpu, key): Wait) {
    let mut s = SCHED.lock();
    let set = &mut s.sleepers[cpu];
    set.remove(key);
    SLEEP_FIRST[cpu].store(set.first(), Ordering::Relaxed);
}

pub fn current() -> ThreadRef {
    try_current().expect("no current thread")
}

/// The thread running on this CPU, if any (None in the idle loop). Read from this CPU's
/// slot, which only the switch on this CPU changes: no lock (it used to take `SCHED`, which
/// every CPU takes to block, wake and switch).
pub fn try_current() -> Option<ThreadRef> {
    CURRENT.get()
}

/// Makes a new thread runnable, on the CPU with the most room (this one when tied).
pub fn enqueue(t: ThreadRef) {
    *t.sched_state().lock() = ThreadState::Runnable;
    let now = crate::time::uptime_ns();
    let mut s = SCHED.lock();
    let cpu = s.choose_cpu(&t, this_cpu());
    s.push_on(t, cpu, runq::Arrival::Fresh, now);
    s.notify(cpu, now);
}

/// `t`'s effective priority changed (a PI boost given or taken back): the CPU it runs or
/// waits on looks again at whether its running thread must give way (at once on another
/// CPU, at the way back to user mode on this one), as after a wake-up.
pub fn reprioritized(t: &ThreadRef) {
    let s = SCHED.lock();
    let cpu = running_on(t).unwrap_or_else(|| t.cpu_time().lock().cpu) % MAX_CPUS;
    s.notify(cpu, crate::time::uptime_ns());
}

/// Wakes a blocked thread. A thread that is not blocked but runs on another CPU is
/// interrupted there instead, so that it sees what it was woken for (a signal) at once.
pub fn wake(t: &ThreadRef) {
    wake_from(t, false);
}

/// `wake`; `here`: this CPU is idle and takes the thread itself, so no idle CPU is woken for
/// it (under TCG a second CPU woken only to find the queue empty again takes host time from
/// the one that runs the thread).
fn wake_from(t: &ThreadRef, here: bool) {
    let mut st = t.sched_state().lock();
    if *st == ThreadState::Blocked {
        // Still on its CPU (between marking itself and switching away): it stays runnable
        // there; its switch away sees the state and queues it (once).
        *st = ThreadState::Runnable;
    } else if *st == ThreadState::Asleep {
        *st = ThreadState::Runnable;
        drop(st);
        // One clock read for the queueing (a deadline thread's budget) and the preemption
        // check (issue 21: one each before).
        let now = crate::time::uptime_ns();
        let mut s = SCHED.lock();
        let cpu = if here {
            this_cpu()
        } else {
            let prev = t.cpu_time().lock().cpu;
            s.choose_cpu(t, prev)
        };
        s.push_on(t.clone(), cpu, runq::Arrival::Woken, now);
        if !here {
            s.notify(cpu, now);
        }
    } else if st.is_runnable() {
        // Registered but not yet blocked (another CPU), or woken for something it will see
        // on its own (a signal): the token ends its next wait.
        *st = ThreadState::Woken;
        drop(st);
        if lintel_hal::smp::shared() {
            if let Some(cpu) = running_on(t) {
                lintel_hal::smp::kick(cpu);
            }
        }
    }
}

/// Gives the current thread `t` a wake-up token: its next wait ends at once (for a sleep
/// nested in the condition check of another wait: see `park`).
pub fn leave_token(t: &ThreadRef) {
    let mut st = t.sched_state().lock();
    if *st == ThreadState::Runnable {
        *st = ThreadState::Woken;
    }
}

/// Drops a wake-up token left from an earlier wait of the current thread: called before the
/// thread registers where a waker finds it and then checks its condition (the order that
/// makes the token unneeded for wake-ups before the check). Returns whether there was one
/// (a nested sleep, `park`, gives it back afterwards).
pub fn prepare_wait(t: &ThreadRef) -> bool {
    let mut st = t.sched_state().lock();
    if *st == ThreadState::Woken {
        *st = ThreadState::Runnable;
        return true;
    }
    false
}

/// The CPU `t` is running on, if it is running (the answer may be stale at once: see
/// `CpuSlot::holder`).
fn running_on(t: &ThreadRef) -> Option<usize> {
    CURRENT.holder(t)
}

/// Gives the CPU away. The current thread must already be marked Blocked (and registered
/// somewhere that will wake it), Dead, or Runnable (then it is requeued; `yielding`: another
/// queued thread runs before it). `now`: the clock as the caller just read it, if it did; the
/// one read serves the outgoing thread's accounting, its requeueing and the incoming one's
/// start.
fn switch_away(yielding: bool, now: Option<u64>) {
    let (next_task, left, cur) = {
        let mut s = SCHED.lock();
        let cpu = this_cpu();
        let now = now.unwrap_or_else(crate::time::uptime_ns);
        let cur = s.cpus[cpu].current.take();
        RESCHED[cpu].store(false, Ordering::Relaxed);
        // CPU-time accounting: the outgoing thread's stint ends (if it runs on, a new one
        // starts below), charged to its virtual runtime by its weight.
        let mut requeued = false;
        if let Some(c) = &cur {
            // Under the thread's lock, so that a waker either saw Blocked (and made it
            // Runnable: requeued here) or sees Asleep (and queues it itself).
            let mut st = c.sched_state().lock();
            if *st == ThreadState::Blocked {
                *st = ThreadState::Asleep;
            }
            requeued = st.is_runnable();
            drop(st);
            charge(c, now, requeued);
            if requeued {
                s.push_on(c.clone(), cpu, runq::Arrival::Moved, now);
            }
        }
        let (next, rest) = s.pick(cpu, cur.as_ref().filter(|_| yielding));
        // The thread left runnable may go to an idle CPU rather than wait for this one.
        if let Some(c) = cur
            .as_ref()
            .filter(|_| requeued && lintel_hal::smp::shared())
        {
            if !next.as_ref().is_some_and(|n| Arc::ptr_eq(c, n)) {
                lintel_hal::smp::wake_idle_cpu(c.affinity());
            }
        }
        let same = matches!((&cur, &next), (Some(c), Some(n)) if Arc::ptr_eq(c, n));
        // The virtual runtime the incoming thread starts its stint with.
        let mut running = None;
        if let Some(n) = &next {
            let mut t = n.cpu_time().lock();
            running = Some(t.vruntime);
            t.since = now;
            t.running = true;
            t.cpu = cpu;
            t.user_at_since = n.user_time_ns();
            if same {
                // charge counted a switch that did not happen: the thread runs on.
                if requeued {
                    t.events.nivcsw -= 1;
                } else {
                    t.events.nvcsw -= 1;
                }
            }
        }
        // The CPU's least virtual runtime moves up to its threads' (what `update_min` finds,
        // from the ranks `pick` read).
        s.raise_min(cpu, running, rest);
        if same {
            s.cpus[cpu].current = cur.clone();
            return;
        }
        s.cpus[cpu].slice_start = now;
        cpustat::switched(cpu);
        // The next tick: a tick from now for a CPU that was idle, sooner when a deadline
        // thread's budget runs out first (then always armed for it: a tick that came first
        // would arm the next one a tick later, past the budget's end). Otherwise a tick
        // already due before that stays where it is: a switch between them moves no timer
        // (each move reprogrammed the hardware timer, and under QEMU a host timer, at every
        // switch: issue 21), and a CPU that switches often still ticks every TICK_NS. A tick
        // only looks (time slices count from `slice_start`, and `slice_over` brings the tick
        // forward to the end of the slice), so one that comes sooner after the switch
        // changes nothing.
        let tick = next
            .as_ref()
            .map_or(u64::MAX, |n| deadline::first_tick(n, now));
        let armed = TICK_AT[cpu].load(Ordering::Relaxed);
        let keep = armed > now && armed <= tick && tick == now.saturating_add(TICK_NS);
        if !keep {
            TICK_AT[cpu].store(tick, Ordering::Relaxed);
        }
        let task = match &next {
            Some(n) => n.kernel_task(),
            None => s.cpus[cpu].idle.clone().expect("no idle task"),
        };
        let left = CURRENT.replace(next.clone());
        s.cpus[cpu].current = next;
        (task, left, cur)
    };
    // Dropped with no lock held (the last reference to an exited thread frees it).
    drop(left);
    drop(cur);
    lintel_hal::task::switch_to(next_task);
    // Running again: make our address space current.
    if let Some(t) = try_current() {
        t.resumed();
    }
}

/// Ends the running thread's stint at `now` (see [`account_stint`]).
/// Also counts the switch away as getrusage sees it (involuntary when the thread is still
/// runnable), under the same lock: switch_away takes it back in the rare case the thread is
/// picked again.
fn charge(t: &ThreadRef, now: u64, runnable: bool) {
    let w = fair::weight_of(t);
    let mut ct = t.cpu_time().lock();
    if runnable {
        ct.events.nivcsw += 1;
    } else {
        ct.events.nvcsw += 1;
    }
    account_stint(t, ct, w, now, Stint::Ends);
}

/// What [`account_stint`] leaves of the running thread's stint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stint {
    /// The thread leaves the CPU.
    Ends,
    /// The thread runs on: a new stint starts at the accounting's `now`.
    Restarts,
}

/// Charges the running thread `t`'s stint from `ct.since` up to `now` (`ct` is its CPU time,
/// locked here; `w` its weight, read before the lock): its CPU time and the share of the CPU
/// it ran on (cpustat) grow, its virtual runtime grows at `w`, and a deadline thread's budget
/// pays for the stint (after `ct` is released: `sched_attr` is taken before `cpu_time`).
/// Nothing for a thread that is not running. The one accounting of both the switch away
/// ([`charge`]) and a reweighting ([`settle_stint`]).
fn account_stint(
    t: &ThreadRef,
    mut ct: spin::MutexGuard<'_, CpuTime>,
    w: u64,
    now: u64,
    then: Stint,
) {
    if !ct.running {
        return;
    }
    let since = ct.since;
    let d = now.saturating_sub(since);
    let user = t.user_time_ns();
    ct.total_ns += d;
    cpustat::ran(ct.cpu, d, user.saturating_sub(ct.user_at_since));
    ct.vruntime = ct.vruntime.saturating_add(fair::virtual_ns(d, w));
    match then {
        Stint::Ends => ct.running = false,
        Stint::Restarts => {
            ct.since = now;
            ct.user_at_since = user;
        }
    }
    drop(ct);
    deadline::consume(t, since, now);
}

/// The weight of `t` (its nice value or policy) is about to change: a running thread's stint so
/// far is charged at the weight it ran at, and a new stint starts now (Linux's set_user_nice
/// and __sched_setscheduler run update_curr before they reweight). Without it the next switch
/// charged the whole stint at the new weight: a thread that ran a long stint at nice 0 (under
/// a loaded host a stint of guest time grows with every stall of the vCPU) and then set nice
/// 10 was charged 9.3 times that time in virtual runtime and went without the CPU for as long
/// (sched_fair's nice_mid_stint; the likely cause of a loaded run's 1483 ms against 30 ms
/// where 1024:110 was due). Not under the scheduler's lock: takes it.
pub fn settle_stint(t: &ThreadRef) {
    let _s = SCHED.lock();
    let now = crate::time::uptime_ns();
    let w = fair::weight_of(t);
    account_stint(t, t.cpu_time().lock(), w, now, Stint::Restarts);
}

/// sched_yield's fast path: whether the yield of `t`, this CPU's running thread, is a no-op
/// that needs no scheduler lock. It is when nothing waits on this CPU's queue, no reschedule
/// is pending here, and `t` may stay on this CPU. Then [`switch_away`] would only requeue `t`
/// and pick it again: its stint would be split in two (same CPU time and virtual runtime in
/// total) and the involuntary switch it counts taken back, as Linux counts no switch for a
/// yield that finds nothing else runnable. Without this every sched_yield took the global
/// `SCHED` lock, which CPUs yielding in a loop fought over (sysbench threads, issue 14).
/// A thread queued here just after the length is read is no different from one queued just
/// after the yield: its push notifies this CPU as usual. Deadline threads are not asked
/// (their yield gives up the instance: [`deadline::yield_current`]).
pub(crate) fn yield_alone(t: &ThreadRef) -> bool {
    let cpu = this_cpu();
    let (Some(len), Some(resched)) = (QUEUE_LEN.get(cpu), RESCHED.get(cpu)) else {
        return false;
    };
    len.load(Ordering::Acquire) == 0
        && !resched.load(Ordering::Relaxed)
        && t.affinity() & (1u64 << cpu) != 0
        && t.sched_state().lock().is_runnable()
}

/// Lets the other threads queued on this CPU run first (sched_yield, a thread that must move).
pub fn yield_now() {
    switch_away(true, None);
}

/// Leaves the CPU for good. The caller has dropped every reference it held.
pub fn exit_current() -> ! {
    *current().sched_state().lock() = ThreadState::Dead;
    switch_away(false, None);
    unreachable!("dead thread scheduled");
}

/// Blocks the current thread until something wakes it or `deadline_ns` (monotonic) passes.
/// The caller has registered the thread where its waker will find it.
/// A wake-up that came since the thread registered (or a stale one: see the module comment)
/// ends the wait at once: every caller waits in a loop on its condition.
pub fn block_until(deadline_ns: Option<u64>) {
    let t = current();
    if !mark_blocked(&t) {
        return;
    }
    let key = deadline_ns.map(|d| add_sleeper(&t, d, false));
    drop(t);
    switch_away(false, None);
    if let Some(k) = key {
        remove_sleeper(k);
    }
}

/// Marks the current thread Blocked, unless a wake-up token is pending: then takes the token
/// and returns false (the caller does not sleep).
fn mark_blocked(t: &ThreadRef) -> bool {
    let mut st = t.sched_state().lock();
    if *st == ThreadState::Woken {
        *st = ThreadState::Runnable;
        return false;
    }
    *st = ThreadState::Blocked;
    true
}

/// Sleeps until the monotonic clock reaches `deadline_ns` or the thread is woken earlier.
/// `realtime`: the deadline stands for a wall-clock time, and setting the clock ends the
/// sleep early so that the caller computes it again.
pub fn sleep_until(deadline_ns: u64, realtime: bool) {
    let t = current();
    if !mark_blocked(&t) {
        return;
    }
    let key = add_sleeper(&t, deadline_ns, realtime);
    drop(t);
    switch_away(false, None);
    remove_sleeper(key);
}

/// Work the timer does for layers above the scheduler (polled devices, interval timers,
/// timerfds), registered at boot so the scheduler names none of them. A hook returns when it
/// wants to run again (monotonic ns), if it has a deadline; hooks also run at every tick of
/// the boot CPU and whenever it wakes from idle (a device interrupt). Only the boot CPU runs
/// them (device interrupts come to it).
pub type TickHook = fn() -> Option<u64>;
static TICK_HOOKS: Mutex<[Option<TickHook>; 12]> = Mutex::new([None; 12]);

/// Runs `hook` from the boot CPU's timer work, after expired waits have ended.
pub fn on_tick(hook: TickHook) {
    let mut hooks = TICK_HOOKS.lock();
    match hooks.iter_mut().find(|h| h.is_none()) {
        Some(slot) => *slot = Some(hook),
        None => panic!("more than {} tick hooks", hooks.len()),
    }
}

/// Timer work, after a timer or other interrupt: the next tick of this CPU is due one period
/// later; this CPU's due waits end; on the boot CPU the hooks run. Returns true if the
/// current thread's time slice is over.
pub fn tick() -> bool {
    let cpu = this_cpu();
    let now = crate::time::uptime_ns();
    let next_tick = TICK_AT[cpu].load(Ordering::Relaxed);
    let ticked = next_tick != u64::MAX && now >= next_tick;
    if ticked {
        TICK_AT[cpu].store(now.saturating_add(TICK_NS), Ordering::Relaxed);
    }
    timer_work(cpu, now);
    slice_over(now, ticked)
}

/// The timer work of `cpu` at `now` (its tick, or its idle loop after a wake-up): its waits
/// that are due end, and on the boot CPU the hooks run.
fn timer_work(cpu: usize, now: u64) {
    // The boot CPU looks at every wake-up, as it always did (a wait ends there once its soft
    // deadline passed); another CPU takes the lock only when its timer's deadline for them
    // (the earliest hard one) has come, so that its other interrupts (IPIs) cost no lock.
    if cpu == 0 || now >= SLEEP_FIRST[cpu].load(Ordering::Relaxed) {
        expire_due(cpu, now);
    }
    if cpu != 0 {
        return;
    }
    NEXT_WORK.store(u64::MAX, Ordering::Relaxed);
    let hooks = *TICK_HOOKS.lock();
    for hook in hooks.iter().flatten() {
        if let Some(at) = hook() {
            NEXT_WORK.fetch_min(at.max(now + MIN_REPOLL_NS), Ordering::Relaxed);
        }
    }
}

/// Ends `cpu`'s timed waits whose soft deadline is `now` or earlier. A CPU that is idle runs
/// the first such thread itself (its idle loop looks at the queue next) when its affinity
/// allows: the thread usually waited on this very CPU (it went idle when the thread blocked),
/// so the end of a sleep wakes one CPU and sends no IPI; the others are woken as any wake-up.
fn expire_due(cpu: usize, now: u64) {
    let (expired, idle_here) = {
        let mut s = SCHED.lock();
        let set = &mut s.sleepers[cpu];
        let out = set.expire(now);
        SLEEP_FIRST[cpu].store(set.first(), Ordering::Relaxed);
        (
            out,
            s.cpus[cpu].current.is_none() && s.cpus[cpu].queue.is_empty(),
        )
    };
    let mut take_one = idle_here;
    for t in expired {
        let here = take_one && t.affinity() & (1u64 << cpu) != 0;
        take_one &= !here;
        wake_from(&t, here);
    }
}

/// Whether this CPU's thread must give the CPU up: a queued thread should run before it
/// (`runq`'s `preempt_due`: priority, virtual runtime, slice), or its affinity no longer
/// allows this CPU (sched_setaffinity from another thread: it moves at once, as on Linux).
/// A CPU running a thread also moves its least virtual runtime up here, and at its tick
/// (`ticked`: not at other interrupts) balances its load against the others.
///
/// Another interrupt (an IPI, a timed wait's end) with nothing queued here takes no lock:
/// with an empty queue `preempt_due` can only answer that a deadline thread used its budget,
/// and balancing waits for the tick (every interrupt of every CPU took the global lock here,
/// and a CPU kicked often fought the others for it). A thread queued here just after the
/// length is read is no different from one queued just after this: its push notifies this
/// CPU as usual.
fn slice_over(now: u64, ticked: bool) -> bool {
    let cpu = this_cpu();
    let Some(cur) = try_current() else {
        return false;
    };
    if lintel_hal::smp::shared() && cur.affinity() & (1u64 << cpu) == 0 {
        return true;
    }
    if !ticked && QUEUE_LEN[cpu].load(Ordering::Acquire) == 0 {
        return deadline::exhausted(&cur, now);
    }
    let mut s = SCHED.lock();
    if ticked {
        s.balance(cpu);
    }
    s.update_min(cpu, now);
    // The ticks keep their phase across switches (`switch_away`): the next one comes no later
    // than the next end of a slice of the running thread, so that slices end on time.
    let end = runq::next_slice_end(s.cpus[cpu].slice_start, now);
    if end < TICK_AT[cpu].load(Ordering::Relaxed) {
        TICK_AT[cpu].store(end, Ordering::Relaxed);
    }
    s.preempt_due(cpu, now)
}

/// Interrupts `t` if it runs on another CPU, so that it enters the kernel and looks at what
/// changed for it (its affinity).
pub fn kick_if_running(t: &ThreadRef) {
    if lintel_hal::smp::shared() {
        if let Some(cpu) = running_on(t) {
            lintel_hal::smp::kick(cpu);
        }
    }
}

/// The CPU's first task becomes its idle task: it runs whenever no thread is runnable here.
/// After each wake-up it does the CPU's timer work (its due waits end; the boot CPU's also
/// runs the polled work); every CPU waits without the kernel lock.
pub fn idle_loop() -> ! {
    SCHED.lock().cpu().idle = Some(lintel_hal::task::current());
    lintel_hal::mm::activate_kernel();
    let boot_cpu = this_cpu() == 0;
    loop {
        timer_work(this_cpu(), crate::time::uptime_ns());
        let (has_work, gen) = {
            let mut s = SCHED.lock();
            let cpu = this_cpu();
            let gen = QUEUE_GEN.load(Ordering::Acquire);
            // Work queued here that may run here, else a waiting thread of the busiest CPU.
            s.evict_misplaced(cpu);
            if s.cpus[cpu].queue.is_empty() {
                s.pull(cpu, 1);
            }
            (!s.cpus[cpu].queue.is_empty(), gen)
        };
        if has_work {
            // Back here with the last thread's root still loaded (lazy TLB, as Linux's idle
            // task): reloading the kernel's would empty the TLB for nothing when the same
            // address space runs next.
            switch_away(false, None);
            continue;
        }
        arm_timer();
        // Every wake-up of the boot CPU runs the tick's work; another CPU's ends its wait
        // when its timer is armed (for a timed wait: its timer interrupt must reach the loop,
        // which ends the wait or arms again if it came early).
        let any_wakeup = boot_cpu || ARMED[this_cpu()].load(Ordering::Relaxed) != u64::MAX;
        lintel_hal::smp::idle_unlocked(|| QUEUE_GEN.load(Ordering::Acquire) == gen, any_wakeup);
    }
}

/// Threads waiting for an event.
#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<ThreadRef>>,
    /// How many times `wake_all` or `wake_one` ran: an event count, so that `wait_once` can
    /// tell that a wake-up came between a caller's check and its registration.
    wakes: AtomicU64,
    /// `waiters.len()`, written under its lock, read by the wakers without it (Linux's
    /// wq_has_sleeper): a wake-up with nobody queued takes no lock. A full fence on both
    /// sides keeps a waiter from being missed: a waiter counts itself, fences, then looks at
    /// its condition (or the wake count); a waker changed the condition (and counted the
    /// wake), fences, then reads this. Either the waiter sees the change or the waker sees
    /// the waiter.
    sleepers: AtomicUsize,
}

/// A `WaitQueue`'s wake count, read before a condition check (`WaitQueue::ticket`).
#[derive(Clone, Copy)]
#[must_use]
pub struct Ticket(u64);

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            waiters: Mutex::new(Vec::new()),
            wakes: AtomicU64::new(0),
            sleepers: AtomicUsize::new(0),
        }
    }

    /// Read before checking the condition that a later `wait_once` waits for.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.wakes.load(Ordering::SeqCst))
    }

    /// Blocks until `cond` returns Some.
    /// The thread registers before it checks (Linux's `prepare_to_wait`): a waker that
    /// changes the condition after the check finds it on the queue.
    /// The condition is asked once first without registering (the common case: no wait).
    pub fn wait_until<T>(&self, mut cond: impl FnMut() -> Option<T>) -> T {
        if let Some(v) = cond() {
            return v;
        }
        let t = current();
        loop {
            self.register(&t);
            if let Some(v) = cond() {
                self.unregister(&t);
                return v;
            }
            block_until(None);
        }
    }

    /// Puts the current thread `t` on the queue (once), dropping a stale wake-up token.
    fn register(&self, t: &ThreadRef) {
        prepare_wait(t);
        let mut w = self.waiters.lock();
        if !w.iter().any(|w| Arc::ptr_eq(w, t)) {
            w.push(t.clone());
            self.sleepers.store(w.len(), Ordering::Relaxed);
        }
        drop(w);
        // Paired with the wakers' (see `sleepers`): the caller checks its condition next.
        fence(Ordering::SeqCst);
    }

    fn unregister(&self, t: &ThreadRef) {
        let mut w = self.waiters.lock();
        w.retain(|w| !Arc::ptr_eq(w, t));
        self.sleepers.store(w.len(), Ordering::Relaxed);
    }

    /// Blocks once until woken through this queue or until `deadline_ns` (monotonic) passes;
    /// the caller rechecks its condition. The caller took `ticket` before it checked: a
    /// `wake_all` since then (another CPU changed the condition after the check) ends the
    /// wait at once. `wake_all` counts before it takes the waiters and this registers before
    /// it compares, so either the count has moved or the waker finds the thread queued
    /// (Linux gets the same from `prepare_to_wait` before the check). A wake-up between
    /// registering and blocking is not lost either (the token).
    pub fn wait_once(&self, ticket: Ticket, deadline_ns: Option<u64>) {
        let t = current();
        // No `prepare_wait` here: the caller checked signals before, and a token a signal
        // left since must end the block.
        {
            let mut w = self.waiters.lock();
            w.push(t.clone());
            self.sleepers.store(w.len(), Ordering::Relaxed);
        }
        // Paired with the wakers' (see `sleepers`).
        fence(Ordering::SeqCst);
        if self.wakes.load(Ordering::SeqCst) != ticket.0 {
            self.unregister(&t);
            return;
        }
        self.block_registered(&t, deadline_ns);
    }

    /// Blocks the current thread `t`, registered on the queue, then takes it off.
    fn block_registered(&self, t: &ThreadRef, deadline_ns: Option<u64>) {
        block_until(deadline_ns);
        self.unregister(t);
    }

    /// The one blocking wait of every interruptible call (reads, writes, accept, locks):
    /// `cond` is asked first and after every wake-up; `Some(result)` ends the wait. Without a
    /// result it fails with EAGAIN when `nonblock` is set or `deadline_ns` (monotonic) has
    /// passed, and with ERESTARTSYS (or what the pending signal turns that into) when a signal
    /// is pending, as Linux's `wait_event_interruptible` does. Callers that have already
    /// moved some bytes turn those errors into a short count themselves.
    pub fn wait_interruptible<T>(
        &self,
        deadline_ns: Option<u64>,
        nonblock: bool,
        mut cond: impl FnMut() -> Option<KResult<T>>,
    ) -> KResult<T> {
        // Asked once first without registering (the common case: no wait).
        if let Some(r) = cond() {
            return r;
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        // Registered before every check (condition, deadline, signal), so that a wake-up for
        // any of them after the check is not lost.
        let t = current();
        loop {
            self.register(&t);
            let r = if let Some(r) = cond() {
                Some(r)
            } else if deadline_ns.is_some_and(|d| crate::time::uptime_ns() >= d) {
                Some(Err(Errno::EAGAIN))
            } else {
                t.interrupted(Errno::ERESTARTSYS).map(Err)
            };
            if let Some(r) = r {
                self.unregister(&t);
                return r;
            }
            self.block_registered(&t, deadline_ns);
        }
    }

    /// Counts a wake-up and tells whether anyone is queued (see `sleepers`).
    #[inline]
    fn count_wake(&self) -> bool {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        // Paired with the waiters' fence: the caller changed the condition before this.
        fence(Ordering::SeqCst);
        self.sleepers.load(Ordering::Relaxed) != 0
    }

    /// Wakes every queued thread (takes no lock when none is queued).
    pub fn wake_all(&self) {
        if !self.count_wake() {
            return;
        }
        let w = {
            let mut w = self.waiters.lock();
            self.sleepers.store(0, Ordering::Relaxed);
            core::mem::take(&mut *w)
        };
        for t in w {
            wake(&t);
        }
    }

    /// Wakes one queued thread, the last queued (Linux's epoll_wait waiters are exclusive and
    /// queued at the head: a wake-up goes to the thread that came last). Threads between their
    /// ticket and their registration see the wake-up count move and look again too. A caller
    /// must make sure a woken thread that finds nothing for it does not swallow a wake-up
    /// another needed: every woken waiter looks at the condition before it leaves, and
    /// whoever leaves the condition still true for others wakes the next (epoll's
    /// collect does, as Linux's ep_done_scan).
    pub fn wake_one(&self) {
        if !self.count_wake() {
            return;
        }
        let t = {
            let mut w = self.waiters.lock();
            let t = w.pop();
            self.sleepers.store(w.len(), Ordering::Relaxed);
            t
        };
        if let Some(t) = t {
            wake(&t);
        }
    }
}
