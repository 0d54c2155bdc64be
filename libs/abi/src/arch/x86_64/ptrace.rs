//! x86_64's own ptrace requests (asm/ptrace-abi.h).
#![allow(missing_docs)]

pub const PTRACE_GETREGS: usize = 12;
pub const PTRACE_SETREGS: usize = 13;
pub const PTRACE_GETFPREGS: usize = 14;
pub const PTRACE_SETFPREGS: usize = 15;
pub const PTRACE_ARCH_PRCTL: usize = 30;
