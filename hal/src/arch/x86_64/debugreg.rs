//! Hardware breakpoints and watchpoints: the debug registers DR0–DR3 (addresses), DR7 (which
//! are armed, for which access and length) and DR6 (which fired). Every thread has its own set
//! (`DebugRegs`, kept by the kernel); the CPU holds the set of the thread that last entered
//! user mode, loaded only when it differs, as the FS base is.

use crate::smp::MAX_CPUS;
use core::sync::atomic::{AtomicU64, Ordering};

/// A thread's debug registers as ptrace shows them (`u_debugreg` in `struct user`): DR0–DR3,
/// DR6 (the kernel's record of what fired, not the CPU's) and DR7.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DebugRegs {
    pub addr: [u64; 4],
    pub dr6: u64,
    pub dr7: u64,
}

/// DR7's enable bits (L0–L3, G0–G3) and the R/W and LEN fields of the four slots.
const DR7_ENABLES: u64 = 0xff;
const DR7_FIELDS: u64 = 0xffff_0000;
/// DR6's value with nothing recorded (reserved bits read as one).
const DR6_CLEAR: u64 = 0xffff_0ff0;
/// DR6's single-step bit (BS).
pub const DR6_STEP: u64 = 1 << 14;

impl DebugRegs {
    /// Whether `v` is a DR7 a tracer may set: enable bits and R/W, LEN fields only, no I/O
    /// breakpoints (R/W = 10), and execution breakpoints of length 1 (LEN = 00).
    pub fn valid_dr7(v: u64) -> bool {
        if v & !(DR7_ENABLES | DR7_FIELDS | (3 << 8)) != 0 {
            return false;
        }
        (0..4).all(|i| {
            let rw = (v >> (16 + 4 * i)) & 3;
            let len = (v >> (18 + 4 * i)) & 3;
            rw != 2 && (rw != 0 || len == 0)
        })
    }

    /// The DR7 to load: a slot whose address lies outside user space stays disarmed, so no
    /// breakpoint ever fires on the kernel's own code or data.
    #[inline]
    fn armed_dr7(&self) -> u64 {
        let mut v = self.dr7 & (DR7_ENABLES | DR7_FIELDS);
        for (i, a) in self.addr.iter().enumerate() {
            if *a as usize >= super::mmu::USER_TOP - 8 {
                v &= !(3 << (2 * i));
            }
        }
        if v & DR7_ENABLES == 0 {
            0
        } else {
            v
        }
    }
}

/// What each CPU's DR0–DR3 and DR7 hold, by CPU index.
static LOADED: [[AtomicU64; 5]; MAX_CPUS] = [const { [const { AtomicU64::new(0) }; 5] }; MAX_CPUS];

/// Makes `regs` the CPU's debug registers for the next entry to user mode.
/// Inlined up to the common case (no breakpoint armed, none loaded), which every return to
/// user mode takes.
#[inline]
pub fn load(regs: &DebugRegs) {
    let loaded = &LOADED[super::smp::cpu_index() % MAX_CPUS];
    let dr7 = regs.armed_dr7();
    if dr7 == 0 && loaded[4].load(Ordering::Relaxed) == 0 {
        return;
    }
    load_slow(loaded, regs, dr7);
}

#[inline(never)]
fn load_slow(loaded: &[AtomicU64; 5], regs: &DebugRegs, dr7: u64) {
    let want = [regs.addr[0], regs.addr[1], regs.addr[2], regs.addr[3], dr7];
    if (0..5).all(|i| loaded[i].load(Ordering::Relaxed) == want[i]) {
        return;
    }
    // SAFETY: DR7 is cleared first so no half-loaded set is armed; DR0–DR3 then take user
    // addresses (armed_dr7 disarmed the others) and DR7 holds only enable, R/W and LEN bits
    // (GD stays clear, so the kernel keeps access to the registers).
    unsafe {
        core::arch::asm!("mov dr7, {}", in(reg) 0u64, options(nomem, nostack));
        core::arch::asm!("mov dr0, {}", in(reg) want[0], options(nomem, nostack));
        core::arch::asm!("mov dr1, {}", in(reg) want[1], options(nomem, nostack));
        core::arch::asm!("mov dr2, {}", in(reg) want[2], options(nomem, nostack));
        core::arch::asm!("mov dr3, {}", in(reg) want[3], options(nomem, nostack));
        core::arch::asm!("mov dr7, {}", in(reg) dr7, options(nomem, nostack));
    }
    for (slot, v) in loaded.iter().zip(want) {
        slot.store(v, Ordering::Relaxed);
    }
}

/// Reads what fired from DR6 and resets it (the CPU never clears it itself).
pub(crate) fn take_dr6() -> u64 {
    let v: u64;
    // SAFETY: reading and writing DR6 has no effect beyond the status bits it holds.
    unsafe {
        core::arch::asm!("mov {}, dr6", out(reg) v, options(nomem, nostack));
        core::arch::asm!("mov dr6, {}", in(reg) DR6_CLEAR, options(nomem, nostack));
    }
    v & !DR6_CLEAR
}
