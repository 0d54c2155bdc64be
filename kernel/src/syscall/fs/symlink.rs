//! symlink, readlink, symlinkat, readlinkat

use crate::fs;
use crate::syscall::fs::may_create;
use crate::syscall::fs::new_owner;
use crate::syscall::fs::parent_of;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("symlink", symlink, ""),
    Syscall::implemented("readlink", readlink, ""),
    Syscall::implemented("symlinkat", symlinkat, ""),
    Syscall::implemented("readlinkat", readlinkat, ""),
];

fn do_symlink(c: &mut Call, tp: usize, dirfd: i32, lp: usize) -> SysResult {
    let target = uaccess::read_path(tp)?;
    let link = uaccess::read_path(lp)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let (parent, name, _) = parent_of(c, dirfd, &link)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_create(c, &parent, &name)?;
    let (uid, gid, _) = new_owner(c, &parent, 0o777, false);
    parent.inode.symlink(&name, &target, uid, gid)?;
    crate::fs::notify::created(&parent, &name, false);
    ok(0)
}

pub fn symlink(c: &mut Call) -> SysResult {
    do_symlink(c, c.a[0], AT_FDCWD, c.a[1])
}

pub fn symlinkat(c: &mut Call) -> SysResult {
    do_symlink(c, c.a[0], c.fd(1), c.a[2])
}

fn do_readlink(c: &mut Call, dirfd: i32, pathp: usize, buf: usize, size: usize) -> SysResult {
    if (size as isize) <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(pathp)?;
    // An empty path names the fd itself (an O_PATH|O_NOFOLLOW symlink); anything else there
    // is ENOENT, as is an empty path relative to the working directory.
    if path.is_empty() && dirfd == AT_FDCWD {
        return Err(Errno::ENOENT);
    }
    let d = fs::lookup_at_flags(c.thread, dirfd, &path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    if d.inode.file_type() != FileType::Symlink {
        return Err(if path.is_empty() {
            Errno::ENOENT
        } else {
            Errno::EINVAL
        });
    }
    let target = d.inode.readlink()?;
    let n = target.len().min(size);
    uaccess::write_bytes(buf, &target[..n])?;
    ok(n)
}

pub fn readlink(c: &mut Call) -> SysResult {
    do_readlink(c, AT_FDCWD, c.a[0], c.a[1], c.a[2])
}

pub fn readlinkat(c: &mut Call) -> SysResult {
    do_readlink(c, c.fd(0), c.a[1], c.a[2], c.a[3])
}
