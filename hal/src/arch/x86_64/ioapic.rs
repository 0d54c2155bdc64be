//! The IOAPIC's redirection entries: which CPU and vector an ISA interrupt pin reaches (the
//! watchdog's PIT NMI, the console's receive interrupt).

use crate::mm::phys_to_virt;

/// The IOAPIC's MMIO base on the PC machines QEMU emulates (q35 and microvm).
const IOAPIC_BASE: usize = 0xfec0_0000;

fn write(reg: u32, v: u32) {
    let base = phys_to_virt(IOAPIC_BASE);
    // SAFETY: the IOAPIC's register window (IOREGSEL at +0, IOWIN at +0x10) lies in the direct
    // map of the first 4 GiB; it is written only at boot, by the boot CPU.
    unsafe {
        core::ptr::write_volatile(base as *mut u32, reg);
        core::ptr::write_volatile((base + 0x10) as *mut u32, v);
    }
}

/// Routes pin `gsi` to the local APIC `dest` with redirection entry `low` (vector, delivery
/// mode; edge-triggered, active high, physical destination, unmasked when its bits say so).
pub(crate) fn route(gsi: u32, low: u32, dest: u32) {
    write(0x11 + 2 * gsi, dest << 24);
    write(0x10 + 2 * gsi, low);
}
