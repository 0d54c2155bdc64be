//! The machine's CPUs and the one lock that lets them share the kernel.
//!
//! Bring-up starts every CPU the firmware lists, one at a time ([`await_started`] waits for
//! each); each parks (halted, [`park`]) after its per-CPU setup until the kernel calls
//! [`start_scheduling`], which sends them into the kernel's idle loop.
//!
//! **The big kernel lock.** A CPU holds it whenever it runs kernel code: it is taken on every
//! entry from user mode and when a CPU leaves the scheduler's idle wait, and released on the
//! way back to user mode and while idle. Kernel code therefore still runs on one CPU at a time
//! (it was written for one CPU: non-preemptible, interrupts off), while user code runs on all
//! of them. Interrupt handlers that run without the lock touch only atomics. The lock costs
//! nothing until a second CPU starts scheduling.
//!
//! A CPU waiting for the lock (or halted) still answers the requests other CPUs make of it
//! ([`shootdown`]: drop stale translations of an address space), so a holder can wait for
//! them without deadlock.

use crate::arch;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// CPUs Lintel brings up at most (the boot CPU included); masks of CPUs are one u64.
pub const MAX_CPUS: usize = 64;

/// What bring-up found: CPUs the firmware lists and CPUs running (the boot CPU included).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Census {
    pub present: usize,
    pub started: usize,
    /// The started CPUs by index (bit n: CPU n).
    pub mask: u64,
}

impl Census {
    /// `present` CPUs listed; only the boot CPU (index 0) runs so far.
    pub(crate) fn new(present: usize) -> Census {
        Census {
            present,
            started: 1,
            mask: 1,
        }
    }
}

static CENSUS: spin::Once<Census> = spin::Once::new();
/// The index a starting CPU stores once it is set up (0: none yet). CPUs are started one at a
/// time, so one slot does.
static READY: AtomicU64 = AtomicU64::new(0);
/// CPUs that finished their setup and wait in their park.
static PARKED: AtomicU64 = AtomicU64::new(0);
/// How long a starting CPU has to report before it is given up.
const START_TIMEOUT_NS: u64 = 1_000_000_000;
/// CPUs running the scheduler, as a mask (bit n: CPU n).
static ONLINE: AtomicU64 = AtomicU64::new(1);
/// CPUs in the scheduler's idle wait, without the lock (polling or halted).
static IDLE: AtomicU64 = AtomicU64::new(0);

/// Whether this CPU is in [`idle_unlocked`]'s wait (it touches no user memory there).
#[allow(dead_code)] // x86_64 only (its shootdown answer)
pub(crate) fn idle_here() -> bool {
    IDLE.load(Ordering::Relaxed) & (1u64 << cpu_index()) != 0
}
/// The idle CPUs past their polling phase, that halt: only these need a wake-up IPI.
static HALTING: AtomicU64 = AtomicU64::new(0);
/// Idle CPUs some other CPU asked to look again ([`wake_idle_cpu`]) while they polled.
static POKED: AtomicU64 = AtomicU64::new(0);
/// How long an idle CPU polls for new work before it halts. A wake-up in that time needs
/// no IPI: under QEMU's TCG an IPI is an APIC write under QEMU's global lock, which the
/// target vCPU, busy going idle, also takes; on a loaded host the sender then waits for the
/// host to schedule it again (measured: 1-5 ms per wake-up without the kernel lock, so a
/// futex ping-pong across CPUs ran 15x slower than with it). Linux's idle poll
/// (TIF_POLLING_NRFLAG) spares the IPI the same way.
const IDLE_POLL_NS: u64 = 200_000;
/// Set once a second CPU may enter the kernel: from then on the lock is taken.
static SHARED: AtomicBool = AtomicBool::new(false);
/// The default (unless `lintel.bkl=on`): the lock is never taken, so kernel code runs on
/// several CPUs at once (docs/architecture.md, "Without the big kernel lock").
static LOCK_OFF: AtomicBool = AtomicBool::new(false);
/// Ticket lock: the next ticket to hand out and the one allowed in.
static NEXT_TICKET: AtomicU32 = AtomicU32::new(0);
static SERVING: AtomicU32 = AtomicU32::new(0);
const NO_OWNER: usize = usize::MAX;
static OWNER: AtomicUsize = AtomicUsize::new(NO_OWNER);
/// What the secondary CPUs run once released: the kernel's idle loop.
static ENTRY: spin::Once<fn() -> !> = spin::Once::new();

/// Turns the big kernel lock off for good (the default; `lintel.bkl=on` keeps it): called
/// at boot, before [`start_scheduling`].
pub fn disable_kernel_lock() {
    LOCK_OFF.store(true, Ordering::SeqCst);
}

