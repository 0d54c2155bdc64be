//! Kernel tasks: a kernel stack, saved callee registers and the FP/SIMD state of the user thread
//! that runs on it (their layout is the architecture's: `arch::switch`). The kernel's scheduler decides who runs; this module only switches.
//!
//! Ownership keeps switching sound: the running task is referenced by the per-CPU `CURRENT`, and
//! the task switched away from stays referenced (in `PREV`) until the next task has left its
//! stack behind, so a task can drop the last outside reference to itself and switch away.
//!
//! **On a CPU** (Linux's `on_cpu`): each task says whether a CPU is on its stack. The flag is
//! set by the CPU that switches to the task and cleared, with Release, by the same CPU only
//! once the switch has saved the task's registers and the CPU runs on the next task's stack
//! (`finish_switch`). Without the kernel lock a thread that blocked on CPU A can be woken by
//! CPU B and picked by CPU C while A is still on its stack, between the scheduler's decision
//! and the register save: C then waits (Acquire) for the flag before it reads the saved stack
//! pointer and FPU image. No cycle of such waits: a CPU waits only for a task that was queued
//! before it picked (the scheduler picks under one lock), held by a CPU that picked earlier.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use spin::Mutex;

use crate::arch::switch;
pub use crate::arch::xstate::{BadImage, FpuState, FPREGS_SIZE};
use crate::smp::MAX_CPUS;

pub use crate::mm::kstack::STACK_SIZE;

/// A kernel stack, allocated apart from its task so that fork can reserve it (and fail with
/// ENOMEM) before it commits to creating anything. Its pages are frames mapped in the kernel
/// stack area with an unmapped guard below (`mm::kstack`), freed when it is dropped, which is
/// never while a CPU runs on it (the task that owns it is kept alive until then).
pub struct KernelStack(crate::mm::kstack::StackPages);

impl KernelStack {
    /// A zeroed stack, or None when no page frames (or no slot of the area) are left.
    pub fn try_new() -> Option<KernelStack> {
        crate::mm::kstack::StackPages::alloc().map(KernelStack)
    }

    /// The address just above the stack (where a push starts).
    pub(crate) fn top(&mut self) -> usize {
        self.0.top()
    }
}

/// How many kernel stacks exist (/proc/meminfo's KernelStack, a panic's report); each takes
/// `STACK_SIZE` bytes of page frames.
pub fn kernel_stacks() -> usize {
    crate::mm::kstack::live_stacks()
}

/// A task's first code. Not a `Box<dyn FnOnce()>`: calling one frees its heap block only
/// when the call returns, and a task's entry never returns (it switches away for good), so
/// every task left its closure (the thread and its user registers, ~200 bytes) on the heap.
trait Start: Send {
    /// Takes the closure out of its box, frees the box, then runs it.
    fn start(self: Box<Self>);
}

struct StartFn<F>(F);

impl<F: FnOnce() + Send> Start for StartFn<F> {
    fn start(self: Box<Self>) {
        // The box is dropped (its memory freed) at the end of this block, before the call.
        let f = {
            let b = self;
            let StartFn(f) = *b;
            f
        };
        f();
    }
}

type Entry = Box<dyn Start>;

pub struct Task {
    /// A CPU runs on this task's stack, or has not yet saved its registers after leaving it.
    on_cpu: AtomicBool,
    sp: UnsafeCell<usize>,
    fpu: UnsafeCell<FpuState>,
    _stack: Option<KernelStack>,
    entry: Mutex<Option<Entry>>,
    /// What the kernel calls the task (its thread id), for a report that cannot take locks.
    label: AtomicU64,
    /// A CPU's first task (its idle loop): it runs no user code, so its FPU state is neither
    /// saved nor loaded, and the registers keep the state of the thread that ran before it.
    idle: bool,
    /// The CPU whose registers still hold the state last saved into `fpu` (NO_CPU: none known,
    /// or the image was replaced since): switching back to the task there loads nothing.
    fpu_cpu: AtomicUsize,
}

const NO_CPU: usize = usize::MAX;

/// Per CPU: the task (its address) whose user FP state the CPU's registers hold, 0 for none
/// known. Linux's fpu_fpregs_owner_ctx: with `Task::fpu_cpu` it lets a thread that comes back
/// to a CPU after only the idle loop ran there skip its XRSTOR (Linux's fpregs_state_valid).
/// Written only by its CPU, in `switch_to`.
static FPU_HELD: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];

