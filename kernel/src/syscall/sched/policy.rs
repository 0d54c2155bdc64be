//! sched_getscheduler, sched_setscheduler, sched_getparam, sched_setparam, sched_get_priority_max,
//! sched_get_priority_min, sched_rr_get_interval

use crate::syscall::ok;
use crate::syscall::sched::set_scheduler;
use crate::syscall::sched::thread_of;
use crate::syscall::sched::Request;
use crate::syscall::sched::SCHED_BATCH;
use crate::syscall::sched::SCHED_DEADLINE;
use crate::syscall::sched::SCHED_FIFO;
use crate::syscall::sched::SCHED_FLAG_RESET_ON_FORK;
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
    Syscall::implemented("sched_setscheduler", sched_setscheduler, ""),
    Syscall::implemented("sched_getparam", sched_getparam, ""),
    Syscall::implemented("sched_setparam", sched_setparam, ""),
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

/// The thread's policy, with SCHED_RESET_ON_FORK when set.
pub fn sched_getscheduler(c: &mut Call) -> SysResult {
    let t = thread_of(c, c.a[0] as i32)?;
    let a = *t.sched.lock();
    let reset = if a.reset_on_fork {
        SCHED_RESET_ON_FORK
    } else {
        0
    };
    ok(a.policy | reset)
}

/// The old interface to `set_scheduler`: a priority, and the nice value unchanged.
pub fn sched_setscheduler(c: &mut Call) -> SysResult {
    let [pid, policy, param, ..] = c.a;
    if (pid as i32) < 0 || param == 0 || (policy as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let prio = uaccess::read_i32(param)?;
    let t = thread_of(c, pid as i32)?;
    let reset = policy & SCHED_RESET_ON_FORK != 0;
    let r = Request {
        policy: Some(policy as u32 as usize & !SCHED_RESET_ON_FORK),
        flags: if reset { SCHED_FLAG_RESET_ON_FORK } else { 0 },
        nice: t.sched.lock().nice,
        priority: prio as u32,
        ..Request::default()
    };
    set_scheduler(c, &t, r)?;
    ok(0)
}

pub fn sched_getparam(c: &mut Call) -> SysResult {
    let [pid, param, ..] = c.a;
    if param == 0 || (pid as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let t = thread_of(c, pid as i32)?;
    let a = *t.sched.lock();
    uaccess::write_u32(param, if a.is_rt() { a.rt_priority } else { 0 })?;
    ok(0)
}

pub fn sched_setparam(c: &mut Call) -> SysResult {
    let [pid, param, ..] = c.a;
    if (pid as i32) < 0 || param == 0 {
        return Err(Errno::EINVAL);
    }
    let prio = uaccess::read_i32(param)?;
    let t = thread_of(c, pid as i32)?;
    let r = Request {
        policy: None,
        nice: t.sched.lock().nice,
        priority: prio as u32,
        ..Request::default()
    };
    set_scheduler(c, &t, r)?;
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
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_rr_get_interval(c: &mut Call) -> SysResult {
    if (c.a[0] as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let _ = thread_of(c, c.a[0] as i32)?;
    // The round-robin slice: two timer ticks.
    crate::syscall::time::put_timespec(c.a[1], 20_000_000)?;
    ok(0)
}
