//! arm64's open flags (arch/arm64/include/uapi/asm/fcntl.h): O_DIRECTORY, O_NOFOLLOW,
//! O_DIRECT and O_LARGEFILE sit at other bits than asm-generic's; the record-lock types are
//! asm-generic's.

pub use crate::arch::generic::fcntl::{F_RDLCK, F_UNLCK, F_WRLCK};

pub const O_DIRECTORY: u32 = 0o40000;
pub const O_NOFOLLOW: u32 = 0o100000;
pub const O_DIRECT: u32 = 0o200000;
pub const O_LARGEFILE: u32 = 0o400000;
