//! The SBI calls Lintel makes (through `sbi-rt`): timer deadlines and system reset.

/// Asks the firmware for a supervisor timer interrupt at `time` = `deadline`.
pub(super) fn set_timer(deadline: u64) {
    let _ = sbi_rt::set_timer(deadline);
}

/// Powers off through the SBI system reset extension (no status reaches the host).
pub(super) fn shutdown() {
    let _ = sbi_rt::system_reset(sbi_rt::Shutdown, sbi_rt::NoReason);
}
