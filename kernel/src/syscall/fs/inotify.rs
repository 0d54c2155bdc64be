//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch

use crate::fs::file::OpenFile;
use crate::fs::inotify::{Inotify, InotifyFile};
use crate::syscall::fs::{file, install, lookup};
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::FlagsArg;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use alloc::sync::Arc;
use lintel_abi::fcntl::{AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_NONBLOCK, O_RDONLY};
use lintel_abi::{Errno, KResult};
use lintel_vfs::inotify::*;
use lintel_vfs::{identity, FileType};

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented("inotify_init", |c| inotify_init1(c, FlagsArg::Absent), ""),
    Syscall::implemented("inotify_init1", |c| inotify_init1(c, FlagsArg::Present), ""),
    Syscall::implemented("inotify_add_watch", inotify_add_watch, ""),
    Syscall::implemented("inotify_rm_watch", inotify_rm_watch, ""),
];

/// Every bit inotify_add_watch knows; a mask with none of them is EINVAL.
const ALL_INOTIFY_BITS: u32 = IN_VALID_MASK | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ISDIR;

pub fn inotify_init1(c: &mut Call, flags_arg: FlagsArg) -> SysResult {
    let flags = if flags_arg == FlagsArg::Absent {
        0
    } else {
        c.a[0] as u32
    };
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let uid = c.thread.proc_ref().cred.lock().uid;
    let ops = Arc::new(InotifyFile(Inotify::new(uid)?));
    let f = OpenFile::new(ops, None, None, O_RDONLY | (flags & O_NONBLOCK));
    ok(install(c, f, flags & O_CLOEXEC != 0)?)
}

/// The instance behind an fd: EBADF for a bad fd, EINVAL for another kind of file.
fn instance(c: &Call, fd: i32) -> KResult<Arc<Inotify>> {
    let f = file(c, fd)?;
    let i = f.ops_as::<InotifyFile>().ok_or(Errno::EINVAL)?;
    Ok(i.0.clone())
}

pub fn inotify_add_watch(c: &mut Call) -> SysResult {
    let [fd, pathp, mask, ..] = c.a;
    let mask = mask as u32;
    if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 || mask & ALL_INOTIFY_BITS == 0 {
        return Err(Errno::EINVAL);
    }
    let group = instance(c, fd as i32)?;
    let follow = if mask & IN_DONT_FOLLOW != 0 {
        AT_SYMLINK_NOFOLLOW
    } else {
        0
    };
    let d = lookup(c, AT_FDCWD, pathp, follow)?;
    if mask & IN_ONLYDIR != 0 && d.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    // Watching needs read permission on the file.
    let cred = c.thread.proc_ref().cred.lock().vfs();
    lintel_vfs::inode_permission(&*d.inode, &cred, 4)?;
    let dir = d.inode.file_type() == FileType::Directory;
    let wd = group.add_watch(identity(&d.inode), mask & IN_VALID_MASK, dir)?;
    ok(wd as usize)
}

pub fn inotify_rm_watch(c: &mut Call) -> SysResult {
    let group = instance(c, c.a[0] as i32)?;
    group.rm_watch(c.a[1] as i32)?;
    ok(0)
}
