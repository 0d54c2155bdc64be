//! mkdir, mkdirat

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
    Syscall::implemented("mkdir", mkdir, ""),
    Syscall::implemented("mkdirat", mkdirat, ""),
];

fn do_mkdir(c: &mut Call, dirfd: i32, pathp: usize, mode: u32) -> SysResult {
    let path = uaccess::read_path(pathp)?;
    let (parent, name, _) = parent_of(c, dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_create(c, &parent, &name)?;
    let umask = c.thread.fs.get().lock().umask;
    let inh = crate::fs::xattr::inherit(&parent.inode, mode & 0o1777, umask, true);
    let (uid, gid, mode) = new_owner(c, &parent, inh.mode, true);
    let inode = parent
        .inode
        .create(&name, FileType::Directory, mode, uid, gid, 0)?;
    crate::fs::xattr::apply_inherited(&inode, &inh)?;
    crate::fs::notify::created(&parent, &name, true);
    ok(0)
}

pub fn mkdir(c: &mut Call) -> SysResult {
    do_mkdir(c, AT_FDCWD, c.a[0], c.a[1] as u32)
}

pub fn mkdirat(c: &mut Call) -> SysResult {
    do_mkdir(c, c.fd(0), c.a[1], c.a[2] as u32)
}
