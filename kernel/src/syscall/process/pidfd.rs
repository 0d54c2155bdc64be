//! pidfd_open, pidfd_send_signal, pidfd_getfd: acting on a process through a pidfd (see
//! `fs::pidfd`), so that a pid reused in between cannot redirect the call.

use crate::fs::file::OpenFile;
use crate::fs::pidfd::PidFd;
use crate::proc as process;
use crate::proc::signal;
use crate::syscall::event::install;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::signal::may_signal;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use lintel_abi::fcntl::{O_CLOEXEC, O_NONBLOCK};
use lintel_abi::{Errno, KResult};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "pidfd_open",
        pidfd_open,
        "process pidfds; PIDFD_THREAD (a pidfd for one thread) is EINVAL",
    ),
    Syscall::implemented("pidfd_send_signal", pidfd_send_signal, ""),
    Syscall::implemented("pidfd_getfd", pidfd_getfd, ""),
];

/// PIDFD_NONBLOCK: the pidfd's waitid does not block (EAGAIN).
const PIDFD_NONBLOCK: u32 = O_NONBLOCK;
/// pidfd_send_signal's scopes (Linux 6.9): at most one; without one, a process pidfd signals
/// its thread group.
const PIDFD_SIGNAL_THREAD: u32 = 1;
const PIDFD_SIGNAL_THREAD_GROUP: u32 = 2;
const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 4;
const SCOPES: u32 = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP;

/// A pidfd's process for the calls that take one: EBADF for a bad fd or another kind of
/// file.
pub(in crate::syscall) fn pidfd_of(c: &Call, fd: i32) -> KResult<(Arc<OpenFile>, Arc<PidFd>)> {
    let f = file(c, fd)?;
    let p = f.ops_as::<PidFd>().ok_or(Errno::EBADF)?;
    Ok((f.clone(), p))
}

pub fn pidfd_open(c: &mut Call) -> SysResult {
    let pid = c.a[0] as i32;
    let flags = c.a[1] as u32;
    if flags & !PIDFD_NONBLOCK != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let Some(p) = process::find_process(pid) else {
        // A thread that is not its process's leader has no pidfd of its own.
        return Err(if process::find_thread(pid).is_some() {
            Errno::EINVAL
        } else {
            Errno::ESRCH
        });
    };
    install(c, PidFd::new(p), O_CLOEXEC | (flags & O_NONBLOCK))
}

/// pidfd_send_signal's process: a pidfd's, or a /proc/PID directory's (ESRCH once that
/// process is gone); EBADF for any other file.
fn signal_target(c: &Call, fd: i32) -> KResult<Arc<process::Process>> {
    let f = file(c, fd)?;
    if let Some(p) = f.ops_as::<PidFd>() {
        return p.live();
    }
    let pid = f
        .inode
        .as_deref()
        .and_then(crate::fs::procfs::pid_dir_of)
        .ok_or(Errno::EBADF)?;
    process::find_process(pid).ok_or(Errno::ESRCH)
}

pub fn pidfd_send_signal(c: &mut Call) -> SysResult {
    let [fd, sig, infop, flags, ..] = c.a;
    let sig = sig as u32;
    let scope = flags as u32;
    if scope & !SCOPES != 0 || scope.count_ones() > 1 {
        return Err(Errno::EINVAL);
    }
    let target = signal_target(c, fd as i32)?;
    let me = c.thread.process();
    let info = if infop != 0 {
        let mut raw = [0u8; 128];
        uaccess::read_bytes(infop, &mut raw)?;
        if i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) != sig as i32 {
            return Err(Errno::EINVAL);
        }
        let info = signal::SigInfo::from_user(sig, raw);
        // Only a process signalling itself may claim a kernel or kill() origin.
        if (info.code() >= 0 || info.code() == signal::SI_TKILL) && !Arc::ptr_eq(&target, &me) {
            return Err(Errno::EPERM);
        }
        Some(info)
    } else {
        None
    };
    if sig > signal::NSIG {
        return Err(Errno::EINVAL);
    }
    // The process, its leader thread, or every process of its group.
    let (targets, thread) = match scope {
        PIDFD_SIGNAL_PROCESS_GROUP => {
            let pg = target.pgid.load(Ordering::Relaxed);
            let group: Vec<_> = process::all_pids()
                .into_iter()
                .filter_map(process::find_process)
                .filter(|p| p.pgid.load(Ordering::Relaxed) == pg)
                .collect();
            (group, None)
        }
        PIDFD_SIGNAL_THREAD => {
            let leader =
                process::find_thread(target.pid).filter(|t| Arc::ptr_eq(&t.process(), &target));
            (alloc::vec![target], leader)
        }
        _ => (alloc::vec![target], None),
    };
    let allowed: Vec<_> = targets
        .into_iter()
        .filter(|t| may_signal(&me, t, sig))
        .collect();
    if allowed.is_empty() {
        return Err(Errno::EPERM);
    }
    if sig == 0 {
        return ok(0);
    }
    for t in allowed {
        // A zombie still accepts the signal (and drops it), as kill does.
        if t.exit_status.lock().is_some() {
            continue;
        }
        match info {
            Some(info) => {
                if !process::send_signal(&t, thread.as_ref(), info) {
                    return Err(Errno::EAGAIN);
                }
            }
            None => process::send_simple(&t, thread.as_ref(), sig, signal::SI_USER, Some(&me)),
        }
    }
    ok(0)
}

pub fn pidfd_getfd(c: &mut Call) -> SysResult {
    let [pidfd, targetfd, flags, ..] = c.a;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let (_, pidfd) = pidfd_of(c, pidfd as i32)?;
    let target = pidfd.live()?;
    if !process::ptrace_may_access(c.thread.proc_ref(), &target, process::Creds::Real) {
        return Err(Errno::EPERM);
    }
    // A zombie has closed all its files; the files are the thread-group leader's, as Linux's
    // (a leader that left before its threads has none either).
    let f = target
        .leader()
        .ok_or(Errno::EBADF)?
        .files
        .get()
        .lock()
        .get(targetfd as i32)
        .map_err(|_| Errno::EBADF)?;
    ok(crate::syscall::fs::install(c, f, true)?)
}
