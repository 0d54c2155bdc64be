//! Kernel tasks: a kernel stack, saved callee registers and the FPU/SSE state of the user thread
//! that runs on it. The kernel's scheduler decides who runs; this module only switches.
//!
//! Ownership keeps switching sound: the running task is referenced by the per-CPU `CURRENT`, and
//! the task switched away from stays referenced (in `PREV`) until the next task has left its
//! stack behind, so a task can drop the last outside reference to itself and switch away.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::cell::UnsafeCell;
use spin::Mutex;

extern "C" {
    fn lintel_switch(save_rsp: *mut usize, new_rsp: usize);
    fn lintel_task_trampoline();
}

/// Size of each kernel stack (16 KiB on Linux; Lintel's deeper call chains get 64 KiB).
pub const STACK_SIZE: usize = 64 * 1024;

/// A kernel stack, allocated apart from its task so that fork can reserve it (and fail with
/// ENOMEM) before it commits to creating anything.
pub struct KernelStack(Box<[u128]>);

impl KernelStack {
    /// A zeroed stack, or None when the heap has no free block of `STACK_SIZE` bytes.
    pub fn try_new() -> Option<KernelStack> {
        let words = STACK_SIZE / 16;
        let mut v: alloc::vec::Vec<u128> = alloc::vec::Vec::new();
        v.try_reserve_exact(words).ok()?;
        v.resize(words, 0);
        Some(KernelStack(v.into_boxed_slice()))
    }
}

/// FXSAVE image of the x87/SSE state.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// The state a new program starts with (FCW 0x37f, MXCSR 0x1f80), as after `execve`.
    pub fn initial() -> FpuState {
        let mut s = [0u8; 512];
        s[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        s[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        s[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
        FpuState(s)
    }

    /// The live state of the current CPU (the current user thread's: the kernel never uses the
    /// FPU).
    pub fn save_current() -> FpuState {
        let mut s = FpuState([0; 512]);
        // SAFETY: the buffer is 512 bytes, 16-aligned.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) s.0.as_mut_ptr(), options(nostack)) };
        s
    }

    /// Loads this state into the CPU. MXCSR reserved bits are masked so a signal frame written
    /// by user space cannot make `fxrstor` fault.
    pub fn restore_current(&self) {
        let mut copy = self.clone();
        let mxcsr = u32::from_le_bytes([copy.0[24], copy.0[25], copy.0[26], copy.0[27]]) & 0xffff;
        copy.0[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        // SAFETY: the image is 512 bytes, 16-aligned, with a valid MXCSR.
        unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) copy.0.as_ptr(), options(nostack)) };
    }

    pub fn bytes(&self) -> &[u8; 512] {
        &self.0
    }

    pub fn from_bytes(b: &[u8; 512]) -> FpuState {
        FpuState(*b)
    }
}

type Entry = Box<dyn FnOnce() + Send>;

pub struct Task {
    rsp: UnsafeCell<usize>,
    fpu: UnsafeCell<FpuState>,
    _stack: Option<KernelStack>,
    entry: Mutex<Option<Entry>>,
}

// SAFETY: `rsp` and `fpu` are only touched by `switch_to` on the CPU that owns the task at that
// moment (a task runs on one CPU at a time; the scheduler guarantees it).
unsafe impl Sync for Task {}
// SAFETY: as above.
unsafe impl Send for Task {}

struct CpuSlots {
    current: Option<Arc<Task>>,
    prev: Option<Arc<Task>>,
}

static SLOTS: Mutex<CpuSlots> = Mutex::new(CpuSlots {
    current: None,
    prev: None,
});

/// Makes the code running now (the boot stack) the first task.
pub(crate) fn init_boot_task() {
    let t = Arc::new(Task {
        rsp: UnsafeCell::new(0),
        fpu: UnsafeCell::new(FpuState::initial()),
        _stack: None,
        entry: Mutex::new(None),
    });
    SLOTS.lock().current = Some(t);
}

impl Task {
    /// A task that will run `entry` on `stack` when first switched to, with `fpu` as its user
    /// FPU state. `entry` must never return (it ends by switching away for good).
    pub fn new(
        mut stack: KernelStack,
        entry: impl FnOnce() + Send + 'static,
        fpu: FpuState,
    ) -> Arc<Task> {
        let top = stack.0.as_mut_ptr() as usize + STACK_SIZE;
        // Initial frame popped by lintel_switch: six callee-saved registers, then the return
        // address. After `ret` rsp = top - 16 (16-aligned), so after the trampoline's `call` the
        // callee sees rsp = 8 mod 16, as the ABI requires.
        let frame = top - 16 - 7 * 8;
        // SAFETY: the frame lies inside the freshly allocated stack.
        unsafe {
            let p = frame as *mut usize;
            for i in 0..6 {
                p.add(i).write(0);
            }
            p.add(6).write(lintel_task_trampoline as *const () as usize);
        }
        Arc::new(Task {
            rsp: UnsafeCell::new(frame),
            fpu: UnsafeCell::new(fpu),
            _stack: Some(stack),
            entry: Mutex::new(Some(Box::new(entry))),
        })
    }
}

pub fn current() -> Arc<Task> {
    SLOTS.lock().current.clone().expect("no current task")
}

/// Switches from the current task to `next`. Returns when the current task is switched back to.
pub fn switch_to(next: Arc<Task>) {
    let (prev_rsp, next_rsp) = {
        let mut s = SLOTS.lock();
        let prev = s.current.replace(next.clone()).expect("no current task");
        if Arc::ptr_eq(&prev, &next) {
            return;
        }
        // SAFETY: prev is the running task and next is not running (scheduler invariant); the
        // FPU holds prev's user state.
        unsafe {
            core::arch::asm!("fxsave64 [{}]", in(reg) (*prev.fpu.get()).0.as_mut_ptr(), options(nostack));
            (*next.fpu.get()).restore_current();
        }
        let pr = prev.rsp.get();
        // SAFETY: reading next's saved rsp; next is not running.
        let nr = unsafe { *next.rsp.get() };
        s.prev = Some(prev);
        (pr, nr)
    };
    drop(next);
    // SAFETY: prev stays alive in SLOTS.prev until the next task runs finish_switch; next_rsp is
    // a stack prepared by Task::new or saved by an earlier lintel_switch.
    unsafe { lintel_switch(prev_rsp, next_rsp) };
    finish_switch();
}

fn finish_switch() {
    let prev = SLOTS.lock().prev.take();
    drop(prev);
}

#[no_mangle]
extern "C" fn lintel_task_start() -> ! {
    finish_switch();
    let t = current();
    let entry = t.entry.lock().take();
    drop(t);
    if let Some(f) = entry {
        f();
    }
    panic!("kernel task returned");
}

/// Resets the live FPU state (execve).
pub fn reset_fpu() {
    FpuState::initial().restore_current();
}
