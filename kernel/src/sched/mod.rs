//! The scheduler: one run queue of runnable threads shared by every CPU, timed sleeps, and wait
//! queues. The kernel is not preemptible: a thread leaves its CPU only when it blocks, yields,
//! exits, or when the timer interrupts it in user mode and its time slice is over. Kernel code
//! runs on one CPU at a time (hal's kernel lock), so these structures need no finer locking
//! than the spin locks they already have; each CPU has its own current thread, idle task and
//! slice start.
//!
//! **Time.** There is no periodic tick of the hardware's own: each CPU's one-shot timer is
//! armed on every way out of the kernel (to user mode or to the idle halt) by [`arm_timer`],
//! for the earliest of what this CPU must do at a given time. A CPU running a thread ticks
//! every `TICK_NS` (time slices, CPU-time timers, the quiet hooks); an idle CPU does not tick
//! at all. The boot CPU keeps time for all: its timer also covers the earliest timed wait
//! ([`timers`]) and the earliest time a tick hook asked for, and its timer work ([`tick`])
//! ends the waits that are due and runs the hooks. A deadline set on another CPU that comes
//! before what the boot CPU is armed for interrupts the boot CPU, which arms again.

mod timers;

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::{Errno, KResult};
use lintel_hal::smp::MAX_CPUS;
use lintel_hal::task::Task;
use spin::Mutex;
use timers::Deadlines;
pub use timers::SleepKey;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ThreadState {
    Runnable,
    Blocked,
    Dead,
}

/// CPU time a thread has used. `total_ns` counts time on the CPU (kernel and user); `user_ns`
/// the part spent in user mode; `since` is when the thread last got the CPU.
#[derive(Clone, Copy, Default, Debug)]
pub struct CpuTime {
    pub total_ns: u64,
    pub user_ns: u64,
    pub since: u64,
    pub running: bool,
}

impl CpuTime {
    /// (user, system) nanoseconds, counting the current stint if the thread is running.
    pub fn user_sys(&self, now: u64) -> (u64, u64) {
        let total = self.total_ns
            + if self.running {
                now.saturating_sub(self.since)
            } else {
                0
            };
        let user = self.user_ns.min(total);
        (user, total - user)
    }
}

/// What the scheduler needs of a thread. The process layer's `Thread` implements it; the
/// queues hold `Arc<dyn Schedulable>`, so the scheduler, and everything below the process
/// layer that blocks (wait queues, futexes), names no process type.
pub trait Schedulable: Any + Send + Sync {
    fn sched_state(&self) -> &Mutex<ThreadState>;
    fn cpu_time(&self) -> &Mutex<CpuTime>;
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
}

struct Sched {
    queue: VecDeque<ThreadRef>,
    sleepers: Deadlines,
    cpus: [Cpu; MAX_CPUS],
}

static SCHED: Mutex<Sched> = Mutex::new(Sched {
    queue: VecDeque::new(),
    sleepers: Deadlines::new(),
    cpus: [const {
        Cpu {
            current: None,
            idle: None,
            slice_start: 0,
        }
    }; MAX_CPUS],
});

/// Bumped at every push onto the run queue: an idle CPU that found no work for itself sleeps
/// on without taking the kernel lock until this moves.
static QUEUE_GEN: AtomicU64 = AtomicU64::new(0);

/// The index of the CPU running this code.
fn this_cpu() -> usize {
    lintel_hal::smp::cpu_index() % MAX_CPUS
}

impl Sched {
    fn cpu(&mut self) -> &mut Cpu {
        &mut self.cpus[this_cpu()]
    }

    /// Queues a runnable thread; idle CPUs see the queue changed.
    fn push(&mut self, t: ThreadRef) {
        self.queue.push_back(t);
        QUEUE_GEN.fetch_add(1, Ordering::Release);
    }

    /// The first queued thread allowed on this CPU (its affinity mask), taken off the queue.
    fn pop_for(&mut self, cpu: usize) -> Option<ThreadRef> {
        // One CPU: every thread may run here (no affinity lock on the switch path).
        if !lintel_hal::smp::shared() {
            return self.queue.pop_front();
        }
        let i = self
            .queue
            .iter()
            .position(|t| t.affinity() & (1u64 << cpu) != 0)?;
        self.queue.remove(i)
    }
}

/// The tick of a CPU running a thread: 100 Hz, the rate of the former periodic tick.
pub const TICK_NS: u64 = 10_000_000;
/// How long a thread may run before the timer preempts it when others wait.
const SLICE_NS: u64 = 2 * TICK_NS;

