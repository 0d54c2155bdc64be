//! File leases (fcntl F_SETLEASE/F_GETLEASE, Linux's fs/locks.c leases): the holder of a
//! lease on a regular file is told (SIGIO, or its F_SETSIG signal with POLL_MSG and the fd)
//! when another open would conflict — any open for a write lease, an open for writing or a
//! truncate for a read lease —, and the opener waits until the holder releases or downgrades
//! the lease, or lease-break-time passes and the kernel does it (a non-blocking open fails
//! with EWOULDBLOCK at once, the break still started).
//!
//! Known difference: "is the file open elsewhere" (a lease's precondition) is read from the
//! processes' descriptor tables (by fcntl, which can see them), so files held only by an
//! io_uring registration, an SCM_RIGHTS message in flight or a mapping do not count.

use super::file::OpenFile;
use crate::sched::WaitQueue;
use crate::spinlock::Mutex;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use lintel_abi::fcntl::F_OWNER_PID;
use lintel_abi::signal::POLL_MSG;
use lintel_abi::{Errno, KResult};
use lintel_vfs::{identity, FileType};

/// An inode's identity: (file system, inode number).
type Key = (u64, u64);

/// Lease types as fcntl passes them (struct flock's l_type values).
pub const F_RDLCK: u32 = lintel_abi::fcntl::F_RDLCK as u32;
pub const F_WRLCK: u32 = lintel_abi::fcntl::F_WRLCK as u32;
pub const F_UNLCK: u32 = lintel_abi::fcntl::F_UNLCK as u32;

/// /proc/sys/fs/lease-break-time: seconds a holder has to answer a break.
pub static BREAK_SECS: AtomicUsize = AtomicUsize::new(45);

struct Lease {
    file: Weak<OpenFile>,
    /// The descriptor the break signal names (the one F_SETLEASE was called with).
    fd: i32,
    kind: u32,
    /// A break in progress: the type the lease must come down to, and by when.
    breaking: Option<(u32, u64)>,
}

impl Lease {
    fn is(&self, f: *const OpenFile) -> bool {
        core::ptr::eq(self.file.as_ptr(), f)
    }

    /// Whether an open (for writing or not) must wait for this lease.
    fn conflicts(&self, write: bool) -> bool {
        self.kind == F_WRLCK || write
    }
}

static LEASES: Mutex<BTreeMap<Key, Vec<Lease>>> = Mutex::new(BTreeMap::new());
/// Whether any lease exists: every open of a regular file asks.
static ANY: AtomicBool = AtomicBool::new(false);
/// Openers waiting for a break.
static WAIT: WaitQueue = WaitQueue::new();

fn settle(all: &mut BTreeMap<Key, Vec<Lease>>) {
    all.retain(|_, l| {
        l.retain(|x| x.file.strong_count() > 0);
        !l.is_empty()
    });
    ANY.store(!all.is_empty(), Ordering::Relaxed);
}

/// Breaks whose time is up end as the holder should have ended them.
fn expire(list: &mut Vec<Lease>, now: u64) {
    list.retain_mut(|l| match l.breaking {
        Some((F_UNLCK, at)) if at <= now => false,
        Some((target, at)) if at <= now => {
            l.kind = target;
            l.breaking = None;
            true
        }
        _ => true,
    });
}

/// Who asks for a lease, and what the descriptor tables say (the caller, above this layer,
/// reads them): Linux's checks need both.
pub struct Asker {
    pub pid: i32,
    /// The caller's (uid, euid), for the break signal's permission check.
    pub ids: (u32, u32),
    /// Owns the file or has CAP_LEASE.
    pub may: bool,
    /// Other open files of the inode, reading only and writing (O_PATH ones not counted).
    pub others: (usize, usize),
}

