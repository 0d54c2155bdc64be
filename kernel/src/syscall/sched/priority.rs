//! getpriority, setpriority

use crate::proc as process;
use crate::proc::Process;
use crate::syscall::ok;
use crate::syscall::sched::can_nice;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::capability::CAP_SYS_NICE;
use lintel_abi::resource::{PRIO_PGRP, PRIO_PROCESS, PRIO_USER};
use lintel_abi::Errno;
use lintel_abi::KResult;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getpriority", getpriority, ""),
    Syscall::partial(
        "setpriority",
        setpriority,
        "nice is per process (PRIO_PROCESS with a thread id sets its whole process)",
    ),
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

/// getpriority: the raw syscall returns 20 - nice of the highest-priority match.
pub fn getpriority(c: &mut Call) -> SysResult {
    let t = prio_targets(c, c.a[0], c.a[1] as i32)?;
    let best = t
        .iter()
        .map(|p| p.nice.load(Ordering::Relaxed))
        .min()
        .ok_or(Errno::ESRCH)?;
    ok((20 - best) as usize)
}

pub fn setpriority(c: &mut Call) -> SysResult {
    let t = prio_targets(c, c.a[0], c.a[1] as i32)?;
    if t.is_empty() {
        return Err(Errno::ESRCH);
    }
    let nice = (c.a[2] as i32).clamp(-20, 19);
    let cred = c.thread.proc_ref().cred.lock().clone();
    for p in &t {
        let pc = p.cred.lock().clone();
        if !cred.capable(CAP_SYS_NICE) && cred.euid != pc.uid && cred.euid != pc.euid {
            return Err(Errno::EPERM);
        }
        // Raising priority needs CAP_SYS_NICE or room under the target's RLIMIT_NICE.
        if nice < p.nice.load(Ordering::Relaxed) && !can_nice(c, p, nice) {
            return Err(Errno::EACCES);
        }
    }
    for p in &t {
        p.nice.store(nice, Ordering::Relaxed);
    }
    ok(0)
}
