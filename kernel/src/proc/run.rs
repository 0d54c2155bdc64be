//! The life of a user thread on its kernel task: run user code, handle what brought it back
//! into the kernel, repeat until the thread exits.

use super::signal::{self, SigInfo};
use super::Thread;
use crate::mm::FaultError;
use crate::sched;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_hal::context::{Access, Exception, ReturnReason, UserContext};
use lintel_hal::task::{FpuState, Task};

/// Runs one system call of `thread` (its registers in the context) and returns the call's
/// number when it ended with a restart code: the syscall layer, above this one, registers it at
/// boot.
pub type SyscallHandler = fn(&Arc<Thread>, &mut UserContext) -> Option<u64>;

static SYSCALL_HANDLER: spin::Once<SyscallHandler> = spin::Once::new();

pub fn set_syscall_handler(handler: SyscallHandler) {
    SYSCALL_HANDLER.call_once(|| handler);
}

/// Work a thread does on its way back to user mode, before signals (Linux's task_work): the
/// syscall layer completes the io_uring requests of this process whose files became ready
/// (unless the thread is exiting). Registered at boot; it starts with one atomic load.
pub type TaskWork = fn(&Arc<Thread>, &mut UserContext);

static TASK_WORK: spin::Once<TaskWork> = spin::Once::new();

pub fn set_task_work(work: TaskWork) {
    TASK_WORK.call_once(|| work);
}

/// `lintel.kstack_overflow_test` on the command line: the first thread overflows its kernel
/// stack on purpose before it runs any user code, so a boot test sees the guard page caught
/// and reported ("kernel stack overflow: ...") on each port. Only the boot loader sets it.
static OVERFLOW_TEST: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Reads `lintel.kstack_overflow_test` from the command line.
pub fn init_overflow_test(cmdline: &str) {
    if cmdline
        .split(' ')
        .any(|w| w == "lintel.kstack_overflow_test")
    {
        OVERFLOW_TEST.store(true, Ordering::Relaxed);
    }
}

/// Recurses with a 512-byte frame until the kernel stack's guard page stops it.
fn overflow_for_test() -> ! {
    #[inline(never)]
    fn deeper(depth: u64) -> u64 {
        let frame = core::hint::black_box([depth; 64]);
        if core::hint::black_box(depth) == u64::MAX {
            return frame[0];
        }
        deeper(depth + 1).wrapping_add(frame[depth as usize % 64])
    }
    crate::warn!("kstack overflow test: overflowing thread 1's kernel stack");
    let r = deeper(0);
    panic!("kstack overflow test: the recursion returned {r}");
}

/// Creates the kernel task for `thread`, starting in user mode with `ctx`, and makes it runnable.
/// It runs on the stack reserved when the thread was created (fork, clone or the first
/// process), so starting it allocates nothing big and cannot fail.
pub fn start_thread(thread: Arc<Thread>, ctx: UserContext, fpu: FpuState) {
    let stack = super::take_kstack(&thread).expect("thread started twice");
    let t2 = thread.clone();
    let task = Task::new(stack, move || user_main(t2, ctx), fpu);
    task.set_label(thread.tid() as u64);
    super::attach_task(&thread, task);
    sched::enqueue(thread);
}

/// The signal, si_code and si_addr Linux raises for a CPU exception (other than a page
/// fault) of a thread at instruction `ip`; which code and address an architecture's Linux
/// gives is in the exception itself (hal decodes it so).
fn exception_signal(e: Exception, ip: u64) -> (u32, i32, u64) {
    use signal::*;
    match e {
        Exception::Divide => (SIGFPE, 1, ip),      // FPE_INTDIV
        Exception::SingleStep => (SIGTRAP, 2, ip), // TRAP_TRACE
        Exception::Breakpoint { at_insn: true } => (SIGTRAP, 1, ip), // TRAP_BRKPT
        Exception::Breakpoint { at_insn: false } => (SIGTRAP, SI_KERNEL, 0),
        Exception::HardwareBreakpoint { .. } => (SIGTRAP, 4, ip), // TRAP_HWBKPT
        Exception::IllegalInstruction { opcode: true } => (SIGILL, 1, ip), // ILL_ILLOPC
        Exception::IllegalInstruction { opcode: false } => (SIGILL, 2, ip), // ILL_ILLOPN
        Exception::Bus => (SIGBUS, SI_KERNEL, 0),
        Exception::FloatingPoint => (SIGFPE, 7, ip), // FPE_FLTINV
        Exception::Alignment { addr } => (SIGBUS, 1, addr as u64), // BUS_ADRALN
        Exception::PageFault { .. }
        | Exception::ProtectionKey { .. }
        | Exception::GeneralProtection
        | Exception::Other => (SIGSEGV, SI_KERNEL, 0),
    }
}

