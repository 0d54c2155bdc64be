//! riscv64 (asm-generic/unistd.h with riscv's own calls, asm-generic/stat.h, asm/sigcontext.h,
//! asm-generic/fcntl.h, asm-generic/ioctls.h, asm-generic/socket.h, asm-generic/poll.h).

pub use crate::arch::generic::{ipc, poll, stat};
pub mod fcntl;
pub mod ioctl;
pub mod mman;
pub mod prctl;
pub mod ptrace;
pub mod signal;
pub mod socket;
pub mod syscall_nr;

/// clone(2)'s argument order on riscv64 (CONFIG_CLONE_BACKWARDS' order, as glibc's and musl's
/// `__clone` pass it): flags, stack, parent_tid, tls, child_tid.
pub const CLONE_CHILD_TID_ARG: usize = 4;
pub const CLONE_TLS_ARG: usize = 3;
/// AUDIT_ARCH_RISCV64 (EM_RISCV, 64-bit, little-endian): the `arch` seccomp filters see.
pub const AUDIT_ARCH: u32 = 0xc000_00f3;
/// What a call skipped by seccomp's SECCOMP_RET_TRAP "returns" (Linux's `syscall_rollback`
/// puts back the return register's value at entry), riscv64: the first argument (`a0` = `orig_a0`): whether that is the
/// system call's number (else its first argument).
pub const ROLLBACK_RETURNS_NR: bool = false;
