//! getcwd, chdir, fchdir, chroot

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::fs::lookup;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use alloc::sync::Arc;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_vfs::Dentry;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("getcwd", getcwd, ""),
    Syscall::implemented("chdir", chdir, ""),
    Syscall::implemented("fchdir", fchdir, ""),
    Syscall::implemented("chroot", chroot, ""),
];

pub fn getcwd(c: &mut Call) -> SysResult {
    let (cwd, root) = {
        let fs_ctx = c.thread.fs.get();
        let fsx = fs_ctx.lock();
        (fsx.cwd.clone(), fsx.root.clone())
    };
    // A removed working directory has no path (Linux: ENOENT).
    if cwd.is_deleted() {
        return Err(Errno::ENOENT);
    }
    let mut path = lintel_vfs::path_of(&cwd, &root);
    path.push(0);
    if path.len() > c.a[1] {
        return Err(Errno::ERANGE);
    }
    uaccess::write_bytes(c.a[0], &path)?;
    ok(path.len())
}

fn set_cwd(c: &mut Call, d: Arc<Dentry>) -> SysResult {
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::inode_permission(&*d.inode, &cred, 1)?;
    // The old directory may hold the last reference to its inode, whose release can take
    // the file system's sleeping locks: it goes after the spin lock.
    let old = core::mem::replace(&mut c.thread.fs.get().lock().cwd, d);
    left(old);
    ok(0)
}

pub fn chdir(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, true)?;
    set_cwd(c, d)
}

pub fn fchdir(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    let d = f.dentry.clone().ok_or(Errno::ENOTDIR)?;
    set_cwd(c, d)
}

pub fn chroot(c: &mut Call) -> SysResult {
    let d = lookup(c, AT_FDCWD, c.a[0], 0)?;
    if d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let cred = c.thread.proc_ref().cred.lock().clone();
    lintel_vfs::inode_permission(&*d.inode, &cred.vfs(), 1)?;
    if !cred.capable(lintel_abi::capability::CAP_SYS_CHROOT) {
        return Err(Errno::EPERM);
    }
    // As in set_cwd: the old root goes after the spin lock.
    let old = core::mem::replace(&mut c.thread.fs.get().lock().root, d);
    left(old);
    ok(0)
}

/// A working directory or root left: in a lazily unmounted mount it may have been the
/// mount's last user, which then goes on the way back to user mode (Linux's path_put).
fn left(old: Arc<Dentry>) {
    if old.vfsmount().is_detached() {
        fs::detached::closed();
    }
}
