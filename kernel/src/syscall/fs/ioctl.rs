//! ioctl

use crate::syscall::fs::file;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::*;

pub(super) const SYSCALLS: &[Syscall] = &[Syscall::partial(
    "ioctl",
    ioctl,
    "terminal, pty, FIONREAD, FIONBIO, FIOASYNC, socket SIOCGIF*/SIOCINQ/SIOCOUTQ, seccomp listener SECCOMP_IOCTL_NOTIF_* and block-device size ioctls; the inode flags of chattr/lsattr, FS_IOC_GETFLAGS/FS_IOC_SETFLAGS and FS_IOC_FSGETXATTR/FS_IOC_FSSETXATTR, on tmpfs (append-only, immutable, no-dump, no-atime; others EOPNOTSUPP) and ext4 (the flags Linux's ext4 keeps, in the on-disk inode; a change of data journalling, extents or case folding EOPNOTSUPP) regular files and folders, ENOTTY elsewhere; owner or CAP_FOWNER, CAP_LINUX_IMMUTABLE for append-only and immutable, EROFS on a read-only mount; append-only and immutable enforced where Linux's VFS does (open, truncate, unlink, rename, link, chmod, chown, utimes, xattrs, fallocate, copy_file_range, F_SETFL, shared mappings; on ext4 also a write through a descriptor opened before the file became immutable; no-atime holds as Lintel's reads never update atime)",
)];

pub fn ioctl(c: &mut Call) -> SysResult {
    let f = file(c, c.fd(0))?;
    use lintel_abi::fcntl::O_ASYNC;
    use lintel_abi::ioctl::{FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX};
    let cmd = c.a[1] as u32;
    if crate::fs::iflags::is_flags_cmd(cmd) {
        if let Some(r) = crate::fs::iflags::ioctl(c.thread, &f, cmd, c.a[2]) {
            return ok(r?);
        }
    }
    match cmd {
        FIOCLEX | FIONCLEX => {
            c.thread.files.get().lock().entry_mut(c.fd(0))?.cloexec = cmd == FIOCLEX;
            ok(0)
        }
        FIONBIO | FIOASYNC => {
            // Linux's ioctl_fionbio / ioctl_fioasync: the O_NONBLOCK / O_ASYNC status flag.
            let bit = if cmd == FIONBIO { O_NONBLOCK } else { O_ASYNC };
            let on = uaccess::read_i32(c.a[2])? != 0;
            let fl = f.flags();
            if bit == O_ASYNC && on != (fl & O_ASYNC != 0) {
                crate::fs::file::set_async(&f, c.fd(0), on);
            }
            f.flags.store(
                if on { fl | bit } else { fl & !bit },
                core::sync::atomic::Ordering::Relaxed,
            );
            ok(0)
        }
        _ => ok(f.ops.ioctl(&f, cmd, c.a[2])?),
    }
}
