//! The PL011 UART the device tree names (QEMU virt: 0x09000000), polled for output and input,
//! reached through the direct map. Received bytes also raise its GIC interrupt, so that an idle
//! machine, whose timer is off, reads them: the handler masks the receive interrupt (the line
//! is level-triggered and stays up until the FIFO is drained), and the reader unmasks it when
//! it finds the FIFO empty.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

static BASE: AtomicUsize = AtomicUsize::new(0x0900_0000);
/// The UART's interrupt ID (0: none known).
static IRQ: AtomicU32 = AtomicU32::new(0);
/// Whether the receive interrupt is routed; then the reader re-arms it.
static RX_ROUTED: AtomicBool = AtomicBool::new(false);
/// Whether the receive interrupt is off until the reader drains the FIFO.
static RX_QUIET: AtomicBool = AtomicBool::new(false);

const DR: usize = 0x00;
const FR: usize = 0x18;
const LCRH: usize = 0x2c;
const CR: usize = 0x30;
const IMSC: usize = 0x38;
const ICR: usize = 0x44;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
/// Receive and receive-timeout interrupts.
const IM_RX: u32 = (1 << 4) | (1 << 6);

fn reg(r: usize) -> *mut u32 {
    (crate::mm::phys_to_virt(BASE.load(Ordering::Relaxed)) + r) as *mut u32
}

fn write(r: usize, v: u32) {
    // SAFETY: a UART register inside the direct map (device memory below 1 GiB).
    unsafe { reg(r).write_volatile(v) }
}

fn read(r: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { reg(r).read_volatile() }
}

/// Takes the UART the device tree names (or keeps QEMU's default) and sets it up: 8N1, FIFOs,
/// transmit and receive on, no interrupts.
pub(crate) fn init(node: Option<fdt::node::FdtNode<'_, '_>>) {
    if let Some(n) = node {
        if let Some(r) = n.reg().and_then(|mut r| r.next()) {
            BASE.store(r.starting_address as usize, Ordering::Relaxed);
        }
        if let Some(i) = super::gic::interrupt_of(&n) {
            IRQ.store(i, Ordering::Relaxed);
        }
    }
    write(IMSC, 0);
    write(ICR, 0x7ff);
    write(LCRH, (3 << 5) | (1 << 4));
    write(CR, (1 << 0) | (1 << 8) | (1 << 9));
}

/// Routes received bytes to the GIC (nothing without one: input is then only read when the
/// kernel's timer work runs).
pub(super) fn enable_rx_interrupt() {
    let irq = IRQ.load(Ordering::Relaxed);
    if irq == 0 || super::gic::route(irq, super::gic::Route::Console).is_err() {
        return;
    }
    RX_ROUTED.store(true, Ordering::Relaxed);
    write(IMSC, IM_RX);
}

/// Bytes arrived: the interrupt has done its job (the CPU is awake and will run its timer
/// work, which reads them); it stays masked until the reader has emptied the FIFO.
pub(super) fn on_rx_interrupt() {
    RX_QUIET.store(true, Ordering::Relaxed);
    write(IMSC, 0);
}

pub(crate) fn write_byte(b: u8) {
    // Bounded wait: a missing UART must not hang the kernel.
    for _ in 0..100_000 {
        if read(FR) & FR_TXFF == 0 {
            break;
        }
    }
    write(DR, b as u32);
}

pub(crate) fn read_byte() -> Option<u8> {
    if read(FR) & FR_RXFE == 0 {
        return Some(read(DR) as u8);
    }
    // Drained: the next byte interrupts again (at once if one came in meanwhile).
    if RX_ROUTED.load(Ordering::Relaxed) && RX_QUIET.swap(false, Ordering::Relaxed) {
        write(ICR, IM_RX);
        write(IMSC, IM_RX);
    }
    None
}
