//! Signal values that differ by architecture (asm/signal.h, asm/sigcontext.h).

/// `sa_flags`: `sa_restorer` holds the return trampoline (not every architecture has it).
pub const SA_RESTORER: u64 = 0x0400_0000;

/// Smallest alternate signal stack `sigaltstack` accepts.
pub const MINSIGSTKSZ: u64 = 2048;

/// `struct sigaction` as rt_sigaction exchanges it: handler, flags, restorer, mask.
pub const SIGACTION_SIZE: usize = 32;
/// Offset of `sa_restorer` in it, when there is one.
pub const SIGACTION_RESTORER_OFFSET: Option<usize> = Some(16);
/// Offset of `sa_mask`.
pub const SIGACTION_MASK_OFFSET: usize = 24;
