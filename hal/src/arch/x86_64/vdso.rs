//! The x86_64 vDSO image (vdso/vdso.c, built by hal/build.rs) and the layout of its data page
//! (`struct vvar` in vdso.c): sequence (u32 at 0, odd while the kernel writes), TSC at
//! monotonic zero (8), nanoseconds per TSC tick in 32.32 (16), wall-clock offset in ns (24),
//! 1 at 32 when RDTSCP's TSC_AUX holds the CPU index (getcpu reads it; else it asks the kernel),
//! 1 at 36 while the clock is slewing (the vDSO then asks the kernel for all but the raw clock), and the
//! monotonic clock's offset from the raw clock in ns (40).

pub(crate) static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

pub(crate) const SEQ_OFFSET: usize = 0;
pub(crate) const CLOCK_OFFSET: usize = 8;

/// The clock fields of the data page, written at `CLOCK_OFFSET`.
pub(crate) fn clock_data(realtime_offset_ns: i64, mono_offset_ns: i64, slewing: bool) -> [u8; 40] {
    let mut b = [0u8; 40];
    b[0..8].copy_from_slice(&super::apic::tsc_boot().to_le_bytes());
    b[8..16].copy_from_slice(&super::apic::tsc_mult().to_le_bytes());
    b[16..24].copy_from_slice(&realtime_offset_ns.to_le_bytes());
    b[24..28].copy_from_slice(&(super::cpu::has_rdtscp() as u32).to_le_bytes());
    b[28..32].copy_from_slice(&(slewing as u32).to_le_bytes());
    b[32..40].copy_from_slice(&mono_offset_ns.to_le_bytes());
    b
}

include!(concat!(env!("OUT_DIR"), "/vdso_syms.rs"));
