//! The watchdog's clock: PIT channel 0 raises IOAPIC pin 2 (QEMU's IRQ0 override) delivered
//! as an NMI, so the check runs even while the kernel spins with interrupts off; and the
//! frame-pointer walk that prints where a CPU is (the kernel is built with frame pointers).

use super::cpu::outb;
use super::ioapic;
use crate::mm::PHYS_OFFSET;

/// The IOAPIC pin the PIT's output reaches (ISA IRQ 0 is wired to GSI 2).
const PIT_GSI: u32 = 2;
/// Delivery mode NMI in a redirection entry (bits 8-10); edge-triggered, active high,
/// physical destination, unmasked.
const DELIVERY_NMI: u32 = 0b100 << 8;

/// Starts the periodic NMI to this CPU: the PIT's slowest rate, 1193182 / 65536 ≈ 18.2 Hz.
pub(crate) fn start() {
    ioapic::route(PIT_GSI, DELIVERY_NMI, super::apic::lapic_id());
    // Channel 0, low then high byte, mode 2 (rate generator), count 0 = 65536.
    outb(0x43, 0x34);
    outb(0x40, 0);
    outb(0x40, 0);
}

/// Registers saved by `lintel_nmi_entry` (entry.S), then the CPU's interrupt frame.
#[repr(C)]
pub struct NmiFrame {
    r15: u64,
    r14: u64,
    r13: u64,
    r12: u64,
    r11: u64,
    r10: u64,
    r9: u64,
    r8: u64,
    rbp: u64,
    rdi: u64,
    rsi: u64,
    rdx: u64,
    rcx: u64,
    rbx: u64,
    rax: u64,
    rip: u64,
    cs: u64,
    rflags: u64,
    rsp: u64,
    ss: u64,
}

const RFLAGS_IF: u64 = 1 << 9;

/// Every NMI: user mode or interrupts on (idle, a disk wait) is progress in itself.
#[no_mangle]
extern "C" fn lintel_nmi(frame: &mut NmiFrame) {
    let outside = frame.cs & 3 != 0 || frame.rflags & RFLAGS_IF != 0;
    crate::watchdog::on_nmi(outside, frame.rip, frame.rsp, frame.rbp);
}

/// Frames the walk follows at most.
const MAX_FRAMES: usize = 24;

/// Calls `f` with each return address of the frame-pointer chain starting at `fp`, on the
/// stack that `sp` points into. Every frame must lie above the previous one, on that stack
/// and inside the kernel's half, so a corrupt chain ends the walk instead of faulting.
pub(crate) fn walk(sp: u64, mut fp: u64, mut f: impl FnMut(u64)) {
    let (lo, hi) = (sp, crate::mm::kstack::walk_top(sp as usize) as u64);
    for _ in 0..MAX_FRAMES {
        if fp < lo || fp > hi - 16 || !fp.is_multiple_of(8) || (fp as usize) < PHYS_OFFSET {
            return;
        }
        // SAFETY: fp is 8-aligned, between the live stack pointer and the top of its stack
        // (`walk_top`: within a kernel stack slot's mapped part, never the next slot's guard),
        // in the kernel half (direct map or kernel image), which is always mapped.
        let (next, ret) = unsafe {
            let p = fp as *const u64;
            (p.read_volatile(), p.add(1).read_volatile())
        };
        if ret == 0 {
            return;
        }
        f(ret);
        if next <= fp {
            return;
        }
        fp = next;
    }
}

/// This function's own stack and frame pointers (for a backtrace of the caller).
#[inline(always)]
pub(crate) fn here() -> (u64, u64) {
    let (sp, fp): (u64, u64);
    // SAFETY: reads two registers.
    unsafe {
        core::arch::asm!("mov {}, rsp", "mov {}, rbp", out(reg) sp, out(reg) fp,
            options(nomem, nostack, preserves_flags))
    };
    (sp, fp)
}
