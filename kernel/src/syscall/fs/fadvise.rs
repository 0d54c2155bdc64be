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
        "POSIX_FADV_DONTNEED drops clean unmapped cached pages; the other advice is checked only",
    ),
    Syscall::partial(
        "readahead",
        readahead,
        "the file is checked; the page cache is not filled ahead (reads do their own read-ahead)",
    ),
];

const POSIX_FADV_DONTNEED: usize = 4;

pub fn fadvise64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if is_pipe(&f) {
        return Err(Errno::ESPIPE);
    }
    if c.a[3] > 5 || (c.a[2] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if c.a[3] == POSIX_FADV_DONTNEED {
        if let Some(inode) = &f.inode {
            crate::mm::pagecache::drop_clean(inode, c.a[1] as u64, c.a[2] as u64);
        }
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
