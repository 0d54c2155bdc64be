//! fadvise64, readahead

use crate::syscall::fs::file;
use crate::syscall::fs::splice::is_pipe;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "fadvise64",
        fadvise64,
        "advice accepted; no page cache to act on",
    ),
    Syscall::implemented("readahead", readahead, "no page cache to fill"),
];

pub fn fadvise64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if is_pipe(&f) {
        return Err(Errno::ESPIPE);
    }
    if c.a[3] > 5 || (c.a[2] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    ok(0)
}

pub fn readahead(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if !f.ops.seekable() {
        return Err(Errno::EINVAL);
    }
    ok(0)
}
