//! Power-off with a status for the host. QEMU's semihosting `SYS_EXIT` (xtask passes
//! `-semihosting-config enable=on,target=native`) ends QEMU with the status, which xtask reads
//! as QEMU's own exit status; PSCI SYSTEM_OFF (through the device tree's `hvc` or `smc`
//! conduit) is the fallback, which ends QEMU with status 0 and so carries no status.

use core::sync::atomic::{AtomicBool, Ordering};

/// Whether PSCI is called with `smc` instead of `hvc`.
static PSCI_SMC: AtomicBool = AtomicBool::new(false);

pub(super) fn set_psci_method(method: Option<&str>) {
    PSCI_SMC.store(method == Some("smc"), Ordering::Relaxed);
}

/// `exit N` → N; `panic` → 125; anything else → 1.
fn code_of(line: &str) -> u64 {
    match line.strip_prefix("exit ") {
        Some(n) => n.trim().parse::<u64>().map_or(1, |n| n.min(255)),
        None if line == "panic" => 125,
        None => 1,
    }
}

/// Semihosting's SYS_EXIT operation and its "application exit" reason.
const SYS_EXIT: u64 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x2_0026;
/// PSCI 0.2 SYSTEM_OFF.
const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;

pub(super) fn off(line: &str) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, code_of(line)];
    // SAFETY: the semihosting call reads the two-word block (on this stack, mapped) and ends
    // the machine. xtask always enables semihosting for aarch64 (without it `hlt` would be an
    // undefined instruction).
    unsafe {
        core::arch::asm!(
            "hlt #0xf000",
            inout("x0") SYS_EXIT => _,
            in("x1") block.as_ptr(),
            options(nostack)
        )
    };
    // SAFETY: PSCI SYSTEM_OFF does not return when it works; the conduit is the one the device
    // tree names.
    unsafe {
        if PSCI_SMC.load(Ordering::Relaxed) {
            core::arch::asm!("smc #0", inout("x0") PSCI_SYSTEM_OFF => _, options(nostack));
        } else {
            core::arch::asm!("hvc #0", inout("x0") PSCI_SYSTEM_OFF => _, options(nostack));
        }
    }
    super::cpu::halt_forever()
}
