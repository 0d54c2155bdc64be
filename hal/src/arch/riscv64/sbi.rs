//! The SBI calls Lintel makes (through `sbi-rt`) besides smp.rs' (hart start, IPIs, remote
//! fences): timer deadlines (unless Sstc) and system reset.

/// A supervisor timer interrupt at `time` = `deadline` on this hart: through `stimecmp` when
/// the harts have Sstc (no trap to the firmware), else the firmware's SBI `set_timer`.
pub(super) fn set_timer(deadline: u64) {
    if super::cpu::has_sstc() {
        super::cpu::write_stimecmp(deadline);
    } else {
        let _ = sbi_rt::set_timer(deadline);
    }
}

/// Powers off through the SBI system reset extension (no status reaches the host).
pub(super) fn shutdown() {
    let _ = sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::NoReason);
}
