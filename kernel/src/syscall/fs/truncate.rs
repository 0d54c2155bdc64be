//! ftruncate, truncate

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::fs::remove_privs;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_vfs::inotify::IN_MODIFY;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("ftruncate", ftruncate, ""),
    Syscall::implemented("truncate", truncate, ""),
];

fn do_truncate(c: &Call, inode: &Arc<dyn lintel_vfs::Inode>, len: usize) -> SysResult {
    if (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    match inode.file_type() {
        FileType::Directory => Err(Errno::EISDIR),
        FileType::Regular => {
            fs::file::fsize_check_growth(inode.stat().size, len as u64)?;
            remove_privs(c, inode)?;
            crate::mm::pagecache::truncate(inode, len as u64)?;
            ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn truncate(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, true)?;
    match d.inode.file_type() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => fs::want_write(&d)?,
        _ => return Err(Errno::EINVAL),
    }
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::inode_permission(&*d.inode, &cred, 2)?;
    // An append-only file keeps its bytes (vfs_truncate).
    if lintel_vfs::is_append(&*d.inode) {
        return Err(Errno::EPERM);
    }
    if d.inode.file_type() == lintel_vfs::FileType::Regular {
        fs::lease::break_lease(lintel_vfs::identity(&d.inode), true, false)?;
    }
    do_truncate(c, &d.inode, c.a[1])?;
    fs::notify::changed(&d, IN_MODIFY);
    ok(0)
}

pub fn ftruncate(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if !f.writable() {
        return Err(Errno::EINVAL);
    }
    let inode = f.inode.clone().ok_or(Errno::EINVAL)?;
    // Not an append-only file (do_sys_ftruncate), nor an ext4 file made immutable since it
    // was opened (ext4_setattr; Linux's tmpfs lets that one through).
    let fl = lintel_vfs::inode_flags(&*inode);
    if fl & lintel_abi::fs::FS_APPEND_FL != 0
        || (fl & lintel_abi::fs::FS_IMMUTABLE_FL != 0 && !crate::mm::shmem::is_tmpfs(&inode))
    {
        return Err(Errno::EPERM);
    }
    do_truncate(c, &inode, c.a[1])?;
    fs::notify::file_event(&f, IN_MODIFY);
    ok(0)
}
