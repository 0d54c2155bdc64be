//! dup, dup2, dup3

use crate::syscall::fs::file;
use crate::syscall::fs::nofile_limit;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("dup", dup, ""),
    Syscall::implemented("dup2", dup2, ""),
    Syscall::implemented("dup3", dup3, ""),
];

pub fn dup(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let limit = nofile_limit(c);
    ok(c.thread.files.get().lock().alloc(&f, false, 0, limit)? as usize)
}

fn dup_to(c: &mut Call, old: i32, new: i32, cloexec: bool) -> SysResult {
    let f = file(c, old)?;
    if new < 0 || new as usize >= nofile_limit(c) {
        return Err(Errno::EBADF);
    }
    // An open fd at `new` is closed as close(2) would (Linux's do_dup2 calls filp_close).
    let (owner, prev) = c
        .thread
        .files
        .with(|t| (t.id(), t.install(new as usize, &f, cloexec)));
    if let Some(prev) = prev? {
        crate::fs::fdtable::filp_close(owner, prev);
    }
    ok(new as usize)
}

pub fn dup2(c: &mut Call) -> SysResult {
    let (old, new) = (c.fd(0), c.fd(1));
    if old == new {
        file(c, old)?;
        return ok(new as usize);
    }
    dup_to(c, old, new, false)
}

pub fn dup3(c: &mut Call) -> SysResult {
    let (old, new, flags) = (c.fd(0), c.fd(1), c.a[2] as u32);
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    dup_to(c, old, new, flags & O_CLOEXEC != 0)
}
