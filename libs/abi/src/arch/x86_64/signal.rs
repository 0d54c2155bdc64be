//! Signal values that differ by architecture (asm/signal.h, asm/sigcontext.h).

/// `sa_flags`: `sa_restorer` holds the return trampoline (not every architecture has it).
pub const SA_RESTORER: u64 = 0x0400_0000;

/// Smallest alternate signal stack `sigaltstack` accepts.
pub const MINSIGSTKSZ: u64 = 2048;
