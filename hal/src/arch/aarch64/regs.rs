//! The register views a debugger reads and writes through ptrace: arm64's `user_pt_regs`
//! (x0..x30, sp, pc, pstate) for NT_PRSTATUS. arm64 has no PEEKUSER area (Linux refuses it
//! with EIO); single-step is PSTATE.SS with MDSCR_EL1.SS, not wired up yet.

use super::trap::{UserContext, PSTATE_USER, X8};
pub use crate::arch::dtboard::regs::{BadRegister, USER_AREA_SIZE};

/// Words in `user_pt_regs`.
pub const REGS_WORDS: usize = 34;
/// The word a syscall stop reports the syscall number in: x8.
pub const REGS_ORIG_NR: usize = X8;

impl UserContext {
    /// `user_pt_regs`; at a syscall stop x8 shows `orig`, the number the kernel runs.
    pub fn user_regs(&self, orig: u64) -> [u64; REGS_WORDS] {
        let mut r = [0u64; REGS_WORDS];
        r[..31].copy_from_slice(&self.x);
        r[X8] = orig;
        r[31] = self.sp;
        r[32] = self.pc;
        r[33] = self.pstate & PSTATE_USER;
        r
    }

    /// Writes one word of `user_pt_regs`; x8 also changes the syscall number (`orig`).
    pub fn set_user_reg(
        &mut self,
        index: usize,
        v: u64,
        orig: &mut u64,
    ) -> Result<(), BadRegister> {
        match index {
            X8 => {
                self.x[X8] = v;
                *orig = v;
            }
            0..=30 => self.x[index] = v,
            31 => self.sp = v,
            32 => self.pc = v,
            33 if v & !PSTATE_USER == 0 => self.pstate = v,
            _ => return Err(BadRegister),
        }
        Ok(())
    }

    crate::arch::dtboard::regs::no_user_area!();

    /// Software single-step is not wired up yet: nothing to arm.
    pub fn set_single_step(&mut self, _on: bool) {}
}
