//! Calls that exist on one architecture only, one file per architecture.

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "x86_64")]
mod x86_64;

#[cfg(target_arch = "aarch64")]
use aarch64 as target;
#[cfg(target_arch = "riscv64")]
use riscv64 as target;
#[cfg(target_arch = "x86_64")]
use x86_64 as target;

use crate::syscall::Syscall;

/// This architecture's own calls.
pub(super) const SYSCALLS: &[&[Syscall]] = &[target::SYSCALLS];

/// This architecture's own ptrace request and its handler.
pub(super) use target::{ptrace_arch_request, PTRACE_ARCH_REQUEST};
