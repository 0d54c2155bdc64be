//! Calls that exist on one architecture only, one file per architecture.

#[cfg(target_arch = "x86_64")]
mod x86_64;

use crate::syscall::Syscall;

/// This architecture's own calls.
#[cfg(target_arch = "x86_64")]
pub(super) const SYSCALLS: &[&[Syscall]] = &[x86_64::SYSCALLS];

/// This architecture's own ptrace request and its handler.
#[cfg(target_arch = "x86_64")]
pub(super) use x86_64::{ptrace_arch_request, PTRACE_ARCH_REQUEST};
