//! ioprio_set, ioprio_get: a thread's I/O scheduling class and level. Lintel's disk queue has
//! no priorities yet, so the value is kept and reported (ionice works) but orders nothing.

use super::priority::prio_targets;
use crate::proc as process;
use crate::proc::Thread;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::capability::{CAP_SYS_ADMIN, CAP_SYS_NICE};
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "ioprio_set",
        ioprio_set,
        "kept and reported; the disk queue does not order by it",
    ),
    Syscall::implemented("ioprio_get", ioprio_get, ""),
];

const IOPRIO_WHO_PROCESS: usize = 1;
const IOPRIO_WHO_PGRP: usize = 2;
const IOPRIO_WHO_USER: usize = 3;
const CLASS_SHIFT: u32 = 13;
const CLASS_NONE: u32 = 0;
const CLASS_RT: u32 = 1;
const CLASS_BE: u32 = 2;
const CLASS_IDLE: u32 = 3;
/// IOPRIO_DEFAULT: best effort, level 4 (what "none" counts as when comparing).
const DEFAULT: u32 = CLASS_BE << CLASS_SHIFT | 4;
/// The hints (bits 3..13 of the data) Linux knows: none, or a duration limit 1..=7.
const MAX_HINT: u32 = 7;

/// The threads `which`/`who` name (ESRCH when none).
fn targets(c: &Call, which: usize, who: i32) -> KResult<Vec<Arc<Thread>>> {
    let threads = match which {
        IOPRIO_WHO_PROCESS if who == 0 => alloc::vec![c.thread.clone()],
        IOPRIO_WHO_PROCESS => process::find_thread(who).into_iter().collect(),
        IOPRIO_WHO_PGRP | IOPRIO_WHO_USER => {
            // The PRIO_* selectors number one lower.
            prio_targets(c, which - 1, who)?
                .iter()
                .flat_map(|p| p.live_threads())
                .collect()
        }
        _ => return Err(Errno::EINVAL),
    };
    if threads.is_empty() {
        return Err(Errno::ESRCH);
    }
    Ok(threads)
}

pub fn ioprio_set(c: &mut Call) -> SysResult {
    let [which, who, prio, ..] = c.a;
    let prio = prio as u32 & 0xffff;
    let (class, data) = (prio >> CLASS_SHIFT, prio & ((1 << CLASS_SHIFT) - 1));
    let me = c.thread.proc_ref();
    match class {
        CLASS_RT if !me.capable(CAP_SYS_NICE) && !me.capable(CAP_SYS_ADMIN) => {
            return Err(Errno::EPERM)
        }
        CLASS_RT | CLASS_BE | CLASS_IDLE if data >> 3 > MAX_HINT => return Err(Errno::EINVAL),
        CLASS_RT | CLASS_BE | CLASS_IDLE => {}
        CLASS_NONE if data == 0 => {}
        _ => return Err(Errno::EINVAL),
    }
    let threads = targets(c, which, who as i32)?;
    let cred = me.cred.lock().clone();
    for t in &threads {
        let tu = t.proc_ref().cred.lock().uid;
        if tu != cred.euid && tu != cred.uid && !cred.capable(CAP_SYS_NICE) {
            return Err(Errno::EPERM);
        }
    }
    for t in &threads {
        t.ioprio.store(prio, Ordering::Relaxed);
    }
    ok(0)
}

/// The better of two priorities: the lower value, "none" counting as the default.
fn best(a: u32, b: u32) -> u32 {
    let v = |p: u32| {
        if p >> CLASS_SHIFT == CLASS_NONE {
            DEFAULT
        } else {
            p
        }
    };
    v(a).min(v(b))
}

pub fn ioprio_get(c: &mut Call) -> SysResult {
    let [which, who, ..] = c.a;
    let threads = targets(c, which, who as i32)?;
    let mut it = threads.iter().map(|t| t.ioprio.load(Ordering::Relaxed));
    let first = it.next().ok_or(Errno::ESRCH)?;
    ok(it.fold(first, best) as usize)
}
