//! chmod, fchmod, umask, fchmodat

use crate::fs;
use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;
use lintel_vfs::Dentry;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("chmod", chmod, ""),
    Syscall::implemented("fchmod", fchmod, ""),
    Syscall::implemented("umask", umask, ""),
    Syscall::implemented("fchmodat", fchmodat, ""),
];

fn set_mode(c: &Call, d: &Dentry, mode: u32) -> SysResult {
    crate::fs::want_write(d)?;
    let cr = c.thread.proc_ref().cred.lock().vfs();
    // The check, the new mode computed from the old and the change are one step against
    // another CPU's chmod or chown of the file (Linux holds the inode's lock across
    // notify_change): `fs::NAMESPACE`, which chown holds too.
    let attrs = crate::fs::NAMESPACE.lock();
    // may_setattr: no new mode for an append-only or immutable file.
    if lintel_vfs::is_append_or_immutable(&*d.inode) {
        return Err(Errno::EPERM);
    }
    let st = d.inode.stat();
    if !cr.owns(&st) {
        return Err(Errno::EPERM);
    }
    let mode = lintel_vfs::chmod_mode(&st, &cr, mode & 0o7777);
    d.inode.set_mode(mode)?;
    crate::fs::xattr::chmod_acl(&d.inode, mode)?;
    drop(attrs);
    crate::fs::notify::changed(d, lintel_vfs::inotify::IN_ATTRIB);
    ok(0)
}

pub fn chmod(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[0])?;
    let d = fs::lookup_at(c.thread, AT_FDCWD, &path, true)?;
    set_mode(c, &d, c.a[1] as u32)
}

pub fn fchmod(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    if f.flags() & O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    let d = f.dentry.clone().ok_or(Errno::EBADF)?;
    set_mode(c, &d, c.a[1] as u32)
}

pub fn fchmodat(c: &mut Call) -> SysResult {
    let path = uaccess::read_path(c.a[1])?;
    let d = fs::lookup_at(c.thread, c.fd(0), &path, true)?;
    set_mode(c, &d, c.a[2] as u32)
}

pub fn umask(c: &mut Call) -> SysResult {
    let fs_ctx = c.thread.fs.get();
    let mut f = fs_ctx.lock();
    let old = f.umask;
    f.umask = c.a[0] as u32 & 0o777;
    ok(old as usize)
}
