//! kill, rt_sigqueueinfo, rt_tgsigqueueinfo, tkill, tgkill

use crate::proc as process;
use crate::proc::signal;
use crate::proc::Process;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::capability::CAP_KILL;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("kill", kill, ""),
    Syscall::implemented(
        "rt_sigqueueinfo",
        |c| rt_sigqueueinfo(c, QueueTo::Process),
        "",
    ),
    Syscall::implemented(
        "rt_tgsigqueueinfo",
        |c| rt_sigqueueinfo(c, QueueTo::Thread),
        "",
    ),
    Syscall::implemented("tkill", |c| tgkill(c, ThreadIds::Tid), ""),
    Syscall::implemented("tgkill", |c| tgkill(c, ThreadIds::TgidTid), ""),
];

pub fn kill(c: &mut Call) -> SysResult {
    let pid = c.a[0] as i32;
    let sig = c.a[1] as u32;
    if sig > signal::NSIG {
        return Err(Errno::EINVAL);
    }
    let me = c.thread.process();
    let targets: alloc::vec::Vec<Arc<Process>> = match pid {
        p if p > 0 => process::find_process(p).into_iter().collect(),
        0 | -1 => {
            let pg = me.pgid.load(Ordering::Relaxed);
            process::all_pids()
                .into_iter()
                .filter_map(process::find_process)
                // kill(-1) reaches everyone but init and the caller.
                .filter(|p| {
                    p.pid != 1
                        && if pid == -1 {
                            p.pid != me.pid
                        } else {
                            p.pgid.load(Ordering::Relaxed) == pg
                        }
                })
                .collect()
        }
        p => process::all_pids()
            .into_iter()
            .filter_map(process::find_process)
            .filter(|x| x.pgid.load(Ordering::Relaxed) == -p)
            .collect(),
    };
    // Zombies still exist for kill (the signal is simply dropped), as on Linux.
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    // A group send succeeds if any member may be signalled.
    let allowed: alloc::vec::Vec<_> = targets
        .into_iter()
        .filter(|t| may_signal(&me, t, sig))
        .collect();
    // A group send with nobody to signal is EPERM; kill(-1) counts only EPERM-free failures,
    // so it succeeds as long as some process exists.
    if allowed.is_empty() {
        return if pid == -1 { ok(0) } else { Err(Errno::EPERM) };
    }
    if sig == 0 {
        return ok(0);
    }
    for t in allowed {
        process::send_simple(&t, None, sig, signal::SI_USER, Some(&me));
    }
    ok(0)
}

/// check_kill_permission: a process signals itself; otherwise, without CAP_KILL, the
/// sender's real or effective uid must match the target's real or saved uid, except that
/// SIGCONT reaches any process of the sender's session.
pub(in crate::syscall) fn may_signal(me: &Process, t: &Process, sig: u32) -> bool {
    if me.pid == t.pid {
        return true;
    }
    let mc = me.cred.lock().clone();
    if mc.capable(CAP_KILL) {
        return true;
    }
    let (tu, ts) = {
        let tc = t.cred.lock();
        (tc.uid, tc.suid)
    };
    [mc.uid, mc.euid].iter().any(|u| *u == tu || *u == ts)
        || (sig == signal::SIGCONT
            && me.sid.load(Ordering::Relaxed) == t.sid.load(Ordering::Relaxed))
}

/// How a thread-directed signal names its thread: a tid alone (tkill) or a tgid and a tid
/// (tgkill).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ThreadIds {
    Tid,
    TgidTid,
}

/// tkill/tgkill: a signal for one thread.
pub fn tgkill(c: &mut Call, kind: ThreadIds) -> SysResult {
    let with_tgid = kind == ThreadIds::TgidTid;
    let (tgid, tid, sig) = if with_tgid {
        (c.a[0] as i32, c.a[1] as i32, c.a[2] as u32)
    } else {
        (-1, c.a[0] as i32, c.a[1] as u32)
    };
    if tid <= 0 || (with_tgid && tgid <= 0) || sig > signal::NSIG {
        return Err(Errno::EINVAL);
    }
    let t = process::find_thread(tid).ok_or(Errno::ESRCH)?;
    let p = t.process();
    if with_tgid && p.pid != tgid {
        return Err(Errno::ESRCH);
    }
    if !may_signal(c.thread.proc_ref(), &p, sig) {
        return Err(Errno::EPERM);
    }
    if sig == 0 {
        return ok(0);
    }
    process::send_simple(
        &p,
        Some(&t),
        sig,
        signal::SI_TKILL,
        Some(c.thread.proc_ref()),
    );
    ok(0)
}

/// Where a queued signal goes: a process (rt_sigqueueinfo) or one of its threads
/// (rt_tgsigqueueinfo).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum QueueTo {
    Process,
    Thread,
}

/// rt_sigqueueinfo / rt_tgsigqueueinfo: a signal with caller-supplied siginfo. Only the
/// process itself may claim kernel or kill() origins (si_code >= 0, or SI_TKILL).
pub fn rt_sigqueueinfo(c: &mut Call, kind: QueueTo) -> SysResult {
    let thread = kind == QueueTo::Thread;
    let (tgid, tid, sig, infop) = if thread {
        (c.a[0] as i32, c.a[1] as i32, c.a[2] as u32, c.a[3])
    } else {
        (c.a[0] as i32, 0, c.a[1] as u32, c.a[2])
    };
    if sig == 0 || sig > signal::NSIG || (thread && (tid <= 0 || tgid <= 0)) {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 128];
    uaccess::read_bytes(infop, &mut raw)?;
    let info = signal::SigInfo::from_user(sig, raw);
    let (p, target) = if thread {
        let t = process::find_thread(tid).ok_or(Errno::ESRCH)?;
        if t.proc_ref().pid != tgid {
            return Err(Errno::ESRCH);
        }
        (t.process(), Some(t))
    } else {
        (
            process::find_process(tgid)
                .filter(|p| p.exit_status.lock().is_none())
                .ok_or(Errno::ESRCH)?,
            None,
        )
    };
    let me = c.thread.proc_ref();
    if (info.code() >= 0 || info.code() == signal::SI_TKILL) && p.pid != me.pid {
        return Err(Errno::EPERM);
    }
    if !may_signal(me, &p, sig) {
        return Err(Errno::EPERM);
    }
    if !process::send_signal(&p, target.as_ref(), info) {
        return Err(Errno::EAGAIN);
    }
    ok(0)
}
