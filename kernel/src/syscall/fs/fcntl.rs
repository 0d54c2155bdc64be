//! fcntl

use crate::syscall::fs::file;
use crate::syscall::fs::nofile_limit;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::capability::CAP_LEASE;
use lintel_abi::fcntl::*;
use lintel_abi::fcntl::{F_ADD_SEALS, F_GET_SEALS};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "fcntl",
    fcntl,
    "dup, fd and status flags, POSIX and OFD record locks with deadlock detection, pipe sizes, seals; F_SETOWN(_EX)/F_SETSIG with SIGIO from pipes, FIFOs, terminals, Unix and IP sockets; leases with breaking (F_SETLEASE/F_GETLEASE) and F_NOTIFY (dnotify); write-life hints (F_GET/SET_RW_HINT) kept on the inode and reported, as Linux does for a disk that does not place data by them",
)];

pub fn fcntl(c: &mut Call) -> SysResult {
    let fd = c.fd(0);
    let cmd = c.a[1] as u32;
    let arg = c.a[2];
    let f = file(c, fd)?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let limit = nofile_limit(c);
            if arg >= limit {
                return Err(Errno::EINVAL);
            }
            let fd = c
                .thread
                .files
                .get()
                .lock()
                .alloc(&f, cmd == F_DUPFD_CLOEXEC, arg, limit)?;
            ok(fd as usize)
        }
        F_GETFD => ok(c.thread.files.get().lock().entry(fd)?.cloexec as usize),
        F_SETFD => {
            c.thread.files.get().lock().entry_mut(fd)?.cloexec = arg as u32 & FD_CLOEXEC != 0;
            ok(0)
        }
        F_GETFL => ok((f.flags() | O_LARGEFILE) as usize),
        crate::fs::locks::F_GETLK
        | crate::fs::locks::F_SETLK
        | crate::fs::locks::F_SETLKW
        | crate::fs::locks::F_OFD_GETLK
        | crate::fs::locks::F_OFD_SETLK
        | crate::fs::locks::F_OFD_SETLKW => {
            let who = crate::fs::locks::Locker {
                files: c.thread.files.with(|t| t.id()),
                pid: c.thread.proc_ref().pid,
                tid: c.thread.tid(),
            };
            ok(crate::fs::locks::fcntl_lock(&f, cmd, arg, who)?)
        }
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            ok(crate::fs::pipe::pipe_size(&f, cmd == F_SETPIPE_SZ, arg)?)
        }
        F_ADD_SEALS => {
            let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
            if !f.writable() {
                return Err(Errno::EPERM);
            }
            crate::mm::pagecache::add_seals(&inode, arg as u32)?;
            ok(0)
        }
        F_GET_SEALS => {
            let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
            ok(crate::mm::pagecache::get_seals(&inode)? as usize)
        }
        F_SETOWN => {
            // A negative pid names a process group.
            let who = arg as i32;
            let owner = if who < 0 {
                (F_OWNER_PGRP, who.checked_neg().ok_or(Errno::EINVAL)?)
            } else {
                (F_OWNER_PID, who)
            };
            set_owner(c, &f, owner)
        }
        F_GETOWN => {
            let (kind, pid) = *f.owner.lock();
            ok(if kind == F_OWNER_PGRP { -pid } else { pid } as isize as usize)
        }
        F_SETOWN_EX => {
            let b = crate::uaccess::read_vec(arg, 8)?;
            let kind = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let pid = i32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            if kind > F_OWNER_PGRP {
                return Err(Errno::EINVAL);
            }
            set_owner(c, &f, (kind, pid))
        }
        F_GETOWN_EX => {
            let (kind, pid) = *f.owner.lock();
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&kind.to_le_bytes());
            b[4..].copy_from_slice(&pid.to_le_bytes());
            crate::uaccess::write_bytes(arg, &b)?;
            ok(0)
        }
        F_SETSIG => {
            if arg > lintel_abi::signal::NSIG as usize {
                return Err(Errno::EINVAL);
            }
            f.owner_sig
                .store(arg as u32, core::sync::atomic::Ordering::Relaxed);
            ok(0)
        }
        F_GETSIG => ok(f.owner_sig.load(core::sync::atomic::Ordering::Relaxed) as usize),
        F_SETLEASE => {
            let p = c.thread.proc_ref();
            // The owner is read first: `stat` of a disk inode takes sleeping locks, which
            // the cred's spin lock must not be held over.
            let owner = f.inode.as_ref().map(|i| i.stat().uid);
            let (may, ids) = {
                let cred = p.cred.lock();
                let may = owner == Some(cred.fsuid) || cred.capable(CAP_LEASE);
                (may, (cred.uid, cred.euid))
            };
            let who = crate::fs::lease::Asker {
                pid: p.pid,
                ids,
                may,
                others: other_opens(&f),
            };
            crate::fs::lease::set(&f, fd, who, arg as u32)?;
            ok(0)
        }
        F_GETLEASE => ok(crate::fs::lease::get(&f) as usize),
        F_GET_RW_HINT => {
            let hint = crate::fs::write_hint::get(&f);
            crate::uaccess::write_bytes(arg, &hint.to_ne_bytes())?;
            ok(0)
        }
        F_SET_RW_HINT => {
            // The inode's owner or CAP_FOWNER only (Linux since 6.9; 6.1 let anyone).
            let owner = f.stat().uid;
            {
                let p = c.thread.proc_ref();
                let cred = p.cred.lock();
                if owner != cred.fsuid && !cred.capable(lintel_abi::capability::CAP_FOWNER) {
                    return Err(Errno::EPERM);
                }
            }
            let mut b = [0u8; 8];
            crate::uaccess::read_bytes(arg, &mut b)?;
            crate::fs::write_hint::set(&f, u64::from_ne_bytes(b))?;
            ok(0)
        }
        F_NOTIFY => {
            let p = c.thread.proc_ref();
            let ids = {
                let cred = p.cred.lock();
                (cred.uid, cred.euid)
            };
            let files = c.thread.files.with(|t| t.id());
            crate::fs::dnotify::request(&f, fd, (p.pid, files), ids, arg as u32)?;
            ok(0)
        }
        F_SETFL => {
            let changeable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
            // An append-only file's descriptors keep O_APPEND as they have it (setfl).
            if (arg as u32 ^ f.flags()) & O_APPEND != 0
                && f.inode.as_deref().is_some_and(lintel_vfs::is_append)
            {
                return Err(Errno::EPERM);
            }
            // O_NOATIME is for the file's owner (or CAP_FOWNER) only.
            if arg as u32 & O_NOATIME != 0 && f.flags() & O_NOATIME == 0 {
                if let Some(inode) = &f.inode {
                    let cred = c.thread.proc_ref().cred.lock().vfs();
                    if !cred.owns(&inode.stat()) {
                        return Err(Errno::EPERM);
                    }
                }
            }
            // O_DIRECT only where the file takes it (Linux's setfl).
            if arg as u32 & O_DIRECT != 0 && f.flags() & O_DIRECT == 0 {
                crate::fs::direct::check_setfl(&f)?;
            }
            let old = f.flags();
            let new = (old & !changeable) | (arg as u32 & changeable);
            if (old ^ new) & O_ASYNC != 0 {
                crate::fs::file::set_async(&f, fd, new & O_ASYNC != 0);
            }
            f.flags.store(new, core::sync::atomic::Ordering::Relaxed);
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// (reading, writing) open files of `f`'s inode other than `f`, in every descriptor table
/// (O_PATH ones do not count, as they open nothing).
fn other_opens(f: &Arc<crate::fs::file::OpenFile>) -> (usize, usize) {
    let Some(key) = f.inode.as_ref().map(lintel_vfs::identity) else {
        return (0, 0);
    };
    let mut seen: alloc::vec::Vec<*const crate::fs::file::OpenFile> = alloc::vec::Vec::new();
    let (mut readers, mut writers) = (0, 0);
    for t in crate::proc::all_threads() {
        let table = t.files.get();
        let files = table.lock();
        for (_, e) in files.fds() {
            let g = Arc::as_ptr(&e.file);
            let same = e.file.inode.as_ref().map(lintel_vfs::identity) == Some(key);
            if !same || Arc::ptr_eq(&e.file, f) || seen.contains(&g) || e.file.flags() & O_PATH != 0
            {
                continue;
            }
            seen.push(g);
            if e.file.writable() {
                writers += 1;
            } else {
                readers += 1;
            }
        }
    }
    (readers, writers)
}

/// F_SETOWN/F_SETOWN_EX: a process or thread that does not exist is ESRCH (pid 0 clears the
/// owner). The setter's ids decide later whether the owner may be signalled.
fn set_owner(c: &Call, f: &crate::fs::file::OpenFile, (kind, pid): (u32, i32)) -> SysResult {
    let exists = match kind {
        _ if pid == 0 => true,
        F_OWNER_TID => crate::proc::find_thread(pid).is_some(),
        F_OWNER_PID => crate::proc::find_process(pid).is_some(),
        _ => pid > 0,
    };
    if !exists || pid < 0 {
        return Err(Errno::ESRCH);
    }
    *f.owner.lock() = (kind, pid);
    let cred = c.thread.proc_ref().cred.lock();
    *f.owner_ids.lock() = (cred.uid, cred.euid);
    ok(0)
}
