//! fadvise64, readahead

use crate::syscall::fs::file;
use crate::syscall::fs::splice::is_pipe;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::partial(
        "fadvise64",
        fadvise64,
        "the file and the advice are checked; the advice has no effect on the page cache",
    ),
    Syscall::partial(
        "readahead",
        readahead,
        "the file is checked; the page cache is not filled ahead (reads do their own read-ahead)",
    ),
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
