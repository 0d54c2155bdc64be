//! Scheduling policy calls: affinity, nice, policies, getcpu, and prctl.
//!
//! Lintel runs every thread on CPU 0 with round-robin time slices; these calls keep the state
//! Linux keeps and validate like Linux, and the scheduler will honour nice and policies when
//! it grows weights.

use super::{ok, Call, SysResult};
use crate::proc::{self as process, Process, Thread};
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::{Errno, KResult};

/// CPUs that exist (bit N = CPU N).
const ONLINE_CPUS: u64 = 1;

const SCHED_OTHER: usize = 0;
const SCHED_FIFO: usize = 1;
const SCHED_RR: usize = 2;
const SCHED_BATCH: usize = 3;
const SCHED_IDLE: usize = 5;
const SCHED_RESET_ON_FORK: usize = 0x4000_0000;

fn thread_of(c: &Call, tid: i32) -> KResult<Arc<Thread>> {
    if tid < 0 {
        return Err(Errno::EINVAL);
    }
    if tid == 0 {
        return Ok(c.thread.clone());
    }
    process::find_thread(tid).ok_or(Errno::ESRCH)
}

pub fn sched_getaffinity(c: &mut Call) -> SysResult {
    let [tid, len, mask, ..] = c.a;
    // The buffer must hold the kernel's mask (one long here) and be whole longs.
    if len < 8 || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let t = thread_of(c, tid as i32)?;
    let m = *t.affinity.lock() & ONLINE_CPUS;
    uaccess::write_bytes(mask, &m.to_le_bytes())?;
    ok(8)
}

pub fn sched_setaffinity(c: &mut Call) -> SysResult {
    let [tid, len, mask, ..] = c.a;
    let t = thread_of(c, tid as i32)?;
    let n = len.min(8);
    let mut b = [0u8; 8];
    uaccess::read_bytes(mask, &mut b[..n])?;
    let m = u64::from_le_bytes(b);
    if m & ONLINE_CPUS == 0 {
        return Err(Errno::EINVAL);
    }
    *t.affinity.lock() = m;
    ok(0)
}

pub fn getcpu(c: &mut Call) -> SysResult {
    let [cpu, node, ..] = c.a;
    if cpu != 0 {
        uaccess::write_u32(cpu, 0)?;
    }
    if node != 0 {
        uaccess::write_u32(node, 0)?;
    }
    ok(0)
}

const PRIO_PROCESS: usize = 0;
const PRIO_PGRP: usize = 1;
const PRIO_USER: usize = 2;

/// The processes a PRIO_* selector names.
fn prio_targets(c: &Call, which: usize, who: i32) -> KResult<alloc::vec::Vec<Arc<Process>>> {
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
        if cred.euid != 0 && cred.euid != pc.uid && cred.euid != pc.euid {
            return Err(Errno::EPERM);
        }
        // Raising priority needs CAP_SYS_NICE (root).
        if nice < p.nice.load(Ordering::Relaxed) && cred.euid != 0 {
            return Err(Errno::EACCES);
        }
    }
    for p in &t {
        p.nice.store(nice, Ordering::Relaxed);
    }
    ok(0)
}

fn valid_policy(policy: usize) -> bool {
    matches!(
        policy,
        SCHED_OTHER | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE
    )
}

