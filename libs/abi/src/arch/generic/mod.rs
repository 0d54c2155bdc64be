//! What the architectures built on asm-generic's headers share: the syscall numbers of
//! include/uapi/asm-generic/unistd.h (riscv64, aarch64), and the fcntl, ioctl, socket and mmap
//! values that x86_64 shares with them too.

pub mod fcntl;
pub mod ioctl;
pub mod mman;
pub mod socket;
pub mod syscall_nr;
