//! rmdir, unlink, unlinkat

use crate::fs;
use crate::syscall::fs::may_delete;
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
    Syscall::implemented("rmdir", rmdir, ""),
    Syscall::implemented("unlink", unlink, ""),
    Syscall::implemented("unlinkat", unlinkat, ""),
];

fn do_unlink(c: &mut Call, dirfd: i32, pathp: usize, rmdir: bool) -> SysResult {
    let path = uaccess::read_path(pathp)?;
    let (parent, name, trailing) = parent_of(c, dirfd, &path)?;
    if rmdir {
        if name == b"." {
            return Err(Errno::EINVAL);
        }
        if name == b".." {
            return Err(Errno::ENOTEMPTY);
        }
        if name.is_empty() {
            return Err(Errno::EBUSY);
        }
    } else if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EISDIR);
    }
    // The mount before the name, as Linux's do_unlinkat and do_rmdir (EROFS, not ENOENT).
    fs::want_write(&parent)?;
    // The lookup, the checks, the removal and the dentry's update are one step against
    // other CPUs' renames and removals (Linux holds the parent's lock across them).
    let ns = fs::NAMESPACE.lock();
    let victim = parent.inode.lookup(&name)?;
    if !rmdir && trailing {
        return Err(if victim.file_type() == FileType::Directory {
            Errno::EISDIR
        } else {
            Errno::ENOTDIR
        });
    }
    may_delete(c, &parent, &victim)?;
    if fs::mounts().is_mountpoint(&victim) {
        return Err(Errno::EBUSY);
    }
    if rmdir {
        parent.inode.rmdir(&name)?;
    } else {
        parent.inode.unlink(&name)?;
    }
    lintel_vfs::d_delete(&parent, &name);
    drop(ns);
    fs::notify::removed(&parent, &name, &victim);
    ok(0)
}

pub fn unlink(c: &mut Call) -> SysResult {
    do_unlink(c, AT_FDCWD, c.a[0], false)
}

pub fn rmdir(c: &mut Call) -> SysResult {
    do_unlink(c, AT_FDCWD, c.a[0], true)
}

pub fn unlinkat(c: &mut Call) -> SysResult {
    let flags = c.a[2] as u32;
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    do_unlink(c, c.fd(0), c.a[1], flags & AT_REMOVEDIR != 0)
}