/// Answers what other CPUs asked of this one (a TLB shootdown) while it waits with interrupts
/// off: every kernel spin loop that may wait for a CPU that may itself be waiting in
/// [`shootdown`] calls this.
pub fn serve_requests() {
    arch::smp::serve_requests();
}

/// Waits until no other CPU has root table `root` loaded, answering requests meanwhile: its
/// frame is about to be freed. A CPU keeps the root of the thread it last ran until it loads
/// another (the next thread's, or the kernel's in the idle loop), which it does before it
/// waits for anything; freed and reused while still loaded there, the table's kernel half
/// could vanish under that CPU (a fault it cannot even report: a triple fault). With the big
/// kernel lock no CPU is ever in that window when the last owner drops the table.
pub(crate) fn wait_root_unused(root: u64) {
    while arch::smp::root_active_elsewhere(root) {
        serve_requests();
        core::hint::spin_loop();
    }
}

/// Starts the secondary CPUs (boot, once: the heap, paging and the clock are up).
pub(crate) fn start() {
    CENSUS.call_once(arch::smp::start_secondaries);
}

/// CPUs the firmware lists (up to [`MAX_CPUS`]).
pub fn cpus_present() -> usize {
    CENSUS.get().map_or(1, |c| c.present)
}

/// CPUs that came up and finished their per-CPU setup, the boot CPU included.
pub fn cpus_started() -> usize {
    CENSUS.get().map_or(1, |c| c.started)
}

/// The CPUs the scheduler runs on once [`start_scheduling`] has released them (bit n: CPU n):
/// what the kernel reports as online.
pub fn cpu_mask() -> u64 {
    CENSUS.get().map_or(1, |c| c.mask)
}

/// The mask of CPUs running the scheduler now.
pub fn online_mask() -> u64 {
    ONLINE.load(Ordering::Acquire)
}

/// The index of the CPU running this code (0: the boot CPU).
#[inline]
pub fn cpu_index() -> usize {
    arch::smp::cpu_index()
}

/// Sends the parked CPUs into `entry` (the kernel's idle loop), each holding the kernel lock
/// in turn. Called once, by the boot CPU in the kernel, when the scheduler is ready.
pub fn start_scheduling(entry: fn() -> !) {
    if cpus_started() < 2 {
        return;
    }
    // The caller is in the kernel: it takes the lock now so that its next release is paired.
    SHARED.store(true, Ordering::SeqCst);
    lock_kernel();
    ENTRY.call_once(|| entry);
    // Sends every parked CPU on its way: the wake-up ends its halt and it finds the entry
    // point named.
    let parked = PARKED.swap(0, Ordering::SeqCst);
    for cpu in 0..MAX_CPUS {
        if parked & (1 << cpu) != 0 {
            arch::smp::send_wakeup(cpu);
        }
    }
}

/// Bring-up, before starting the CPU that is to have index `index`: nothing reported yet.
pub(crate) fn expect_cpu() {
    READY.store(0, Ordering::SeqCst);
}

/// Whether CPU `index`, being started, has reported from [`park`].
pub(crate) fn reported(index: u64) -> bool {
    READY.load(Ordering::SeqCst) == index
}

/// Bring-up: waits (up to a second) for CPU `index`, just started, to report from [`park`],
/// and counts it in `census` when it does. Returns whether it did; one that did not may still
/// be on its way in, so what it reads (its start block, its tables) must stay.
pub(crate) fn await_started(census: &mut Census, index: u64) -> bool {
    let t0 = crate::clock::monotonic_ns();
    while !reported(index) && crate::clock::monotonic_ns() - t0 < START_TIMEOUT_NS {
        core::hint::spin_loop();
    }
    if !reported(index) || index as usize >= MAX_CPUS {
        return false;
    }
    census.started += 1;
    census.mask |= 1 << index;
    true
}

/// A secondary CPU, `index`, done with its per-CPU setup (its interrupts can reach it):
/// reports to the CPU starting it and parks, halted, until [`start_scheduling`] names the
/// entry point; each of its wake-ups ends a halt. The caller then finishes with
/// [`secondary_enter`].
pub(crate) fn park(index: u64) {
    PARKED.fetch_or(1 << (index as usize % MAX_CPUS), Ordering::SeqCst);
    READY.store(index, Ordering::SeqCst);
    while !entry_named() {
        arch::cpu::idle_wait();
    }
}

