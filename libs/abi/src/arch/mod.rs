//! ABI data that differs by architecture, one module per architecture: syscall numbers, the
//! `struct stat` layout, the open flags and lock types that differ, the argument order of clone,
//! ioctl numbers, socket types and options, some `mmap` and `poll` bits, `SA_RESTORER`, the
//! `struct sigaction` layout and `MINSIGSTKSZ`, and `arch_prctl` codes. Every module builds on
//! every host (so host tests can check any of them); `target` is the one the code is compiled
//! for, and the rest of the crate and the kernel use only that (the generic modules re-export
//! its items). A port adds a folder here and one line below; `generic` holds what the
//! asm-generic architectures share.

pub mod aarch64;
pub mod generic;
pub mod riscv64;
pub mod x86_64;

#[cfg(target_arch = "aarch64")]
pub use aarch64 as target;
#[cfg(target_arch = "riscv64")]
pub use riscv64 as target;
#[cfg(target_arch = "x86_64")]
pub use x86_64 as target;
