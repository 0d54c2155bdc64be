//! Which ids are in use, and as what: Linux's pid hash, where an id stays allocated while a
//! task, a process (zombies too), a process group or a session has it.
//!
//! Fork asks "is this id free?" for each candidate of the pid counter, so the answer must not
//! cost a walk over every process: each id in use has an entry here counting its holders,
//! kept up to date where a process enters or leaves the process table and where setpgid and
//! setsid move it. The only insertion is `alloc_pid`'s, which may fail (ENOMEM); joining a
//! group or session, and entering the table, only count up an entry that exists.

use super::{Process, PROCS, THREADS};
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::Ordering;
use lintel_abi::{Errno, KResult};

/// The holders of one id.
#[derive(Default)]
struct Uses {
    /// The id itself: a reservation from `alloc_pid` not yet in `THREADS`, and the process
    /// with this pid while it is in `PROCS`.
    own: u32,
    /// Processes in the process group with this id.
    pgrp: u32,
    /// Processes in the session with this id.
    session: u32,
    /// The session of the process group with this id (all of a group's members are in one
    /// session), set when the group gets its first member.
    pgrp_sid: i32,
}

#[derive(Clone, Copy)]
enum Role {
    Own,
    Pgrp,
    Session,
}

impl Uses {
    fn count(&mut self, role: Role) -> &mut u32 {
        match role {
            Role::Own => &mut self.own,
            Role::Pgrp => &mut self.pgrp,
            Role::Session => &mut self.session,
        }
    }
}

/// Every id some reservation, process, process group or session holds. Process group and
/// session ids of processes change only under this lock, so that the counts always match.
static IDS: Mutex<BTreeMap<i32, Uses>> = Mutex::new(BTreeMap::new());

/// Heap headroom asked of `kheap::check` before an entry goes in (a B-tree insertion may
/// split nodes up to the root: a few hundred bytes at most for these small entries).
const INSERT_BYTES: usize = 1024;

/// One more holder of `id` as `role`, of a process in session `sid`; false (and nothing
/// changed) when nobody holds `id`.
fn add(ids: &mut BTreeMap<i32, Uses>, id: i32, role: Role, sid: i32) -> bool {
    match ids.get_mut(&id) {
        Some(u) => {
            if matches!(role, Role::Pgrp) && u.pgrp == 0 {
                u.pgrp_sid = sid;
            }
            *u.count(role) += 1;
            true
        }
        None => false,
    }
}

/// One holder of `id` as `role` fewer; the entry goes when it has none left.
fn remove(ids: &mut BTreeMap<i32, Uses>, id: i32, role: Role) {
    let Some(u) = ids.get_mut(&id) else {
        debug_assert!(false, "pid {id} released but not in use");
        return;
    };
    let c = u.count(role);
    debug_assert!(*c > 0, "pid {id} released more often than taken");
    *c = c.saturating_sub(1);
    if u.own == 0 && u.pgrp == 0 && u.session == 0 {
        ids.remove(&id);
    }
}

/// An id from `alloc_pid`. It counts as taken until dropped: `fork::new_thread` drops it
/// once the task is in `THREADS`, and a fork that fails before that gives it back.
pub(super) struct NewPid(i32);

impl NewPid {
    pub(super) fn get(&self) -> i32 {
        self.0
    }
}

impl Drop for NewPid {
    fn drop(&mut self) {
        remove(&mut IDS.lock(), self.0, Role::Own);
    }
}

/// Whether `ids` or `THREADS` has `pid`: a reservation, a live task, a process (zombies too),
/// or a process group or session.
fn taken(ids: &BTreeMap<i32, Uses>, pid: i32) -> bool {
    ids.contains_key(&pid) || THREADS.lock().contains_key(&pid)
}

