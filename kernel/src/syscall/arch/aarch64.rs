//! aarch64 has no calls of its own (everything is asm-generic) and no ptrace request of its
//! own.

use crate::syscall::Syscall;
use lintel_abi::Errno;

pub(super) const SYSCALLS: &[Syscall] = &[];

/// arm64 has no ptrace request of its own.
pub const PTRACE_ARCH_REQUEST: Option<usize> = None;

/// Never called: there is no architecture request.
pub fn ptrace_arch_request(
    _code: usize,
    _addr: usize,
    _regs: &mut lintel_hal::context::UserContext,
) -> Result<Option<u64>, Errno> {
    Err(Errno::EIO)
}
