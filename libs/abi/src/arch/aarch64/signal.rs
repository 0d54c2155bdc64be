//! Signal values that differ by architecture (arm64's asm/signal.h and asm/sigcontext.h:
//! `sa_restorer` exists, but C libraries leave it unset and handlers return through the
//! vDSO's `__kernel_rt_sigreturn`).

/// `sa_flags`: `sa_restorer` holds the return trampoline.
pub const SA_RESTORER: u64 = 0x0400_0000;

/// Smallest alternate signal stack `sigaltstack` accepts (arm64's MINSIGSTKSZ).
pub const MINSIGSTKSZ: u64 = 5120;

/// `struct sigaction` as rt_sigaction exchanges it: handler, flags, restorer, mask.
pub const SIGACTION_SIZE: usize = 32;
/// Offset of `sa_restorer` in it.
pub const SIGACTION_RESTORER_OFFSET: Option<usize> = Some(16);
/// Offset of `sa_mask`.
pub const SIGACTION_MASK_OFFSET: usize = 24;