/// A secondary CPU, released from its park: joins the scheduler.
pub(crate) fn secondary_enter() -> ! {
    let Some(entry) = ENTRY.get().copied() else {
        arch::cpu::halt_forever()
    };
    crate::task::init_boot_task();
    lock_kernel();
    ONLINE.fetch_or(1 << cpu_index(), Ordering::AcqRel);
    entry()
}

/// The secondary CPUs' entry point, once [`start_scheduling`] has named it.
fn entry_named() -> bool {
    ENTRY.get().is_some()
}

/// CPUs halted while waiting for the kernel lock (bit n: CPU n), and the ticket each waits
/// for: an unlock wakes the one whose turn it is. On a host with fewer cores than QEMU has
/// CPUs, spinning waiters would take host time from the holder.
static SLEEPERS: AtomicU64 = AtomicU64::new(0);
static SLEEPING_ON: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// Spins before a waiter halts.
const SPINS_BEFORE_HALT: u32 = 100;

/// Takes the kernel lock (no-op while one CPU runs). Requests from other CPUs are answered
/// while waiting.
pub(crate) fn lock_kernel() {
    if !SHARED.load(Ordering::Acquire) || LOCK_OFF.load(Ordering::Relaxed) {
        return;
    }
    let me = cpu_index() % MAX_CPUS;
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    let mut spins = 0;
    while SERVING.load(Ordering::Acquire) != ticket {
        arch::smp::serve_requests();
        spins += 1;
        if spins < SPINS_BEFORE_HALT {
            core::hint::spin_loop();
            continue;
        }
        // Halt until the unlock that makes it our turn (or any interrupt). Announce first,
        // then look again: the unlocker bumps SERVING first, then looks for sleepers.
        SLEEPING_ON[me].store(ticket, Ordering::SeqCst);
        SLEEPERS.fetch_or(1 << me, Ordering::SeqCst);
        if SERVING.load(Ordering::SeqCst) != ticket {
            crate::cpu::idle_wait();
        }
        SLEEPERS.fetch_and(!(1 << me), Ordering::SeqCst);
    }
    OWNER.store(me, Ordering::Relaxed);
}

/// Releases the kernel lock taken by [`lock_kernel`], waking the next waiter if it halted.
pub(crate) fn unlock_kernel() {
    if !SHARED.load(Ordering::Acquire) || LOCK_OFF.load(Ordering::Relaxed) {
        return;
    }
    OWNER.store(NO_OWNER, Ordering::Relaxed);
    let next = SERVING.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
    let mut sleepers = SLEEPERS.load(Ordering::SeqCst);
    while sleepers != 0 {
        let cpu = sleepers.trailing_zeros() as usize;
        sleepers &= sleepers - 1;
        if SLEEPING_ON[cpu].load(Ordering::SeqCst) == next {
            arch::smp::send_wakeup(cpu);
            break;
        }
    }
}

/// The scheduler's idle wait: without the kernel lock, halted until an interrupt (a device,
/// the tick, or another CPU's wake-up) after which `still_idle` (lock-free) says there is
/// nothing to look at; then the lock is taken again. `still_idle` is also asked once before
/// the first halt, after this CPU is marked idle: work queued between the caller's look at
/// its queue and that mark found the CPU not (yet) idle and sent no wake-up (without the
/// kernel lock the queuing CPU does not wait for this one to halt). `any_wakeup`: every
/// wake-up ends the wait (the boot CPU's, whose timer work runs on each).
///
/// With the kernel lock off ([`idle_polls`]) the wait first polls (up to `IDLE_POLL_NS`,
/// interrupts still off: at most that late) and only then halts; while it polls, a waker
/// sends no IPI, the new work or its poke suffices.
pub fn idle_unlocked(still_idle: impl Fn() -> bool, any_wakeup: bool) {
    let me = 1u64 << cpu_index();
    IDLE.fetch_or(me, Ordering::SeqCst);
    // Paired with the fence in `wake_idle_cpu` (the queuing side bumps its generation, then
    // reads IDLE): either the look below sees the new work or the queuing CPU sees this CPU
    // idle and wakes it.
    core::sync::atomic::fence(Ordering::SeqCst);
    unlock_kernel();
    if idle_polls() {
        poll_then_halt(me, &still_idle, any_wakeup);
    } else {
        // A waker sends every idle CPU the IPI: nothing else to announce or clear.
        halt(&still_idle, any_wakeup, || false);
    }
    IDLE.fetch_and(!me, Ordering::AcqRel);
    lock_kernel();
}

