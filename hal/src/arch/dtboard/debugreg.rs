//! Hardware breakpoints: riscv64's trigger module is not exposed to user space by Linux (no
//! ptrace debug registers), and aarch64's debug registers (NT_ARM_HW_BREAK) are not wired up
//! yet, so the state is kept but never armed.

/// The tracer's debug-register view (kept for the arch-neutral ptrace code; always idle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DebugRegs {
    pub addr: [u64; 4],
    pub dr6: u64,
    pub dr7: u64,
}

/// The status bit a single-step sets (none kept here).
pub const DR6_STEP: u64 = 0;

/// Nothing to load: no user-visible hardware breakpoints.
pub fn load(_regs: &DebugRegs) {}
