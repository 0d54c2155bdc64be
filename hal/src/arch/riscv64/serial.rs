//! The ns16550a UART the device tree names (QEMU virt: 0x10000000), polled for output and
//! input, reached through the direct map. Received bytes also raise its PLIC source, so that
//! an idle machine, whose timer is off, reads them: the handler turns the receive interrupt
//! off (the line is level-triggered and stays up until the FIFO is drained), and the reader
//! turns it back on when it finds the FIFO empty.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

static BASE: AtomicUsize = AtomicUsize::new(0x1000_0000);
static SHIFT: AtomicUsize = AtomicUsize::new(0);
/// The UART's PLIC source (0: none known).
static IRQ: AtomicU32 = AtomicU32::new(0);
/// Whether the receive interrupt is routed; then the reader re-arms it.
static RX_ROUTED: AtomicBool = AtomicBool::new(false);
/// Whether the receive interrupt is off until the reader drains the FIFO.
static RX_QUIET: AtomicBool = AtomicBool::new(false);

const IER: usize = 1;
const IER_RX: u8 = 1;

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
        if let Some(i) = super::plic::interrupt_of(&n) {
            IRQ.store(i, Ordering::Relaxed);
        }
    }
    write(IER, 0x00);
    write(3, 0x03);
    // FIFOs on and cleared, an interrupt from the first byte.
    write(2, 0x07);
    write(4, 0x0b);
}

/// Routes received bytes to the PLIC (nothing without a PLIC: input is then only read when
/// the kernel's timer work runs).
pub(super) fn enable_rx_interrupt() {
    let irq = IRQ.load(Ordering::Relaxed);
    if irq == 0 || super::plic::route(irq, super::plic::Route::Console).is_err() {
        return;
    }
    RX_ROUTED.store(true, Ordering::Relaxed);
    write(IER, IER_RX);
}

/// Bytes arrived: the interrupt has done its job (the CPU is awake and will run its timer
/// work, which reads them); it stays off until the reader has emptied the FIFO.
pub(super) fn on_rx_interrupt() {
    RX_QUIET.store(true, Ordering::Relaxed);
    write(IER, 0);
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
        return Some(read(0));
    }
    // Drained: the next byte interrupts again (at once if one came in meanwhile).
    if RX_ROUTED.load(Ordering::Relaxed) && RX_QUIET.swap(false, Ordering::Relaxed) {
        write(IER, IER_RX);
    }
    None
}
