//! fcntl

use crate::syscall::fs::file;
use crate::syscall::fs::nofile_limit;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::fcntl::*;
use lintel_abi::fcntl::{F_ADD_SEALS, F_GET_SEALS};
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::implemented(
    "fcntl",
    fcntl,
    "dup, fd and status flags, POSIX and OFD record locks with deadlock detection, pipe sizes",
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
            let fd =
                c.thread
                    .proc_ref()
                    .files
                    .lock()
                    .alloc(f, cmd == F_DUPFD_CLOEXEC, arg, limit)?;
            ok(fd as usize)
        }
        F_GETFD => ok(c.thread.proc_ref().files.lock().entry(fd)?.cloexec as usize),
        F_SETFD => {
            c.thread.proc_ref().files.lock().entry_mut(fd)?.cloexec = arg as u32 & FD_CLOEXEC != 0;
            ok(0)
        }
        F_GETFL => ok((f.flags() | O_LARGEFILE) as usize),
        crate::fs::locks::F_GETLK
        | crate::fs::locks::F_SETLK
        | crate::fs::locks::F_SETLKW
        | crate::fs::locks::F_OFD_GETLK
        | crate::fs::locks::F_OFD_SETLK
        | crate::fs::locks::F_OFD_SETLKW => ok(crate::fs::locks::fcntl_lock(
            &f,
            cmd,
            arg,
            c.thread.proc_ref().pid,
        )?),
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            ok(crate::fs::pipe::pipe_size(&f, cmd == F_SETPIPE_SZ, arg)?)
        }
        F_ADD_SEALS => {
            let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
            if !f.writable() {
                return Err(Errno::EPERM);
            }
            let mapped = writably_mapped(&inode);
            crate::mm::pagecache::add_seals(&inode, arg as u32, mapped)?;
            ok(0)
        }
        F_GET_SEALS => {
            let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
            ok(crate::mm::pagecache::get_seals(&inode)? as usize)
        }
        F_SETFL => {
            let changeable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
            let new = (f.flags() & !changeable) | (arg as u32 & changeable);
            f.flags.store(new, core::sync::atomic::Ordering::Relaxed);
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Whether some address space maps `inode` shared and writable (F_SEAL_WRITE is then EBUSY).
fn writably_mapped(inode: &Arc<dyn lintel_vfs::Inode>) -> bool {
    let mut found = false;
    crate::mm::for_each_mm(|mm| {
        found |= mm.inner.lock().vmas.values().any(|v| {
            v.shared
                && v.prot.write
                && matches!(&v.backing, crate::mm::Backing::File { inode: i, .. } if Arc::ptr_eq(i, inode))
        });
    });
    found
}
