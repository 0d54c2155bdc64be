//! The watchdog's periodic check and the frame-pointer walk. riscv64 has no NMI for S-mode:
//! the watchdog is not armed yet (a timer-driven check from the tick is the next step).

use crate::mm::PHYS_OFFSET;

const MAX_FRAMES: usize = 32;

/// Nothing to start without an NMI source.
pub(crate) fn start() {}

/// Calls `f` with each return address of the frame chain starting at `fp` (s0): riscv's
/// frame record sits just below fp (ra at fp-8, the caller's fp at fp-16).
pub(crate) fn walk(sp: u64, mut fp: u64, mut f: impl FnMut(u64)) {
    let (lo, hi) = (sp, crate::mm::kstack::walk_top(sp as usize) as u64);
    for _ in 0..MAX_FRAMES {
        if fp < lo + 16 || fp > hi || !fp.is_multiple_of(8) || (fp as usize) < PHYS_OFFSET {
            return;
        }
        // SAFETY: fp is 8-aligned, between the live stack pointer and the top of its stack
        // (`walk_top`: within a kernel stack slot's mapped part, never the next slot's guard),
        // in the kernel half, which is always mapped.
        let (next, ret) = unsafe {
            let p = fp as *const u64;
            (p.sub(2).read_volatile(), p.sub(1).read_volatile())
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

/// This function's own stack and frame pointers.
#[inline(always)]
pub(crate) fn here() -> (u64, u64) {
    let (sp, fp): (u64, u64);
    // SAFETY: reads two registers.
    unsafe {
        core::arch::asm!("mv {}, sp", "mv {}, s0", out(reg) sp, out(reg) fp, options(nomem, nostack))
    };
    (sp, fp)
}
