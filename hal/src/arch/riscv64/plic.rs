//! The platform-level interrupt controller (`riscv,plic0` / `sifive,plic-1.0.0` in the device
//! tree): wired device interrupts (the UART, virtio-mmio devices) reach the boot hart's
//! S-mode context as supervisor external interrupts. Each source routed here says what it
//! stands for (the console, or one of `crate::irq`'s device lines); the handler claims
//! sources until none is pending and completes each after its device stopped asserting it
//! (the PLIC's sources are level-triggered: completing a still-raised source raises it again).

use crate::arch::dtboard::devicetree::cells;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// Sources the table can hold (QEMU virt has 95; the spec allows 1023).
const MAX_SOURCES: usize = 128;

const PRIORITY: usize = 0x0;
const ENABLE: usize = 0x2000;
const ENABLE_STRIDE: usize = 0x80;
const CONTEXT: usize = 0x20_0000;
const CONTEXT_STRIDE: usize = 0x1000;
const THRESHOLD: usize = 0x0;
const CLAIM: usize = 0x4;
/// The size of the register window the offsets above need for `context` contexts.
const fn window(context: usize) -> usize {
    CONTEXT + CONTEXT_STRIDE * (context + 1)
}

/// The `interrupts-extended` cause of a supervisor external interrupt.
const IRQ_S_EXTERNAL: u32 = 9;

/// The PLIC's physical base (0: none), its window size, its source count and the boot hart's
/// S-mode context.
static BASE: AtomicUsize = AtomicUsize::new(0);
static SIZE: AtomicUsize = AtomicUsize::new(0);
static SOURCES: AtomicUsize = AtomicUsize::new(0);
static CONTEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// What each source stands for (`Route` as a byte) and the physical address of its device's
/// interrupt status register (0: none; see `Route::Line`).
static ROUTE: [AtomicU8; MAX_SOURCES] = [const { AtomicU8::new(NONE) }; MAX_SOURCES];
static ACK: [AtomicUsize; MAX_SOURCES] = [const { AtomicUsize::new(0) }; MAX_SOURCES];
const NONE: u8 = 0;
const CONSOLE: u8 = 1;
/// Device line n is `LINE0 + n`.
const LINE0: u8 = 2;

/// What a source means to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// The console UART: received bytes.
    Console,
    /// `crate::irq` device line n. `ack`, if not 0, is the physical address of a 32-bit
    /// interrupt status register whose value the handler writes to the register after it
    /// to lower the device's line (virtio-mmio's InterruptStatus and InterruptACK).
    Line { line: usize, ack: usize },
}

/// The first interrupt number of node `n` (its `interrupts` property's first cell).
pub(super) fn interrupt_of(n: &fdt::node::FdtNode<'_, '_>) -> Option<u32> {
    cells(n, "interrupts").next()
}

/// Finds the PLIC and the S-mode context of hart `hart`: the entry of `interrupts-extended`
/// (pairs of a hart's interrupt-controller phandle and a cause) that names the hart's
/// controller with cause 9.
pub(super) fn note(fdt: &fdt::Fdt<'_>, hart: usize) {
    let Some(n) = fdt.find_compatible(&["riscv,plic0", "sifive,plic-1.0.0"]) else {
        return;
    };
    let Some(r) = n.reg().and_then(|mut r| r.next()) else {
        return;
    };
    let ndev = cells(&n, "riscv,ndev").next().unwrap_or(0) as usize;
    // The phandle of the boot hart's interrupt controller.
    let intc = fdt
        .find_node("/cpus")
        .into_iter()
        .flat_map(|c| c.children())
        .find(|c| cells(c, "reg").last() == Some(hart as u32))
        .and_then(|c| {
            c.children()
                .find(|i| i.property("interrupt-controller").is_some())
        })
        .and_then(|i| cells(&i, "phandle").next());
    // Before the heap exists: pairs are read straight from the property.
    let mut ext = cells(&n, "interrupts-extended");
    let mut context = None;
    let mut i = 0;
    while let (Some(h), Some(cause)) = (ext.next(), ext.next()) {
        if intc.is_none_or(|p| p == h) && cause == IRQ_S_EXTERNAL {
            context = Some(i);
            break;
        }
        i += 1;
    }
    let Some(context) = context else { return };
    let size = r.size.unwrap_or(0);
    if size < window(context) {
        return;
    }
    SOURCES.store(ndev.min(MAX_SOURCES - 1), Ordering::Relaxed);
    CONTEXT_ID.store(context, Ordering::Relaxed);
    SIZE.store(size, Ordering::Relaxed);
    BASE.store(r.starting_address as usize, Ordering::Relaxed);
}

