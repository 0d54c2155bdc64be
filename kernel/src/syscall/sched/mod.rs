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

/// can_nice: lowering `p`'s nice value to `nice` needs CAP_SYS_NICE in the caller or `p`'s
/// RLIMIT_NICE soft limit to reach `20 - nice` (Linux's default limit is 0: only privileged
/// callers raise priority).
pub(in crate::syscall) fn can_nice(c: &Call, p: &Process, nice: i32) -> bool {
    let rlim = p.rlimit(lintel_abi::resource::RLIMIT_NICE).cur;
    (20 - nice.clamp(-20, 19)) as u64 <= rlim
        || c.thread
            .proc_ref()
            .capable(lintel_abi::capability::CAP_SYS_NICE)
}

/// The rules of Linux's `__sched_setscheduler` for a caller without CAP_SYS_NICE moving `p`
/// to `policy` at `prio` (and `nice`, for the fair policies): a real-time policy needs a
/// non-zero RLIMIT_RTPRIO, and a raised real-time priority must stay within it; a lower nice
/// value needs `can_nice`; leaving SCHED_IDLE needs `can_nice` of the current nice value.
pub(in crate::syscall) fn may_set_policy(
    c: &Call,
    p: &Process,
    policy: usize,
    prio: i32,
    nice: Option<i32>,
) -> KResult<()> {
    use core::sync::atomic::Ordering;
    if c.thread
        .proc_ref()
        .capable(lintel_abi::capability::CAP_SYS_NICE)
    {
        return Ok(());
    }
    let (cur_policy, cur_prio) = *p.sched_policy.lock();
    let cur_policy = cur_policy as usize;
    let cur_nice = p.nice.load(Ordering::Relaxed);
    if matches!(policy, SCHED_FIFO | SCHED_RR) {
        let rlim = p.rlimit(lintel_abi::resource::RLIMIT_RTPRIO).cur;
        if policy != cur_policy && rlim == 0 {
            return Err(Errno::EPERM);
        }
        if prio as u64 > cur_prio as u64 && prio as u64 > rlim {
            return Err(Errno::EPERM);
        }
    } else if let Some(n) = nice {
        if n < cur_nice && !can_nice(c, p, n) {
            return Err(Errno::EPERM);
        }
    }
    if cur_policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(c, p, cur_nice) {
        return Err(Errno::EPERM);
    }
    Ok(())
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
