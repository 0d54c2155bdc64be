//! File types, mode bits and the `struct statx` layout; `struct stat`, whose layout differs by
//! architecture, is encoded by `arch::target::stat`.
#![allow(missing_docs)]

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISVTX: u32 = 0o1000;
pub const S_IXGRP: u32 = 0o010;

/// `d_type` values of `getdents64`.
pub const DT_UNKNOWN: u8 = 0;
pub const DT_FIFO: u8 = 1;
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_BLK: u8 = 6;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;
pub const DT_SOCK: u8 = 12;

/// `d_type` for a mode's file type.
pub fn dtype_of_mode(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

/// A timestamp as the kernel keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// Everything `stat` and `statx` report, independent of the user-space layout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub btime: Timespec,
}

pub use crate::arch::target::stat::STAT_SIZE;
/// statx's STATX_MNT_ID (stx_mnt_id filled) and STATX_ATTR_MOUNT_ROOT (the file is the root
/// of a mount).
pub const STATX_MNT_ID: u32 = 0x1000;
pub const STATX_ATTR_MOUNT_ROOT: u64 = 0x2000;
/// The other STATX_ATTR_* bits: inode flags (chattr's) a file system can report.
pub const STATX_ATTR_COMPRESSED: u64 = 0x4;
pub const STATX_ATTR_IMMUTABLE: u64 = 0x10;
pub const STATX_ATTR_APPEND: u64 = 0x20;
pub const STATX_ATTR_NODUMP: u64 = 0x40;
pub const STATX_ATTR_ENCRYPTED: u64 = 0x800;
pub const STATX_ATTR_AUTOMOUNT: u64 = 0x1000;
pub const STATX_ATTR_VERITY: u64 = 0x10_0000;
pub const STATX_ATTR_DAX: u64 = 0x20_0000;

/// Size of `struct statx`.
pub const STATX_SIZE: usize = 256;

pub const STATX_TYPE: u32 = 0x1;
pub const STATX_MODE: u32 = 0x2;
pub const STATX_NLINK: u32 = 0x4;
pub const STATX_UID: u32 = 0x8;
pub const STATX_GID: u32 = 0x10;
pub const STATX_ATIME: u32 = 0x20;
pub const STATX_MTIME: u32 = 0x40;
pub const STATX_CTIME: u32 = 0x80;
pub const STATX_INO: u32 = 0x100;
pub const STATX_SIZE_MASK: u32 = 0x200;
pub const STATX_BLOCKS: u32 = 0x400;
pub const STATX_BASIC_STATS: u32 = 0x7ff;
pub const STATX_BTIME: u32 = 0x800;

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    buf[off..off + bytes.len()].copy_from_slice(bytes);
}

impl Stat {
    /// The target architecture's `struct stat` bytes.
    pub fn to_stat_bytes(&self) -> [u8; STAT_SIZE] {
        crate::arch::target::stat::encode(self)
    }

    /// The `struct statx` bytes; Lintel always fills every basic field and the birth time.
    pub fn to_statx_bytes(&self) -> [u8; STATX_SIZE] {
        let mut b = [0u8; STATX_SIZE];
        put(&mut b, 0, &(STATX_BASIC_STATS | STATX_BTIME).to_le_bytes());
        put(&mut b, 4, &(self.blksize as u32).to_le_bytes());
        // stx_attributes (8) stays 0.
        put(&mut b, 16, &(self.nlink as u32).to_le_bytes());
        put(&mut b, 20, &self.uid.to_le_bytes());
        put(&mut b, 24, &self.gid.to_le_bytes());
        put(&mut b, 28, &(self.mode as u16).to_le_bytes());
        put(&mut b, 32, &self.ino.to_le_bytes());
        put(&mut b, 40, &self.size.to_le_bytes());
        put(&mut b, 48, &self.blocks.to_le_bytes());
        // stx_attributes_mask (56) stays 0.
        let ts = |b: &mut [u8], off: usize, t: Timespec| {
            put(b, off, &t.sec.to_le_bytes());
            put(b, off + 8, &(t.nsec as u32).to_le_bytes());
        };
        ts(&mut b, 64, self.atime);
        ts(&mut b, 80, self.btime);
        ts(&mut b, 96, self.ctime);
        ts(&mut b, 112, self.mtime);
        put(
            &mut b,
            128,
            &((self.rdev >> 8) as u32 & 0xfff).to_le_bytes(),
        );
        put(&mut b, 132, &(minor(self.rdev) as u32).to_le_bytes());
        put(&mut b, 136, &((self.dev >> 8) as u32 & 0xfff).to_le_bytes());
        put(&mut b, 140, &(minor(self.dev) as u32).to_le_bytes());
        b
    }
}

/// A device number from its major and minor numbers, as glibc's `makedev` and the kernel's
/// `new_encode_dev` pack them (12-bit major, 20-bit minor).
pub const fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & !0xff) << 12)
}

/// The major number of a device number packed by `makedev`.
pub const fn major(dev: u64) -> u64 {
    (dev >> 8) & 0xfff
}

/// The minor number of a device number packed by `makedev`.
pub const fn minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

/// `utimensat` `tv_nsec` values: set to the current time, leave unchanged.
pub const UTIME_NOW: i64 = 0x3fff_ffff;
pub const UTIME_OMIT: i64 = 0x3fff_fffe;
