//! close, close_range

use crate::fs::fdtable::filp_close;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::vec::Vec;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("close", close, ""),
    Syscall::implemented("close_range", close_range, ""),
];

pub fn close(c: &mut Call) -> SysResult {
    let (owner, e) = c.thread.files.with(|t| (t.id(), t.close(c.fd(0))));
    filp_close(owner, e?);
    ok(0)
}

pub fn close_range(c: &mut Call) -> SysResult {
    use lintel_abi::fs::{CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE};
    let [first, last, flags, ..] = c.a;
    let (first, last) = (first as u32, last as u32);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    if flags & CLOSE_RANGE_UNSHARE != 0 {
        // A table shared with other threads or processes (CLONE_FILES) is left to them, as
        // unshare(2) would; the range closes in the caller's private copy. The left table may
        // be the last reference to its files, so it goes with no lock held.
        let left = c.thread.files.unshare(|t| t.try_clone())?;
        drop(left);
    }
    let table = c.thread.files.get();
    let mut t = table.lock();
    let owner = t.id();
    let fds: Vec<i32> = t
        .fds()
        .map(|(fd, _)| fd)
        .filter(|&fd| fd as u32 >= first && fd as u32 <= last)
        .collect();
    let mut closed = Vec::new();
    for fd in fds {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            if let Ok(e) = t.entry_mut(fd) {
                e.cloexec = true;
            }
        } else if let Ok(e) = t.close(fd) {
            closed.push(e);
        }
    }
    drop(t);
    for e in closed {
        filp_close(owner, e);
    }
    ok(0)
}
