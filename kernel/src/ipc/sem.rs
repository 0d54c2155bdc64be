//! Semaphore sets (Linux's ipc/sem.c): the id table, semget's rules, semop with its wait
//! queue, the semctl commands and SEM_UNDO, whose adjustments belong to an undo list
//! (`UndoList`, Linux's sem_undo_list) that threads share. The set's values, queued operation lists
//! and undo records are `lintel_sysvipc::sem::SemArray`; blocked callers sleep on one wait
//! queue and look for their ticket's result after each wake-up.

use super::{existing, limits, now, owned, stat_target, update_perm, Caller};
use crate::mm::kheap;
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use lintel_abi::ipc::*;
use lintel_abi::{Errno, KResult};
use lintel_sysvipc::ids::IpcObject;
use lintel_sysvipc::sem::{SemArray, Sembuf, Stop};
use lintel_sysvipc::{Ids, ACCESS_READ, ACCESS_WRITE};

pub struct SemSet {
    perm: IpcPerm,
    arr: SemArray,
    otime: i64,
    ctime: i64,
    /// Tells a set from a later one with the same id, for waiters.
    serial: u64,
}

impl IpcObject for SemSet {
    fn perm(&self) -> &IpcPerm {
        &self.perm
    }
}

impl SemSet {
    fn ds(&self) -> SemidDs {
        SemidDs {
            perm: self.perm,
            otime: self.otime,
            ctime: self.ctime,
            nsems: self.arr.sems.len() as u64,
        }
    }

    /// After a change: queued lists that can now complete do, and their callers wake.
    fn changed(&mut self) {
        if self.arr.update() {
            self.otime = now();
            WAIT.wake_all();
        }
    }
}

static SEM: Mutex<Ids<SemSet>> = Mutex::new(Ids::new());
static WAIT: WaitQueue = WaitQueue::new();
static SERIAL: AtomicU64 = AtomicU64::new(1);

fn used_sems(ids: &Ids<SemSet>) -> u64 {
    ids.iter().map(|(_, s)| s.arr.sems.len() as u64).sum()
}

/// semget.
pub fn get(c: &Caller, key: i32, nsems: i32, flags: u32) -> KResult<i32> {
    if nsems < 0 || nsems as u32 > limits::semmsl() {
        return Err(Errno::EINVAL);
    }
    let mut ids = SEM.lock();
    if let Some(id) = existing(&ids, c, key, flags, |s| nsems as usize <= s.arr.sems.len())? {
        return Ok(id);
    }
    if nsems == 0 {
        return Err(Errno::EINVAL);
    }
    if used_sems(&ids) + nsems as u64 > limits::semmns() as u64 {
        return Err(Errno::ENOSPC);
    }
    let (id, seq) = ids.next_id(limits::semmni()).ok_or(Errno::ENOSPC)?;
    kheap::check(nsems as usize * core::mem::size_of::<lintel_sysvipc::sem::Sem>())?;
    let arr = SemArray::new(nsems as usize)?;
    ids.insert(
        id,
        SemSet {
            perm: c.new_perm(key, flags, seq),
            arr,
            otime: 0,
            ctime: now(),
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        },
    );
    Ok(id)
}

