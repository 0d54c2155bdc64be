//! Hardware breakpoints: aarch64's debug registers (through PTRACE_GETREGSET NT_ARM_HW_BREAK
//! on Linux) are not exposed yet, so the state is kept but never armed.

/// The tracer's debug-register view (kept for the arch-neutral ptrace code; always idle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DebugRegs {
    pub addr: [u64; 4],
    pub dr6: u64,
    pub dr7: u64,
}

/// The status bit a single-step sets (none kept on aarch64).
pub const DR6_STEP: u64 = 0;

/// Nothing to load: no user-visible hardware breakpoints yet.
pub fn load(_regs: &DebugRegs) {}
