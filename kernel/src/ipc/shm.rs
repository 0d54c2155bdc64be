//! Shared memory segments (Linux's ipc/shm.c): the id table, creation with its size rules,
//! the attach bookkeeping and the shmctl commands. A segment's pages are `SharedPages`; each
//! VMA that maps them holds an `Arc`, so shm_nattch is that count (fork and VMA splits count,
//! as Linux's shm_open does) and the pages go when the last holder does. A segment removed
//! while attached (SHM_DEST) leaves the table at its last detach; `reap` finds those.

use super::{existing, limits, now, owned, stat_target, update_perm, Caller};
use crate::mm::shared::SharedPages;
use crate::mm::{commit, Backing, Mm, ShmMap, PAGE};
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::ipc::*;
use lintel_abi::{Errno, KResult};
use lintel_sync::Mutex;
use lintel_sysvipc::ids::IpcObject;
use lintel_sysvipc::{Ids, ACCESS_READ, ACCESS_WRITE};

pub struct Segment {
    perm: IpcPerm,
    pages: Arc<SharedPages>,
    size: u64,
    atime: i64,
    dtime: i64,
    ctime: i64,
    cpid: i32,
    lpid: i32,
    /// SHM_HUGETLB: log2 of the huge page size (0: ordinary pages).
    huge_shift: u8,
}

impl IpcObject for Segment {
    fn perm(&self) -> &IpcPerm {
        &self.perm
    }
}

impl Segment {
    fn nattch(&self) -> u64 {
        Arc::strong_count(&self.pages) as u64 - 1
    }

    fn ds(&self) -> ShmidDs {
        ShmidDs {
            perm: self.perm,
            segsz: self.size,
            atime: self.atime,
            dtime: self.dtime,
            ctime: self.ctime,
            cpid: self.cpid,
            lpid: self.lpid,
            nattch: self.nattch(),
        }
    }
}

/// A sleeping lock: shmget checks the caller's committed memory (its address-space lock)
/// with it held.
static SHM: Mutex<Ids<Segment>> = Mutex::new(Ids::new());

/// Drops the segments marked for destruction that nothing maps any more.
fn reap(ids: &mut Ids<Segment>) {
    ids.retain(|s| s.perm.mode & SHM_DEST == 0 || s.nattch() > 0);
}

fn table() -> lintel_sync::MutexGuard<'static, Ids<Segment>> {
    let mut ids = SHM.lock();
    reap(&mut ids);
    ids
}

fn pages_of(size: u64) -> u64 {
    size.div_ceil(PAGE as u64)
}

/// shmget.
pub fn get(c: &Caller, mm: &Arc<Mm>, key: i32, size: u64, flags: u32) -> KResult<i32> {
    let mut ids = table();
    if let Some(id) = existing(&ids, c, key, flags, |s| size <= s.size)? {
        return Ok(id);
    }
    if size < SHMMIN || size > limits::shmmax() {
        return Err(Errno::EINVAL);
    }
    let n = pages_of(size);
    let total: u64 = ids.iter().map(|(_, s)| pages_of(s.size)).sum();
    if total.checked_add(n).is_none_or(|t| t > limits::shmall()) {
        return Err(Errno::ENOSPC);
    }
    // Linux's `numpages << PAGE_SHIFT < size` test: a size whose pages overflow is ENOSPC.
    let bytes = n
        .checked_mul(PAGE as u64)
        .and_then(|b| usize::try_from(b).ok())
        .ok_or(Errno::ENOSPC)?;
    // A size past the largest file offset is refused by the segment's file (shmem).
    if size > i64::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    // SHM_HUGETLB: Lintel has no huge pages, so the answer is Linux's with an empty pool: an
    // unknown page size is EINVAL, the reservation ENOMEM; SHM_NORESERVE reserves nothing
    // and makes a segment without pages, whose attaches raise SIGBUS when touched.
    let mut huge_shift = 0;
    if flags & SHM_HUGETLB != 0 {
        huge_shift = crate::mm::hugetlb::size_log2(flags as usize).ok_or(Errno::EINVAL)? as u8;
        if flags & SHM_NORESERVE == 0 {
            return Err(Errno::ENOMEM);
        }
    }
    // The segment is committed memory from now on (Linux's shmem_acct_size), unless
    // SHM_NORESERVE outside strict overcommit.
    let charge = flags & SHM_NORESERVE == 0 || commit::mode() == commit::OVERCOMMIT_NEVER;
    if charge {
        commit::enough(&mm.inner.lock(), n as usize, c.admin())?;
    }
    let pages = if huge_shift != 0 {
        Arc::new(SharedPages::new(0, false)?)
    } else {
        Arc::new(SharedPages::new(bytes, charge)?)
    };
    let (id, seq) = ids.next_id(limits::shmmni()).ok_or(Errno::ENOSPC)?;
    ids.insert(
        id,
        Segment {
            perm: c.new_perm(key, flags, seq),
            pages,
            size,
            atime: 0,
            dtime: 0,
            ctime: now(),
            cpid: c.pid,
            lpid: 0,
            huge_shift,
        },
    );
    Ok(id)
}

