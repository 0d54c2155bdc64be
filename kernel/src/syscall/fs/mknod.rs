//! mknod, mknodat

use crate::syscall::fs::may_create;
use crate::syscall::fs::new_owner;
use crate::syscall::fs::parent_of;
use crate::syscall::ok;
use crate::syscall::Call;
use crate::syscall::SysResult;
use crate::syscall::Syscall;
use crate::uaccess;
use lintel_abi::fcntl::AT_FDCWD;
use lintel_abi::stat::*;
use lintel_abi::Errno;
use lintel_vfs::FileType;

pub(super) const SYSCALLS: &[Syscall] = &[
    Syscall::implemented(
        "mknod",
        |c| mknodat(c, AT_FDCWD, c.a[0], c.a[1] as u32, c.a[2] as u64),
        "",
    ),
    Syscall::implemented(
        "mknodat",
        |c| mknodat(c, c.a[0] as i32, c.a[1], c.a[2] as u32, c.a[3] as u64),
        "",
    ),
];

pub fn mknodat(c: &mut Call, dirfd: i32, pathp: usize, mode: u32, dev: u64) -> SysResult {
    let path = uaccess::read_path(pathp)?;
    let kind = match mode & S_IFMT {
        0 | S_IFREG => FileType::Regular,
        S_IFCHR => FileType::CharDevice,
        S_IFBLK => FileType::BlockDevice,
        S_IFIFO => FileType::Fifo,
        S_IFSOCK => FileType::Socket,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let cred = c.thread.proc_ref().cred.lock().clone();
    if matches!(kind, FileType::CharDevice | FileType::BlockDevice)
        && !cred.capable(lintel_abi::capability::CAP_MKNOD)
    {
        return Err(Errno::EPERM);
    }
    let (parent, name, _) = parent_of(c, dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    may_create(c, &parent, &name)?;
    let umask = c.thread.fs.get().lock().umask;
    let rdev = if matches!(kind, FileType::CharDevice | FileType::BlockDevice) {
        // The userspace encoding of dev_t.
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        crate::fs::dev::makedev(major, minor)
    } else {
        0
    };
    let inh = crate::fs::xattr::inherit(&parent.inode, mode & 0o7777, umask, false);
    let (uid, gid, mode) = new_owner(c, &parent, inh.mode, false);
    let inode = parent.inode.create(&name, kind, mode, uid, gid, rdev)?;
    crate::fs::xattr::apply_inherited(&inode, &inh)?;
    crate::fs::notify::created(&parent, &name, false);
    ok(0)
}
