//! The inode-flag ioctls chattr and lsattr use (Linux's ioctl_getflags, ioctl_setflags,
//! ioctl_fsgetxattr and ioctl_fssetxattr in fs/ioctl.c, which do_vfs_ioctl answers for every
//! file before the file's own ioctl): FS_IOC_GETFLAGS and FS_IOC_SETFLAGS (an `int`),
//! FS_IOC_FSGETXATTR and FS_IOC_FSSETXATTR (struct fsxattr). tmpfs and ext4 keep the flags
//! of their regular files and directories (`Inode::iflags`); any other file goes on to its
//! own ioctl, which knows none of these (ENOTTY), as Linux's does when the inode has no
//! fileattr operations.

use crate::fs::file::OpenFile;
use crate::proc::Thread;
use crate::uaccess;
use lintel_abi::fcntl::O_PATH;
use lintel_abi::ioctl::{FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS};
use lintel_abi::{Errno, KResult};
use lintel_vfs::{FsxAttr, SetAttr, FSXATTR_SIZE};

/// Whether `cmd` is one of the four.
pub fn is_flags_cmd(cmd: u32) -> bool {
    matches!(
        cmd,
        FS_IOC_GETFLAGS | FS_IOC_SETFLAGS | FS_IOC_FSGETXATTR | FS_IOC_FSSETXATTR
    )
}

/// One of the four on `file` (`cmd` as `is_flags_cmd`), with its argument at `arg`: None
/// when the file's inode keeps no flags (the caller then asks the file's own ioctl).
pub fn ioctl(thread: &Thread, file: &OpenFile, cmd: u32, arg: usize) -> Option<KResult<usize>> {
    let inode = file.inode.as_ref()?;
    let flags = inode.iflags()?;
    if file.flags() & O_PATH != 0 {
        return Some(Err(Errno::EBADF));
    }
    let r = match cmd {
        FS_IOC_GETFLAGS => uaccess::write_u32(arg, flags),
        FS_IOC_FSGETXATTR => uaccess::write_bytes(arg, &lintel_vfs::fsxattr_of(flags).to_bytes()),
        _ => (|| {
            let req = if cmd == FS_IOC_SETFLAGS {
                SetAttr::Flags(uaccess::read_u32(arg)?)
            } else {
                let mut b = [0u8; FSXATTR_SIZE];
                uaccess::read_bytes(arg, &mut b)?;
                SetAttr::Fsx(FsxAttr::from_bytes(&b))
            };
            // mnt_want_write_file: not through a read-only mount.
            if let Some(d) = &file.dentry {
                crate::fs::want_write(d)?;
            }
            let cred = thread.proc_ref().cred.lock().vfs();
            // The old flags read, the new ones made from them and set are one step against
            // another CPU's change (Linux holds the inode's lock): `fs::NAMESPACE`, which
            // chmod and chown hold across theirs.
            let _attrs = crate::fs::NAMESPACE.lock();
            lintel_vfs::fileattr_set(&**inode, &cred, req)
        })(),
    };
    Some(r.map(|()| 0))
}
