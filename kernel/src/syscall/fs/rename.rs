//! rename, renameat, renameat2

use crate::fs::notify;
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
use lintel_vfs::{identity, FileType};

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
    // Not across mounts, even two of one file system (Linux's EXDEV), and not on a
    // read-only one.
    if op_d.inode.fs_id() != np_d.inode.fs_id() || op_d.mnt() != np_d.mnt() {
        return Err(Errno::EXDEV);
    }
    crate::fs::want_write(&op_d)?;
    // The source and an existing target go as unlink would take them; a directory moving
    // to a new parent also needs write permission on itself (its ".." changes).
    // The lookups, the checks, the rename and the dentries' move are one step against other
    // CPUs' renames and removals (Linux's lock_rename).
    let ns = crate::fs::NAMESPACE.lock();
    let src = op_d.inode.lookup(&on)?;
    may_delete(c, &op_d, &src)?;
    // The file at the new name, if any: what the events name as replaced, and whether the
    // rename is between two names of one file (then nothing happens).
    let replaced = match np_d.inode.lookup(&nn) {
        Ok(target) => {
            may_delete(c, &np_d, &target)?;
            Some(target)
        }
        Err(Errno::ENOENT) => {
            may_write_dir(c, &np_d)?;
            None
        }
        Err(e) => return Err(e),
    };
    if src.file_type() == FileType::Directory
        && lintel_vfs::identity(&op_d.inode) != lintel_vfs::identity(&np_d.inode)
    {
        let cred = c.thread.proc_ref().cred.lock().vfs();
        lintel_vfs::inode_permission(&*src, &cred, 2)?;
    }
    let same = replaced
        .as_ref()
        .is_some_and(|r| identity(r) == identity(&src));
    let moved = notify::active().then(|| src.clone());
    op_d.inode.rename(&on, &np_d.inode, &nn, flags)?;
    if same {
        // Two names of one file, exchanged or not: nothing moves and nothing is reported, as
        // Linux's vfs_rename returns at once when source and target are the same inode.
        return ok(0);
    }
    // Holders of the moved dentries (open files, cwds) see the new names.
    lintel_vfs::d_move(&op_d, &on, &np_d, &nn, &src, flags & RENAME_EXCHANGE != 0);
    drop(ns);
    if let Some(m) = moved {
        if flags & RENAME_EXCHANGE != 0 {
            notify::renamed((&op_d, &on), (&np_d, &nn), &m, None);
            if let Some(r) = &replaced {
                notify::renamed((&np_d, &nn), (&op_d, &on), r, None);
            }
        } else {
            notify::renamed((&op_d, &on), (&np_d, &nn), &m, replaced.as_ref());
        }
    }
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