/// The earliest hard deadline of a timed wait (u64::MAX for none), kept with the set under
/// the scheduler's lock so that arming the timer needs no lock.
static SLEEP_FIRST: AtomicU64 = AtomicU64::new(u64::MAX);
/// The earliest time a tick hook or quiet hook asked to run again, or that a layer noted
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
/// it runs a thread, and on the boot CPU the earliest timed wait and hook deadline. Called on
/// every way out of the kernel (back to user mode, into the idle halt).
pub fn arm_timer() {
    let cpu = this_cpu();
    let mut at = TICK_AT[cpu].load(Ordering::Relaxed);
    if cpu == 0 {
        at = at
            .min(SLEEP_FIRST.load(Ordering::Relaxed))
            .min(NEXT_WORK.load(Ordering::Relaxed));
    }
    ARMED[cpu].store(at, Ordering::Relaxed);
    lintel_hal::clock::set_timer(at);
}

/// A new deadline `at` exists: if it comes before what the boot CPU's timer is armed for and
/// this is another CPU, the boot CPU is interrupted so that it arms again (on the boot CPU
/// itself the way out of the kernel does).
fn boot_cpu_must_see(at: u64) {
    if this_cpu() != 0 && at < ARMED[0].load(Ordering::Relaxed) {
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
        let w = s.sleepers.take_realtime();
        SLEEP_FIRST.store(s.sleepers.first(), Ordering::Relaxed);
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
    lintel_hal::clock::set_timer(crate::time::uptime_ns().saturating_add(TICK_NS));
    lintel_hal::idle_wait();
}

/// Adds a timed wait of the current thread `t` for `deadline_ns` with its timer slack.
fn add_sleeper(t: &ThreadRef, deadline_ns: u64, realtime: bool) -> SleepKey {
    let slack = t.timer_slack_ns();
    let key = {
        let mut s = SCHED.lock();
        let key = s.sleepers.insert(deadline_ns, slack, t.clone(), realtime);
        SLEEP_FIRST.store(s.sleepers.first(), Ordering::Relaxed);
        key
    };
    boot_cpu_must_see(key.0);
    key
}

/// Removes a timed wait (it ended for another reason, or has already been taken out).
fn remove_sleeper(key: SleepKey) {
    let mut s = SCHED.lock();
    s.sleepers.remove(key);
    SLEEP_FIRST.store(s.sleepers.first(), Ordering::Relaxed);
}

pub fn current() -> ThreadRef {
    try_current().expect("no current thread")
}

pub fn try_current() -> Option<ThreadRef> {
    SCHED.lock().cpu().current.clone()
}

/// Makes a new or woken thread runnable.
pub fn enqueue(t: ThreadRef) {
    *t.sched_state().lock() = ThreadState::Runnable;
    let allowed = t.affinity();
    SCHED.lock().push(t);
    lintel_hal::smp::wake_idle_cpu(allowed);
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
        *st = ThreadState::Runnable;
        drop(st);
        SCHED.lock().push(t.clone());
        if !here {
            lintel_hal::smp::wake_idle_cpu(t.affinity());
        }
    } else if lintel_hal::smp::shared() {
        drop(st);
        if let Some(cpu) = running_on(t) {
            lintel_hal::smp::kick(cpu);
        }
    }
}

/// The CPU `t` is running on, if it is running.
fn running_on(t: &ThreadRef) -> Option<usize> {
    let s = SCHED.lock();
    s.cpus
        .iter()
        .position(|c| c.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, t)))
}

/// Gives the CPU away. The current thread must already be marked Blocked (and registered
/// somewhere that will wake it), Dead, or Runnable (then it is requeued).
fn switch_away() {
    let next_task = {
        let mut s = SCHED.lock();
        let cpu = this_cpu();
        let cur = s.cpus[cpu].current.take();
        let mut requeued = false;
        if let Some(c) = &cur {
            if *c.sched_state().lock() == ThreadState::Runnable {
                s.push(c.clone());
                requeued = true;
            }
        }
        let next = s.pop_for(cpu);
        // The thread left runnable may go to an idle CPU rather than wait for this one.
        if let Some(c) = cur
            .as_ref()
            .filter(|_| requeued && lintel_hal::smp::shared())
        {
            if !next.as_ref().is_some_and(|n| Arc::ptr_eq(c, n)) {
                lintel_hal::smp::wake_idle_cpu(c.affinity());
            }
        }
        if let (Some(c), Some(n)) = (&cur, &next) {
            if Arc::ptr_eq(c, n) {
                s.cpus[cpu].current = cur.clone();
                return;
            }
        }
        // CPU-time accounting: the outgoing thread's stint ends, the incoming one's begins.
        let now = crate::time::uptime_ns();
        if let Some(c) = &cur {
            let mut t = c.cpu_time().lock();
            if t.running {
                t.total_ns += now.saturating_sub(t.since);
                t.running = false;
            }
        }
        if let Some(n) = &next {
            let mut t = n.cpu_time().lock();
            t.since = now;
            t.running = true;
        }
        s.cpus[cpu].slice_start = now;
        TICK_AT[cpu].store(
            if next.is_some() {
                now.saturating_add(TICK_NS)
            } else {
                u64::MAX
            },
            Ordering::Relaxed,
        );
        match next {
            Some(n) => {
                let task = n.kernel_task();
                s.cpus[cpu].current = Some(n);
                task
            }
            None => s.cpus[cpu].idle.clone().expect("no idle task"),
        }
    };
    lintel_hal::task::switch_to(next_task);
    // Running again: make our address space current.
    if let Some(t) = try_current() {
        t.resumed();
    }
}

