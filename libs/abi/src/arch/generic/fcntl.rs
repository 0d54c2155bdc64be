//! Open flags and record-lock types of asm-generic/fcntl.h, which x86_64 and riscv64 share
//! (aarch64 moves four open flags; other architectures differ too).

pub const O_DIRECT: u32 = 0o40000;
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;

/// Record-lock types (`struct flock` `l_type`).
pub const F_RDLCK: i16 = 0;
pub const F_WRLCK: i16 = 1;
pub const F_UNLCK: i16 = 2;