/// semop and semtimedop, after the arguments were read: all of `sops` or none, waiting (until
/// the monotonic `deadline`) while they cannot proceed. A signal ends the wait with EINTR,
/// never a restart, as on Linux.
/// `undo` is the caller's undo list (`undo_list`), for the operations with SEM_UNDO.
pub fn op(c: &Caller, id: i32, sops: Vec<Sembuf>, deadline: Option<u64>, undo: u64) -> KResult<()> {
    let max = sops.iter().map(|s| s.num).max().unwrap_or(0) as usize;
    let alter = sops.iter().any(|s| s.op != 0);
    let (ticket, serial) = {
        let mut ids = SEM.lock();
        let s = ids.get_mut(id).ok_or(Errno::EINVAL)?;
        if max >= s.arr.sems.len() {
            return Err(Errno::EFBIG);
        }
        let want = if alter { ACCESS_WRITE } else { ACCESS_READ };
        if !c.who().may(&s.perm, want) {
            return Err(Errno::EACCES);
        }
        match s.arr.try_ops(&sops, c.pid, undo) {
            Ok(changed) => {
                s.otime = now();
                if changed {
                    s.changed();
                }
                return Ok(());
            }
            Err(Stop::Fail(e)) => return Err(e),
            Err(Stop::Block { num, zero }) => {
                (s.arr.enqueue(sops, c.pid, undo, num, zero), s.serial)
            }
        }
    };
    let r = WAIT.wait_interruptible(deadline, false, || {
        let mut ids = SEM.lock();
        match ids.get_mut(id).filter(|s| s.serial == serial) {
            None => Some(Err(Errno::EIDRM)),
            Some(s) => s.arr.take_result(ticket),
        }
    });
    r.map_err(|e| {
        if let Some(s) = SEM.lock().get_mut(id).filter(|s| s.serial == serial) {
            s.arr.cancel(ticket);
        }
        if e.is_restart() {
            Errno::EINTR
        } else {
            e
        }
    })
}

/// An undo list (Linux's sem_undo_list): where a task's SEM_UNDO adjustments are recorded,
/// in every set by the list's `id`. A task gets one at its first SEM_UNDO operation, or when
/// it clones with CLONE_SYSVSEM, which shares it with the new task (pthread_create passes
/// it; fork does not, so a forked child starts without one). When the last task holding a
/// list exits or unshares it (`leave`), its adjustments apply; kcmp(KCMP_SYSVSEM) compares
/// lists.
pub struct UndoList {
    id: u64,
}

impl UndoList {
    /// The list's identity, never reused (0 is no list).
    pub fn id(&self) -> u64 {
        self.id
    }
}

static NEXT_UNDO: AtomicU64 = AtomicU64::new(1);

/// A task's undo list slot (`Thread::sysvsem`, Linux's task->sysvsem).
pub type UndoSlot = Mutex<Option<Arc<UndoList>>>;

/// The undo list in a task's `slot`, made now if it has none (Linux's get_undo_list).
pub fn undo_list(slot: &UndoSlot) -> Arc<UndoList> {
    slot.lock()
        .get_or_insert_with(|| {
            Arc::new(UndoList {
                id: NEXT_UNDO.fetch_add(1, Ordering::Relaxed),
            })
        })
        .clone()
}

/// A task lets go of the undo list in its `slot` (exit, or unshare(CLONE_SYSVSEM); Linux's
/// exit_sem), `pid` being its process: when no other task holds the list, its adjustments
/// apply to every set it has them in.
pub fn leave(slot: &UndoSlot, pid: i32) {
    let list = slot.lock().take();
    if let Some(list) = list.and_then(Arc::into_inner) {
        let mut ids = SEM.lock();
        for (_, s) in ids.iter_mut() {
            if s.arr.has_undo(list.id) && s.arr.exit(list.id, pid) {
                s.changed();
            }
        }
    }
}

/// IPC_STAT (by id), SEM_STAT and SEM_STAT_ANY (by index).
pub fn stat(c: &Caller, id: i32, cmd: i32) -> KResult<(i32, SemidDs)> {
    let ids = SEM.lock();
    let (ret, s) = stat_target(&ids, c, id, cmd != IPC_STAT, cmd == SEM_STAT_ANY)?;
    Ok((ret, s.ds()))
}

/// IPC_SET and IPC_RMID (waiters get EIDRM).
pub fn set_or_remove(c: &Caller, id: i32, set: Option<IpcSet>) -> KResult<()> {
    let mut ids = SEM.lock();
    let s = owned(&mut ids, c, id)?;
    match set {
        Some(v) => {
            update_perm(&mut s.perm, &v);
            s.ctime = now();
        }
        None => {
            ids.remove(id);
            WAIT.wake_all();
        }
    }
    Ok(())
}

/// The set `id` after the access check (`write` for the setting commands).
fn checked<'a>(
    ids: &'a mut Ids<SemSet>,
    c: &Caller,
    id: i32,
    write: bool,
) -> KResult<&'a mut SemSet> {
    let s = ids.get_mut(id).ok_or(Errno::EINVAL)?;
    let want = if write { ACCESS_WRITE } else { ACCESS_READ };
    if !c.who().may(&s.perm, want) {
        return Err(Errno::EACCES);
    }
    Ok(s)
}

