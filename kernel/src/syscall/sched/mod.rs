//! Scheduling calls: yielding, affinity, nice, policies and parameters.
//!
//! These calls keep the state Linux keeps (nice and policy per process) and validate like
//! Linux; the scheduler (`crate::sched`) weights fair threads by nice and runs SCHED_FIFO and
//! SCHED_RR threads first, by priority.

mod affinity;
mod attr;
mod ioprio;
mod policy;
mod priority;
mod sched_yield;

use crate::proc as process;
use crate::proc::Process;
use crate::proc::Thread;
use crate::syscall::Call;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::Errno;
use lintel_abi::KResult;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    affinity::SYSCALLS,
    attr::SYSCALLS,
    ioprio::SYSCALLS,
    policy::SYSCALLS,
    priority::SYSCALLS,
    sched_yield::SYSCALLS,
];

/// CPUs the scheduler runs on (bit N = CPU N).
pub(in crate::syscall) fn online_cpus() -> u64 {
    lintel_hal::smp::cpu_mask()
}

pub(in crate::syscall) use lintel_abi::sched::{
    SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RESET_ON_FORK, SCHED_RR,
};

pub(in crate::syscall) fn thread_of(c: &Call, tid: i32) -> KResult<Arc<Thread>> {
    if tid < 0 {
        return Err(Errno::EINVAL);
    }
    if tid == 0 {
        return Ok(c.thread.clone());
    }
    process::find_thread(tid).ok_or(Errno::ESRCH)
}

pub(in crate::syscall) fn valid_policy(policy: usize) -> bool {
    matches!(
        policy,
        SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE
    )
}

pub(in crate::syscall) fn check_param(policy: usize, prio: i32) -> KResult<()> {
    let ok = match policy {
        SCHED_FIFO | SCHED_RR => (1..=99).contains(&prio),
        _ => prio == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// check_same_owner: changing another process's scheduling needs the caller's effective uid
/// to be its real or effective uid, or CAP_SYS_NICE (EPERM).
pub(in crate::syscall) fn may_reschedule(c: &Call, p: &Process) -> KResult<()> {
    let me = c.thread.proc_ref();
    if me.pid == p.pid {
        return Ok(());
    }
    let mc = me.cred.lock().clone();
    let (tu, te) = {
        let tc = p.cred.lock();
        (tc.uid, tc.euid)
    };
    if mc.euid == tu || mc.euid == te || mc.capable(lintel_abi::capability::CAP_SYS_NICE) {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

pub(in crate::syscall) fn proc_of(c: &Call, pid: i32) -> KResult<Arc<Process>> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid == 0 {
        return Ok(c.thread.process());
    }
    process::find_thread(pid)
        .map(|t| t.process())
        .ok_or(Errno::ESRCH)
}
