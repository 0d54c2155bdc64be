//! sched_getscheduler, sched_setscheduler, sched_getparam, sched_setparam, sched_get_priority_max,
//! sched_get_priority_min, sched_rr_get_interval

use crate::syscall::ok;
use crate::syscall::sched::check_param;
use crate::syscall::sched::may_reschedule;
use crate::syscall::sched::may_set_policy;
use crate::syscall::sched::proc_of;
use crate::syscall::sched::valid_policy;
use crate::syscall::sched::SCHED_BATCH;
use crate::syscall::sched::SCHED_FIFO;
use crate::syscall::sched::SCHED_IDLE;
use crate::syscall::sched::SCHED_OTHER;
use crate::syscall::sched::SCHED_RESET_ON_FORK;
use crate::syscall::sched::SCHED_RR;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("sched_getscheduler", sched_getscheduler, ""),
    Syscall::partial(
        "sched_setscheduler",
        sched_setscheduler,
        "per process; SCHED_BATCH and SCHED_IDLE run as SCHED_OTHER",
    ),
    Syscall::implemented("sched_getparam", sched_getparam, ""),
    Syscall::partial("sched_setparam", sched_setparam, "per process"),
    Syscall::implemented(
        "sched_get_priority_max",
        |c| sched_get_priority(c, PriorityBound::Max),
        "",
    ),
    Syscall::implemented(
        "sched_get_priority_min",
        |c| sched_get_priority(c, PriorityBound::Min),
        "",
    ),
    Syscall::implemented("sched_rr_get_interval", sched_rr_get_interval, ""),
];

pub fn sched_getscheduler(c: &mut Call) -> SysResult {
    let p = proc_of(c, c.a[0] as i32)?;
    let policy = p.sched_policy.lock().0;
    ok(policy as usize)
}

pub fn sched_setscheduler(c: &mut Call) -> SysResult {
    let [pid, policy, param, ..] = c.a;
    let policy = policy & !SCHED_RESET_ON_FORK;
    if (pid as i32) < 0 || param == 0 || !valid_policy(policy) {
        return Err(Errno::EINVAL);
    }
    let prio = uaccess::read_i32(param)?;
    let p = proc_of(c, pid as i32)?;
    check_param(policy, prio)?;
    may_reschedule(c, &p)?;
    may_set_policy(c, &p, policy, prio, None)?;
    *p.sched_policy.lock() = (policy as u32, prio as u32);
    ok(0)
}

pub fn sched_getparam(c: &mut Call) -> SysResult {
    let [pid, param, ..] = c.a;
    if param == 0 {
        return Err(Errno::EINVAL);
    }
    let p = proc_of(c, pid as i32)?;
    let prio = p.sched_policy.lock().1;
    uaccess::write_u32(param, prio)?;
    ok(0)
}

pub fn sched_setparam(c: &mut Call) -> SysResult {
    let [pid, param, ..] = c.a;
    if (pid as i32) < 0 || param == 0 {
        return Err(Errno::EINVAL);
    }
    let prio = uaccess::read_i32(param)?;
    let p = proc_of(c, pid as i32)?;
    let policy = p.sched_policy.lock().0 as usize;
    check_param(policy, prio)?;
    may_reschedule(c, &p)?;
    may_set_policy(c, &p, policy, prio, None)?;
    p.sched_policy.lock().1 = prio as u32;
    ok(0)
}

/// Which end of a policy's priority range.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PriorityBound {
    Max,
    Min,
}

pub fn sched_get_priority(c: &mut Call, kind: PriorityBound) -> SysResult {
    let max = kind == PriorityBound::Max;
    match c.a[0] {
        SCHED_FIFO | SCHED_RR => ok(if max { 99 } else { 1 }),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_rr_get_interval(c: &mut Call) -> SysResult {
    let _ = proc_of(c, c.a[0] as i32)?;
    // The round-robin slice: two timer ticks.
    crate::syscall::time::put_timespec(c.a[1], 20_000_000)?;
    ok(0)
}
