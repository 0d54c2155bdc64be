//! Signal values that differ by architecture (asm-generic/signal.h; riscv has no
//! `sa_restorer`: handlers return through the vDSO's `__vdso_rt_sigreturn`).

/// riscv64 has no SA_RESTORER flag.
pub const SA_RESTORER: u64 = 0;

/// `struct sigaction` as rt_sigaction exchanges it: handler, flags, mask (no restorer).
pub const SIGACTION_SIZE: usize = 24;
/// Offset of `sa_restorer` in it, when there is one.
pub const SIGACTION_RESTORER_OFFSET: Option<usize> = None;
/// Offset of `sa_mask`.
pub const SIGACTION_MASK_OFFSET: usize = 16;

/// Smallest alternate signal stack `sigaltstack` accepts.
pub const MINSIGSTKSZ: u64 = 2048;