// SAFETY: `sp` and `fpu` are only touched by `switch_to` on the CPU that owns the task at that
// moment (a task runs on one CPU at a time; the scheduler guarantees it).
unsafe impl Sync for Task {}
// SAFETY: as above.
unsafe impl Send for Task {}

struct CpuSlots {
    current: Option<Arc<Task>>,
    prev: Option<Arc<Task>>,
}

/// Each CPU's running task and the task it just left, by CPU index.
static SLOTS: [Mutex<CpuSlots>; MAX_CPUS] = [const {
    Mutex::new(CpuSlots {
        current: None,
        prev: None,
    })
}; MAX_CPUS];

/// Each CPU's running task's label (`Task::set_label`), readable without a lock: a kernel
/// stack overflow's report names the thread by it.
static RUNNING: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// The label of the task running on this CPU (0: none given, a CPU's first task).
pub(crate) fn running_label() -> u64 {
    RUNNING[crate::smp::cpu_index() % MAX_CPUS].load(Ordering::Relaxed)
}

/// This CPU's slots.
fn slots() -> &'static Mutex<CpuSlots> {
    &SLOTS[crate::smp::cpu_index() % MAX_CPUS]
}

/// Makes the code running now (the boot stack, or a secondary CPU's start stack) this CPU's
/// first task.
pub(crate) fn init_boot_task() {
    let t = Arc::new(Task {
        on_cpu: AtomicBool::new(true),
        sp: UnsafeCell::new(0),
        fpu: UnsafeCell::new(FpuState::initial()),
        _stack: None,
        entry: Mutex::new(None),
        label: AtomicU64::new(0),
        idle: true,
        fpu_cpu: AtomicUsize::new(NO_CPU),
    });
    #[cfg(feature = "lockdep")]
    set_context_key(&t);
    slots().lock().current = Some(t);
}

/// Each CPU's running task as a number, readable without a lock (the lock-order checker
/// asks it on every lock operation, and must not take a lock to find out).
#[cfg(feature = "lockdep")]
static CONTEXT_KEYS: [core::sync::atomic::AtomicUsize; MAX_CPUS] =
    [const { core::sync::atomic::AtomicUsize::new(0) }; MAX_CPUS];

#[cfg(feature = "lockdep")]
fn set_context_key(t: &Arc<Task>) {
    CONTEXT_KEYS[crate::smp::cpu_index() % MAX_CPUS].store(
        Arc::as_ptr(t) as usize,
        core::sync::atomic::Ordering::Relaxed,
    );
}

/// A number for the task running on this CPU, unique among live tasks (its address), or
/// the CPU index + 1 before the CPU has a task (a task's address is never that small).
#[cfg(feature = "lockdep")]
pub fn context_key() -> usize {
    let cpu = crate::smp::cpu_index() % MAX_CPUS;
    match CONTEXT_KEYS[cpu].load(core::sync::atomic::Ordering::Relaxed) {
        0 => cpu + 1,
        k => k,
    }
}

impl Task {
    /// A task that will run `entry` on `stack` when first switched to, with `fpu` as its user
    /// FPU state. `entry` must never return (it ends by switching away for good).
    pub fn new(
        mut stack: KernelStack,
        entry: impl FnOnce() + Send + 'static,
        fpu: FpuState,
    ) -> Arc<Task> {
        let top = stack.top();
        // SAFETY: the stack was just allocated and mapped, is 16-aligned and belongs to this
        // task only.
        let frame = unsafe { switch::prepare_stack(top) };
        Arc::new(Task {
            on_cpu: AtomicBool::new(false),
            sp: UnsafeCell::new(frame),
            fpu: UnsafeCell::new(fpu),
            _stack: Some(stack),
            entry: Mutex::new(Some(Box::new(StartFn(entry)))),
            label: AtomicU64::new(0),
            idle: false,
            fpu_cpu: AtomicUsize::new(NO_CPU),
        })
    }

    /// Gives the task the number a kernel stack overflow's report names it by (the kernel
    /// passes the thread id). Takes effect from the next switch to it.
    pub fn set_label(&self, label: u64) {
        self.label.store(label, Ordering::Relaxed);
    }
}

