//! The life of a user thread on its kernel task: run user code, handle what brought it back
//! into the kernel, repeat until the thread exits.

use super::signal::{self, SigInfo};
use super::Thread;
use crate::mm::FaultError;
use crate::sched;
use alloc::sync::Arc;
use lintel_hal::task::{FpuState, Task};
use lintel_hal::{ReturnReason, UserContext};

/// Creates the kernel task for `thread`, starting in user mode with `ctx`, and makes it runnable.
/// It runs on the stack reserved when the thread was created (fork, clone or the first
/// process), so starting it allocates nothing big and cannot fail.
pub fn start_thread(thread: Arc<Thread>, ctx: UserContext, fpu: FpuState) {
    let stack = super::take_kstack(&thread).expect("thread started twice");
    let t2 = thread.clone();
    let task = Task::new(stack, move || user_main(t2, ctx), fpu);
    super::attach_task(&thread, task);
    sched::enqueue(thread);
}

/// The signal and si_code Linux raises for a CPU exception, and whether si_addr is the
/// faulting instruction.
fn exception_signal(vector: u8) -> (u32, i32, bool) {
    use signal::*;
    match vector {
        0 => (SIGFPE, 1, true),   // FPE_INTDIV
        1 => (SIGTRAP, 2, false), // TRAP_TRACE
        3 => (SIGTRAP, SI_KERNEL, false),
        6 => (SIGILL, 2, true), // ILL_ILLOPN
        11 | 12 => (SIGBUS, SI_KERNEL, false),
        16 | 19 => (SIGFPE, 7, true), // FPE_FLTINV
        17 => (SIGBUS, 1, false),     // BUS_ADRALN
        _ => (SIGSEGV, SI_KERNEL, false),
    }
}

pub fn user_main(thread: Arc<Thread>, mut ctx: UserContext) -> ! {
    thread.process().activate_mm();
    let mut restart: Option<u64> = None;
    loop {
        let entered = crate::time::uptime_ns();
        let why = ctx.run();
        thread.cpu.lock().user_ns += crate::time::uptime_ns().saturating_sub(entered);
        match why {
            ReturnReason::Syscall => restart = crate::syscall::dispatch(&thread, &mut ctx),
            ReturnReason::Exception {
                vector: 14,
                error,
                addr,
            } => {
                let mm = thread.proc_ref().mm();
                let r =
                    mm.inner
                        .lock()
                        .handle_fault(addr as usize, error & 2 != 0, error & 0x10 != 0);
                drop(mm);
                *thread.last_fault.lock() = Some((error, 14, addr));
                match r {
                    Ok(()) => {}
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
            ReturnReason::Exception { vector, error, .. } => {
                let (sig, code, at_ip) = exception_signal(vector);
                *thread.last_fault.lock() = Some((error, vector as u64, 0));
                let addr = if at_ip { ctx.rip } else { 0 };
                let info = if code == signal::SI_KERNEL {
                    SigInfo::kernel(sig)
                } else {
                    SigInfo::fault(sig, code, addr)
                };
                fault(&thread, info);
            }
            ReturnReason::Interrupt(_) => {
                if sched::tick() {
                    sched::yield_now();
                }
            }
        }
        super::deliver::do_signal(&thread, &mut ctx, restart.take());
        if thread.must_exit() {
            break;
        }
    }
    super::thread_exit(&thread);
    drop(thread);
    sched::exit_current()
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