/// A user-mode fault on a missing page registered with a userfaultfd: reports it to the
/// handler and sleeps until the page is resolved, the range woken, or a signal comes; the
/// thread then returns to user mode and the instruction faults again if it must.
fn user_fault_wait(thread: &Arc<Thread>, mm: &crate::mm::Mm, addr: usize, write: bool) {
    let queued = mm.inner.lock().uffd_queue(addr, write, thread.tid() as u32);
    if let Some((u, id)) = queued {
        crate::fs::file::poll_notify();
        u.wait(id);
    }
}

/// Keeps a registered rseq area's cpu_id_start and cpu_id (offsets 0 and 4) at the CPU the
/// thread returns to user mode on (glibc's sched_getcpu reads them). Called before every
/// return to user mode; writes only when the CPU changed. A write that faults leaves the
/// fields as they were.
fn rseq_update_cpu(thread: &Thread) {
    loop {
        let cpu = lintel_hal::smp::cpu_index() as u32;
        if thread.rseq_cpu.load(Ordering::Relaxed) == cpu {
            return;
        }
        let addr = thread.rseq.lock().0;
        thread.rseq_cpu.store(cpu, Ordering::Relaxed);
        if addr == 0 {
            return;
        }
        let mut ids = [0u8; 8];
        ids[..4].copy_from_slice(&cpu.to_ne_bytes());
        ids[4..].copy_from_slice(&cpu.to_ne_bytes());
        // A fault may sleep and the thread wake on another CPU: then once more.
        if crate::uaccess::write_bytes(addr, &ids).is_err() {
            return;
        }
    }
}

