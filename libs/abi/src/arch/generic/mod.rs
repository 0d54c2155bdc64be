//! What the architectures built on asm-generic's headers share: the syscall numbers of
//! include/uapi/asm-generic/unistd.h (riscv64, aarch64), and the fcntl, ioctl, socket and mmap
//! values that x86_64 shares with them too, and the
//! asm-generic `struct stat`, IPC layouts and poll bits that only riscv64 and aarch64 use.

pub mod fcntl;
pub mod ioctl;
pub mod ipc;
pub mod mman;
pub mod poll;
pub mod socket;
pub mod stat;
pub mod syscall_nr;
