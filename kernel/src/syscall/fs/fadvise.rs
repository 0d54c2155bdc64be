//! fadvise64, readahead

use crate::mm::pagecache::{self, Access};
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
        "POSIX_FADV_WILLNEED fills the page cache as readahead does; DONTNEED drops clean unmapped cached pages; SEQUENTIAL doubles the open file's read-ahead window, RANDOM turns it off, NORMAL restores it; NOREUSE changes nothing, as in Linux 6.1",
    ),
    Syscall::implemented(
        "readahead",
        readahead,
        "reads the range into the page cache (up to the larger of the read-ahead window and 1 MiB, as Linux's force_page_cache_ra); tmpfs pages are already there",
    ),
];

const POSIX_FADV_NORMAL: usize = 0;
const POSIX_FADV_RANDOM: usize = 1;
const POSIX_FADV_SEQUENTIAL: usize = 2;
const POSIX_FADV_WILLNEED: usize = 3;
const POSIX_FADV_DONTNEED: usize = 4;

pub fn fadvise64(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if is_pipe(&f) {
        return Err(Errno::ESPIPE);
    }
    if c.a[3] > 5 || (c.a[2] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let Some(inode) = &f.inode else {
        return ok(0);
    };
    let (off, len) = (c.a[1] as u64, c.a[2] as u64);
    // The advice is the open file's (Linux's f_ra and FMODE_RANDOM).
    let ra = f.ra.as_deref();
    let access = |a| {
        if let Some(ra) = ra {
            ra.set_access(a);
        }
    };
    match c.a[3] {
        POSIX_FADV_NORMAL => access(Access::Normal),
        POSIX_FADV_RANDOM => access(Access::Random),
        POSIX_FADV_SEQUENTIAL => access(Access::Sequential),
        // Linux ignores read errors of the read-ahead.
        POSIX_FADV_WILLNEED => {
            let _ = pagecache::fill_ahead(inode, off, len, ra);
        }
        POSIX_FADV_DONTNEED => pagecache::drop_clean(inode, off, len),
        _ => {}
    }
    ok(0)
}

/// Linux's ksys_readahead: EBADF unless open for reading, EINVAL unless a regular file with a
/// page cache; then POSIX_FADV_WILLNEED.
pub fn readahead(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    if !f.ops.seekable() {
        return Err(Errno::EINVAL);
    }
    if let Some(inode) = &f.inode {
        let _ = pagecache::fill_ahead(inode, c.a[1] as u64, c.a[2] as u64, f.ra.as_deref());
    }
    ok(0)
}
