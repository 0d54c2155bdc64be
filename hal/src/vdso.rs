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

/// The monotonic clock as the kernel publishes it (the kernel's `time::Line`): monotonic ns
/// at raw ns `raw` are `base_mono + (base_frac + (raw - base_raw) * mult) >> 32` while
/// `raw < raw_next`; past it the vDSO asks the kernel, which moves the line on.
#[derive(Clone, Copy)]
pub struct MonoLine {
    pub base_raw: u64,
    pub base_mono: i64,
    pub base_frac: u32,
    pub mult: u64,
    pub raw_next: u64,
}

/// Size of [`clock_data`].
pub const CLOCK_SIZE: usize = 64;

/// The clock fields of the data page (the counter at boot, its ns multiplier giving the raw
/// clock, the wall-clock offset, the monotonic clock's line), matching what
/// `clock::monotonic_ns` computes, and what getcpu needs.
pub fn clock_data(realtime_offset_ns: i64, line: &MonoLine) -> [u8; CLOCK_SIZE] {
    let mut b = arch::vdso::clock_data(realtime_offset_ns);
    b[28..32].copy_from_slice(&line.base_frac.to_le_bytes());
    b[32..40].copy_from_slice(&line.base_raw.to_le_bytes());
    b[40..48].copy_from_slice(&line.base_mono.to_le_bytes());
    b[48..56].copy_from_slice(&line.mult.to_le_bytes());
    b[56..64].copy_from_slice(&line.raw_next.to_le_bytes());
    b
}

/// Offset in the image of `__vdso_rt_sigreturn`, where signal handlers return on
/// architectures without `sa_restorer` (None: the C library supplies the trampoline).
pub const SIGRETURN_OFFSET: Option<usize> = arch::vdso::SIGRETURN_OFFSET;
