//! stat, fstat, lstat, newfstatat, statx

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FinalSymlink;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::vec::Vec;
use lintel_abi::fcntl::*;
use lintel_abi::stat::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("stat", |c| stat(c, FinalSymlink::Follow), ""),
    Syscall::implemented("fstat", fstat, ""),
    Syscall::implemented("lstat", |c| stat(c, FinalSymlink::NoFollow), ""),
    Syscall::implemented("newfstatat", newfstatat, ""),
    Syscall::implemented("statx", statx, ""),
];

fn stat_out(addr: usize, st: &Stat) -> SysResult {
    uaccess::write_bytes(addr, &st.to_stat_bytes())?;
    ok(0)
}

pub fn stat(c: &mut Call, link: FinalSymlink) -> SysResult {
    let nofollow = link == FinalSymlink::NoFollow;
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, !nofollow)?;
    stat_out(c.a[1], &d.inode.stat())
}

pub fn fstat(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    stat_out(c.a[1], &f.stat())
}

pub fn newfstatat(c: &mut Call) -> SysResult {
    let flags = c.a[3] as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(c.a[1])?;
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 && c.fd(0) != AT_FDCWD {
        file(c, c.fd(0))?.stat()
    } else {
        fs::lookup_at_flags(c.thread, c.fd(0), &path, flags)?
            .inode
            .stat()
    };
    stat_out(c.a[2], &st)
}

pub fn statx(c: &mut Call) -> SysResult {
    let [dirfd, pathp, flags, mask, buf, _] = c.a;
    let flags = flags as u32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0
        || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
        || mask & 0x8000_0000 != 0
    {
        return Err(Errno::EINVAL);
    }
    let path = if pathp == 0 {
        Vec::new()
    } else {
        uaccess::read_path(pathp)?
    };
    let st = if path.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd as i32 != AT_FDCWD {
        file(c, dirfd as i32)?.stat()
    } else {
        fs::lookup_at_flags(c.thread, dirfd as i32, &path, flags)?
            .inode
            .stat()
    };
    uaccess::write_bytes(buf, &st.to_statx_bytes())?;
    ok(0)
}
