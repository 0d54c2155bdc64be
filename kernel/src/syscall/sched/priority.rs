//! getpriority, setpriority

use crate::proc as process;
use crate::proc::Process;
use crate::proc::Thread;
use crate::syscall::ok;
use crate::syscall::sched::can_nice;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::capability::CAP_SYS_NICE;
use lintel_abi::resource::{PRIO_PGRP, PRIO_PROCESS, PRIO_USER};
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getpriority", getpriority, ""),
    Syscall::implemented("setpriority", setpriority, ""),
];

/// The processes a PRIO_* selector names.
pub(super) fn prio_targets(
    c: &Call,
    which: usize,
    who: i32,
) -> KResult<alloc::vec::Vec<Arc<Process>>> {
    let me = c.thread.process();
    let all = || {
        process::all_pids()
            .into_iter()
            .filter_map(process::find_process)
            .filter(|p| p.exit_status.lock().is_none())
    };
    Ok(match which {
        PRIO_PROCESS => {
            if who == 0 {
                alloc::vec![me]
            } else {
                process::find_process(who).into_iter().collect()
            }
        }
        PRIO_PGRP => {
            let g = if who == 0 {
                me.pgid.load(Ordering::Relaxed)
            } else {
                who
            };
            all()
                .filter(|p| p.pgid.load(Ordering::Relaxed) == g)
                .collect()
        }
        PRIO_USER => {
            let u = if who == 0 {
                me.cred.lock().uid
            } else {
                who as u32
            };
            all().filter(|p| p.cred.lock().uid == u).collect()
        }
        _ => return Err(Errno::EINVAL),
    })
}

/// The threads a PRIO_* selector names, as Linux's getpriority and setpriority walk them:
/// PRIO_PROCESS the one thread with that id (the caller's for 0), PRIO_PGRP and PRIO_USER
/// every thread of the matching processes.
fn prio_threads(c: &Call, which: usize, who: i32) -> KResult<Vec<Arc<Thread>>> {
    if which == PRIO_PROCESS {
        return Ok(if who == 0 {
            alloc::vec![c.thread.clone()]
        } else {
            process::find_thread(who).into_iter().collect()
        });
    }
    Ok(prio_targets(c, which, who)?
        .iter()
        .flat_map(|p| p.live_threads())
        .collect())
}

/// getpriority: the raw syscall returns 20 - nice of the highest-priority match.
pub fn getpriority(c: &mut Call) -> SysResult {
    let t = prio_threads(c, c.a[0], c.a[1] as i32)?;
    let best = t
        .iter()
        .map(|t| t.sched.lock().nice)
        .min()
        .ok_or(Errno::ESRCH)?;
    ok((20 - best) as usize)
}

/// setpriority: each named thread that the caller may change gets the nice value (Linux's
/// set_one_prio); the result is the last failure (EPERM: not the caller's; EACCES: a lower
/// value not allowed), or ESRCH when nothing matched.
pub fn setpriority(c: &mut Call) -> SysResult {
    let t = prio_threads(c, c.a[0], c.a[1] as i32)?;
    let nice = (c.a[2] as i32).clamp(-20, 19);
    let cred = c.thread.proc_ref().cred.lock().clone();
    let mut result = Err(Errno::ESRCH);
    for t in &t {
        let p = t.proc_ref();
        let pc = p.cred.lock().clone();
        if !cred.capable(CAP_SYS_NICE) && cred.euid != pc.uid && cred.euid != pc.euid {
            result = Err(Errno::EPERM);
            continue;
        }
        // Raising priority needs CAP_SYS_NICE or room under the target's RLIMIT_NICE.
        if nice < t.sched.lock().nice && !can_nice(c, p, nice) {
            result = Err(Errno::EACCES);
            continue;
        }
        if result == Err(Errno::ESRCH) {
            result = Ok(());
        }
        // As sched_setscheduler: the stint so far is charged at the old weight (Linux's
        // update_curr before reweighting), then the thread's CPU looks at once at a running
        // thread that now ranks lower or a waiting one that now ranks first (Linux's
        // set_user_nice ends in a preemption check), not at its next tick.
        let r = t.clone() as crate::sched::ThreadRef;
        if t.sched.lock().nice != nice {
            crate::sched::settle_stint(&r);
        }
        let new = crate::sched::policy::SchedAttr {
            nice,
            ..*t.sched.lock()
        };
        crate::sched::deadline::apply(&r, new)?;
    }
    result?;
    ok(0)
}