/// The number of semaphores in a readable set (GETALL and SETALL size their buffers first).
pub fn nsems(c: &Caller, id: i32, write: bool) -> KResult<usize> {
    let mut ids = SEM.lock();
    Ok(checked(&mut ids, c, id, write)?.arr.sems.len())
}

/// GETALL.
pub fn get_all(c: &Caller, id: i32) -> KResult<Vec<u16>> {
    let mut ids = SEM.lock();
    let s = checked(&mut ids, c, id, false)?;
    let mut v = Vec::new();
    kheap::reserve_in(&mut v, s.arr.sems.len())?;
    v.extend(s.arr.sems.iter().map(|x| x.val as u16));
    Ok(v)
}

/// SETALL.
pub fn set_all(c: &Caller, id: i32, vals: &[u16]) -> KResult<()> {
    let mut ids = SEM.lock();
    let s = checked(&mut ids, c, id, true)?;
    s.arr.set_all(vals, c.pid)?;
    s.ctime = now();
    s.changed();
    Ok(())
}

/// GETVAL, GETPID, GETNCNT and GETZCNT of semaphore `num`.
pub fn get_one(c: &Caller, id: i32, num: i32, cmd: i32) -> KResult<i32> {
    let mut ids = SEM.lock();
    let s = checked(&mut ids, c, id, false)?;
    let n = usize::try_from(num)
        .ok()
        .filter(|&n| n < s.arr.sems.len())
        .ok_or(Errno::EINVAL)?;
    let sem = s.arr.sems[n];
    Ok(match cmd {
        GETVAL => sem.val,
        GETPID => sem.pid,
        GETNCNT => s.arr.waiting(n as u16, false) as i32,
        _ => s.arr.waiting(n as u16, true) as i32,
    })
}

/// SETVAL.
pub fn set_val(c: &Caller, id: i32, num: i32, val: i32) -> KResult<()> {
    if !(0..=SEMVMX).contains(&val) {
        return Err(Errno::ERANGE);
    }
    let mut ids = SEM.lock();
    let s = ids.get_mut(id).ok_or(Errno::EINVAL)?;
    let n = usize::try_from(num)
        .ok()
        .filter(|&n| n < s.arr.sems.len())
        .ok_or(Errno::EINVAL)?;
    if !c.who().may(&s.perm, ACCESS_WRITE) {
        return Err(Errno::EACCES);
    }
    s.arr.set(n, val, c.pid)?;
    s.ctime = now();
    s.changed();
    Ok(())
}

/// IPC_INFO and SEM_INFO: `struct seminfo` and the highest index in use.
pub fn info(cmd: i32) -> ([u8; 40], i32) {
    let ids = SEM.lock();
    let (usz, aem) = if cmd == SEM_INFO {
        (ids.in_use() as i32, used_sems(&ids) as i32)
    } else {
        (SEMUSZ as i32, SEMAEM)
    };
    let l = |i: usize| limits::SEM[i].load(Ordering::Relaxed) as i32;
    let b = seminfo_bytes([
        SEMMAP as i32,
        l(3),
        l(1),
        SEMMNU as i32,
        l(0),
        l(2),
        SEMUME as i32,
        usz,
        SEMVMX,
        aem,
    ]);
    (b, ids.max_idx().unwrap_or(0) as i32)
}

/// /proc/sysvipc/sem.
pub fn proc_text(out: &mut crate::fs::seq::SeqText) {
    out.str(
        "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    );
    for (id, s) in SEM.lock().iter() {
        let p = &s.perm;
        let _ = core::fmt::Write::write_fmt(
            out,
            format_args!(
                "{:10} {:10}  {:4o} {:10} {:5} {:5} {:5} {:5} {:10} {:10}\n",
                p.key,
                id,
                p.mode,
                s.arr.sems.len(),
                p.uid,
                p.gid,
                p.cuid,
                p.cgid,
                s.otime,
                s.ctime
            ),
        );
    }
}
