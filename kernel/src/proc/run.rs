//! The life of a user thread on its kernel task: run user code, handle what brought it back
//! into the kernel, repeat until the thread exits.

use super::{signal, Thread};
use crate::mm::FaultError;
use crate::sched;
use alloc::sync::Arc;
use lintel_hal::task::{FpuState, Task};
use lintel_hal::{ReturnReason, UserContext};

/// Creates the kernel task for `thread`, starting in user mode with `ctx`, and makes it runnable.
pub fn start_thread(thread: Arc<Thread>, ctx: UserContext, fpu: FpuState) {
    let t2 = thread.clone();
    let task = Task::new(move || user_main(t2, ctx), fpu);
    super::attach_task(&thread, task);
    sched::enqueue(thread);
}

fn fault_signal(vector: u8) -> u32 {
    match vector {
        0 | 16 | 19 => signal::SIGFPE,
        1 | 3 => signal::SIGTRAP,
        6 => signal::SIGILL,
        17 => signal::SIGBUS,
        _ => signal::SIGSEGV,
    }
}

pub fn user_main(thread: Arc<Thread>, mut ctx: UserContext) -> ! {
    thread.process().activate_mm();
    loop {
        let entered = crate::time::uptime_ns();
        let why = ctx.run();
        thread.cpu.lock().user_ns += crate::time::uptime_ns().saturating_sub(entered);
        match why {
            ReturnReason::Syscall => crate::syscall::dispatch(&thread, &mut ctx),
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
                match r {
                    Ok(()) => {}
                    Err(FaultError::Bus) => force_fatal(&thread, signal::SIGBUS, addr),
                    Err(FaultError::NoMem) => force_fatal(&thread, signal::SIGKILL, addr),
                    Err(_) => force_fatal(&thread, signal::SIGSEGV, addr),
                }
            }
            ReturnReason::Exception { vector, addr, .. } => {
                force_fatal(&thread, fault_signal(vector), addr)
            }
            ReturnReason::Interrupt(_) => {
                if sched::tick() {
                    sched::yield_now();
                }
            }
        }
        super::act_on_pending(&thread);
        if thread.must_exit() {
            break;
        }
    }
    super::thread_exit(&thread);
    drop(thread);
    sched::exit_current()
}

/// A synchronous fault with no handler: the process dies of the signal.
fn force_fatal(thread: &Arc<Thread>, sig: u32, addr: u64) {
    crate::info!(
        "pid {} killed by signal {} at {:#x}",
        thread.proc_ref().pid,
        sig,
        addr
    );
    thread
        .proc_ref()
        .kill_all_threads(signal::killed_status(sig));
}