pub fn yield_now() {
    switch_away();
}

/// Leaves the CPU for good. The caller has dropped every reference it held.
pub fn exit_current() -> ! {
    *current().sched_state().lock() = ThreadState::Dead;
    switch_away();
    unreachable!("dead thread scheduled");
}

/// Blocks the current thread until something wakes it or `deadline_ns` (monotonic) passes.
/// The caller has registered the thread where its waker will find it.
pub fn block_until(deadline_ns: Option<u64>) {
    let t = current();
    *t.sched_state().lock() = ThreadState::Blocked;
    let key = deadline_ns.map(|d| add_sleeper(&t, d, false));
    switch_away();
    if let Some(k) = key {
        remove_sleeper(k);
    }
}

/// Sleeps until the monotonic clock reaches `deadline_ns` or the thread is woken earlier.
/// `realtime`: the deadline stands for a wall-clock time, and setting the clock ends the
/// sleep early so that the caller computes it again.
pub fn sleep_until(deadline_ns: u64, realtime: bool) {
    let t = current();
    *t.sched_state().lock() = ThreadState::Blocked;
    let key = add_sleeper(&t, deadline_ns, realtime);
    drop(t);
    switch_away();
    remove_sleeper(key);
}

/// Work the timer does for layers above the scheduler (polled devices, interval timers,
/// timerfds), registered at boot so the scheduler names none of them. A hook returns when it
/// wants to run again (monotonic ns), if it has a deadline; hooks also run at every tick of
/// the boot CPU and whenever it wakes from idle (a device interrupt).
pub type TickHook = fn() -> Option<u64>;
static TICK_HOOKS: Mutex<[Option<TickHook>; 8]> = Mutex::new([None; 8]);

/// Runs `hook` from the boot CPU's timer work, after expired waits have ended.
pub fn on_tick(hook: TickHook) {
    let mut hooks = TICK_HOOKS.lock();
    match hooks.iter_mut().find(|h| h.is_none()) {
        Some(slot) => *slot = Some(hook),
        None => panic!("more than {} tick hooks", hooks.len()),
    }
}

/// Timer work, after a timer or other interrupt: the next tick of this CPU is due one period
/// later; on the boot CPU, due waits end and the hooks run. Returns true if the current
/// thread's time slice is over.
pub fn tick() -> bool {
    let cpu = this_cpu();
    let now = crate::time::uptime_ns();
    let next_tick = TICK_AT[cpu].load(Ordering::Relaxed);
    if next_tick != u64::MAX && now >= next_tick {
        TICK_AT[cpu].store(now.saturating_add(TICK_NS), Ordering::Relaxed);
    }
    // Waits and the hooks belong to the boot CPU (the clock's); the other CPUs' ticks only
    // end time slices.
    if cpu != 0 {
        return slice_over();
    }
    let (expired, idle_here) = {
        let mut s = SCHED.lock();
        let out = s.sleepers.expire(now);
        SLEEP_FIRST.store(s.sleepers.first(), Ordering::Relaxed);
        (out, s.cpus[cpu].current.is_none() && s.queue.is_empty())
    };
    // An idle boot CPU runs the first thread whose wait ended itself (its idle loop looks at
    // the queue next); other CPUs are woken for the rest.
    let mut take_one = idle_here;
    for t in expired {
        let here = take_one && t.affinity() & (1u64 << cpu) != 0;
        take_one &= !here;
        wake_from(&t, here);
    }
    NEXT_WORK.store(u64::MAX, Ordering::Relaxed);
    let hooks = *TICK_HOOKS.lock();
    for hook in hooks.iter().flatten() {
        if let Some(at) = hook() {
            NEXT_WORK.fetch_min(at.max(now + MIN_REPOLL_NS), Ordering::Relaxed);
        }
    }
    slice_over()
}

