//! The vDSO: the architecture's small shared object that answers clock_gettime, gettimeofday,
//! time and getcpu in user space, and the contents of its data page (`[vvar]`, one page just
//! below the image). The kernel maps both and keeps the data page current; hal says what goes
//! where.

use crate::arch;

/// The vDSO's ELF image (page-aligned segments, no relocations).
pub static IMAGE: &[u8] = arch::vdso::IMAGE;

/// Offset in the data page of the u32 sequence count: odd while the kernel rewrites the page,
/// so readers retry.
pub const SEQ_OFFSET: usize = arch::vdso::SEQ_OFFSET;

/// Offset in the data page of [`clock_data`].
pub const CLOCK_OFFSET: usize = arch::vdso::CLOCK_OFFSET;

/// The clock fields of the data page (the counter at boot, its ns multiplier, the
/// wall-clock offset, the monotonic clock's offset from the raw clock), matching what
/// `clock::monotonic_ns` computes, and what getcpu needs. While `slewing`, the vDSO reads
/// only the raw clock itself and asks the kernel for the disciplined ones.
pub fn clock_data(realtime_offset_ns: i64, mono_offset_ns: i64, slewing: bool) -> [u8; 40] {
    arch::vdso::clock_data(realtime_offset_ns, mono_offset_ns, slewing)
}

/// Offset in the image of `__vdso_rt_sigreturn`, where signal handlers return on
/// architectures without `sa_restorer` (None: the C library supplies the trampoline).
pub const SIGRETURN_OFFSET: Option<usize> = arch::vdso::SIGRETURN_OFFSET;
