//! Scheduling calls: yielding, affinity, nice, policies and parameters.
//!
//! These calls keep the state Linux keeps (policy, priority, nice and deadline reservation,
//! per thread) and validate like Linux; the scheduler (`crate::sched`) runs SCHED_DEADLINE
//! threads first (earliest deadline, within their reservations), then SCHED_FIFO and
//! SCHED_RR threads by priority, and weights the others by nice (SCHED_IDLE the lightest).

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
    SCHED_BATCH, SCHED_DEADLINE, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER, SCHED_RESET_ON_FORK, SCHED_RR,
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
        SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE
    )
}

/// sched_setattr's flags (linux/sched.h).
pub(in crate::syscall) const SCHED_FLAG_RESET_ON_FORK: u64 = 0x01;
pub(in crate::syscall) const SCHED_FLAG_RECLAIM: u64 = 0x02;
pub(in crate::syscall) const SCHED_FLAG_DL_OVERRUN: u64 = 0x04;
pub(in crate::syscall) const SCHED_FLAG_KEEP_POLICY: u64 = 0x08;
pub(in crate::syscall) const SCHED_FLAG_KEEP_PARAMS: u64 = 0x10;
pub(in crate::syscall) const SCHED_FLAG_UTIL_CLAMP: u64 = 0x60;
pub(in crate::syscall) const SCHED_FLAG_ALL: u64 = 0x7f;
/// The kernel's own schedutil threads' flag: never from user space (EINVAL).
pub(in crate::syscall) const SCHED_FLAG_SUGOV: u64 = 0x1000_0000;

/// What a caller asks of a thread's scheduling: Linux's `struct sched_attr` as
/// `__sched_setscheduler` takes it. `policy` None keeps the policy and SCHED_RESET_ON_FORK
/// (sched_setparam, SCHED_FLAG_KEEP_POLICY).
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::syscall) struct Request {
    pub policy: Option<usize>,
    pub flags: u64,
    pub nice: i32,
    pub priority: u32,
    pub runtime: u64,
    pub deadline: u64,
    pub period: u64,
}

/// Linux's `__sched_setscheduler` for a user caller: checks `r` (EINVAL), the caller's
/// privilege (EPERM: user_check_sched_setscheduler; a deadline thread must be allowed every
/// CPU), and, for SCHED_DEADLINE, the bandwidth (EBUSY); then sets it.
pub(in crate::syscall) fn set_scheduler(c: &Call, t: &Arc<Thread>, r: Request) -> KResult<()> {
    let cur = *t.sched.lock();
    let (policy, reset_on_fork) = match r.policy {
        None => (cur.policy, cur.reset_on_fork),
        Some(p) => (p, r.flags & SCHED_FLAG_RESET_ON_FORK != 0),
    };
    if !valid_policy(policy) || r.flags & !(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV) != 0 {
        return Err(Errno::EINVAL);
    }
    if r.priority > 99 {
        return Err(Errno::EINVAL);
    }
    let dl = policy == SCHED_DEADLINE;
    let rt = matches!(policy, SCHED_FIFO | SCHED_RR);
    if (dl && !crate::sched::deadline::valid(r.runtime, r.deadline, r.period))
        || rt != (r.priority != 0)
    {
        return Err(Errno::EINVAL);
    }
    may_reschedule(c, t.proc_ref())?;
    may_set_policy(c, t, policy, r.priority, r.nice, reset_on_fork)?;
    if r.flags & SCHED_FLAG_SUGOV != 0 {
        return Err(Errno::EINVAL);
    }
    // No utilization clamping here (Linux without CONFIG_UCLAMP_TASK).
    if r.flags & SCHED_FLAG_UTIL_CLAMP != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let nice = r.nice.clamp(-20, 19);
    let mut new = cur;
    new.policy = policy;
    new.reset_on_fork = reset_on_fork;
    match policy {
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => {
            new.nice = nice;
            new.rt_priority = 0;
        }
        _ => new.rt_priority = r.priority,
    }
    if dl {
        new.rt_priority = 0;
        // Linux's __sched_setscheduler: a deadline thread must be allowed every CPU (the
        // bandwidth is counted for all of them).
        let all = lintel_hal::smp::cpu_mask();
        if cur.policy != SCHED_DEADLINE && *t.affinity.lock() & all != all {
            return Err(Errno::EPERM);
        }
        new.dl.runtime = r.runtime;
        new.dl.deadline = r.deadline;
        new.dl.period = if r.period == 0 { r.deadline } else { r.period };
        new.dl.flags = r.flags & (SCHED_FLAG_RECLAIM | SCHED_FLAG_DL_OVERRUN);
    }
    let t = t.clone() as crate::sched::ThreadRef;
    crate::sched::settle_stint(&t);
    crate::sched::deadline::apply(&t, new)?;
    // A PI futex's owner inherits the new priority of a waiter (Linux's rt_mutex_adjust_pi).
    crate::futex::pi::priority_changed(&t);
    Ok(())
}

/// Linux's get_params: what sched_setattr with SCHED_FLAG_KEEP_PARAMS keeps.
pub(in crate::syscall) fn current_params(t: &Thread, r: &mut Request) {
    let a = *t.sched.lock();
    if a.is_deadline() {
        r.priority = 0;
        r.runtime = a.dl.runtime;
        r.deadline = a.dl.deadline;
        r.period = a.dl.period;
        r.flags |= a.dl.flags;
    } else if a.is_rt() {
        r.priority = a.rt_priority;
    } else {
        r.nice = a.nice;
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

/// The rules of Linux's `user_check_sched_setscheduler` for a caller without CAP_SYS_NICE
/// moving thread `t` to `policy` at `prio` (and `nice`, for the fair policies): a real-time
/// policy needs a non-zero RLIMIT_RTPRIO, and a raised real-time priority must stay within
/// it; a lower nice value needs `can_nice`; SCHED_DEADLINE needs the privilege; leaving
/// SCHED_IDLE needs `can_nice` of the current nice value; clearing SCHED_RESET_ON_FORK needs
/// the privilege.
pub(in crate::syscall) fn may_set_policy(
    c: &Call,
    t: &Thread,
    policy: usize,
    prio: u32,
    nice: i32,
    reset_on_fork: bool,
) -> KResult<()> {
    if c.thread
        .proc_ref()
        .capable(lintel_abi::capability::CAP_SYS_NICE)
    {
        return Ok(());
    }
    let p = t.proc_ref();
    let cur = *t.sched.lock();
    match policy {
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => {
            if nice < cur.nice && !can_nice(c, p, nice) {
                return Err(Errno::EPERM);
            }
        }
        SCHED_FIFO | SCHED_RR => {
            let rlim = p.rlimit(lintel_abi::resource::RLIMIT_RTPRIO).cur;
            if policy != cur.policy && rlim == 0 {
                return Err(Errno::EPERM);
            }
            if prio > cur.rt_priority && u64::from(prio) > rlim {
                return Err(Errno::EPERM);
            }
        }
        _ => return Err(Errno::EPERM),
    }
    if cur.policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(c, p, cur.nice) {
        return Err(Errno::EPERM);
    }
    if cur.reset_on_fork && !reset_on_fork {
        return Err(Errno::EPERM);
    }
    Ok(())
}
