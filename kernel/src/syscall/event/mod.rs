//! Waiting for files and events: poll, select, epoll, Linux AIO, and the files made to be waited
//! on (eventfd, timerfd).
//!
//! Readiness comes from each file's `FileOps::poll`; a waiter sleeps on the global poll queue,
//! which every readiness change wakes, and rechecks all its files.

mod aio;
mod epoll;
mod eventfd;
mod io_uring;

pub(super) use io_uring::task_work as io_uring_task_work;
mod poll;
mod select;
mod timerfd;

use crate::fs::file;
use crate::fs::file::FileOps;
use crate::fs::file::OpenFile;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::time;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::O_CLOEXEC;
use lintel_abi::fcntl::O_NONBLOCK;
use lintel_abi::fcntl::O_RDWR;
use lintel_abi::Errno;

/// The calls of this family, file by file.
pub(super) const SYSCALLS: &[&[Syscall]] = &[
    aio::SYSCALLS,
    epoll::SYSCALLS,
    eventfd::SYSCALLS,
    io_uring::SYSCALLS,
    poll::SYSCALLS,
    select::SYSCALLS,
    timerfd::SYSCALLS,
];

/// Installs a new anonymous file (epoll, eventfd, timerfd) as the lowest free fd.
pub(in crate::syscall) fn install(c: &Call, ops: Arc<dyn FileOps>, flags: u32) -> SysResult {
    let of = OpenFile::new(ops, None, None, O_RDWR | (flags & O_NONBLOCK));
    ok(crate::syscall::fs::install(c, of, flags & O_CLOEXEC != 0)?)
}

/// Largest fd count poll accepts (Linux checks nfds against RLIMIT_NOFILE).
pub(in crate::syscall) use lintel_abi::resource::RLIMIT_NOFILE;

/// Waits until `check` reports progress, the deadline passes (then returns `on_timeout`), or
/// the process is being killed.
pub(in crate::syscall) fn wait_for<T>(
    deadline: Option<u64>,
    mut check: impl FnMut() -> Option<T>,
    on_timeout: T,
) -> Result<T, Errno> {
    loop {
        let tk = file::POLL_WAIT.ticket();
        if let Some(v) = check() {
            return Ok(v);
        }
        if deadline.is_some_and(|d| time::uptime_ns() >= d) {
            return Ok(on_timeout);
        }
        if let Some(e) = crate::proc::interrupted(&crate::proc::current(), Errno::ERESTARTNOHAND) {
            return Err(e);
        }
        file::POLL_WAIT.wait_once(tk, deadline);
    }
}

pub(in crate::syscall) fn deadline_after(ns: Option<i64>) -> Option<u64> {
    ns.map(|n| time::uptime_ns().saturating_add(n.max(0) as u64))
}

pub(in crate::syscall) fn remaining(deadline: Option<u64>) -> i64 {
    deadline.map_or(0, |d| d.saturating_sub(time::uptime_ns()) as i64)
}

/// Applies a temporary signal mask for the duration of a p* call.
pub(in crate::syscall) fn with_sigmask<T>(
    c: &mut Call,
    mask_p: usize,
    size: usize,
    f: impl FnOnce(&mut Call) -> Result<T, Errno>,
) -> Result<T, Errno> {
    if mask_p == 0 {
        return f(c);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = uaccess::read_u64(mask_p)?;
    let t = c.thread.clone();
    let old = crate::proc::set_blocked(&t, crate::proc::signal::SigSet(mask).sanitized());
    let r = f(c);
    if matches!(
        r,
        Err(Errno::EINTR | Errno::ERESTARTNOHAND | Errno::ERESTARTSYS)
    ) {
        // Interrupted: the signal is delivered under the temporary mask and the old one
        // returns after its handler, as with sigsuspend.
        *t.saved_sigmask.lock() = Some(old);
    } else {
        crate::proc::set_blocked(&t, old);
    }
    r
}