/// fcntl(fd, F_SETLEASE, arg).
pub fn set(file: &Arc<OpenFile>, fd: i32, who: Asker, arg: u32) -> KResult<()> {
    let Asker {
        pid,
        ids,
        may,
        others: (readers, writers),
    } = who;
    if !matches!(arg, F_RDLCK | F_WRLCK | F_UNLCK) {
        return Err(Errno::EINVAL);
    }
    if !may {
        return Err(Errno::EACCES);
    }
    let inode = file.inode.as_ref().ok_or(Errno::EINVAL)?;
    if inode.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    let key = identity(inode);
    let me = Arc::as_ptr(file);
    if arg == F_UNLCK {
        let mut all = LEASES.lock();
        let list = all.get_mut(&key).ok_or(Errno::EAGAIN)?;
        let before = list.len();
        list.retain(|l| !l.is(me));
        let found = list.len() != before;
        settle(&mut all);
        drop(all);
        WAIT.wake_all();
        return if found { Ok(()) } else { Err(Errno::EAGAIN) };
    }
    // Linux's check_conflicting_open: a read lease needs no writer (this file included), a
    // write lease no other open at all.
    let conflict = match arg {
        F_RDLCK => writers > 0 || file.writable(),
        _ => readers + writers > 0,
    };
    if conflict {
        return Err(Errno::EAGAIN);
    }
    let mut all = LEASES.lock();
    let list = all.entry(key).or_default();
    expire(list, crate::time::uptime_ns());
    // Another file's lease being broken: no new lease until that is settled.
    if list.iter().any(|l| !l.is(me) && l.breaking.is_some()) {
        settle(&mut all);
        return Err(Errno::EAGAIN);
    }
    match list.iter_mut().find(|l| l.is(me)) {
        Some(l) => {
            l.kind = arg;
            l.fd = fd;
            // Coming down to what a break asked for settles it (a downgrade does not settle
            // a break to F_UNLCK).
            if l.breaking
                .is_some_and(|(target, _)| target == F_RDLCK && arg == F_RDLCK)
            {
                l.breaking = None;
            }
        }
        None => list.push(Lease {
            file: Arc::downgrade(file),
            fd,
            kind: arg,
            breaking: None,
        }),
    }
    settle(&mut all);
    drop(all);
    *file.owner.lock() = (F_OWNER_PID, pid);
    *file.owner_ids.lock() = ids;
    WAIT.wake_all();
    Ok(())
}

/// fcntl(fd, F_GETLEASE): the lease this file holds, or the type a break in progress asks
/// it to come down to; F_UNLCK for none.
pub fn get(file: &OpenFile) -> u32 {
    let Some(inode) = &file.inode else {
        return F_UNLCK;
    };
    if !ANY.load(Ordering::Relaxed) {
        return F_UNLCK;
    }
    let mut all = LEASES.lock();
    let Some(list) = all.get_mut(&identity(inode)) else {
        return F_UNLCK;
    };
    expire(list, crate::time::uptime_ns());
    let kind = list
        .iter()
        .find(|l| l.is(file))
        .map_or(F_UNLCK, |l| l.breaking.map_or(l.kind, |(target, _)| target));
    settle(&mut all);
    kind
}

/// Starts the breaks an open of `key` (for writing if `write`) causes, signalling the
/// holders; returns whether a conflicting lease remains and the earliest deadline.
fn start_break(key: Key, write: bool) -> (bool, u64) {
    let now = crate::time::uptime_ns();
    let target = if write { F_UNLCK } else { F_RDLCK };
    let deadline = now.saturating_add(BREAK_SECS.load(Ordering::Relaxed) as u64 * 1_000_000_000);
    let mut tell: Vec<(Arc<OpenFile>, i32)> = Vec::new();
    let (conflict, earliest) = {
        let mut all = LEASES.lock();
        let Some(list) = all.get_mut(&key) else {
            return (false, 0);
        };
        expire(list, now);
        let mut earliest = u64::MAX;
        let mut conflict = false;
        for l in list.iter_mut().filter(|l| l.conflicts(write)) {
            let Some(f) = l.file.upgrade() else { continue };
            conflict = true;
            match &mut l.breaking {
                None => {
                    l.breaking = Some((target, deadline));
                    tell.push((f, l.fd));
                }
                // A writer asks more of a lease a reader is breaking.
                Some((t, _)) if target == F_UNLCK => *t = F_UNLCK,
                Some(_) => {}
            }
            earliest = earliest.min(l.breaking.map_or(deadline, |(_, at)| at));
        }
        settle(&mut all);
        (conflict, earliest)
    };
    for (f, fd) in tell {
        super::file::send_sigio(&f, fd, POLL_MSG);
    }
    (conflict, earliest)
}

/// Linux's break_lease: an open of the regular file `key` (for writing if `write`, or a
/// truncate) waits for the leases it conflicts with to go; EWOULDBLOCK (EAGAIN) for `nonblock`, a
/// signal ends the wait (ERESTARTSYS as Linux's interruptible wait).
pub fn break_lease(key: Key, write: bool, nonblock: bool) -> KResult<()> {
    if !ANY.load(Ordering::Relaxed) {
        return Ok(());
    }
    loop {
        let (conflict, deadline) = start_break(key, write);
        if !conflict {
            return Ok(());
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        let r = WAIT.wait_interruptible(Some(deadline), false, || {
            let all = LEASES.lock();
            let busy = all.get(&key).is_some_and(|l| {
                l.iter()
                    .any(|x| x.conflicts(write) && x.file.strong_count() > 0)
            });
            (!busy).then_some(Ok(()))
        });
        match r {
            Ok(()) => return Ok(()),
            // The deadline: the next round expires what is due.
            Err(Errno::EAGAIN) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The last reference to an open file went: its lease goes, and waiting openers look again.
pub fn on_release(f: &OpenFile) {
    if !ANY.load(Ordering::Relaxed) {
        return;
    }
    let mut all = LEASES.lock();
    for list in all.values_mut() {
        list.retain(|l| !l.is(f));
    }
    settle(&mut all);
    drop(all);
    WAIT.wake_all();
}
