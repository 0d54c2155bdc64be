//! The ns16550a UART the device tree names (QEMU virt: 0x10000000), polled for output and
//! input, reached through the direct map.

use core::sync::atomic::{AtomicUsize, Ordering};

static BASE: AtomicUsize = AtomicUsize::new(0x1000_0000);
static SHIFT: AtomicUsize = AtomicUsize::new(0);

fn reg(r: usize) -> *mut u8 {
    (crate::mm::phys_to_virt(BASE.load(Ordering::Relaxed)) + (r << SHIFT.load(Ordering::Relaxed)))
        as *mut u8
}

fn write(r: usize, v: u8) {
    // SAFETY: a UART register inside the direct map (device memory below 64 GiB).
    unsafe { reg(r).write_volatile(v) }
}

fn read(r: usize) -> u8 {
    // SAFETY: as in `write`.
    unsafe { reg(r).read_volatile() }
}

/// Takes the UART the device tree names (or keeps QEMU's default) and sets it up: 8N1, FIFOs,
/// no interrupts.
pub(crate) fn init(node: Option<fdt::node::FdtNode<'_, '_>>) {
    if let Some(n) = node {
        if let Some(r) = n.reg().and_then(|mut r| r.next()) {
            BASE.store(r.starting_address as usize, Ordering::Relaxed);
        }
        if let Some(s) = n.property("reg-shift").and_then(|p| p.as_usize()) {
            SHIFT.store(s.min(3), Ordering::Relaxed);
        }
    }
    write(1, 0x00);
    write(3, 0x03);
    write(2, 0xc7);
    write(4, 0x0b);
}

pub(crate) fn write_byte(b: u8) {
    // Bounded wait: a missing UART must not hang the kernel.
    for _ in 0..100_000 {
        if read(5) & 0x20 != 0 {
            break;
        }
    }
    write(0, b);
}

pub(crate) fn read_byte() -> Option<u8> {
    if read(5) & 1 != 0 {
        Some(read(0))
    } else {
        None
    }
}
