//! File-system call flags and numbers: `renameat2` (linux/fs.h), `fallocate`
//! (linux/falloc.h), `close_range` (linux/close_range.h), `splice` (linux/splice.h),
//! `eventfd` (linux/eventfd.h), `mount` (linux/mount.h) and the `statfs` magic numbers
//! (linux/magic.h).
#![allow(missing_docs)]

pub const RENAME_NOREPLACE: u32 = 1;
pub const RENAME_EXCHANGE: u32 = 2;
pub const RENAME_WHITEOUT: u32 = 4;

pub const FALLOC_FL_KEEP_SIZE: usize = 1;
pub const FALLOC_FL_PUNCH_HOLE: usize = 2;
pub const FALLOC_FL_NO_HIDE_STALE: usize = 4;
pub const FALLOC_FL_COLLAPSE_RANGE: usize = 8;
pub const FALLOC_FL_ZERO_RANGE: usize = 0x10;
pub const FALLOC_FL_INSERT_RANGE: usize = 0x20;
pub const FALLOC_FL_UNSHARE_RANGE: usize = 0x40;
pub const FALLOC_FL_WRITE_ZEROES: usize = 0x80;

pub const CLOSE_RANGE_UNSHARE: usize = 2;
pub const CLOSE_RANGE_CLOEXEC: usize = 4;

pub const SPLICE_F_MOVE: usize = 1;
pub const SPLICE_F_NONBLOCK: usize = 2;

/// eventfd: reads take 1 instead of the whole count (EFD_CLOEXEC and EFD_NONBLOCK are the
/// open flags).
pub const EFD_SEMAPHORE: u32 = 1;

pub const MS_RDONLY: usize = 1;
pub const MS_NOSUID: usize = 2;
pub const MS_NODEV: usize = 4;
pub const MS_NOEXEC: usize = 8;
pub const MS_SYNCHRONOUS: usize = 16;
pub const MS_REMOUNT: usize = 32;
pub const MS_MANDLOCK: usize = 64;
pub const MS_DIRSYNC: usize = 128;
pub const MS_NOSYMFOLLOW: usize = 256;
pub const MS_NOATIME: usize = 1024;
pub const MS_NODIRATIME: usize = 2048;
pub const MS_BIND: usize = 4096;
pub const MS_MOVE: usize = 8192;
pub const MS_REC: usize = 16384;
pub const MS_SILENT: usize = 32768;
pub const MS_UNBINDABLE: usize = 1 << 17;
pub const MS_PRIVATE: usize = 1 << 18;
pub const MS_SLAVE: usize = 1 << 19;
pub const MS_SHARED: usize = 1 << 20;
pub const MS_RELATIME: usize = 1 << 21;
pub const MS_STRICTATIME: usize = 1 << 24;
pub const MS_LAZYTIME: usize = 1 << 25;
/// The old magic number in the top half of the flags, which Linux strips.
pub const MS_MGC_MSK: usize = 0xffff_0000;
pub const MS_MGC_VAL: usize = 0xc0ed_0000;

/// umount2 flags.
pub const MNT_FORCE: usize = 1;
pub const MNT_DETACH: usize = 2;
pub const MNT_EXPIRE: usize = 4;
pub const UMOUNT_NOFOLLOW: usize = 8;

/// statfs's f_flags (and statvfs's f_flag).
pub const ST_RDONLY: u64 = 1;
pub const ST_NOSUID: u64 = 2;
pub const ST_NODEV: u64 = 4;
pub const ST_NOEXEC: u64 = 8;
pub const ST_SYNCHRONOUS: u64 = 16;
pub const ST_VALID: u64 = 32;
pub const ST_MANDLOCK: u64 = 64;
pub const ST_NOSYMFOLLOW: u64 = 256;
pub const ST_NOATIME: u64 = 1024;
pub const ST_NODIRATIME: u64 = 2048;
pub const ST_RELATIME: u64 = 4096;

pub const TMPFS_MAGIC: u64 = 0x0102_1994;
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const EXT4_SUPER_MAGIC: u64 = 0xef53;

/// Inode flags (linux/fs.h's FS_*_FL: FS_IOC_GETFLAGS/SETFLAGS, chattr's letters).
pub const FS_SECRM_FL: u32 = 0x1;
pub const FS_UNRM_FL: u32 = 0x2;
pub const FS_COMPR_FL: u32 = 0x4;
pub const FS_SYNC_FL: u32 = 0x8;
pub const FS_IMMUTABLE_FL: u32 = 0x10;
pub const FS_APPEND_FL: u32 = 0x20;
pub const FS_NODUMP_FL: u32 = 0x40;
pub const FS_NOATIME_FL: u32 = 0x80;
pub const FS_DAX_FL: u32 = 0x0200_0000;
pub const FS_PROJINHERIT_FL: u32 = 0x2000_0000;
/// The flags any file system shows (FS_FL_USER_VISIBLE).
pub const FS_FL_USER_VISIBLE: u32 = 0x0003_dfff;
/// The flags struct fsxattr mirrors in its xflags (Linux's FS_COMMON_FL).
pub const FS_COMMON_FL: u32 = FS_SYNC_FL
    | FS_IMMUTABLE_FL
    | FS_APPEND_FL
    | FS_NODUMP_FL
    | FS_NOATIME_FL
    | FS_DAX_FL
    | FS_PROJINHERIT_FL;
/// struct fsxattr's fsx_xflags (linux/fs.h's FS_XFLAG_*).
pub const FS_XFLAG_IMMUTABLE: u32 = 0x8;
pub const FS_XFLAG_APPEND: u32 = 0x10;
pub const FS_XFLAG_SYNC: u32 = 0x20;
pub const FS_XFLAG_NOATIME: u32 = 0x40;
pub const FS_XFLAG_NODUMP: u32 = 0x80;
pub const FS_XFLAG_PROJINHERIT: u32 = 0x200;
pub const FS_XFLAG_EXTSIZE: u32 = 0x800;
pub const FS_XFLAG_EXTSZINHERIT: u32 = 0x1000;
pub const FS_XFLAG_DAX: u32 = 0x8000;
pub const FS_XFLAG_COWEXTSIZE: u32 = 0x1_0000;
/// The xflags that mirror inode flags (Linux's FS_XFLAG_COMMON).
pub const FS_XFLAG_COMMON: u32 = FS_XFLAG_SYNC
    | FS_XFLAG_IMMUTABLE
    | FS_XFLAG_APPEND
    | FS_XFLAG_NODUMP
    | FS_XFLAG_NOATIME
    | FS_XFLAG_DAX
    | FS_XFLAG_PROJINHERIT;

/// setxattr flags (<linux/xattr.h>): fail if the attribute exists / does not exist.
pub const XATTR_CREATE: u32 = 1;
pub const XATTR_REPLACE: u32 = 2;
/// The POSIX ACL attribute names (<linux/posix_acl_xattr.h>).
pub const XATTR_POSIX_ACL_ACCESS: &[u8] = b"system.posix_acl_access";
pub const XATTR_POSIX_ACL_DEFAULT: &[u8] = b"system.posix_acl_default";
