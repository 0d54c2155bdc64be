//! link, linkat

use crate::fs;
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
    Syscall::implemented("link", link, ""),
    Syscall::implemented("linkat", linkat, ""),
];

fn do_link(
    c: &mut Call,
    olddir: i32,
    oldp: usize,
    newdir: i32,
    newp: usize,
    flags: u32,
) -> SysResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = uaccess::read_path(oldp)?;
    let new = uaccess::read_path(newp)?;
    let src = if old.is_empty() && flags & AT_EMPTY_PATH != 0 {
        fs::lookup_at_flags(c.thread, olddir, &old, AT_EMPTY_PATH)?
    } else {
        fs::lookup_at(c.thread, olddir, &old, flags & AT_SYMLINK_FOLLOW != 0)?
    };
    // Linux's order: the new name (EEXIST, then EROFS), the mounts (EXDEV), then the
    // directory's permissions and the source (EPERM for a folder, ENOENT for a deleted file).
    let (parent, name, _) = parent_of(c, newdir, &new)?;
    if name.is_empty() || name == b"." || name == b".." || parent.inode.lookup(&name).is_ok() {
        return Err(Errno::EEXIST);
    }
    fs::want_write(&parent)?;
    if parent.inode.fs_id() != src.inode.fs_id() || parent.mnt() != src.mnt() {
        return Err(Errno::EXDEV);
    }
    may_write_dir(c, &parent)?;
    // No new name for an append-only or immutable file (vfs_link).
    if lintel_vfs::is_append_or_immutable(&*src.inode) {
        return Err(Errno::EPERM);
    }
    if src.inode.file_type() == FileType::Directory {
        return Err(Errno::EPERM);
    }
    // A deleted file cannot get a name again, except an O_TMPFILE file. The check and the
    // link hold `fs::NAMESPACE`, as unlink and rename hold it across theirs (Linux checks
    // i_nlink under the inode's lock, which unlink takes): an unlink of the last name on
    // another CPU between the two would otherwise let a deleted file (on ext4: one on the
    // orphan chain) get a name again.
    let ns = fs::NAMESPACE.lock();
    if src.inode.stat().nlink == 0 && !fs::take_linkable(&src.inode) {
        return Err(Errno::ENOENT);
    }
    parent.inode.link(&name, &src.inode)?;
    drop(ns);
    fs::notify::linked(&parent, &name, &src.inode);
    ok(0)
}

pub fn link(c: &mut Call) -> SysResult {
    do_link(c, AT_FDCWD, c.a[0], AT_FDCWD, c.a[1], 0)
}

pub fn linkat(c: &mut Call) -> SysResult {
    do_link(c, c.fd(0), c.a[1], c.fd(2), c.a[3], c.a[4] as u32)
}
