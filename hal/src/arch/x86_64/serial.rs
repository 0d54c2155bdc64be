//! 16550 UART on COM1: the console, polled for output and input; received bytes also raise
//! an interrupt (IRQ 4) so that an idle machine, whose timer is off, reads them.

use super::cpu::{inb, outb};

const COM1: u16 = 0x3f8;

pub(crate) fn init() {
    outb(COM1 + 1, 0x00); // no interrupts
    outb(COM1 + 3, 0x80); // DLAB
    outb(COM1, 0x01); // 115200 baud
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); // 8N1
    outb(COM1 + 2, 0x07); // FIFO on, cleared, interrupt from the first byte
    outb(COM1 + 4, 0x0b); // DTR, RTS, OUT2 (the IRQ line's gate on PCs)
}

/// The IOAPIC pin COM1's IRQ 4 reaches (no override moves it on QEMU's machines).
const COM1_GSI: u32 = 4;

/// Raises `vector` on the boot CPU (this one, at boot) whenever bytes arrive. Edge-triggered:
/// the line falls only when the receive FIFO is empty, so the reader drains it.
pub(crate) fn enable_rx_interrupt(vector: u8) {
    super::ioapic::route(COM1_GSI, vector as u32, super::apic::lapic_id());
    outb(COM1 + 1, 0x01);
}

pub(crate) fn write_byte(b: u8) {
    // Bounded wait: a missing UART must not hang the kernel.
    for _ in 0..100_000 {
        if inb(COM1 + 5) & 0x20 != 0 {
            break;
        }
    }
    outb(COM1, b);
}

pub(crate) fn read_byte() -> Option<u8> {
    if inb(COM1 + 5) & 1 != 0 {
        Some(inb(COM1))
    } else {
        None
    }
}

/// QEMU's debugcon port: the control channel to the host tool (`xtask`), apart from the console.
pub(crate) fn debugcon_write(s: &[u8]) {
    for &b in s {
        outb(0xe9, b);
    }
}

/// Makes QEMU exit through the isa-debug-exit device (port 0xf4).
pub(crate) fn qemu_exit(code: u8) {
    outb(0xf4, code);
}
