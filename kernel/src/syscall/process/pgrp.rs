//! setpgid, getpgrp, setsid, getpgid, getsid

use crate::proc as process;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use core::sync::atomic::Ordering;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("setpgid", setpgid, ""),
    Syscall::implemented("getpgrp", |c| getpgid_of(c, 0), ""),
    Syscall::implemented("setsid", setsid, ""),
    Syscall::implemented("getpgid", |c| getpgid_of(c, c.a[0] as i32), ""),
    Syscall::implemented("getsid", getsid, ""),
];

/// Serializes setpgid and setsid, each from its checks to its stores (Linux holds
/// tasklist_lock for writing across both). Without it, a parent's setpgid of a child could
/// check "not a session leader, same session", the child's setsid run, and the store then
/// put the new session leader into a group of the old session; and setsid's two stores
/// could interleave with another setpgid's check.
static PGRP_LOCK: crate::spinlock::Mutex<()> = crate::spinlock::Mutex::new(());

pub fn setpgid(c: &mut Call) -> SysResult {
    let _pgrp = PGRP_LOCK.lock();
    let me = c.thread.process();
    let pid = if c.a[0] as i32 == 0 {
        me.pid
    } else {
        c.a[0] as i32
    };
    let pgid = c.a[1] as i32;
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let target = if pid == me.pid {
        me.clone()
    } else {
        let t = process::find_process(pid).ok_or(Errno::ESRCH)?;
        if t.ppid() != me.pid {
            return Err(Errno::ESRCH);
        }
        if t.sid.load(Ordering::Relaxed) != me.sid.load(Ordering::Relaxed) {
            return Err(Errno::EPERM);
        }
        if t.did_exec.load(Ordering::Relaxed) {
            return Err(Errno::EACCES);
        }
        t
    };
    if target.sid.load(Ordering::Relaxed) == target.pid {
        return Err(Errno::EPERM);
    }
    let pgid = if pgid == 0 { target.pid } else { pgid };
    // Joining a group needs a member (a zombie counts) in the same session: checked with the
    // store, under the id table's lock.
    process::set_pgid(&target, pgid)?;
    ok(0)
}

pub fn getpgid_of(c: &mut Call, pid: i32) -> SysResult {
    let p = if pid == 0 {
        c.thread.process()
    } else {
        process::find_process(pid).ok_or(Errno::ESRCH)?
    };
    ok(p.pgid.load(Ordering::Relaxed) as usize)
}

pub fn getsid(c: &mut Call) -> SysResult {
    let pid = c.a[0] as i32;
    let p = if pid == 0 {
        c.thread.process()
    } else {
        process::find_process(pid).ok_or(Errno::ESRCH)?
    };
    ok(p.sid.load(Ordering::Relaxed) as usize)
}

pub fn setsid(c: &mut Call) -> SysResult {
    let me = c.thread.process();
    let pid = me.pid;
    let old_ctty = {
        let _pgrp = PGRP_LOCK.lock();
        // EPERM when a process group has our pid (we lead one).
        process::set_session(&me)?;
        me.ctty.lock().take()
    };
    // The terminal goes after the lock (its last reference may close it).
    drop(old_ctty);
    ok(pid as usize)
}
