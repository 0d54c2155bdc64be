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
    let (uid, gid) = if flags & AT_EACCESS != 0 {
        (cr.euid, cr.egid)
    } else {
        (cr.uid, cr.gid)
    };
    let vc = lintel_vfs::Cred {
        uid,
        gid,
        groups: cr.groups.clone(),
    };
    lintel_vfs::permission(&d.inode.stat(), &vc, mode)?;
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
