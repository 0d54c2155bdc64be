//! File locks: POSIX record locks and open-file-description locks (fcntl), and flock. The
//! range logic is `lintel_vfs::locks`; this module keeps the tables, waits and releases.

use super::file::OpenFile;
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use crate::uaccess;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use lintel_abi::fcntl::{F_RDLCK, F_UNLCK, F_WRLCK};
use lintel_abi::{Errno, KResult};
use lintel_vfs::locks::{Kind, Lock, LockTable, Owner};

type Key = (u64, u64);

/// fcntl locks (POSIX and OFD locks conflict with each other) and flock locks, per inode.
static RECORD: Mutex<BTreeMap<Key, LockTable>> = Mutex::new(BTreeMap::new());
static FLOCK: Mutex<BTreeMap<Key, LockTable>> = Mutex::new(BTreeMap::new());
/// What each blocked POSIX locker waits for (deadlock detection), by lock owner (the fd
/// table) and thread: the threads sharing a table may each wait.
static WAITING: Mutex<BTreeMap<(u64, i32), (Key, Lock)>> = Mutex::new(BTreeMap::new());
static WAIT: WaitQueue = WaitQueue::new();
/// Set once any lock was taken, so closes skip the tables until then.
static USED: AtomicBool = AtomicBool::new(false);

pub use lintel_abi::fcntl::{F_GETLK, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLK, F_SETLKW};

fn key_of(f: &OpenFile) -> KResult<Key> {
    let i = f.inode.as_ref().ok_or(Errno::EBADF)?;
    Ok((i.fs_id(), i.stat().ino))
}

fn file_id(f: &OpenFile) -> usize {
    f as *const OpenFile as usize
}

/// Whether `me` (an fd table) waiting for `blocker` would close a cycle of waiting owners
/// (as Linux's posix_locks_deadlock, the first waiter of an owner is followed).
fn deadlock(me: u64, blocker: &Lock) -> bool {
    let waiting = WAITING.lock();
    let table = RECORD.lock();
    let mut cur = blocker.owner;
    for _ in 0..64 {
        let Owner::Files(owner) = cur else {
            return false;
        };
        if owner == me {
            return true;
        }
        let Some((_, (k, want))) = waiting.range((owner, i32::MIN)..=(owner, i32::MAX)).next()
        else {
            return false;
        };
        let Some(next) = table.get(k).and_then(|t| t.conflict(want)) else {
            return false;
        };
        cur = next.owner;
    }
    false
}

/// Who asks for a POSIX lock: the fd table that owns it, the process F_GETLK reports, and the
/// thread that may wait.
#[derive(Clone, Copy)]
pub struct Locker {
    pub files: u64,
    pub pid: i32,
    pub tid: i32,
}

/// fcntl F_GETLK/F_SETLK/F_SETLKW and the OFD variants for `who`; `arg` points at a
/// `struct flock`.
pub fn fcntl_lock(f: &Arc<OpenFile>, cmd: u32, arg: usize, who: Locker) -> KResult<usize> {
    let pid = who.pid;
    let b = uaccess::read_vec(arg, 32)?;
    let l_type = i16::from_le_bytes([b[0], b[1]]);
    let whence = i16::from_le_bytes([b[2], b[3]]);
    let l_start = i64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8]));
    let l_len = i64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8]));
    let l_pid = i32::from_le_bytes(b[24..28].try_into().unwrap_or([0; 4]));
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if ofd && l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let base: i64 = match whence {
        0 => 0,
        1 => *f.pos.lock() as i64,
        2 => f.stat().size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(l_start).ok_or(Errno::EOVERFLOW)?;
    // A negative length locks the bytes before start.
    let (start, end): (i64, u64) = if l_len > 0 {
        (
            start,
            start.checked_add(l_len).map_or(u64::MAX, |e| e as u64),
        )
    } else if l_len == 0 {
        (start, u64::MAX)
    } else {
        (start + l_len, start as u64)
    };
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    let start = start as u64;
    let key = key_of(f)?;
    let owner = if ofd {
        Owner::File(file_id(f))
    } else {
        Owner::Files(who.files)
    };
    let kind = match l_type {
        F_RDLCK => Some(Kind::Read),
        F_WRLCK => Some(Kind::Write),
        F_UNLCK => None,
        _ => return Err(Errno::EINVAL),
    };
    let lock = |k: Kind| Lock {
        owner,
        kind: k,
        start,
        end,
        pid: if ofd { -1 } else { pid },
    };
    match cmd {
        F_GETLK | F_OFD_GETLK => {
            let Some(k) = kind else {
                return Err(Errno::EINVAL);
            };
            let found = RECORD.lock().get(&key).and_then(|tb| tb.conflict(&lock(k)));
            let mut out = b.clone();
            match found {
                None => out[0..2].copy_from_slice(&F_UNLCK.to_le_bytes()),
                Some(c) => {
                    let ty = if c.kind == Kind::Write {
                        F_WRLCK
                    } else {
                        F_RDLCK
                    };
                    out[0..2].copy_from_slice(&ty.to_le_bytes());
                    out[2..4].copy_from_slice(&0i16.to_le_bytes());
                    out[8..16].copy_from_slice(&(c.start as i64).to_le_bytes());
                    let len = if c.end == u64::MAX {
                        0
                    } else {
                        (c.end - c.start) as i64
                    };
                    out[16..24].copy_from_slice(&len.to_le_bytes());
                    out[24..28].copy_from_slice(&c.pid.to_le_bytes());
                }
            }
            uaccess::write_bytes(arg, &out)?;
            Ok(0)
        }
        _ => {
            let wait = matches!(cmd, F_SETLKW | F_OFD_SETLKW);
            let Some(k) = kind else {
                if let Some(tb) = RECORD.lock().get_mut(&key) {
                    tb.unlock(owner, start, end)?;
                }
                WAIT.wake_all();
                return Ok(0);
            };
            if (k == Kind::Read && !f.readable()) || (k == Kind::Write && !f.writable()) {
                return Err(Errno::EBADF);
            }
            USED.store(true, Ordering::Relaxed);
            let r = WAIT.wait_interruptible(None, false, || {
                let blocker = {
                    let mut tables = RECORD.lock();
                    let tb = tables.entry(key).or_default();
                    match tb.conflict(&lock(k)) {
                        None => return Some(tb.set(lock(k)).map(|()| 0)),
                        Some(c) => c,
                    }
                };
                if !wait {
                    return Some(Err(Errno::EAGAIN));
                }
                if !ofd && deadlock(who.files, &blocker) {
                    return Some(Err(Errno::EDEADLK));
                }
                if !ofd {
                    WAITING.lock().insert((who.files, who.tid), (key, lock(k)));
                }
                None
            });
            // Granted, refused or interrupted: no longer waiting (deadlock detection).
            WAITING.lock().remove(&(who.files, who.tid));
            r
        }
    }
}