/// Whether idle CPUs poll before they halt, and so whether wakers poke them and send the IPI
/// only to those past the poll (`HALTING`): with the kernel lock off. Only then: with it on
/// (the default), and on one CPU, wake-ups were not measured slow, and the poll would delay
/// device interrupts (a disk's completion) by up to its length and take host time from the
/// other vCPUs. Fixed before any CPU idles ([`disable_kernel_lock`] is called at boot), so
/// an idle CPU and its waker always agree.
fn idle_polls() -> bool {
    LOCK_OFF.load(Ordering::Relaxed)
}

/// The idle wait of [`idle_polls`]: the poll (on several CPUs), then the halt, with the
/// bookkeeping that tells a waker which of the two this CPU (bit `me`) is in.
fn poll_then_halt(me: u64, still_idle: &impl Fn() -> bool, any_wakeup: bool) {
    let poked = || POKED.load(Ordering::SeqCst) & me != 0;
    let start = crate::clock::monotonic_ns();
    // On one CPU nothing wakes this one but interrupts.
    let poll = SHARED.load(Ordering::Relaxed);
    while poll
        && still_idle()
        && !(any_wakeup && poked())
        && crate::clock::monotonic_ns().wrapping_sub(start) < IDLE_POLL_NS
    {
        arch::smp::serve_requests();
        core::hint::spin_loop();
    }
    // Halting from here on: announced, then the work and the poke looked at again (paired
    // with `wake_idle_cpu`, which pokes, then reads HALTING): either the look sees them or
    // the waker sees this CPU halting and sends the IPI.
    HALTING.fetch_or(me, Ordering::SeqCst);
    core::sync::atomic::fence(Ordering::SeqCst);
    halt(still_idle, any_wakeup, poked);
    HALTING.fetch_and(!me, Ordering::SeqCst);
    POKED.fetch_and(!me, Ordering::SeqCst);
}

/// Halts while `still_idle` says so and nobody `poked` this CPU; with `any_wakeup`, only
/// until the first interrupt.
fn halt(still_idle: &impl Fn() -> bool, any_wakeup: bool, poked: impl Fn() -> bool) {
    while still_idle() && !(any_wakeup && poked()) {
        crate::cpu::idle_wait();
        if any_wakeup {
            break;
        }
    }
}

/// Work became runnable that may run on the CPUs in `allowed`: wake one of them that is idle
/// (other than this one) to take it.
pub fn wake_idle_cpu(allowed: u64) {
    if !SHARED.load(Ordering::Relaxed) {
        return;
    }
    // Paired with the fence in `idle_unlocked`.
    core::sync::atomic::fence(Ordering::SeqCst);
    let others = IDLE.load(Ordering::SeqCst) & allowed & !(1u64 << cpu_index());
    if others == 0 {
        return;
    }
    let cpu = others.trailing_zeros() as usize;
    if idle_polls() {
        // A CPU still polling sees the poke (or the new work) itself; one that halts needs
        // the IPI. Poke first, then look (paired with the fence in `poll_then_halt`).
        POKED.fetch_or(1u64 << cpu, Ordering::SeqCst);
        core::sync::atomic::fence(Ordering::SeqCst);
        if HALTING.load(Ordering::SeqCst) & (1u64 << cpu) == 0 {
            return;
        }
    }
    arch::smp::send_wakeup(cpu);
}

/// Interrupts CPU `cpu` (if it is not this one) so that it enters the kernel, where it looks
/// at its thread's pending signals and at the run queue.
pub fn kick(cpu: usize) {
    if SHARED.load(Ordering::Relaxed) && cpu != cpu_index() && cpu < MAX_CPUS {
        arch::smp::send_wakeup(cpu);
    }
}

/// A device interrupt arrived here: the lock holder may be halted waiting for it.
pub(crate) fn kick_lock_owner() {
    if !SHARED.load(Ordering::Relaxed) {
        return;
    }
    let owner = OWNER.load(Ordering::Relaxed);
    if owner != NO_OWNER && owner != cpu_index() {
        arch::smp::send_wakeup(owner);
    }
}

/// Every other CPU that may hold translations of the address space `root` drops them; returns
/// when all have. The caller holds the kernel lock (page tables change only under it).
pub(crate) fn shootdown(root: u64) {
    if SHARED.load(Ordering::Relaxed) {
        arch::smp::shootdown(Some(root));
    }
}

/// Every other CPU executes a full memory barrier (it takes an interrupt) before this returns
/// (membarrier). The caller holds the kernel lock.
pub fn barrier_all() {
    if SHARED.load(Ordering::Relaxed) {
        arch::smp::shootdown(None);
    }
}

/// Whether more than one CPU may run (callers choose cheaper paths when not).
pub fn shared() -> bool {
    SHARED.load(Ordering::Relaxed)
}
