//! unshare, setns.
//!
//! Lintel has one namespace kind of its own, UTS (`crate::uts`); the others answer as a
//! Linux kernel built without them: EINVAL, after the EPERM an unprivileged caller gets
//! first. The fd table and fs context belong to the process (all its threads share them),
//! and may be shared with other processes (clone's CLONE_FILES, CLONE_FS): unsharing them
//! gives the process a private copy, which a multi-threaded process cannot have without its
//! threads parting (EINVAL). Shared signal handlers cannot be unshared, as on Linux.

use crate::fs::nsfs::NsInode;
use crate::fs::pidfd::PidFd;
use crate::proc::Process;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::capability::CAP_SYS_ADMIN;
use lintel_abi::sched::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "unshare",
        unshare,
        "CLONE_NEWUTS (per process, not per thread); CLONE_FILES and CLONE_FS give the \
         calling thread a private copy of a table shared with other threads or processes; \
         CLONE_SYSVSEM leaves the calling thread's undo list (applied if no other task shares \
         it); CLONE_THREAD, CLONE_SIGHAND and CLONE_VM in a single-threaded process (EINVAL in a multi-threaded one, as \
         CLONE_SIGHAND/CLONE_VM with shared handlers or memory); \
         other namespaces EINVAL as a kernel built without them \
         (CLONE_NEWNS too, which Linux always has), after EPERM without CAP_SYS_ADMIN",
    ),
    Syscall::partial(
        "setns",
        setns,
        "UTS namespaces, by /proc/PID/ns/uts or pidfd; the whole process moves",
    ),
];

/// CLONE_NEWTIME shares its bit with CSIGNAL's range (linux/sched.h); unshare only.
const CLONE_NEWTIME: usize = 0x80;
const NAMESPACES: usize = CLONE_NEWNS
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWNET
    | CLONE_NEWPID
    | CLONE_NEWCGROUP
    | CLONE_NEWTIME;
const UNSHARE_FLAGS: usize = CLONE_THREAD
    | CLONE_FS
    | CLONE_SIGHAND
    | CLONE_VM
    | CLONE_FILES
    | CLONE_SYSVSEM
    | CLONE_NEWUSER
    | NAMESPACES;

/// unshare(flags): ksys_unshare's order of checks.
pub fn unshare(c: &mut Call) -> SysResult {
    let mut flags = c.a[0];
    if flags & !UNSHARE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_NEWUSER != 0 {
        flags |= CLONE_THREAD | CLONE_FS;
    }
    if flags & CLONE_VM != 0 {
        flags |= CLONE_SIGHAND;
    }
    if flags & CLONE_SIGHAND != 0 {
        flags |= CLONE_THREAD;
    }
    if flags & CLONE_NEWNS != 0 {
        flags |= CLONE_FS;
    }
    let p = c.thread.process();
    let threaded = p.live_threads().len() > 1;
    // check_unshare_flags. The fd table, fs context and undo list are the calling thread's
    // to part from its siblings', as Linux's.
    if threaded && flags & CLONE_THREAD != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_SIGHAND | CLONE_VM) != 0 && p.sigactions.is_shared() {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_VM != 0 && mm_shared(&p) {
        return Err(Errno::EINVAL);
    }
    // No user namespaces: create_user_ns fails.
    if flags & CLONE_NEWUSER != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & NAMESPACES != 0 {
        if !p.capable(CAP_SYS_ADMIN) {
            return Err(Errno::EPERM);
        }
        if flags & NAMESPACES & !CLONE_NEWUTS != 0 {
            return Err(Errno::EINVAL);
        }
    }
    // The copies are made before anything changes: ENOMEM leaves the caller as it was.
    let t = c.thread;
    let fs = if flags & CLONE_FS != 0 && t.fs.is_shared() {
        Some(t.fs.with(|f| f.clone()))
    } else {
        None
    };
    let files = if flags & CLONE_FILES != 0 && t.files.is_shared() {
        Some(t.files.with(|t| t.try_clone())?)
    } else {
        None
    };
    if flags & CLONE_SYSVSEM != 0 {
        // Leaving the undo list is exit_sem: the adjustments apply now if no other task
        // shares the list.
        crate::ipc::sem::leave(&t.sysvsem, p.pid);
    }
    if flags & CLONE_NEWUTS != 0 {
        crate::uts::unshare(p.pid);
    }
    if let Some(fs) = fs {
        drop(t.fs.replace(fs));
    }
    if let Some(files) = files {
        // The shared table goes on for the others; dropped here with no lock held.
        drop(t.files.replace(files));
    }
    ok(0)
}

/// Whether another process uses `p`'s memory (a CLONE_VM child or parent), which unshare's
/// CLONE_VM cannot part (Linux's current_is_single_threaded).
fn mm_shared(p: &Arc<Process>) -> bool {
    let mm = p.mm();
    crate::proc::all_pids()
        .into_iter()
        .filter(|&pid| pid != p.pid)
        .filter_map(crate::proc::find_process)
        .any(|q| Arc::ptr_eq(&q.mm(), &mm))
}

/// setns(fd, nstype): fd names a namespace (/proc/PID/ns/uts) or a process (pidfd).
pub fn setns(c: &mut Call) -> SysResult {
    let (fd, nstype) = (c.a[0] as i32, c.a[1]);
    let f = file(c, fd)?;
    let ns_file = f
        .inode
        .as_ref()
        .and_then(|i| i.as_any().downcast_ref::<NsInode>()?.uts.clone());
    let ns = if let Some(ns) = ns_file {
        if nstype != 0 && nstype != CLONE_NEWUTS {
            return Err(Errno::EINVAL);
        }
        ns
    } else if let Some(pidfd) = f.ops_as::<PidFd>() {
        // check_setns_flags: only namespaces this kernel has.
        if nstype == 0 || nstype & !CLONE_NEWUTS != 0 {
            return Err(Errno::EINVAL);
        }
        crate::uts::ns_of(pidfd.live()?.pid)
    } else {
        return Err(Errno::EINVAL);
    };
    let p = c.thread.process();
    if !p.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    crate::uts::enter(p.pid, ns);
    ok(0)
}