/// Whether this CPU's thread must give the CPU up: it has used its slice while another
/// thread waits for a CPU, or its affinity no longer allows this CPU (sched_setaffinity from
/// another thread: it moves at once, as on Linux).
fn slice_over() -> bool {
    let s = SCHED.lock();
    let cpu = this_cpu();
    let misplaced = lintel_hal::smp::shared()
        && s.cpus[cpu]
            .current
            .as_ref()
            .is_some_and(|c| c.affinity() & (1u64 << cpu) == 0);
    let start = s.cpus[cpu].slice_start;
    misplaced || crate::time::uptime_ns().saturating_sub(start) >= SLICE_NS && !s.queue.is_empty()
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

/// Background work that must run where this CPU holds no kernel lock and is in no system
/// call (the journal's periodic commit), registered at boot like the tick hooks.
static QUIET_HOOKS: Mutex<[Option<TickHook>; 4]> = Mutex::new([None; 4]);

/// Runs `hook` from the idle loop and whenever a thread is back from user mode on a timer
/// interrupt: unlike a tick hook, it may take locks and wait for the disk. Like a tick hook,
/// it returns when it wants to run again.
pub fn on_quiet(hook: TickHook) {
    let mut hooks = QUIET_HOOKS.lock();
    match hooks.iter_mut().find(|h| h.is_none()) {
        Some(slot) => *slot = Some(hook),
        None => panic!("more than {} quiet hooks", hooks.len()),
    }
}

/// Runs the quiet hooks; the caller holds no lock and is in no system call.
pub fn quiet() {
    let hooks = *QUIET_HOOKS.lock();
    let now = crate::time::uptime_ns();
    for hook in hooks.iter().flatten() {
        if let Some(at) = hook() {
            note_deadline(at.max(now + MIN_REPOLL_NS));
        }
    }
}

/// The CPU's first task becomes its idle task: it runs whenever no thread is runnable here.
/// The boot CPU's also runs the tick's polled work and the quiet hooks; every CPU waits
/// without the kernel lock.
pub fn idle_loop() -> ! {
    SCHED.lock().cpu().idle = Some(lintel_hal::task::current());
    let boot_cpu = this_cpu() == 0;
    loop {
        if boot_cpu {
            tick();
            quiet();
        }
        let (has_work, gen) = {
            let s = SCHED.lock();
            let me = 1u64 << this_cpu();
            let gen = QUEUE_GEN.load(Ordering::Acquire);
            (s.queue.iter().any(|t| t.affinity() & me != 0), gen)
        };
        if has_work {
            switch_away();
            lintel_hal::mm::activate_kernel();
            continue;
        }
        arm_timer();
        if boot_cpu {
            // Every wake-up of the boot CPU runs the tick's work.
            lintel_hal::smp::idle_unlocked(|| false);
        } else {
            lintel_hal::smp::idle_unlocked(|| QUEUE_GEN.load(Ordering::Acquire) == gen);
        }
    }
}

/// Threads waiting for an event.
#[derive(Default)]
pub struct WaitQueue {
    waiters: Mutex<Vec<ThreadRef>>,
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            waiters: Mutex::new(Vec::new()),
        }
    }

    /// Blocks until `cond` returns Some.
    pub fn wait_until<T>(&self, mut cond: impl FnMut() -> Option<T>) -> T {
        loop {
            if let Some(v) = cond() {
                return v;
            }
            let t = current();
            *t.sched_state().lock() = ThreadState::Blocked;
            self.waiters.lock().push(t);
            switch_away();
        }
    }

    /// Blocks once until woken through this queue or until `deadline_ns` (monotonic) passes;
    /// the caller rechecks its condition. Safe against lost wake-ups because the kernel is not
    /// preempted between the caller's check and this call.
    pub fn wait_once(&self, deadline_ns: Option<u64>) {
        let t = current();
        *t.sched_state().lock() = ThreadState::Blocked;
        self.waiters.lock().push(t.clone());
        let key = deadline_ns.map(|d| add_sleeper(&t, d, false));
        switch_away();
        if let Some(k) = key {
            remove_sleeper(k);
        }
        self.waiters.lock().retain(|w| !Arc::ptr_eq(w, &t));
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
        loop {
            if let Some(r) = cond() {
                return r;
            }
            if nonblock || deadline_ns.is_some_and(|d| crate::time::uptime_ns() >= d) {
                return Err(Errno::EAGAIN);
            }
            if let Some(e) = current().interrupted(Errno::ERESTARTSYS) {
                return Err(e);
            }
            self.wait_once(deadline_ns);
        }
    }

    pub fn wake_all(&self) {
        let w = core::mem::take(&mut *self.waiters.lock());
        for t in w {
            wake(&t);
        }
    }
}
