//! The Linux user-space ABI as Lintel sees it: error numbers, syscall numbers, flag values and
//! the byte layouts of the structures syscalls exchange with user space.
//!
//! Everything here is plain data, so it builds for the kernel target and for the host.
#![no_std]
#![deny(unsafe_code)]

pub mod capability;
mod errno;
pub mod fcntl;
pub mod fs;
pub mod futex;
pub mod inet;
pub mod io_uring;
pub mod ioctl;
pub mod ipc;
pub mod limits;
pub mod loop_dev;
pub mod mman;
pub mod poll;
pub mod prctl;
pub mod ptrace;
pub mod resource;
pub mod sched;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod time;
pub mod userfaultfd;
pub mod wait;

pub mod arch;

/// The target architecture's syscall numbers.
pub use arch::target::syscall_nr;

pub use errno::Errno;

/// Result type of everything that can fail with a Linux error.
pub type KResult<T> = core::result::Result<T, Errno>;

/// Auxiliary vector keys (include/uapi/linux/auxvec.h and asm/auxvec.h).
pub mod auxv {
    pub const AT_NULL: u64 = 0;
    pub const AT_IGNORE: u64 = 1;
    pub const AT_EXECFD: u64 = 2;
    pub const AT_PHDR: u64 = 3;
    pub const AT_PHENT: u64 = 4;
    pub const AT_PHNUM: u64 = 5;
    pub const AT_PAGESZ: u64 = 6;
    pub const AT_BASE: u64 = 7;
    pub const AT_FLAGS: u64 = 8;
    pub const AT_ENTRY: u64 = 9;
    pub const AT_NOTELF: u64 = 10;
    pub const AT_UID: u64 = 11;
    pub const AT_EUID: u64 = 12;
    pub const AT_GID: u64 = 13;
    pub const AT_EGID: u64 = 14;
    pub const AT_PLATFORM: u64 = 15;
    pub const AT_HWCAP: u64 = 16;
    pub const AT_CLKTCK: u64 = 17;
    pub const AT_SECURE: u64 = 23;
    pub const AT_BASE_PLATFORM: u64 = 24;
    pub const AT_RANDOM: u64 = 25;
    pub const AT_HWCAP2: u64 = 26;
    pub const AT_EXECFN: u64 = 31;
    pub const AT_SYSINFO_EHDR: u64 = 33;
    pub const AT_MINSIGSTKSZ: u64 = 51;
}

/// Page size on every architecture Lintel supports.
pub const PAGE_SIZE: usize = 4096;

/// reboot(2)'s magic numbers and commands (linux/reboot.h).
pub mod reboot {
    pub const LINUX_REBOOT_MAGIC1: u32 = 0xfee1_dead;
    pub const LINUX_REBOOT_MAGIC2: u32 = 672_274_793;
    pub const LINUX_REBOOT_MAGIC2A: u32 = 85_072_278;
    pub const LINUX_REBOOT_MAGIC2B: u32 = 369_367_448;
    pub const LINUX_REBOOT_MAGIC2C: u32 = 537_993_216;
    pub const LINUX_REBOOT_CMD_RESTART: u32 = 0x0123_4567;
    pub const LINUX_REBOOT_CMD_HALT: u32 = 0xcdef_0123;
    pub const LINUX_REBOOT_CMD_CAD_ON: u32 = 0x89ab_cdef;
    pub const LINUX_REBOOT_CMD_CAD_OFF: u32 = 0;
    pub const LINUX_REBOOT_CMD_POWER_OFF: u32 = 0x4321_fedc;
    pub const LINUX_REBOOT_CMD_RESTART2: u32 = 0xa1b2_c3d4;
}
