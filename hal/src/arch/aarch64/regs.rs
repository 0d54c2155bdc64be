//! The register views a debugger reads and writes through ptrace: arm64's `user_pt_regs`
//! (x0..x30, sp, pc, pstate) for NT_PRSTATUS. arm64 has no PEEKUSER area (Linux refuses it
//! with EIO); single-step is PSTATE.SS with MDSCR_EL1.SS, not wired up yet.

use super::debugreg::DebugRegs;
use super::trap::{UserContext, PSTATE_USER, X8};

/// A register value the CPU would refuse, or an offset with no register (EIO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRegister;

/// Words in `user_pt_regs`.
pub const REGS_WORDS: usize = 34;
/// The word a syscall stop reports the syscall number in: x8.
pub const REGS_ORIG_NR: usize = X8;
/// No `struct user` for PEEKUSER on arm64.
pub const USER_AREA_SIZE: usize = 0;

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

    /// Replaces every register with `regs`.
    pub fn set_user_regs(
        &mut self,
        regs: &[u64; REGS_WORDS],
        orig: &mut u64,
    ) -> Result<(), BadRegister> {
        for (i, v) in regs.iter().enumerate() {
            self.set_user_reg(i, *v, orig)?;
        }
        Ok(())
    }

    /// PEEKUSER: arm64 has none (EIO).
    pub fn peek_user(&self, _offset: usize, _orig: u64, _dbg: &DebugRegs) -> Option<u64> {
        None
    }

    /// POKEUSER: arm64 has none (EIO).
    pub fn poke_user(
        &mut self,
        _offset: usize,
        _v: u64,
        _orig: &mut u64,
        _dbg: &mut DebugRegs,
    ) -> Result<(), BadRegister> {
        Err(BadRegister)
    }

    /// Software single-step is not wired up yet: nothing to arm.
    pub fn set_single_step(&mut self, _on: bool) {}
}
