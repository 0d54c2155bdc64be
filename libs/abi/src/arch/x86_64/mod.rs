//! x86_64 (asm/unistd_64.h, asm/stat.h, asm/signal.h, asm/prctl.h, asm-generic/fcntl.h,
//! asm-generic/ioctls.h, asm-generic/socket.h, asm-generic/poll.h and friends).

pub mod fcntl;
pub mod ioctl;
pub mod ipc;
pub mod mman;
pub mod poll;
pub mod prctl;
pub mod ptrace;
pub mod signal;
pub mod socket;
pub mod stat;
pub mod syscall_nr;

/// clone(2)'s argument order: flags, stack, parent_tid, child_tid, tls (the child_tid and tls
/// positions are swapped on architectures with CONFIG_CLONE_BACKWARDS).
/// AUDIT_ARCH_X86_64: the `arch` seccomp filters see.
pub const AUDIT_ARCH: u32 = 0xc000_003e;
/// What a call skipped by seccomp's SECCOMP_RET_TRAP "returns" (Linux's `syscall_rollback`
/// puts back the return register's value at entry), x86_64: the number (`rax` = `orig_rax`): whether that is the
/// system call's number (else its first argument).
pub const ROLLBACK_RETURNS_NR: bool = true;
pub const CLONE_CHILD_TID_ARG: usize = 3;
pub const CLONE_TLS_ARG: usize = 4;
