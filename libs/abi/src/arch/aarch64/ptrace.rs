//! arm64 has none of x86_64's own ptrace requests (its registers go through
//! PTRACE_GETREGSET): the names the arch-neutral ptrace code matches on get values no request
//! uses, so those requests fail with EIO as on Linux.
#![allow(missing_docs)]

pub const PTRACE_GETREGS: usize = usize::MAX;
pub const PTRACE_SETREGS: usize = usize::MAX - 1;
pub const PTRACE_GETFPREGS: usize = usize::MAX - 2;
pub const PTRACE_SETFPREGS: usize = usize::MAX - 3;
pub const PTRACE_ARCH_PRCTL: usize = usize::MAX - 4;

/// No extended-state regset without SVE: a note type no tracer asks for.
pub const NT_XSTATE: usize = usize::MAX - 5;
