//! Power-off with a status for the host. QEMU's semihosting `SYS_EXIT` (xtask passes
//! `-semihosting-config enable=on,target=native`) ends QEMU with the status, which xtask reads
//! as QEMU's own exit status; PSCI SYSTEM_OFF (through the device tree's `hvc` or `smc`
//! conduit) is the fallback, which ends QEMU with status 0 and so carries no status. PSCI
//! CPU_ON starts the secondary CPUs (`smp.rs`).

use core::sync::atomic::{AtomicBool, Ordering};

/// Whether PSCI is called with `smc` instead of `hvc`.
static PSCI_SMC: AtomicBool = AtomicBool::new(false);
/// Whether the device tree has a `psci` node with a conduit.
static PSCI: AtomicBool = AtomicBool::new(false);

pub(super) fn set_psci_method(method: Option<&str>) {
    PSCI_SMC.store(method == Some("smc"), Ordering::Relaxed);
    PSCI.store(
        matches!(method, Some("smc") | Some("hvc")),
        Ordering::Relaxed,
    );
}

/// PSCI 0.2 CPU_ON (SMC64).
const PSCI_CPU_ON: u64 = 0xc400_0003;

/// A PSCI call with three arguments through the tree's conduit; the firmware's result (0:
/// success, negative: PSCI's error codes). -1 (NOT_SUPPORTED) without PSCI.
fn psci_call(function: u64, a1: u64, a2: u64, a3: u64) -> i64 {
    if !PSCI.load(Ordering::Relaxed) {
        return -1;
    }
    let mut r = function;
    // SAFETY: an SMC Calling Convention call to the firmware (QEMU's PSCI), which reads the
    // arguments in x0..x3 and may change x0..x17; the callers' arguments ask nothing of this
    // CPU's memory.
    unsafe {
        if PSCI_SMC.load(Ordering::Relaxed) {
            core::arch::asm!("smc #0", inout("x0") r, inout("x1") a1 => _,
                inout("x2") a2 => _, inout("x3") a3 => _, out("x4") _, out("x5") _,
                out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _,
                out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
                out("x16") _, out("x17") _, options(nostack));
        } else {
            core::arch::asm!("hvc #0", inout("x0") r, inout("x1") a1 => _,
                inout("x2") a2 => _, inout("x3") a3 => _, out("x4") _, out("x5") _,
                out("x6") _, out("x7") _, out("x8") _, out("x9") _, out("x10") _,
                out("x11") _, out("x12") _, out("x13") _, out("x14") _, out("x15") _,
                out("x16") _, out("x17") _, options(nostack));
        }
    }
    r as i64
}

/// Starts the CPU whose MPIDR affinity is `mpidr` at physical address `entry`, MMU off, with
/// `context` in x0. 0 on success, else PSCI's error (ALREADY_ON -4, INVALID_PARAMETERS -2,
/// ...).
pub(super) fn cpu_on(mpidr: u64, entry: u64, context: u64) -> i64 {
    psci_call(PSCI_CPU_ON, mpidr, entry, context)
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
