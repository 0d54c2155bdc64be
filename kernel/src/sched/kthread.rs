//! Kernel threads: schedulable threads that run kernel code only (Linux's kthreads: jbd2, the
//! flusher, kworkers). Background work that may wait for the disk or sleep on a lock runs on
//! one instead of on whichever user thread happens to come back from a timer interrupt, so it
//! takes its own share of a CPU and, while it waits for the disk, user threads run.
//!
//! A kernel thread has no user address space: it runs on the kernel's page tables (the kernel
//! half is mapped the same in every address space), and a switch to it makes those current,
//! as the idle loop does, rather than keep the previous thread's (Linux's lazy TLB would keep
//! them, with a reference that keeps that address space alive; without such a reference here
//! its page tables could be freed under the CPU). It has SCHED_OTHER's nice-0 weight and
//! sleeps on wait queues and timers like any thread. It never returns to user mode and never
//! receives a signal (its waits are never interrupted).
//!
//! It has no process: `proc::try_current` is None on it, as in the idle loop, so nothing
//! that belongs to a process (descriptors, credentials, rlimits, accounting) is reachable from
//! its code, and /proc does not list it (Lintel has no kthreadd; user PIDs are numbered as
//! before, init stays 1, /proc/stat's processes and loadavg count user threads only:
//! docs/architecture.md, "Kernel threads").

use super::policy::AttrCell;
use super::{CpuTime, Schedulable, ThreadRef, ThreadState};
use alloc::sync::Arc;
use core::sync::atomic::AtomicU32;
use lintel_abi::{Errno, KResult};
use lintel_hal::task::{FpuState, KernelStack, Task};
use spin::Mutex;

/// A kernel thread as the scheduler holds it.
pub struct KThread {
    /// Its name (Linux's comm), for the log.
    name: &'static str,
    state: Mutex<ThreadState>,
    cpu: Mutex<CpuTime>,
    sched: AttrCell,
    pi_boost: AtomicU32,
    task: spin::Once<Arc<Task>>,
}

impl Schedulable for KThread {
    fn sched_state(&self) -> &Mutex<ThreadState> {
        &self.state
    }

    fn cpu_time(&self) -> &Mutex<CpuTime> {
        &self.cpu
    }

    fn kernel_task(&self) -> Arc<Task> {
        self.task
            .get()
            .expect("kernel thread without a task")
            .clone()
    }

    fn resumed(&self) {
        // The last user root stays loaded (lazy TLB): kernel threads use the kernel half only.
    }

    fn interrupted(&self, _restart: Errno) -> Option<Errno> {
        None
    }

    fn sched_attr(&self) -> &AttrCell {
        &self.sched
    }

    fn pi_boost(&self) -> &AtomicU32 {
        &self.pi_boost
    }
}

/// Starts kernel thread `name` running `body`; the thread ends when `body` returns. ENOMEM
/// when no kernel stack is left.
pub fn spawn(name: &'static str, body: fn()) -> KResult<Arc<KThread>> {
    let stack = KernelStack::try_new().ok_or(Errno::ENOMEM)?;
    let kt = Arc::new(KThread {
        name,
        // Blocked until enqueued, as a user thread made but not yet started.
        state: Mutex::new(ThreadState::Blocked),
        cpu: Mutex::new(CpuTime::default()),
        sched: AttrCell::default(),
        pi_boost: AtomicU32::new(0),
        task: spin::Once::new(),
    });
    let task = Task::new(
        stack,
        move || {
            body();
            super::exit_current();
        },
        FpuState::initial(),
    );
    kt.task.call_once(|| task);
    crate::debug!("kthread: started [{}]", kt.name);
    super::enqueue(kt.clone() as ThreadRef);
    Ok(kt)
}
