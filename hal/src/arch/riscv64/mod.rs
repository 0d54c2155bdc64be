//! riscv64 (QEMU `virt`, OpenSBI): everything the rest of the kernel must not know about the
//! CPU. S-mode only: the firmware owns M-mode and answers SBI calls (timer, reset).

mod boot;
pub(crate) use super::dtboard::{debugreg, usercopy, vdso};
pub(crate) mod cpu;
pub(crate) mod mmu;
pub(crate) mod nmi;
pub(crate) mod plic;
mod power;
pub(crate) mod regs;
mod sbi;
pub(crate) mod serial;
pub(crate) mod signal;
pub(crate) mod smp;
pub(crate) mod switch;
mod timer;
pub(crate) mod trap;
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
    super::dtboard::devicetree::pci_ecam()
}

/// Per-CPU setup of the boot CPU: the trap vector, the interrupt enables, FP on.
pub(crate) fn init_cpu() {
    trap::init_cpu();
    xstate::init();
}

/// The clock and the one-shot timer (the `time` CSR and SBI timer deadlines), the PLIC, and
/// the console's receive interrupt, which wakes an idle boot CPU.
pub(crate) fn init_timer() {
    timer::init();
    plic::init();
    serial::enable_rx_interrupt();
}

/// `hal::clock`: the `time` CSR is the monotonic counter, SBI timer deadlines the tick, the
/// goldfish RTC the wall clock.
pub(crate) mod clock {
    pub(crate) use super::timer::{
        counter, counter_at_boot, counter_hz, counter_mult, counter_rate_source, monotonic_ns,
        rtc_epoch_seconds, set_timer, timer_name,
    };
}

/// `hal::irq`: devices interrupt through PLIC sources, not MSI.
pub(crate) mod irq {
    pub(crate) use crate::arch::dtboard::line_msi as device_msi;

    /// Routes PLIC source `irq` to device line `line`; `ack` (0: none) is the physical address
    /// of the device's interrupt status register, acknowledged through the next one.
    pub(crate) fn route_wired(irq: u32, line: usize, ack: usize) -> Result<(), &'static str> {
        super::plic::route(irq, super::plic::Route::Line { line, ack })
    }
}

/// The device tree's virtio-mmio windows (base, size, PLIC source), highest address first:
/// QEMU's virt board plugs its first `-device` into the highest window, so disks keep the
/// order of the command line (vda first).
pub(crate) fn virtio_mmio_windows() -> alloc::vec::Vec<(u64, usize, u32)> {
    super::dtboard::devicetree::virtio_mmio_windows(plic::interrupt_of)
}

/// Reports `line` to the host and powers off: `exit N` ends QEMU with status N through the
/// virt machine's test finisher (the host tool reads QEMU's exit status; there is no debugcon),
/// `panic` with status 125.
pub(crate) fn power_off(line: &str) -> ! {
    power::off(line)
}