impl Task {
    /// A copy of the user FP state of the thread on this task (ptrace, core dumps): the live
    /// registers when it is the running task, else the image saved when it was switched out.
    pub fn fpu_state(self: &Arc<Task>) -> FpuState {
        let s = slots().lock();
        if s.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, self)) {
            return FpuState::save_current();
        }
        // SAFETY: `self` is not running and SLOTS is held, which `switch_to` also holds while it
        // saves or loads a task's FPU slot, so nothing else touches it.
        unsafe { (*self.fpu.get()).clone() }
    }

    /// Replaces the user FP state of the thread on this task (ptrace): loaded at once when it
    /// is the running task, else when it is next switched to. `state` must come from
    /// [`Task::fpu_state`] or [`FpuState::initial`], possibly changed through
    /// `FpuState::set_fpregs`/`set_xsave_image` (which keep it loadable).
    pub fn set_fpu_state(self: &Arc<Task>, state: FpuState) {
        let s = slots().lock();
        if s.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, self)) {
            state.restore_current();
            return;
        }
        // The registers of the CPU it last ran on no longer match the image.
        self.fpu_cpu.store(NO_CPU, Ordering::Relaxed);
        // SAFETY: as in `fpu_state`.
        unsafe { *self.fpu.get() = state };
    }
}

pub fn current() -> Arc<Task> {
    slots().lock().current.clone().expect("no current task")
}

/// Switches from the current task to `next`. Returns when the current task is switched back to.
pub fn switch_to(next: Arc<Task>) {
    crate::watchdog::progress();
    let (prev_sp, next_sp) = {
        let mut s = slots().lock();
        let prev = s.current.replace(next.clone()).expect("no current task");
        if Arc::ptr_eq(&prev, &next) {
            return;
        }
        // The CPU that last ran `next` may not have saved its registers yet (see the module
        // comment): wait, answering other CPUs' requests meanwhile (interrupts are off, and
        // that CPU may be waiting in a shootdown). With the kernel lock the flag is always
        // clear here: the lock is held by the switching CPU until it runs on the next stack.
        while next
            .on_cpu
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            crate::smp::serve_requests();
            core::hint::spin_loop();
        }
        // The user FP state: prev's is saved (the registers keep it), next's loaded unless the
        // registers still hold it (only an idle loop ran here since it was saved here). An
        // idle task has none of its own.
        let cpu = crate::smp::cpu_index() % MAX_CPUS;
        let held = &FPU_HELD[cpu];
        if !prev.idle {
            // SAFETY: prev is the running task, so nothing else touches its FPU slot; the FPU
            // holds its user state.
            unsafe { (*prev.fpu.get()).save_into() };
            prev.fpu_cpu.store(cpu, Ordering::Relaxed);
            held.store(Arc::as_ptr(&prev) as usize, Ordering::Relaxed);
        }
        let loaded = held.load(Ordering::Relaxed) == Arc::as_ptr(&next) as usize
            && next.fpu_cpu.load(Ordering::Relaxed) == cpu;
        if !next.idle && !loaded {
            // SAFETY: next is not running (scheduler invariant, and `on_cpu` waited for above),
            // so nothing else touches its FPU slot.
            unsafe { (*next.fpu.get()).restore_current() };
            held.store(Arc::as_ptr(&next) as usize, Ordering::Relaxed);
        }
        let pr = prev.sp.get();
        // SAFETY: reading next's saved sp; next is not running.
        let nr = unsafe { *next.sp.get() };
        s.prev = Some(prev);
        RUNNING[crate::smp::cpu_index() % MAX_CPUS]
            .store(next.label.load(Ordering::Relaxed), Ordering::Relaxed);
        #[cfg(feature = "lockdep")]
        set_context_key(&next);
        (pr, nr)
    };
    drop(next);
    // SAFETY: prev stays alive in SLOTS.prev until the next task runs finish_switch; next_sp is
    // a stack prepared by Task::new or saved by an earlier lintel_switch.
    unsafe { switch::switch(prev_sp, next_sp) };
    finish_switch();
}

/// Runs on the new task's stack after every switch: the task left behind has its registers
/// saved, so other CPUs may switch to it (Release: the saved stack pointer and FPU image are
/// visible to the CPU that takes it), and its stack may be freed.
fn finish_switch() {
    let prev = slots().lock().prev.take();
    if let Some(p) = &prev {
        p.on_cpu.store(false, Ordering::Release);
    }
    drop(prev);
}

#[no_mangle]
extern "C" fn lintel_task_start() -> ! {
    finish_switch();
    let t = current();
    let entry = t.entry.lock().take();
    drop(t);
    if let Some(f) = entry {
        f.start();
    }
    panic!("kernel task returned");
}

/// Resets the live FPU state (execve).
pub fn reset_fpu() {
    FpuState::load_initial();
}
