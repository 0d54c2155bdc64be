//! close, close_range

use crate::fs::file::OpenFile;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use alloc::vec::Vec;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("close", close, ""),
    Syscall::partial(
        "close_range",
        close_range,
        "CLOSE_RANGE_UNSHARE parts from processes sharing the table (CLONE_FILES); the \
         threads of the process keep sharing it",
    ),
];

pub fn close(c: &mut Call) -> SysResult {
    let e = c.thread.proc_ref().files.get().lock().close(c.fd(0))?;
    crate::fs::locks::on_close(c.thread.proc_ref().pid, &e.file);
    last_close(&e.file);
    drop(e);
    ok(0)
}

/// Tells a file its last descriptor is going (`FileOps::last_close`) while no lock is held.
/// The count is 1 only when no other descriptor, process or in-flight call holds the file.
fn last_close(file: &Arc<OpenFile>) {
    if Arc::strong_count(file) == 1 {
        file.ops.last_close(file);
    }
}

pub fn close_range(c: &mut Call) -> SysResult {
    use lintel_abi::fs::{CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE};
    let [first, last, flags, ..] = c.a;
    let (first, last) = (first as u32, last as u32);
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let p = c.thread.process();
    if flags & CLOSE_RANGE_UNSHARE != 0 {
        // A table shared with another process (CLONE_FILES) is left to it, as unshare(2)
        // would; the range closes in the private copy. The left table may be the last
        // reference to its files, so it goes with no lock held.
        let left = p.files.unshare(|t| t.try_clone())?;
        drop(left);
    }
    let table = p.files.get();
    let mut t = table.lock();
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
            crate::fs::locks::on_close(p.pid, &e.file);
            closed.push(e);
        }
    }
    drop(t);
    for e in &closed {
        last_close(&e.file);
    }
    drop(closed);
    ok(0)
}
