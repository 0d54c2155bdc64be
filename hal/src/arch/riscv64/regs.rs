//! The register views a debugger reads and writes through ptrace: riscv64's
//! `user_regs_struct` (pc, x1..x31) for NT_PRSTATUS. riscv64 has no PEEKUSER area and no
//! hardware single-step (Linux refuses both with EIO).

use super::trap::{UserContext, A7};
pub use crate::arch::dtboard::regs::{BadRegister, USER_AREA_SIZE};

/// Words in `user_regs_struct`.
pub const REGS_WORDS: usize = 32;
/// The word a syscall stop reports the syscall number in: a7.
pub const REGS_ORIG_NR: usize = A7;

impl UserContext {
    /// `user_regs_struct`; at a syscall stop a7 shows `orig`, the number the kernel runs.
    pub fn user_regs(&self, orig: u64) -> [u64; REGS_WORDS] {
        let mut r = self.x;
        r[0] = self.sepc;
        r[A7] = orig;
        r
    }

    /// Writes one word of `user_regs_struct`; a7 also changes the syscall number (`orig`).
    pub fn set_user_reg(
        &mut self,
        index: usize,
        v: u64,
        orig: &mut u64,
    ) -> Result<(), BadRegister> {
        match index {
            0 => self.sepc = v,
            A7 => {
                self.x[A7] = v;
                *orig = v;
            }
            1..=31 => self.x[index] = v,
            _ => return Err(BadRegister),
        }
        Ok(())
    }

    crate::arch::dtboard::regs::no_user_area!();

    /// No hardware single-step on riscv64: nothing to arm.
    pub fn set_single_step(&mut self, _on: bool) {}
}
