//! access, faccessat, faccessat2

use crate::fs;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("access", access, ""),
    Syscall::implemented("faccessat", |c| faccessat(c, FlagsArg::Absent), ""),
    Syscall::implemented("faccessat2", |c| faccessat(c, FlagsArg::Present), ""),
];

fn access_check(c: &mut Call, dirfd: i32, pathp: usize, mode: u32, flags: u32) -> SysResult {
    if mode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = uaccess::read_path(pathp)?;
    let d = fs::lookup_at_flags(c.thread, dirfd, &path, flags)?;
    if mode == 0 {
        return ok(0);
    }
    let cr = c.thread.proc_ref().cred.lock().clone();
    let mut vc = cr.vfs();
    // Without AT_EACCESS the check runs as the real ids, with root's capabilities only for a
    // real uid of 0 (do_faccessat's override credentials).
    if flags & AT_EACCESS == 0 {
        vc.uid = cr.uid;
        vc.gid = cr.gid;
        if !cr.secure(lintel_abi::capability::SECURE_NO_SETUID_FIXUP) {
            vc.caps = if cr.uid == 0 { cr.cap_permitted } else { 0 };
        }
    }
    lintel_vfs::inode_permission(&*d.inode, &vc, mode)?;
    // Writing is refused on a read-only mount, but for devices, FIFOs and sockets.
    use lintel_vfs::FileType::{Directory, Regular, Symlink};
    if mode & 2 != 0 && matches!(d.inode.file_type(), Regular | Directory | Symlink) {
        fs::want_write(&d)?;
    }
    ok(0)
}

pub fn access(c: &mut Call) -> SysResult {
    access_check(c, AT_FDCWD, c.a[0], c.a[1] as u32, 0)
}

pub fn faccessat(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let with_flags = flags_arg == FlagsArg::Present;
    let flags = if with_flags { c.a[3] as u32 } else { 0 };
    access_check(c, c.fd(0), c.a[1], c.a[2] as u32, flags)
}