pub fn user_main(thread: Arc<Thread>, mut ctx: UserContext) -> ! {
    thread.process().activate_mm();
    if OVERFLOW_TEST.load(Ordering::Relaxed) && thread.tid() == 1 {
        overflow_for_test();
    }
    // A child its parent's tracer took at birth stops before its first instruction.
    if thread.trace.is_traced() {
        super::ptrace::start_stop(&thread, &mut ctx);
        super::deliver::do_signal(&thread, &mut ctx, None);
    }
    // Registered at boot, before any thread runs: read once, not on every call.
    let dispatch = *SYSCALL_HANDLER.get().expect("no syscall handler");
    let task_work = TASK_WORK.get().copied();
    let mut restart: Option<u64> = None;
    // Checked before the first entry to user mode too: a thread cloned just as its process
    // began to exit (exit_group, a fatal signal, exec's sweep) runs no user code.
    while !thread.must_exit() {
        rseq_update_cpu(&thread);
        thread.trace.load_debug();
        sched::arm_timer();
        // User time from two raw-clock reads (no sequence count, no line), at the monotonic
        // rate.
        let entered = crate::time::raw_ns();
        let why = ctx.run();
        thread.add_user_ns(crate::time::mono_len(
            crate::time::raw_ns().saturating_sub(entered),
        ));
        match why {
            ReturnReason::Syscall => restart = dispatch(&thread, &mut ctx),
            ReturnReason::Exception(Exception::PageFault { addr, access, .. }, record) => {
                let mm = thread.proc_ref().mm();
                let (r, major) = {
                    let mut inner = mm.inner.lock();
                    let r =
                        inner.handle_fault(addr, access == Access::Write, access == Access::Exec);
                    (r, inner.major_fault)
                };
                if r == Err(FaultError::Userfault) {
                    user_fault_wait(&thread, &mm, addr, access == Access::Write);
                }
                drop(mm);
                if matches!(r, Ok(()) | Err(FaultError::Userfault)) {
                    let mut ct = thread.cpu.lock();
                    if major {
                        ct.events.maj_flt += 1;
                    } else {
                        ct.events.min_flt += 1;
                    }
                }
                *thread.last_fault.lock() = Some(record);
                let addr = addr as u64;
                match r {
                    Ok(()) | Err(FaultError::Userfault) => {}
                    Err(FaultError::Bus) => fault(&thread, SigInfo::fault(signal::SIGBUS, 2, addr)),
                    Err(FaultError::NoMem) => super::oom::on_user_fault(&thread),
                    Err(FaultError::AccErr) => {
                        fault(&thread, SigInfo::fault(signal::SIGSEGV, 2, addr))
                    }
                    Err(FaultError::MapErr) => {
                        fault(&thread, SigInfo::fault(signal::SIGSEGV, 1, addr))
                    }
                }
            }
            ReturnReason::Exception(Exception::ProtectionKey { addr, key }, record) => {
                *thread.last_fault.lock() = Some(record);
                fault(&thread, SigInfo::pkey_fault(addr as u64, key));
            }
            ReturnReason::Exception(e, record) => {
                match e {
                    Exception::HardwareBreakpoint { hits } => {
                        thread.trace.note_debug_hit(hits as u64)
                    }
                    Exception::SingleStep => {
                        thread.trace.note_debug_hit(lintel_hal::context::DR6_STEP)
                    }
                    _ => {}
                }
                let (sig, code, addr) = exception_signal(e, ctx.ip());
                *thread.last_fault.lock() = Some(record);
                let info = if code == signal::SI_KERNEL {
                    SigInfo::kernel(sig)
                } else {
                    SigInfo::fault(sig, code, addr)
                };
                fault(&thread, info);
            }
            ReturnReason::Interrupt => {
                cpu_limit(&thread);
                let slice_over = sched::tick();
                if slice_over {
                    sched::yield_now();
                }
            }
        }
        sched::preempt_point();
        // The flags first, here: the call only when a ring waits or a lazily unmounted file
        // system's file closed.
        if crate::fs::io_uring::any_waiting() || crate::fs::detached::pending() {
            if let Some(work) = task_work {
                work(&thread, &mut ctx);
            }
        }
        // Signals, stops, ptrace traps and exits: the full check only when something changed
        // since the last one (`work`) or a restart code needs settling.
        if restart.is_some() || thread.work_changed() {
            thread.work_checked();
            super::deliver::do_signal(&thread, &mut ctx, restart.take());
            if thread.must_exit() {
                break;
            }
        }
    }
    if thread.trace.is_traced() {
        let status = thread
            .proc_ref()
            .exiting
            .lock()
            .or(*thread.exit_code.lock())
            .unwrap_or(0);
        super::ptrace::exit_event(&thread, &mut ctx, status);
    }
    if thread.proc_ref().core_dumping.load(Ordering::Relaxed) {
        *thread.core_state.lock() = Some((ctx, FpuState::save_current()));
    }
    super::thread_exit(&thread);
    drop(thread);
    sched::exit_current()
}

/// RLIMIT_CPU, checked on the ticks that interrupt user code (Linux's check_process_timers):
/// at the soft limit SIGXCPU, and the soft limit moves a second on so it comes again every
/// CPU second; at the hard limit SIGKILL.
fn cpu_limit(thread: &Arc<Thread>) {
    use lintel_abi::resource::{RLIMIT_CPU, RLIM_INFINITY};
    let p = thread.proc_ref();
    let lim = p.rlimit(RLIMIT_CPU);
    if lim.cur == RLIM_INFINITY {
        return;
    }
    let (u, s) = p.cpu_times();
    let secs = (u + s) / 1_000_000_000;
    let p = thread.process();
    if lim.max != RLIM_INFINITY && secs >= lim.max {
        super::send_simple(&p, None, signal::SIGKILL, signal::SI_KERNEL, None);
    } else if secs >= lim.cur {
        super::send_simple(
            &p,
            None,
            lintel_abi::signal::SIGXCPU,
            signal::SI_KERNEL,
            None,
        );
        p.rlimits.lock()[RLIMIT_CPU].cur = lim.cur + 1;
    }
}

/// A synchronous fault becomes a signal the thread cannot block or ignore.
fn fault(thread: &Arc<Thread>, info: SigInfo) {
    crate::debug!(
        "pid {} fault: signal {} code {}",
        thread.proc_ref().pid,
        info.signo(),
        info.code()
    );
    super::deliver::force_fault(thread, info);
}