/// flock(2): whole-file shared/exclusive locks owned by the open file description (`pid`, the
/// caller's, is what F_GETLK reports for them).
pub fn flock(f: &Arc<OpenFile>, op: u32, pid: i32) -> KResult<usize> {
    use lintel_abi::fcntl::{LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN};
    let key = key_of(f)?;
    let owner = Owner::File(file_id(f));
    let kind = match op & !LOCK_NB {
        LOCK_SH => Kind::Read,
        LOCK_EX => Kind::Write,
        LOCK_UN => {
            if let Some(tb) = FLOCK.lock().get_mut(&key) {
                tb.remove_owner(owner);
            }
            WAIT.wake_all();
            return Ok(0);
        }
        _ => return Err(Errno::EINVAL),
    };
    USED.store(true, Ordering::Relaxed);
    let req = Lock {
        owner,
        kind,
        start: 0,
        end: u64::MAX,
        pid,
    };
    WAIT.wait_interruptible(None, op & LOCK_NB != 0, || {
        let mut tables = FLOCK.lock();
        let tb = tables.entry(key).or_default();
        tb.conflict(&req).is_none().then(|| tb.set(req).map(|()| 0))
    })
}

/// An fd of `f` in the fd table `files` was closed: the table's POSIX locks on that file go
/// (all of them, as POSIX requires, whatever fd they were taken through), and its F_NOTIFY
/// request through `f` (Linux's filp_close does both; `fdtable::filp_close` calls this).
pub fn on_close(files: u64, f: &OpenFile) {
    super::dnotify::forget(f, files);
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(key) = key_of(f) else { return };
    let mut tables = RECORD.lock();
    if let Some(tb) = tables.get_mut(&key) {
        tb.remove_owner(Owner::Files(files));
        if tb.is_empty() {
            tables.remove(&key);
        }
    }
    drop(tables);
    WAIT.wake_all();
}

/// The last reference to an open file description went: its OFD and flock locks go.
pub fn on_release(f: &OpenFile) {
    super::lease::on_release(f);
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(key) = key_of(f) else { return };
    let owner = Owner::File(file_id(f));
    for table in [&RECORD, &FLOCK] {
        let mut tables = table.lock();
        if let Some(tb) = tables.get_mut(&key) {
            tb.remove_owner(owner);
            if tb.is_empty() {
                tables.remove(&key);
            }
        }
    }
    WAIT.wake_all();
}

/// The fd table `files` went (its last thread or process let go of it): all its POSIX locks
/// go, and its F_NOTIFY requests.
pub fn on_exit(files: u64) {
    super::dnotify::forget_table(files);
    if !USED.load(Ordering::Relaxed) {
        return;
    }
    let mut tables = RECORD.lock();
    for tb in tables.values_mut() {
        tb.remove_owner(Owner::Files(files));
    }
    tables.retain(|_, tb| !tb.is_empty());
    drop(tables);
    WAIT.wake_all();
}
