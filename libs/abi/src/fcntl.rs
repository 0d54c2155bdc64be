//! Open flags, `*at` flags, `fcntl` commands, record-lock types, seals and `flock` operations
//! (asm-generic/fcntl.h, linux/fcntl.h). The values that differ by architecture come from
//! `arch::target::fcntl`.
#![allow(missing_docs)]

pub use crate::arch::target::fcntl::*;

pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_ACCMODE: u32 = 3;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DSYNC: u32 = 0o10000;
pub const O_ASYNC: u32 = 0o20000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const O_SYNC: u32 = 0o4010000;
pub const O_PATH: u32 = 0o10000000;
/// `__O_TMPFILE` with O_DIRECTORY, whose bit differs by architecture.
pub const O_TMPFILE: u32 = 0o20000000 | O_DIRECTORY;

pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub const AT_REMOVEDIR: u32 = 0x200;
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;
pub const AT_EACCESS: u32 = 0x200;

pub const F_DUPFD: u32 = 0;
pub const F_GETFD: u32 = 1;
pub const F_SETFD: u32 = 2;
pub const F_GETFL: u32 = 3;
pub const F_SETFL: u32 = 4;
pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_SETOWN: u32 = 8;
pub const F_GETOWN: u32 = 9;
pub const F_SETSIG: u32 = 10;
pub const F_GETSIG: u32 = 11;
pub const F_SETOWN_EX: u32 = 15;
pub const F_GETOWN_EX: u32 = 16;
/// `struct f_owner_ex` kinds.
pub const F_OWNER_TID: u32 = 0;
pub const F_OWNER_PID: u32 = 1;
pub const F_OWNER_PGRP: u32 = 2;
pub const F_DUPFD_CLOEXEC: u32 = 1030;
/// Leases (F_SETLEASE takes F_RDLCK, F_WRLCK or F_UNLCK) and directory notification.
pub const F_SETLEASE: u32 = 1024;
pub const F_GETLEASE: u32 = 1025;
pub const F_NOTIFY: u32 = 1026;
/// F_NOTIFY's event bits, and the flag that keeps the request after its first event.
pub const DN_ACCESS: u32 = 0x1;
pub const DN_MODIFY: u32 = 0x2;
pub const DN_CREATE: u32 = 0x4;
pub const DN_DELETE: u32 = 0x8;
pub const DN_RENAME: u32 = 0x10;
pub const DN_ATTRIB: u32 = 0x20;
pub const DN_MULTISHOT: u32 = 0x8000_0000;
pub const FD_CLOEXEC: u32 = 1;

pub const SEEK_SET: u32 = 0;
pub const SEEK_CUR: u32 = 1;
pub const SEEK_END: u32 = 2;
pub const SEEK_DATA: u32 = 3;
pub const SEEK_HOLE: u32 = 4;

/// fcntl: pipe buffer size.
pub const F_SETPIPE_SZ: u32 = 1031;
pub const F_GETPIPE_SZ: u32 = 1032;

/// Open-file-description record locks.
pub const F_OFD_GETLK: u32 = 36;
pub const F_OFD_SETLK: u32 = 37;
pub const F_OFD_SETLKW: u32 = 38;

/// File seals (`F_ADD_SEALS`/`F_GET_SEALS` on a memfd).
pub const F_ADD_SEALS: u32 = 1033;
pub const F_GET_SEALS: u32 = 1034;
/// Write-life hints of a file's inode (`u64` through the pointer argument). The per-file
/// forms (`F_GET_FILE_RW_HINT` 1037, `F_SET_FILE_RW_HINT` 1038) are EINVAL since Linux 5.18.
pub const F_GET_RW_HINT: u32 = 1035;
pub const F_SET_RW_HINT: u32 = 1036;
pub const F_SEAL_SEAL: u32 = 1;
pub const F_SEAL_SHRINK: u32 = 2;
pub const F_SEAL_GROW: u32 = 4;
pub const F_SEAL_WRITE: u32 = 8;
pub const F_SEAL_FUTURE_WRITE: u32 = 16;

/// `flock` operations.
pub const LOCK_SH: u32 = 1;
pub const LOCK_EX: u32 = 2;
pub const LOCK_NB: u32 = 4;
pub const LOCK_UN: u32 = 8;

/// openat2's `struct open_how` (linux/openat2.h): its first published size, and the RESOLVE_*
/// flags of its `resolve` field.
pub const OPEN_HOW_SIZE_VER0: usize = 24;
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const RESOLVE_CACHED: u64 = 0x20;

/// name_to_handle_at's flags beside AT_SYMLINK_FOLLOW and AT_EMPTY_PATH (linux/fcntl.h).
pub const AT_HANDLE_MNT_ID_UNIQUE: u32 = 0x001;
pub const AT_HANDLE_CONNECTABLE: u32 = 0x002;
pub const AT_HANDLE_FID: u32 = 0x200;
/// The largest `f_handle` (linux/exportfs.h MAX_HANDLE_SZ) and the handle type bits.
pub const MAX_HANDLE_SZ: u32 = 128;
pub const FILEID_INO64_GEN: u32 = 0x81;
pub const FILEID_IS_CONNECTABLE: u32 = 0x10000;
pub const FILEID_IS_DIR: u32 = 0x20000;
pub const FILEID_USER_FLAGS_MASK: u32 = 0xffff_0000;
