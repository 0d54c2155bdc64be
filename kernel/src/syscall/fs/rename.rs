//! rename, renameat, renameat2

use crate::syscall::fs::may_delete;
use crate::syscall::fs::may_write_dir;
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
    Syscall::implemented("rename", rename, ""),
    Syscall::implemented("renameat", renameat, ""),
    Syscall::implemented("renameat2", renameat2, ""),
];

fn do_rename(c: &mut Call, odir: i32, op: usize, ndir: i32, np: usize, flags: u32) -> SysResult {
    use lintel_abi::fs::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
        || (flags & RENAME_EXCHANGE != 0 && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0)
    {
        return Err(Errno::EINVAL);
    }
    if flags & RENAME_WHITEOUT != 0 {
        return Err(Errno::EINVAL);
    }
    let old = uaccess::read_path(op)?;
    let new = uaccess::read_path(np)?;
    let (op_d, on, o_slash) = parent_of(c, odir, &old)?;
    let (np_d, nn, n_slash) = parent_of(c, ndir, &new)?;
    let bad = |n: &[u8]| n.is_empty() || n == b"." || n == b"..";
    if bad(&on) || bad(&nn) {
        return Err(Errno::EBUSY);
    }
    // A trailing slash on either name is only allowed when a directory is being moved.
    if o_slash || n_slash {
        let src = op_d.inode.lookup(&on)?;
        if src.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
    }
    if op_d.inode.fs_id() != np_d.inode.fs_id() {
        return Err(Errno::EXDEV);
    }
    let src = op_d.inode.lookup(&on)?;
    may_delete(c, &op_d, &src)?;
    match np_d.inode.lookup(&nn) {
        Ok(target) => may_delete(c, &np_d, &target)?,
        Err(_) => may_write_dir(c, &np_d)?,
    }
    op_d.inode.rename(&on, &np_d.inode, &nn, flags)?;
    ok(0)
}

pub fn rename(c: &mut Call) -> SysResult {
    do_rename(c, AT_FDCWD, c.a[0], AT_FDCWD, c.a[1], 0)
}

pub fn renameat(c: &mut Call) -> SysResult {
    do_rename(c, c.fd(0), c.a[1], c.fd(2), c.a[3], 0)
}

pub fn renameat2(c: &mut Call) -> SysResult {
    do_rename(c, c.fd(0), c.a[1], c.fd(2), c.a[3], c.a[4] as u32)
}
