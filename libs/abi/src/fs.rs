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
pub const MS_REMOUNT: usize = 32;
pub const MS_BIND: usize = 4096;
pub const MS_MOVE: usize = 8192;

pub const TMPFS_MAGIC: u64 = 0x0102_1994;
pub const PROC_SUPER_MAGIC: u64 = 0x9fa0;
pub const EXT4_SUPER_MAGIC: u64 = 0xef53;

/// setxattr flags (<linux/xattr.h>): fail if the attribute exists / does not exist.
pub const XATTR_CREATE: u32 = 1;
pub const XATTR_REPLACE: u32 = 2;
/// The POSIX ACL attribute names (<linux/posix_acl_xattr.h>).
pub const XATTR_POSIX_ACL_ACCESS: &[u8] = b"system.posix_acl_access";
pub const XATTR_POSIX_ACL_DEFAULT: &[u8] = b"system.posix_acl_default";