fn check_param(policy: usize, prio: i32) -> KResult<()> {
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

fn proc_of(c: &Call, pid: i32) -> KResult<Arc<Process>> {
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
    if matches!(policy, SCHED_FIFO | SCHED_RR) && c.thread.proc_ref().cred.lock().euid != 0 {
        return Err(Errno::EPERM);
    }
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
    p.sched_policy.lock().1 = prio as u32;
    ok(0)
}

pub fn sched_get_priority(c: &mut Call, max: bool) -> SysResult {
    match c.a[0] {
        SCHED_FIFO | SCHED_RR => ok(if max { 99 } else { 1 }),
        SCHED_OTHER | SCHED_BATCH | SCHED_IDLE => ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_rr_get_interval(c: &mut Call) -> SysResult {
    let _ = proc_of(c, c.a[0] as i32)?;
    // The round-robin slice: two timer ticks.
    super::misc::put_timespec(c.a[1], 20_000_000)?;
    ok(0)
}

pub fn prctl(c: &mut Call) -> SysResult {
    const PR_SET_PDEATHSIG: usize = 1;
    const PR_GET_PDEATHSIG: usize = 2;
    const PR_GET_DUMPABLE: usize = 3;
    const PR_SET_DUMPABLE: usize = 4;
    const PR_SET_NAME: usize = 15;
    const PR_GET_NAME: usize = 16;
    const PR_CAPBSET_READ: usize = 23;
    const PR_GET_NO_NEW_PRIVS: usize = 39;
    const PR_SET_NO_NEW_PRIVS: usize = 38;
    const PR_GET_TIMERSLACK: usize = 30;
    const PR_SET_TIMERSLACK: usize = 29;
    const PR_GET_KEEPCAPS: usize = 7;
    const PR_SET_KEEPCAPS: usize = 8;
    const PR_GET_SECCOMP: usize = 21;
    const PR_SET_CHILD_SUBREAPER: usize = 36;
    const PR_GET_CHILD_SUBREAPER: usize = 37;
    const CAP_LAST_CAP: usize = 40;
    let [opt, arg2, arg3, arg4, arg5, _] = c.a;
    let p = c.thread.proc_ref();
    match opt {
        PR_SET_NAME => {
            let name = uaccess::read_cstr(arg2, 16, Errno::ENAMETOOLONG).or_else(|e| {
                // A name without a NUL within 16 bytes is cut at 15.
                if e == Errno::ENAMETOOLONG {
                    uaccess::read_vec(arg2, 16).map(|mut v| {
                        v.truncate(15);
                        v
                    })
                } else {
                    Err(e)
                }
            })?;
            c.thread.set_comm(&name);
            ok(0)
        }
        PR_GET_NAME => {
            let mut b = [0u8; 16];
            let n = c.thread.comm_bytes();
            b[..n.len()].copy_from_slice(&n);
            uaccess::write_bytes(arg2, &b)?;
            ok(0)
        }
        PR_GET_DUMPABLE => ok(p.dumpable.load(Ordering::Relaxed) as usize),
        PR_SET_DUMPABLE => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            p.dumpable.store(arg2 as u32, Ordering::Relaxed);
            ok(0)
        }
        PR_SET_PDEATHSIG => {
            if arg2 > crate::proc::signal::NSIG as usize {
                return Err(Errno::EINVAL);
            }
            p.pdeath_signal.store(arg2 as u32, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_PDEATHSIG => {
            uaccess::write_i32(arg2, p.pdeath_signal.load(Ordering::Relaxed) as i32)?;
            ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
                return Err(Errno::EINVAL);
            }
            p.no_new_privs.store(1, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if arg2 != 0 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
                return Err(Errno::EINVAL);
            }
            ok(p.no_new_privs.load(Ordering::Relaxed) as usize)
        }
        PR_CAPBSET_READ => {
            if arg2 > CAP_LAST_CAP {
                return Err(Errno::EINVAL);
            }
            ok(1)
        }
        PR_GET_TIMERSLACK => ok(p.timerslack.load(Ordering::Relaxed) as usize),
        PR_SET_TIMERSLACK => {
            // 0 restores the default.
            p.timerslack.store(
                if arg2 == 0 { 50_000 } else { arg2 as u64 },
                Ordering::Relaxed,
            );
            ok(0)
        }
        PR_GET_KEEPCAPS => ok(p.keepcaps.load(Ordering::Relaxed) as usize),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            p.keepcaps.store(arg2 as u32, Ordering::Relaxed);
            ok(0)
        }
        // No seccomp filters exist: mode 0 (disabled).
        PR_GET_SECCOMP => ok(0),
        PR_SET_CHILD_SUBREAPER => {
            p.child_subreaper.store(arg2 != 0, Ordering::Relaxed);
            ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            uaccess::write_i32(arg2, p.child_subreaper.load(Ordering::Relaxed) as i32)?;
            ok(0)
        }
        _ => {
            crate::warn!("prctl option {} not supported", opt);
            Err(Errno::EINVAL)
        }
    }
}

/// sched_getattr: `struct sched_attr` (48 bytes in its first version).
pub fn sched_getattr(c: &mut Call) -> SysResult {
    let [pid, attr, size, flags, ..] = c.a;
    if flags != 0 || attr == 0 || !(48..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let p = proc_of(c, pid as i32)?;
    let (policy, prio) = *p.sched_policy.lock();
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&48u32.to_le_bytes());
    b[4..8].copy_from_slice(&policy.to_le_bytes());
    b[16..20].copy_from_slice(&p.nice.load(Ordering::Relaxed).to_le_bytes());
    b[20..24].copy_from_slice(&prio.to_le_bytes());
    uaccess::write_bytes(attr, &b)?;
    ok(0)
}

pub fn sched_setattr(c: &mut Call) -> SysResult {
    let [pid, attr, flags, ..] = c.a;
    if flags != 0 || attr == 0 {
        return Err(Errno::EINVAL);
    }
    let size = uaccess::read_u32(attr)? as usize;
    let size = if size == 0 { 48 } else { size };
    if !(48..=4096).contains(&size) {
        // Linux writes its own size back on E2BIG.
        uaccess::write_u32(attr, 48)?;
        return Err(Errno::E2BIG);
    }
    let b = uaccess::read_vec(attr, 48)?;
    let policy = u32::from_le_bytes(b[4..8].try_into().unwrap_or([0; 4])) as usize;
    let nice = i32::from_le_bytes(b[16..20].try_into().unwrap_or([0; 4]));
    let prio = u32::from_le_bytes(b[20..24].try_into().unwrap_or([0; 4])) as i32;
    if !valid_policy(policy) {
        return Err(Errno::EINVAL);
    }
    check_param(policy, prio)?;
    let p = proc_of(c, pid as i32)?;
    let root = c.thread.proc_ref().cred.lock().euid == 0;
    if !root && (matches!(policy, SCHED_FIFO | SCHED_RR) || nice < p.nice.load(Ordering::Relaxed)) {
        return Err(Errno::EPERM);
    }
    *p.sched_policy.lock() = (policy as u32, prio as u32);
    if matches!(policy, SCHED_OTHER | SCHED_BATCH | SCHED_IDLE) {
        p.nice.store(nice.clamp(-20, 19), Ordering::Relaxed);
    }
    ok(0)
}
