//! Inode flags (chattr's, FS_IOC_GETFLAGS/SETFLAGS and FS_IOC_FSGETXATTR/FSSETXATTR): the
//! VFS's part of Linux's fs/ioctl.c (`fileattr_fill_flags`, `fileattr_fill_xflags`,
//! `vfs_fileattr_set` and `fileattr_set_prepare`) and the IS_IMMUTABLE / IS_APPEND tests the
//! rest of the VFS makes. A file system keeps the flags and says which it takes
//! (`Inode::iflags`, `Inode::set_iflags`).

use crate::{Cred, FileType, Inode};
use lintel_abi::capability::CAP_LINUX_IMMUTABLE;
use lintel_abi::fs::*;
use lintel_abi::{Errno, KResult};

/// struct fsxattr as FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR carry it (28 bytes with its
/// padding).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsxAttr {
    pub xflags: u32,
    pub extsize: u32,
    pub nextents: u32,
    pub projid: u32,
    pub cowextsize: u32,
}

/// The size of struct fsxattr in user memory.
pub const FSXATTR_SIZE: usize = 28;

impl FsxAttr {
    /// Linux's fileattr_fill_flags: the xflags that mirror the inode flags `flags`.
    pub fn from_flags(flags: u32) -> FsxAttr {
        let mut x = 0;
        for (f, xf) in FLAG_XFLAG {
            if flags & f != 0 {
                x |= xf;
            }
        }
        FsxAttr {
            xflags: x,
            ..FsxAttr::default()
        }
    }

    /// Linux's fileattr_fill_xflags: the inode flags the xflags stand for.
    pub fn flags(&self) -> u32 {
        FLAG_XFLAG
            .iter()
            .filter(|(_, xf)| self.xflags & xf != 0)
            .fold(0, |a, (f, _)| a | f)
    }

    /// Linux's fileattr_has_fsx: fields beyond the common flags (a file system that keeps
    /// only inode flags, tmpfs, refuses those).
    pub fn has_extra(&self) -> bool {
        self.xflags & !FS_XFLAG_COMMON != 0
            || self.extsize != 0
            || self.projid != 0
            || self.cowextsize != 0
    }

    pub fn to_bytes(self) -> [u8; FSXATTR_SIZE] {
        let mut b = [0u8; FSXATTR_SIZE];
        for (i, v) in [
            self.xflags,
            self.extsize,
            self.nextents,
            self.projid,
            self.cowextsize,
        ]
        .into_iter()
        .enumerate()
        {
            b[i * 4..i * 4 + 4].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    pub fn from_bytes(b: &[u8; FSXATTR_SIZE]) -> FsxAttr {
        let w = |i: usize| u32::from_ne_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        FsxAttr {
            xflags: w(0),
            extsize: w(1),
            nextents: w(2),
            projid: w(3),
            cowextsize: w(4),
        }
    }
}

/// The inode flags struct fsxattr mirrors, with their xflags.
const FLAG_XFLAG: [(u32, u32); 7] = [
    (FS_SYNC_FL, FS_XFLAG_SYNC),
    (FS_IMMUTABLE_FL, FS_XFLAG_IMMUTABLE),
    (FS_APPEND_FL, FS_XFLAG_APPEND),
    (FS_NODUMP_FL, FS_XFLAG_NODUMP),
    (FS_NOATIME_FL, FS_XFLAG_NOATIME),
    (FS_DAX_FL, FS_XFLAG_DAX),
    (FS_PROJINHERIT_FL, FS_XFLAG_PROJINHERIT),
];

/// A change of a file's flags: FS_IOC_SETFLAGS's int or FS_IOC_FSSETXATTR's struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetAttr {
    Flags(u32),
    Fsx(FsxAttr),
}

/// The file's inode flags, 0 for a file system that keeps none.
pub fn inode_flags(inode: &dyn Inode) -> u32 {
    inode.iflags().unwrap_or(0)
}

/// Linux's IS_IMMUTABLE.
pub fn is_immutable(inode: &dyn Inode) -> bool {
    inode_flags(inode) & FS_IMMUTABLE_FL != 0
}

/// Linux's IS_APPEND.
pub fn is_append(inode: &dyn Inode) -> bool {
    inode_flags(inode) & FS_APPEND_FL != 0
}

/// Either of the two (what may_delete, vfs_link, may_setattr and xattr_permission refuse).
pub fn is_append_or_immutable(inode: &dyn Inode) -> bool {
    inode_flags(inode) & (FS_APPEND_FL | FS_IMMUTABLE_FL) != 0
}

/// FS_IOC_FSGETXATTR's answer for a file whose flags are `flags` (Linux's
/// fileattr_fill_flags: no extent sizes, project 0).
pub fn fsxattr_of(flags: u32) -> FsxAttr {
    FsxAttr::from_flags(flags)
}

/// Linux's vfs_fileattr_set after the ioctl's read-only check: ENOTTY where the file system
/// keeps no flags, EPERM for a caller that neither owns the file nor has CAP_FOWNER, the
/// new set completed from the old one (FS_IOC_FSSETXATTR changes only the common flags),
/// EPERM for a change of the append-only or immutable flag without CAP_LINUX_IMMUTABLE,
/// fileattr_set_prepare's checks of the fsxattr fields (EINVAL), then the file system's
/// own rules and the change (`Inode::set_iflags`).
pub fn fileattr_set(inode: &dyn Inode, cred: &Cred, req: SetAttr) -> KResult<()> {
    let old = inode.iflags().ok_or(Errno::ENOTTY)?;
    if !cred.owns(&inode.stat()) {
        return Err(Errno::EPERM);
    }
    let (flags, fsx) = match req {
        SetAttr::Flags(f) => (f, None),
        SetAttr::Fsx(x) => (x.flags() | (old & !FS_COMMON_FL), Some(x)),
    };
    if (flags ^ old) & (FS_APPEND_FL | FS_IMMUTABLE_FL) != 0 && !cred.capable(CAP_LINUX_IMMUTABLE) {
        return Err(Errno::EPERM);
    }
    let fsx = match fsx {
        Some(mut x) => {
            let kind = inode.file_type();
            // The file's project is 0 (no file system of Lintel's keeps projects): a change
            // must name a valid one (INVALID_PROJID is -1).
            if x.projid == u32::MAX {
                return Err(Errno::EINVAL);
            }
            if x.xflags & FS_XFLAG_EXTSIZE != 0 && kind != FileType::Regular {
                return Err(Errno::EINVAL);
            }
            if x.xflags & FS_XFLAG_EXTSZINHERIT != 0 && kind != FileType::Directory {
                return Err(Errno::EINVAL);
            }
            let reg_or_dir = matches!(kind, FileType::Regular | FileType::Directory);
            if x.xflags & (FS_XFLAG_COWEXTSIZE | FS_XFLAG_DAX) != 0 && !reg_or_dir {
                return Err(Errno::EINVAL);
            }
            if x.extsize == 0 {
                x.xflags &= !(FS_XFLAG_EXTSIZE | FS_XFLAG_EXTSZINHERIT);
            }
            if x.cowextsize == 0 {
                x.xflags &= !FS_XFLAG_COWEXTSIZE;
            }
            Some(x)
        }
        None => None,
    };
    inode.set_iflags(flags, fsx.as_ref())
}
