//! x86_64's own ptrace requests (asm/ptrace-abi.h).
#![allow(missing_docs)]

pub const PTRACE_GETREGS: usize = 12;
pub const PTRACE_SETREGS: usize = 13;
pub const PTRACE_GETFPREGS: usize = 14;
pub const PTRACE_SETFPREGS: usize = 15;
pub const PTRACE_ARCH_PRCTL: usize = 30;

/// NT_X86_XSTATE (linux/elf.h): the regset of the whole XSAVE image, under the name the
/// arch-neutral ptrace code uses for the architecture's extended register state.
pub const NT_XSTATE: usize = 0x202;