/// Whether the machine has a PLIC this hart can take interrupts from.
#[inline]
pub(crate) fn present() -> bool {
    BASE.load(Ordering::Relaxed) != 0
}

fn reg(off: usize) -> *mut u32 {
    (crate::mm::phys_to_virt(BASE.load(Ordering::Relaxed)) + off) as *mut u32
}

fn write(off: usize, v: u32) {
    debug_assert!(off + 4 <= SIZE.load(Ordering::Relaxed));
    // SAFETY: a register inside the PLIC's window (`note` checked the window covers every
    // offset used for the chosen context), device memory in the direct map.
    unsafe { reg(off).write_volatile(v) }
}

fn read(off: usize) -> u32 {
    // SAFETY: as in `write`.
    unsafe { reg(off).read_volatile() }
}

fn context_reg(r: usize) -> usize {
    CONTEXT + CONTEXT_STRIDE * CONTEXT_ID.load(Ordering::Relaxed) + r
}

fn enable_reg(source: usize) -> usize {
    ENABLE + ENABLE_STRIDE * CONTEXT_ID.load(Ordering::Relaxed) + 4 * (source / 32)
}

/// Masks every source for this hart, takes every priority above 0 and turns supervisor
/// external interrupts on.
pub(super) fn init() {
    if !present() {
        return;
    }
    for s in (0..=SOURCES.load(Ordering::Relaxed)).step_by(32) {
        write(enable_reg(s), 0);
    }
    write(context_reg(THRESHOLD), 0);
    // SAFETY: sets sie.SEIE; the trap vector handles external interrupts.
    unsafe { core::arch::asm!("csrs sie, {}", in(reg) 1u64 << 9, options(nomem, nostack)) };
}

/// Routes source `source` to `route` and unmasks it.
pub(crate) fn route(source: u32, route: Route) -> Result<(), &'static str> {
    if !present() {
        return Err("no interrupt controller (PLIC)");
    }
    let s = source as usize;
    if s == 0 || s > SOURCES.load(Ordering::Relaxed) {
        return Err("an interrupt number the PLIC does not have");
    }
    let (kind, ack) = match route {
        Route::Console => (CONSOLE, 0),
        Route::Line { line, ack } if line < crate::irq::LINES => (LINE0 + line as u8, ack),
        Route::Line { .. } => return Err("no such interrupt line"),
    };
    ACK[s].store(ack, Ordering::Relaxed);
    ROUTE[s].store(kind, Ordering::Release);
    write(PRIORITY + 4 * s, 1);
    let e = enable_reg(s);
    write(e, read(e) | 1 << (s % 32));
    Ok(())
}

/// A supervisor external interrupt: every pending source is claimed, its device quieted and
/// the kernel told, then completed.
pub(super) fn on_interrupt() {
    if !present() {
        return;
    }
    loop {
        let s = read(context_reg(CLAIM));
        if s == 0 {
            break;
        }
        let i = s as usize;
        match ROUTE.get(i).map_or(NONE, |r| r.load(Ordering::Acquire)) {
            CONSOLE => super::serial::on_rx_interrupt(),
            k if k >= LINE0 => {
                if let Some(r) = crate::pci::Mmio::new(ACK[i].load(Ordering::Relaxed) as u64, 8) {
                    r.write32(4, r.read32(0));
                }
                crate::irq::device_interrupt((k - LINE0) as usize);
            }
            _ => {
                // Nobody asked for it: mask it so that it cannot storm.
                if i <= SOURCES.load(Ordering::Relaxed) {
                    let e = enable_reg(i);
                    write(e, read(e) & !(1 << (i % 32)));
                }
            }
        }
        write(context_reg(CLAIM), s);
    }
}
