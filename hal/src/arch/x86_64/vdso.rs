//! The x86_64 vDSO image (vdso/vdso.c, built by hal/build.rs) and the layout of its data page
//! (`struct vvar` in vdso.c): sequence (u32 at 0, odd while the kernel writes), TSC at
//! monotonic zero (8), nanoseconds per TSC tick in 32.32 (16), wall-clock offset in ns (24),
//! 1 at 32 when RDTSCP's TSC_AUX holds the CPU index (getcpu reads it; else it asks the kernel),
//! then the monotonic clock's line (`vdso::MonoLine`): fractions of a ns at its base (u32 at
//! 36), raw ns at its base (40), monotonic ns there (48), monotonic ns per raw ns in 32.32
//! (56), and the raw ns where it ends (64: past it the vDSO asks the kernel).

pub(crate) static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

pub(crate) const SEQ_OFFSET: usize = 0;
pub(crate) const CLOCK_OFFSET: usize = 8;

/// The clock fields of the data page, written at `CLOCK_OFFSET` (the monotonic clock's line,
/// from 28 on, is filled in by `vdso::clock_data`).
pub(crate) fn clock_data(realtime_offset_ns: i64) -> [u8; crate::vdso::CLOCK_SIZE] {
    let mut b = [0u8; crate::vdso::CLOCK_SIZE];
    b[0..8].copy_from_slice(&super::apic::tsc_boot().to_le_bytes());
    b[8..16].copy_from_slice(&super::apic::tsc_mult().to_le_bytes());
    b[16..24].copy_from_slice(&realtime_offset_ns.to_le_bytes());
    b[24..28].copy_from_slice(&(super::cpu::has_rdtscp() as u32).to_le_bytes());
    b
}

include!(concat!(env!("OUT_DIR"), "/vdso_syms.rs"));