/// shmat's bookkeeping: checks access (`write` unless SHM_RDONLY, `exec` with SHM_EXEC) and
/// returns the new attach, with the segment's size in bytes and its huge page size (log2, 0
/// for ordinary pages); the caller maps it.
pub fn attach(c: &Caller, id: i32, write: bool, exec: bool) -> KResult<(ShmMap, usize, u8)> {
    let mut ids = table();
    let s = ids.get_mut(id).ok_or(Errno::EINVAL)?;
    let mut want = ACCESS_READ;
    if write {
        want |= ACCESS_WRITE;
    }
    if exec {
        want |= 0o111;
    }
    if !c.who().may(&s.perm, want) {
        return Err(Errno::EACCES);
    }
    s.atime = now();
    s.lpid = c.pid;
    let size = usize::try_from(s.size).map_err(|_| Errno::ENOMEM)?;
    Ok((
        ShmMap {
            pages: s.pages.clone(),
            offset: 0,
            id,
            key: s.perm.key,
            may_write: write,
        },
        size,
        s.huge_shift,
    ))
}

/// Records detaches from the segments behind `pages` by process `pid`, then drops the ones
/// that were waiting for their last detach.
fn detached(pages: &[usize], pid: i32) {
    let mut ids = SHM.lock();
    let t = now();
    for (_, s) in ids.iter_mut() {
        if pages.contains(&key_of(&s.pages)) {
            s.dtime = t;
            s.lpid = pid;
        }
    }
    reap(&mut ids);
}

/// The attaches of `mm` were copied by a fork in process `pid`: each counts as a new attach
/// (Linux's shm_open), so the segments' attach time and last pid move.
pub fn forked(mm: &Arc<Mm>, pid: i32) {
    let pages = shm_pages(mm);
    if pages.is_empty() {
        return;
    }
    let t = now();
    for (_, s) in SHM.lock().iter_mut() {
        if pages.contains(&key_of(&s.pages)) {
            s.atime = t;
            s.lpid = pid;
        }
    }
}

/// Names a segment's pages by address: a list of these keeps no segment alive, so the
/// ones whose last attach is going can be reaped while it is in hand.
fn key_of(p: &Arc<SharedPages>) -> usize {
    Arc::as_ptr(p) as usize
}

/// The segments `mm` maps.
fn shm_pages(mm: &Arc<Mm>) -> Vec<usize> {
    mm.inner
        .lock()
        .vmas
        .values()
        .filter_map(|v| match &v.backing {
            Backing::Shm(s) => Some(key_of(&s.pages)),
            _ => None,
        })
        .collect()
}

/// shmdt, as Linux's: from the first mapping ending above `addr`, the first piece of any
/// attach that lies where an attach made at `addr` would have put it (its offset in the
/// segment equals its distance from `addr`) is unmapped, then every later piece of that
/// segment placed the same way within the segment's size. EINVAL when there is none.
pub fn detach(mm: &Arc<Mm>, addr: usize, pid: i32) -> KResult<()> {
    if !addr.is_multiple_of(PAGE) {
        return Err(Errno::EINVAL);
    }
    let placed = |v: &crate::mm::Vma| match &v.backing {
        Backing::Shm(s) => v
            .start
            .checked_sub(addr)
            .is_some_and(|d| d as u64 == s.offset)
            .then(|| s.pages.clone()),
        _ => None,
    };
    let key = {
        let mut m = mm.inner.lock();
        let first = m.find(addr).map_or(addr, |v| v.start);
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let mut found: Option<Arc<SharedPages>> = None;
        for v in m.vmas.range(first..).map(|(_, v)| v) {
            match &found {
                None => {
                    if let Some(p) = placed(v) {
                        pieces.push((v.start, v.end));
                        found = Some(p);
                    }
                }
                Some(p) => {
                    let size = (p.pages() * PAGE) as u64;
                    if (v.end - addr) as u64 > size {
                        break;
                    }
                    if placed(v).is_some_and(|q| Arc::ptr_eq(&q, p)) {
                        pieces.push((v.start, v.end));
                    }
                }
            }
        }
        let pages = found.ok_or(Errno::EINVAL)?;
        for (s, e) in pieces {
            m.unmap(s, e);
        }
        key_of(&pages)
    };
    detached(&[key], pid);
    Ok(())
}