/// A new process or thread id: `requested` (clone3's set_tid; EEXIST when taken, as
/// Linux's idr_alloc of that one id), else the next free one (EAGAIN when pid_max ids are
/// all taken). Taken ids, including ones set_tid gave out ahead of the counter and ones
/// handed out whose task is not in the tables yet, are skipped. The check and the
/// reservation are one step under `IDS`'s lock: a set_tid request checked free earlier and
/// taken later could meet a concurrent allocation of the same id in between.
pub(super) fn alloc_pid(requested: Option<i32>) -> KResult<NewPid> {
    crate::mm::kheap::check(INSERT_BYTES)?;
    let mut ids = IDS.lock();
    let pid = match requested {
        Some(pid) if taken(&ids, pid) => return Err(Errno::EEXIST),
        Some(pid) => pid,
        None => super::limits::alloc_pid(|pid| taken(&ids, pid))?,
    };
    ids.insert(
        pid,
        Uses {
            own: 1,
            ..Default::default()
        },
    );
    Ok(NewPid(pid))
}

/// Puts `p` (holding the reservation of its pid) into the process table. A forked child
/// joins `parent`'s process group and session as they are now (read under the lock that
/// setpgid and setsid store them under); the first process has its own.
pub(super) fn enter(p: &Arc<Process>, parent: Option<&Process>) {
    let mut ids = IDS.lock();
    if let Some(parent) = parent {
        p.pgid
            .store(parent.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
        p.sid
            .store(parent.sid.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    let sid = p.sid.load(Ordering::Relaxed);
    for (id, role) in [
        (p.pid, Role::Own),
        (p.pgid.load(Ordering::Relaxed), Role::Pgrp),
        (sid, Role::Session),
    ] {
        let held = add(&mut ids, id, role, sid);
        debug_assert!(held, "pid {id} joined but not in use");
    }
    PROCS.lock().insert(p.pid, p.clone());
}

/// Takes a reaped `p` out of the process table; its pid, process group and session ids stop
/// being held by it.
pub(super) fn leave(p: &Process) {
    let mut ids = IDS.lock();
    PROCS.lock().remove(&p.pid);
    remove(&mut ids, p.pid, Role::Own);
    remove(&mut ids, p.pgid.load(Ordering::Relaxed), Role::Pgrp);
    remove(&mut ids, p.sid.load(Ordering::Relaxed), Role::Session);
}

/// ESRCH unless `p` itself (not a process that took its pid after it was reaped) is in the
/// process table: a reaped process's ids were let go in `leave`.
fn listed(p: &Process) -> KResult<()> {
    match PROCS.lock().get(&p.pid) {
        Some(q) if core::ptr::eq(q.as_ref(), p) => Ok(()),
        _ => Err(Errno::ESRCH),
    }
}

/// setpgid's check and store: `p` moves to process group `pgid`, its own pid or a group
/// that has a member (a zombie counts, as on Linux, where a task stays in its group until
/// reaped) in `p`'s session; EPERM otherwise.
pub fn set_pgid(p: &Process, pgid: i32) -> KResult<()> {
    let mut ids = IDS.lock();
    listed(p)?;
    let old = p.pgid.load(Ordering::Relaxed);
    let sid = p.sid.load(Ordering::Relaxed);
    let ok = if pgid == p.pid {
        old == pgid || add(&mut ids, pgid, Role::Pgrp, sid)
    } else {
        ids.get(&pgid)
            .is_some_and(|u| u.pgrp > 0 && u.pgrp_sid == sid)
            && (old == pgid || add(&mut ids, pgid, Role::Pgrp, sid))
    };
    if old == pgid {
        return if ok { Ok(()) } else { Err(Errno::EPERM) };
    }
    if !ok {
        return Err(Errno::EPERM);
    }
    remove(&mut ids, old, Role::Pgrp);
    p.pgid.store(pgid, Ordering::Relaxed);
    Ok(())
}

/// setsid's check and stores: EPERM when a process group (zombies' too) has `p`'s pid, else
/// `p` leads a new session and a new process group with its pid.
pub fn set_session(p: &Process) -> KResult<()> {
    let mut ids = IDS.lock();
    listed(p)?;
    let pid = p.pid;
    if ids.get(&pid).is_none_or(|u| u.pgrp > 0) {
        return Err(Errno::EPERM);
    }
    add(&mut ids, pid, Role::Pgrp, pid);
    add(&mut ids, pid, Role::Session, pid);
    remove(&mut ids, p.pgid.load(Ordering::Relaxed), Role::Pgrp);
    remove(&mut ids, p.sid.load(Ordering::Relaxed), Role::Session);
    p.pgid.store(pid, Ordering::Relaxed);
    p.sid.store(pid, Ordering::Relaxed);
    Ok(())
}
