//! riscv64 (QEMU `virt`, OpenSBI): everything the rest of the kernel must not know about the
//! CPU. S-mode only: the firmware owns M-mode and answers SBI calls (timer, reset).

mod boot;
pub(crate) mod cpu;
pub(crate) mod debugreg;
pub(crate) mod mmu;
pub(crate) mod nmi;
mod power;
pub(crate) mod regs;
mod sbi;
pub(crate) mod serial;
pub(crate) mod signal;
pub(crate) mod smp;
pub(crate) mod switch;
mod timer;
pub(crate) mod trap;
pub(crate) mod usercopy;
pub(crate) mod vdso;
pub(crate) mod xstate;

core::arch::global_asm!(
    include_str!("boot.S"),
    boot_main = sym boot::boot_main,
    cpu0 = sym trap::CPU0,
);

/// No PC BIOS area: low physical memory is devices (and nothing is there to scan for ACPI).
pub(crate) const LEGACY_BIOS_AREA: bool = false;

/// The PCIe ECAM window (base, first bus, last bus) the device tree names, if any.
pub(crate) fn pci_ecam() -> Option<(u64, u8, u8)> {
    boot::pci_ecam()
}

/// Per-CPU setup of the boot CPU: the trap vector, the interrupt enables, FP on.
pub(crate) fn init_cpu() {
    trap::init_cpu();
    xstate::init();
}

/// The clock and the one-shot timer: the `time` CSR and SBI timer deadlines.
pub(crate) fn init_timer() {
    timer::init();
}

/// `hal::clock`: the `time` CSR is the monotonic counter, SBI timer deadlines the tick, the
/// goldfish RTC the wall clock.
pub(crate) mod clock {
    pub(crate) use super::timer::{
        counter, counter_at_boot, counter_hz, counter_mult, monotonic_ns, rtc_epoch_seconds,
        set_timer, timer_name,
    };
}

/// `hal::irq`: no MSI controller yet (virtio-mmio with the PLIC comes with the disk).
pub(crate) mod irq {
    /// A message no device is given: riscv64 has no PCI MSI routing yet.
    pub(crate) fn device_msi(_line: usize) -> crate::irq::MsiMessage {
        crate::irq::MsiMessage { addr: 0, data: 0 }
    }
}

/// Reports `line` to the host and powers off: `exit N` ends QEMU with status N through the
/// virt machine's test finisher (the host tool reads QEMU's exit status; there is no debugcon),
/// `panic` with status 125.
pub(crate) fn power_off(line: &str) -> ! {
    power::off(line)
}

/// The arch-neutral hooks this port does not call yet: secondary harts (`smp`), device
/// interrupts (the PLIC), the NMI watchdog, ACPI (riscv has the device tree) and the AP
/// trampoline's root table. Naming them here keeps the list visible instead of dead code.
#[allow(dead_code)]
fn not_yet_used() {
    let _ = crate::smp::secondary_enter as fn() -> !;
    let _ = crate::smp::entry_named as fn() -> bool;
    let _ = crate::smp::kick_lock_owner as fn();
    let _ = crate::irq::device_interrupt as fn(usize);
    let _ = crate::watchdog::on_nmi as fn(bool, u64, u64, u64);
    let _ = crate::acpi::set_rsdp as fn(u64);
    let _ = crate::mm::identity_root as fn() -> Option<crate::mm::Frame>;
    let _ = crate::task::KernelStack::top as fn(&mut crate::task::KernelStack) -> usize;
    let _ = mmu::reload_root as unsafe fn(u64);
}