/// An address space is going away (exit, exec): its attaches end. Only when this was the
/// last holder (a vfork child's exec leaves the parent's in place).
pub fn release_mm(mm: Arc<Mm>, pid: i32) {
    if Arc::strong_count(&mm) != 1 {
        return;
    }
    let pages = shm_pages(&mm);
    if pages.is_empty() {
        return;
    }
    drop(mm);
    detached(&pages, pid);
}

/// IPC_STAT (by id), SHM_STAT and SHM_STAT_ANY (by index): the value to return (0, or the
/// id for the index forms) and the segment's description.
pub fn stat(c: &Caller, id: i32, cmd: i32) -> KResult<(i32, ShmidDs)> {
    let ids = table();
    let (ret, s) = stat_target(&ids, c, id, cmd != IPC_STAT, cmd == SHM_STAT_ANY)?;
    Ok((ret, s.ds()))
}

/// IPC_SET and IPC_RMID: the owner, the creator or root.
pub fn set_or_remove(c: &Caller, id: i32, set: Option<IpcSet>) -> KResult<()> {
    let mut ids = table();
    let s = owned(&mut ids, c, id)?;
    match set {
        Some(v) => {
            update_perm(&mut s.perm, &v);
            s.ctime = now();
        }
        None => {
            // Attached: destroyed at the last detach, and no longer found by its key.
            s.perm.mode |= SHM_DEST;
            s.perm.key = IPC_PRIVATE;
            reap(&mut ids);
        }
    }
    Ok(())
}

/// SHM_LOCK and SHM_UNLOCK: recorded in the mode (pages are never swapped here anyway).
pub fn lock(c: &Caller, id: i32, on: bool, memlock: u64) -> KResult<()> {
    let mut ids = table();
    let s = ids.get_mut(id).ok_or(Errno::EINVAL)?;
    if !c.ipc_lock() {
        if c.euid != s.perm.uid && c.euid != s.perm.cuid {
            return Err(Errno::EPERM);
        }
        if on && memlock == 0 {
            return Err(Errno::EPERM);
        }
    }
    if on {
        s.perm.mode |= SHM_LOCKED;
    } else {
        s.perm.mode &= !SHM_LOCKED;
    }
    Ok(())
}

/// The highest index in use, as IPC_INFO and SHM_INFO return it (0 with none).
fn max_idx(ids: &Ids<Segment>) -> i32 {
    ids.max_idx().unwrap_or(0) as i32
}

/// IPC_INFO: `struct shminfo64` and the return value.
pub fn ipc_info() -> ([u8; 72], i32) {
    let ids = table();
    let mni = limits::SHMMNI.load(core::sync::atomic::Ordering::Relaxed);
    (
        shminfo_bytes(limits::shmmax(), SHMMIN, mni, mni, limits::shmall()),
        max_idx(&ids),
    )
}

/// SHM_INFO: `struct shm_info` and the return value.
pub fn shm_info() -> ([u8; 48], i32) {
    let ids = table();
    let tot: u64 = ids.iter().map(|(_, s)| pages_of(s.size)).sum();
    let rss: u64 = ids.iter().map(|(_, s)| s.pages.resident() as u64).sum();
    (shm_info_bytes(ids.in_use() as i32, tot, rss), max_idx(&ids))
}

/// /proc/sysvipc/shm.
pub fn proc_text(out: &mut crate::fs::seq::SeqText) {
    out.str("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n");
    for (id, s) in table().iter() {
        let p = &s.perm;
        let _ = core::fmt::Write::write_fmt(out, format_args!(
            "{:10} {:10}  {:4o} {:21} {:5} {:5}  {:5} {:5} {:5} {:5} {:5} {:10} {:10} {:10} {:21} {:21}\n",
            p.key,
            id,
            p.mode,
            s.size,
            s.cpid,
            s.lpid,
            s.nattch(),
            p.uid,
            p.gid,
            p.cuid,
            p.cgid,
            s.atime,
            s.dtime,
            s.ctime,
            s.pages.resident() * PAGE,
            0
        ));
    }
}
